"""`festival day DATE`: a festival night's sets, in process against in-memory AWS.

The seed lineup (tests/functional/test_cli.py's deployed stacks): Saturday 12 July runs
from 06:00 to 06:00 on Sunday, so Fred again.. (00:00-02:00 on the 13th) is Saturday's.
The boundary comes from --day-starts, else the stack's FestivalDayStarts output, else 06:00.
"""

from __future__ import annotations

import json

import pytest
from click.testing import Result

from tests.functional import test_cli
from tests.functional.test_cli import STACK, TABLE, failed_with, festival

pytestmark = pytest.mark.functional
deployed, stacks = test_cli.deployed, test_cli.stacks  # the fixtures: the seed lineup's stacks

SATURDAY_NIGHT = [
    "Khruangbin",
    "Rene Rapp",
    "Tash Sultana",
    'The "Mystery" Guest',
    "Björk",
    "Megan Thee Stallion",
    "Rosalía",
    "Peggy Gou",  # 22:00, by stage: Dance Tent, Main Stage, Outdoor Stage
    "Olivia Rodrigo",
    "Bonobo",
    "Kraftwerk",
    "Fred again..",
]


def night_rows(result: Result) -> tuple[str, list[list[str]]]:
    """The heading line and the table's rows of `festival day`."""
    assert result.exit_code == 0, result.output
    heading, blank, *table = result.stdout.splitlines()
    assert blank == ""
    header, rule, *rows = table
    assert set(rule) <= {"-", " "}
    return heading, [[cell.strip() for cell in row.split("  ") if cell.strip()] for row in rows]


def test_day_prints_the_whole_festival_night_with_the_sets_after_midnight(stacks):
    heading, rows = night_rows(festival("day", "2025-07-12"))

    assert heading == "Saturday 12 July 2025, from 06:00 to 06:00 on Sun 13 Jul:"
    assert [row[0] for row in rows] == SATURDAY_NIGHT
    assert rows[-1] == ["Fred again..", "Dance Tent", "2025-07-13 00:00", "2025-07-13 02:00"]


def test_the_next_day_leaves_the_night_befores_sets_to_it(stacks):
    _, rows = night_rows(festival("day", "2025-07-13"))

    names = [row[0] for row in rows]
    assert "Fred again.." not in names and "Kraftwerk" not in names
    assert names[-2:] == ["Disclosure", "Sigur Rós"]  # 23:00 on Sunday, past midnight


@pytest.mark.parametrize(
    "arguments",
    [
        ["day", "2025-07-12", "--day-starts", "00:00"],
        ["--day-starts", "0:00", "day", "2025-07-12"],
        ["--day-starts", "05:00", "day", "2025-07-12", "--day-starts", "00:00"],  # last wins
    ],
)
def test_day_starts_before_or_after_the_command_moves_the_boundary(stacks, arguments):
    heading, rows = night_rows(festival(*arguments))

    assert heading == "Saturday 12 July 2025, from 00:00 to 00:00 on Sun 13 Jul:"
    assert [row[0] for row in rows] == SATURDAY_NIGHT[:-1]  # Fred again.. is Sunday's


def test_day_json_gives_the_window_and_each_set(stacks):
    result = festival("day", "2025-07-12", "--json")

    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert {key: answer[key] for key in ("day", "day_starts", "from", "to")} == {
        "day": "2025-07-12",
        "day_starts": "06:00",
        "from": "2025-07-12T06:00",
        "to": "2025-07-13T06:00",
    }
    assert [p["performer"] for p in answer["performances"]] == SATURDAY_NIGHT
    assert answer["performances"][-1]["start"] == "2025-07-13T00:00"


def test_the_boundary_comes_from_the_stacks_output(stacks):
    stacks.deploy("calendar-days", {"TableName": TABLE, "FestivalDayStarts": "00:00"})

    heading, rows = night_rows(festival("day", "2025-07-12", "--stack", "calendar-days"))
    assert heading.startswith("Saturday 12 July 2025, from 00:00 to 00:00")
    assert "Fred again.." not in [row[0] for row in rows]
    overridden = festival("day", "2025-07-12", "--stack", "calendar-days", "--day-starts", "6:00")
    assert night_rows(overridden)[1] == night_rows(festival("day", "2025-07-12"))[1]


def test_a_stack_deployed_before_the_boundary_existed_starts_days_at_six(stacks):
    assert "FestivalDayStarts" not in stacks.outputs[("us-east-1", STACK)]

    heading, _ = night_rows(festival("day", "2025-07-12"))
    assert "from 06:00 to 06:00" in heading


def test_a_stack_output_that_is_not_a_time_is_one_line_naming_it(stacks):
    stacks.deploy("odd-boundary", {"TableName": TABLE, "FestivalDayStarts": "dawn"})

    result = festival("day", "2025-07-12", "--stack", "odd-boundary")
    assert failed_with(result, "output FestivalDayStarts: 'dawn' is not a time of day")


@pytest.mark.parametrize("boundary", ["24:00", "6", "six"])
def test_a_day_starts_that_is_not_a_time_of_day_is_a_usage_error(boundary):
    result = festival("day", "2025-07-12", "--day-starts", boundary)

    assert result.exit_code == 2
    assert "--day-starts" in result.stderr and "is not a time of day" in result.stderr


def test_a_date_in_another_format_is_refused_with_an_example(stacks):
    assert failed_with(festival("day", "12/07/2025"), "is not a date like 2025-07-12")


def test_a_night_without_sets_is_a_sentence_and_success(stacks):
    result = festival("day", "2025-08-01")

    assert result.exit_code == 0
    assert result.stdout.splitlines()[-1] == "No performance found."


def test_day_as_csv_is_the_rows_alone_fred_again_last(stacks):
    result = festival("day", "2025-07-12", "--csv")

    assert result.exit_code == 0, result.output
    header, *rows = result.stdout.splitlines()
    assert "performer" in header.lower()
    assert len(rows) == len(SATURDAY_NIGHT)
    assert rows[-1].startswith("Fred again..,Dance Tent,")
