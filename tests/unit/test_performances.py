"""Examples of a row's values read as a Performance or a RowError (lineup_ingest.performances):
the parser's last layer, with its names. Names in wrapped cells are in test_wrapped_names.py,
hostile names in test_hostile_input.py, times and dates in test_times.py.
"""

from __future__ import annotations

import pytest

from lineup_ingest.columns import Header
from lineup_ingest.lines import CHECK_ALL, CHECK_NAMES, NUL
from lineup_ingest.parsing import REQUIRED_COLUMNS, Performance, ReadCounts, RowError
from lineup_ingest.performances import plain_names, read_row
from lineup_ingest.times import schedules_on
from tests.unit.reading import HEADER, read_one

# As read_lineup reads them


@pytest.mark.parametrize(
    "name", ["Beyoncé", "Sigur Rós", "坂本龍一", "Мумий Тролль", "Ólafur Arnalds 🎹"]
)
def test_non_ascii_names_are_kept_as_written(name):
    row = read_one(HEADER + f"{name},Scène 1,2025-07-12,20:00,21:00\n")
    assert isinstance(row, Performance)
    assert (row.performer, row.stage) == (name, "Scène 1")


def test_names_lose_surrounding_whitespace_only():
    row = read_one(HEADER + "  The  Knife \t, Main ,2025-07-12, 20:00 , 21:00\n")
    assert isinstance(row, Performance)
    assert (row.performer, row.stage, row.raw_start, row.raw_end) == (
        "The  Knife",
        "Main",
        "20:00",
        "21:00",
    )


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("  ,B,2025-07-12,20:00,21:00", "Performer is empty"),
        ("A,,2025-07-12,20:00,21:00", "Stage is empty"),
        ("A,B,,20:00,21:00", "Date is empty"),
        ("A,B,2025-07-12,,21:00", "Start is empty"),
        ("A,B,2025-07-12,20:00, ", "End is empty"),
    ],
)
def test_blank_required_field_is_a_row_error_naming_it(row, reason):
    assert read_one(HEADER + row + "\n") == RowError(2, reason)


def test_every_problem_of_a_row_is_reported_together():
    assert read_one(HEADER + ",B,12/07/2025,25:00,7:60\n") == RowError(
        2,
        "Performer is empty; Date '12/07/2025' is not a date (use YYYY-MM-DD, e.g. 2025-07-12); "
        "Start '25:00' is not a time (use 20:00 or 8:00 PM); "
        "End '7:60' is not a time (use 20:00 or 8:00 PM)",
    )


# A row read with every check

# Performer, Stage, Start, End, Date, then Notes.
HEADER_WITH_NOTES = Header(6, 5, dict(zip(REQUIRED_COLUMNS, range(5), strict=True)))


def read_cells(cells: list[str], last_line: int = 2, *, dirty: bool = False, counts=None):
    schedule = schedules_on("24h").any_length
    return read_row(HEADER_WITH_NOTES, cells, 2, last_line, dirty, schedule, counts)


def test_a_row_read_with_every_check_is_a_performance_of_its_stripped_cells():
    assert read_cells([" A ", "B\t", "20:00", "21:00", "2025-07-12\r\n"]) == Performance(
        "A", "B", "2025-07-12", "2025-07-12T20:00", "2025-07-12T21:00", "20:00", "21:00", 2
    )


def test_a_blank_record_is_no_row_and_a_short_one_says_where_it_runs_on_to():
    assert read_cells([" ", "", "", "", "\n"]) is None
    assert read_cells(["A\nB"], last_line=3) == RowError(
        2, "expected 6 fields, found 1 (the row runs on to line 3: is a closing quote missing?)"
    )


def test_a_wrapped_name_of_a_record_over_lines_is_joined_into_one_line_and_counted():
    counts = ReadCounts()
    cells = ["Act \r\n\n and Friends", "Main\nStage", "20:00", "21:00", "2025-07-12", "x"]
    row = read_cells(cells, last_line=4, counts=counts)
    assert isinstance(row, Performance)
    assert (row.performer, row.stage, counts.names_joined) == ("Act and Friends", "Main Stage", 2)


def test_a_row_of_a_record_on_one_line_keeps_its_line_break_as_a_control_character():
    row = read_cells(["Act\nand Friends", "B", "20:00", "21:00", "2025-07-12"])
    assert row == RowError(
        2,
        "Performer contains U+000A (line feed), a character that changes how text is shown:"
        " remove it",
    )


@pytest.mark.parametrize(
    ("cells", "reason"),
    [
        ([f"A{NUL}", "B", "20:00", "21:00", "2025-07-12"], "NUL bytes"),
        (["Beyonc\udce9", "B", "20:00", "21:00", "2025-07-12"], "not valid UTF-8"),
    ],
)
def test_a_row_of_lines_that_may_hold_marks_is_looked_at_for_them(cells, reason):
    row = read_cells(cells, dirty=True)
    assert isinstance(row, RowError) and reason in row.reason


@pytest.mark.parametrize(
    ("performer", "checks", "plain"),
    [
        ("Björk", CHECK_NAMES, True),
        ("A" * 499, CHECK_NAMES, True),
        ("A" * 501, CHECK_NAMES, False),
        ("A\u202eB", CHECK_NAMES, False),
        ("Björk", CHECK_ALL, False),
    ],
    ids=["accented", "long-ascii", "too-long", "bidi-override", "lines-may-hold-marks"],
)
def test_plain_names_need_no_other_check_and_others_go_to_the_careful_read(
    performer, checks, plain
):
    assert plain_names(performer, "Main Stage", checks) is plain
