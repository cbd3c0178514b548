"""Names in wrapped spreadsheet cells load (issue 20): a quoted line break is one space.

The big file: FESTIVAL_WRAPPED_ROWS=1200000 runs the last test on the 1.2 M-row lineup of
the issue (about 7 s on one core); the suite runs it on 40,000 rows.
"""

from __future__ import annotations

import io
import os
import time

import pytest

from lineup_ingest.parsing import Performance, ReadCounts, RowError, read_lineup
from lineup_ingest.schema import name_key
from tests.lineups import wrapped_names_csv

HEADER = "Performer,Stage,Date,Start,End\n"
GOOD_ROW = "A,B,2025-07-12,20:00,21:00\n"
BIG_FILE_ROWS = int(os.environ.get("FESTIVAL_WRAPPED_ROWS", "40000"))


def read(csv_text: str, counts: ReadCounts | None = None) -> list[Performance | RowError]:
    return list(read_lineup(io.BytesIO(csv_text.encode("utf-8")), counts=counts))


@pytest.mark.parametrize(
    ("cell", "name"),
    [
        ('"Act 0400007\nand Friends, Live"', "Act 0400007 and Friends, Live"),
        ('"Act\r\nand Friends"', "Act and Friends"),
        ('"Act\rand Friends"', "Act and Friends"),
        ('"Act \n\n  and\tFriends"', "Act and\tFriends"),  # blanks around the breaks go too
        ('"Act\r\n\r\nand\nFriends"', "Act and Friends"),
        ('"\nAct and Friends\r\n"', "Act and Friends"),  # at the ends: stripped, as before
    ],
)
def test_line_breaks_in_a_quoted_name_are_read_as_one_space(cell, name):
    counts = ReadCounts()
    items = read(HEADER + f"{cell},Main,2025-07-12,20:00,21:00\n" + GOOD_ROW, counts)
    assert [type(item) for item in items] == [Performance, Performance]
    assert items[0].performer == name
    assert counts.names_joined == (0 if cell.startswith('"\n') else 1)


def test_a_wrapped_stage_name_is_joined_too_and_each_name_counts():
    counts = ReadCounts()
    (row,) = read(HEADER + '"The\nKnife","Main\r\nStage",2025-07-12,20:00,21:00\n', counts)
    assert (row.performer, row.stage) == ("The Knife", "Main Stage")
    assert counts.names_joined == 2


def test_a_joined_name_is_the_same_performer_as_the_name_on_one_line():
    (wrapped, plain) = read(
        HEADER + '"Act\nand Friends",Main,2025-07-12,20:00,21:00\n'
        "Act and  friends,Tent,2025-07-13,20:00,21:00\n"
    )
    assert name_key(wrapped.performer) == name_key(plain.performer)


def test_line_numbers_after_a_wrapped_name_stay_those_of_the_file():
    items = read(HEADER + '"A\nB\nC",Main,2025-07-12,20:00,21:00\n' + GOOD_ROW)
    assert [item.line for item in items] == [2, 5]


@pytest.mark.parametrize("char", ["\x0b", "\x0c", "\x1b", "\x85", "\u2028", "\u202e"])
def test_other_control_characters_in_a_wrapped_name_stay_row_errors(char):
    counts = ReadCounts()
    items = read(HEADER + f'"Act\nand{char}Friends",Main,2025-07-12,20:00,21:00\n' + GOOD_ROW)
    assert isinstance(items[0], RowError)
    assert items[0].reason.startswith(f"Performer contains U+{ord(char):04X}")
    assert isinstance(items[1], Performance)
    assert counts.names_joined == 0


def test_a_wrapped_name_in_a_rejected_row_is_not_counted():
    counts = ReadCounts()
    (error,) = read(HEADER + '"Act\nand Friends",Main,2025-07-12,25:00,21:00\n', counts)
    assert isinstance(error, RowError) and "25:00" in error.reason
    assert counts.names_joined == 0


def test_line_breaks_in_other_columns_are_kept_out_of_the_names():
    header = "Performer,Stage,Date,Start,End,Notes\n"
    counts = ReadCounts()
    (row,) = read(header + 'A,B,2025-07-12,20:00,21:00,"one\ntwo"\n', counts)
    assert (row.performer, row.stage) == ("A", "B") and counts.names_joined == 0


def test_a_lineup_with_two_percent_of_names_in_wrapped_cells_loads_every_row():
    data = wrapped_names_csv(BIG_FILE_ROWS)
    counts = ReadCounts()
    began = time.perf_counter()
    performances = rejected = 0
    for item in read_lineup(io.BytesIO(data), counts=counts):
        if type(item) is Performance:
            performances += 1
        else:
            rejected += 1
    seconds = time.perf_counter() - began
    print(f"{BIG_FILE_ROWS:,} rows, {len(data):,} bytes: read in {seconds:.1f} s")
    assert (performances, rejected) == (BIG_FILE_ROWS, 0)
    assert counts.names_joined == BIG_FILE_ROWS // 50
