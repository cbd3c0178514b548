"""The test tiers: `make check` runs everything but tests/e2e, so only those start the stack."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests import conftest

TESTS = Path(conftest.__file__).resolve().parent


@dataclass
class CollectedTest:
    """What the guard reads of a collected pytest item."""

    nodeid: str
    path: Path
    fixturenames: tuple[str, ...]


def collected(relative: str, *fixtures: str) -> CollectedTest:
    return CollectedTest(f"tests/{relative}::test_x", TESTS / relative, fixtures)


def test_a_test_outside_e2e_that_needs_the_local_stack_stops_the_run_naming_it():
    items = [
        collected("unit/test_a.py", "tmp_path"),
        collected("functional/test_b.py", "aws", "local_stack"),
    ]

    with pytest.raises(pytest.UsageError, match=r"tests/functional/test_b\.py::test_x"):
        conftest.pytest_collection_modifyitems(None, items)


def test_e2e_tests_may_start_the_local_stack_and_others_may_run_without_it():
    items = [
        collected("e2e/test_c.py", "local_stack", "pipeline"),
        collected("unit/test_a.py", "tmp_path"),
    ]

    conftest.pytest_collection_modifyitems(None, items)
