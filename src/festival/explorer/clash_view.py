"""The explorer's clashes: the Clashes page's rows and the day view's marks. Pure.

The clashes come from `lineup_ingest.clashes` (through `LineupQueries.clashes` for the
page); the day view marks the sets of its own answer that clash with one another, so it
reads nothing more.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from lineup_ingest import schema
from lineup_ingest.clashes import (
    DEFAULT_CHANGEOVER_MINUTES,
    ClashCounts,
    Clashes,
    Slot,
    find_clashes,
)

KIND_TITLES = {
    "stage_overlaps": "Sets overlapping on a stage",
    "double_bookings": "Performers on two stages at once",
    "short_changeovers": "Changeovers under {minutes} minutes",
}


@dataclass(frozen=True)
class ClashRow:
    """One clash as the page shows it: where (a stage or a performer), its minutes
    (overlapping, or the stage empty), and its two sets in time order."""

    where: str
    minutes: int
    first: Slot
    second: Slot


def rows_by_kind(found: Clashes) -> list[tuple[str, str, list[ClashRow]]]:
    """(kind, title, rows) for each kind, in the page's order."""
    rows = {
        "stage_overlaps": [
            ClashRow(o.first.stage, o.minutes, o.first, o.second) for o in found.stage_overlaps
        ],
        "double_bookings": [
            ClashRow(o.first.performer, o.minutes, o.first, o.second) for o in found.double_bookings
        ],
        "short_changeovers": [
            ClashRow(c.before.stage, c.minutes, c.before, c.after) for c in found.short_changeovers
        ],
    }
    return [
        (kind, title.format(minutes=found.changeover_minutes), rows[kind])
        for kind, title in KIND_TITLES.items()
    ]


def set_key(performance: dict | Slot) -> tuple[str, str, str]:
    """What tells a set from another: its performer and stage (name keys) and its start."""
    if isinstance(performance, Slot):
        return (
            schema.name_key(performance.performer),
            schema.name_key(performance.stage),
            performance.start,
        )
    return (
        schema.name_key(performance["performer"]),
        schema.name_key(performance["stage"]),
        performance["start"],
    )


@dataclass(frozen=True)
class DayMarks:
    """The sets of a day that clash with another of its sets, how many clashes, and the
    shortest changeover that is not one."""

    clashing: frozenset[tuple[str, str, str]]
    counts: ClashCounts
    changeover_minutes: int


def day_marks(
    performances: Iterable[dict], changeover_minutes: int = DEFAULT_CHANGEOVER_MINUTES
) -> DayMarks:
    """The clashes among a day's sets (the day view's answer), as marks."""
    found = find_clashes(map(Slot.of, performances), changeover_minutes)
    pairs = [
        *((o.first, o.second) for o in found.stage_overlaps),
        *((o.first, o.second) for o in found.double_bookings),
        *((c.before, c.after) for c in found.short_changeovers),
    ]
    clashing = frozenset(set_key(s) for pair in pairs for s in pair)
    return DayMarks(clashing, found.counts(), found.changeover_minutes)
