"""The file lifecycle under random interleavings: thousands of seeded schedules of uploads,
re-uploads, deletes, duplicate, late and concurrent deliveries, crashes and failing calls,
with the invariants checked after each (tests/simulation.py). A failure names its seed:
`World(seed).run_to_quiet()` then `.check()` replays it exactly, and `.trace` shows it."""

from __future__ import annotations

import logging
import os

import pytest

from tests.simulation import World

# make check runs 2,000 schedules; make soak runs 20,000 (FESTIVAL_SCHEDULES).
SCHEDULES = int(os.environ.get("FESTIVAL_SCHEDULES", "2000"))
CHUNKS = 20


@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_random_schedules_keep_every_invariant(chunk, caplog):
    caplog.set_level(logging.CRITICAL, logger="lineup_ingest")  # crashes are the point here
    for seed in range(chunk, SCHEDULES, CHUNKS):
        world = World(seed)
        world.run_to_quiet()
        world.check()


def test_a_schedule_replays_exactly_from_its_seed():
    first, again = World(7), World(7)
    first.run_to_quiet()
    again.run_to_quiet()

    assert first.trace == again.trace and first.mail == again.mail
    assert first.table.items == again.table.items
