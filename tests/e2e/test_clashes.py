"""Issue 20 on the real path (S3 upload -> notification -> Lambda -> DynamoDB -> SNS ->
MailDev): a file with one same-stage overlap, one double-booked performer and one 5-minute
changeover gets an email whose clash line counts exactly those, and `festival clashes`
lists exactly those three; a file with 2% of its names in wrapped cells loads every row."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from tests.e2e.conftest import Pipeline
from tests.e2e.test_cli import festival
from tests.lineups import CLASH_LINE, CLASHING, lineup_csv, wrapped_names_csv

pytestmark = pytest.mark.e2e


def day_of(tag: str) -> str:
    """A festival day of the test's own, from its key's random tag: no other test's (nor an
    earlier run's) sets fall on it."""
    return (date(2300, 1, 1) + timedelta(days=int(tag, 16) % 2_000_000)).isoformat()


def test_a_file_with_three_clashes_is_emailed_and_listed_with_exactly_those(pipeline: Pipeline):
    key = pipeline.unique_key("clashes.csv")
    tag = key.rsplit("-", 1)[-1].split(".")[0]
    day = day_of(tag)
    rows = [
        [f"{performer} {tag}", f"{stage} {tag}", start, end, day]
        for performer, stage, start, end, _ in CLASHING
    ]
    pipeline.upload(key, lineup_csv(rows))

    email = pipeline.wait_for_email(key)
    assert "Status:        OK" in email["text"]  # clashes are reported, not rejected
    assert CLASH_LINE in email["text"].splitlines()

    for scope in (["--file", key], ["--day", day]):
        result = festival("--local", "--json", "clashes", *scope)
        assert result.returncode == 0, result.stderr
        found = json.loads(result.stdout)
        assert found["counts"] == {
            "stage_overlaps": 1,
            "double_bookings": 1,
            "short_changeovers": 1,
        }, scope
        (overlap,) = found["stage_overlaps"]
        assert [s["performer"] for s in overlap["sets"]] == [f"A {tag}", f"B {tag}"]
        assert overlap["minutes"] == 30
        (double,) = found["double_bookings"]
        assert [s["stage"] for s in double["sets"]] == [f"Tent {tag}", f"Park {tag}"]
        (changeover,) = found["short_changeovers"]
        assert (changeover["before"]["performer"], changeover["after"]["performer"]) == (
            f"C {tag}",
            f"D {tag}",
        )
        assert changeover["minutes"] == 5


def test_a_lineup_with_two_percent_of_names_in_wrapped_cells_loads_every_row(
    pipeline: Pipeline,
):
    key = pipeline.unique_key("wrapped.csv")
    tag = " " + key.rsplit("-", 1)[-1].split(".")[0]
    pipeline.upload(key, wrapped_names_csv(2_000, tag=tag))

    text = pipeline.wait_for_email(key)["text"]
    assert "Status:        OK" in text
    assert "Rows loaded:   2000" in text and "Rows rejected: 0" in text
    assert "Wrapped names: 40 held line breaks (wrapped cells), each read as one line" in text
    result = festival("--local", "--json", "performer", f"act 0000049{tag} and friends, live")
    assert result.returncode == 0, result.stderr
    (found,) = json.loads(result.stdout)
    assert found["performer"] == f"Act 0000049{tag} and Friends, Live"
