"""`festival clashes` in process against in-memory AWS: the seed lineup and a file with one
clash of each kind, loaded by the Lambda's handler (issue 20)."""

from __future__ import annotations

import csv
import io
import json

import pytest

from tests.functional.test_cli import Deployed, deployed, failed_with, festival  # noqa: F401
from tests.lineups import CLASHING, lineup_csv

pytestmark = pytest.mark.functional

KEY = "uploads/clashing.csv"


@pytest.fixture(scope="module")
def loaded(deployed: Deployed) -> Deployed:  # noqa: F811
    deployed.aws.invoke(deployed.aws.upload(KEY, lineup_csv(CLASHING)))
    return deployed


def as_json(*arguments: str) -> dict:
    result = festival("clashes", *arguments, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def named(found: dict) -> dict[str, list]:
    """Each kind's clashes as (performers, minutes)."""
    return {
        "stage_overlaps": [
            ([s["performer"] for s in o["sets"]], o["minutes"]) for o in found["stage_overlaps"]
        ],
        "double_bookings": [
            ([s["stage"] for s in o["sets"]], o["minutes"]) for o in found["double_bookings"]
        ],
        "short_changeovers": [
            ([c["before"]["performer"], c["after"]["performer"]], c["minutes"])
            for c in found["short_changeovers"]
        ],
    }


def test_clashes_of_a_file_are_exactly_its_overlap_double_booking_and_short_changeover(loaded):
    found = as_json("--file", KEY)
    assert found["counts"] == {"stage_overlaps": 1, "double_bookings": 1, "short_changeovers": 1}
    assert named(found) == {
        "stage_overlaps": [(["A", "B"], 30)],
        "double_bookings": [(["Tent", "Park"], 15)],
        "short_changeovers": [(["C", "D"], 5)],
    }
    first = found["stage_overlaps"][0]["sets"][0]
    assert (first["source_file"], first["source_line"]) == (KEY, 2)
    assert found["changeover_minutes"] == 15 and found["file"] == KEY


def test_the_whole_lineup_has_the_files_clashes_and_the_seeds_changeovers(loaded):
    found = named(as_json())
    assert (["A", "B"], 30) in found["stage_overlaps"]
    assert found["short_changeovers"] == [  # by the later set's start
        (["C", "D"], 5),  # 2025-07-12 22:05
        (["Olivia Rodrigo", "Kraftwerk"], 14),  # 23:59
        (["Peggy Gou", "Fred again.."], 0),  # 00:00, the 13th
    ]


def test_a_day_keeps_the_clashes_whose_later_set_starts_that_night(loaded):
    assert as_json("--file", KEY, "--day", "2025-07-12")["counts"] == {
        "stage_overlaps": 1,
        "double_bookings": 1,
        "short_changeovers": 1,
    }
    night = as_json("--day", "2025-07-12")
    assert night["from"] == "2025-07-12T06:00" and night["to"] == "2025-07-13T06:00"
    assert (["Peggy Gou", "Fred again.."], 0) in named(night)["short_changeovers"]  # 00:00
    assert sum(as_json("--file", KEY, "--day", "2025-07-13")["counts"].values()) == 0


def test_the_changeover_is_a_parameter(loaded):
    assert as_json("--file", KEY, "--changeover", "0")["counts"]["short_changeovers"] == 0
    assert as_json("--file", KEY, "--changeover", "5")["counts"]["short_changeovers"] == 0
    assert as_json("--file", KEY, "--changeover", "6")["counts"]["short_changeovers"] == 1


def test_the_table_has_a_section_per_kind(loaded):
    result = festival("clashes", "--file", KEY)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "Sets overlapping on a stage (1)" in lines
    assert "Performers on two stages at once (1)" in lines
    assert "Changeovers under 15 minutes (1)" in lines
    assert any(line.startswith("Park") and "C (Tent)" not in line for line in lines)


def test_csv_is_one_row_per_clash(loaded):
    result = festival("clashes", "--file", KEY, "--csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0][:3] == ["kind", "where", "minutes"]
    assert [row[0] for row in rows[1:]] == ["stage overlap", "double booking", "short changeover"]


def test_no_clash_is_said_in_a_sentence(loaded):
    result = festival("clashes", "--file", KEY, "--day", "2025-07-14")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("No clash: ")


def test_a_file_not_loaded_a_bad_day_or_a_negative_changeover_is_refused(loaded):
    assert failed_with(festival("clashes", "--file", "uploads/nope.csv"), "has no loaded version")
    assert failed_with(festival("clashes", "--day", "12/07"), "is not a date like 2025-07-12")
    assert festival("clashes", "--changeover", "-1").exit_code == 2
