"""Examples of the parser's third layer (lineup_ingest.columns): records → rows.

The header a file needs and how a row's cells are found by column, seen in what read_lineup
yields, then in the header itself.
"""

from __future__ import annotations

import io

import pytest

from lineup_ingest.columns import Header, read_header
from lineup_ingest.parsing import REQUIRED_COLUMNS, LineupFileError, Performance, RowError
from tests.unit.reading import HEADER, file_error, read, read_one

# The header, as read_lineup reads it


def test_required_columns_are_the_five_lineup_fields():
    assert REQUIRED_COLUMNS == ("performer", "stage", "start", "end", "date")


def test_header_names_match_whatever_their_case_and_surrounding_whitespace():
    row = read_one("  PERFORMER ,stage,\tDate ,START,  end\nA,B,2025-07-12,20:00,21:00\n")
    assert isinstance(row, Performance)
    assert (row.performer, row.stage, row.start) == ("A", "B", "2025-07-12T20:00")


def test_columns_may_come_in_any_order():
    row = read_one("End,Date,Stage,Start,Performer\n21:00,2025-07-12,Tent,20:00,Björk\n")
    assert row == Performance(
        "Björk", "Tent", "2025-07-12", "2025-07-12T20:00", "2025-07-12T21:00", "20:00", "21:00", 2
    )


def test_extra_columns_are_ignored():
    row = read_one(
        "Genre,Performer,Stage,Notes,Date,Start,End,\n"
        "Post-rock,A,B,bring earplugs,2025-07-12,20:00,21:00,\n"
    )
    assert row == Performance(
        "A", "B", "2025-07-12", "2025-07-12T20:00", "2025-07-12T21:00", "20:00", "21:00", 2
    )


def test_header_missing_columns_is_a_file_error_naming_them():
    message = file_error("Performer,Stage,Date\nA,B,2025-07-12\n")
    assert "missing Start, End" in message


def test_header_naming_a_column_twice_is_a_file_error():
    assert "Stage" in file_error(
        "Performer,Stage,Date,Start,End,stage\nA,B,2025-07-12,20:00,21:00,C\n"
    )


@pytest.mark.parametrize("content", [b"", b"   ", b"\n\n", b"\r\n \r\n\t\n", b"\xef\xbb\xbf"])
def test_empty_file_is_a_file_error(content):
    assert "is empty" in file_error(content)


@pytest.mark.parametrize(
    "content",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00",
        b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00",
        HEADER.encode("utf-16"),
        b"\x00" * 100,
    ],
    ids=["png", "xlsx", "utf-16", "nul-bytes"],
)
def test_binary_junk_is_a_file_error(content):
    file_error(content)


def test_first_line_that_is_not_a_header_is_a_file_error():
    assert "must be a header" in file_error("A,B,2025-07-12,20:00,21:00\n")


def test_header_that_is_not_utf8_is_a_file_error():
    assert "UTF-8" in file_error("Performer,Stage,Date,Start,End,Pr\xe9vu\n".encode("cp1252"))


def test_a_header_line_too_long_is_a_file_error_naming_it():
    message = file_error("\n" + "Performer," * 7_000 + "\n")
    assert "line 2: Line 2 is longer than 65,536 bytes" in message


# Rows, as read_lineup reads them


def test_blank_lines_are_skipped_but_still_counted():
    items = read("\n" + HEADER + "\n  \n,,,,\nA,B,2025-07-12,20:00,21:00\n\n")
    assert [(type(item), item.line) for item in items] == [(Performance, 6)]


def test_row_with_too_few_fields_is_a_row_error():
    assert read_one(HEADER + "A,B,2025-07-12,20:00\n") == RowError(2, "expected 5 fields, found 4")


def test_row_with_too_many_fields_is_a_row_error():
    assert read_one(HEADER + "A,B,2025-07-12,20:00,21:00,x\n") == RowError(
        2, "expected 5 fields, found 6"
    )


def test_row_may_leave_out_trailing_columns_that_are_not_needed():
    row = read_one("Performer,Stage,Date,Start,End,Notes,Genre\nA,B,2025-07-12,20:00,21:00\n")
    assert isinstance(row, Performance)


# The header itself


def test_read_header_gives_where_the_columns_are_and_the_line_the_header_ends_on():
    data = b'\r\n"Stage","No\ntes",Performer,End,Start,Date\r\nA,B,C,D,E,F\r\n'
    header, last_line = read_header(io.BytesIO(data))
    assert last_line == 3
    assert header == Header(
        width=6,
        needed_width=6,
        positions={"performer": 2, "stage": 0, "start": 4, "end": 3, "date": 5},
    )


def test_a_header_gives_the_required_positions_in_the_order_of_the_required_columns():
    header = Header(7, 4, {"performer": 3, "stage": 0, "start": 2, "end": 1, "date": 0})
    assert header.required_positions() == (3, 0, 2, 1, 0)


@pytest.mark.parametrize(
    ("cells", "row"),
    [
        (["A", "B", "8:00", "9:00", "D\n"], ["A", "B", "8:00", "9:00", "D\n"]),
        (["A", "B", "8:00", "9:00", "D", "Notes"], ["A", "B", "8:00", "9:00", "D"]),
        ([" ", "\t", "", "", "\r\n"], None),
        (["A", "B", "8:00", "9:00"], "expected 6 fields, found 4"),
        (["A", "B", "8:00", "9:00", "D", "Notes", "x"], "expected 6 fields, found 7"),
    ],
    ids=["as-wide-as-needed", "with-notes", "blank", "too-few", "too-many"],
)
def test_a_row_is_its_cells_by_column_none_when_blank_or_why_its_width_is_wrong(cells, row):
    header = Header(6, 5, dict(zip(REQUIRED_COLUMNS, range(5), strict=True)))
    expected = dict(zip(REQUIRED_COLUMNS, row, strict=True)) if isinstance(row, list) else row
    assert header.row(cells) == expected


def test_read_header_raises_the_file_error_read_lineup_raises():
    with pytest.raises(LineupFileError, match="missing Start, End"):
        read_header(io.BytesIO(b"Performer,Stage,Date\n"))
