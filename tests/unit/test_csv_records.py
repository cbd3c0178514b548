"""Examples of the parser's second layer (lineup_ingest.csv_records): lines → CSV records.

Quoting, records over several lines and the limits on a record, seen in what read_lineup
yields, then in the records themselves.
"""

from __future__ import annotations

import csv
import io

from lineup_ingest import lines
from lineup_ingest.csv_records import Records, note_run_on, record_starts, why_unreadable
from lineup_ingest.lines import Lines, TooLongError
from lineup_ingest.parsing import Performance, RowError
from tests.unit.reading import HEADER, read, read_one

# As read_lineup reads them


def test_quoted_fields_keep_commas_doubled_quotes_and_newlines():
    row = read_one(
        "Performer,Stage,Date,Start,End,Notes\n"
        '"Crosby, Stills & Nash","The ""Big"" Top",2025-07-12,20:00,21:00,"one\ntwo"\n'
    )
    assert isinstance(row, Performance)
    assert (row.performer, row.stage) == ("Crosby, Stills & Nash", 'The "Big" Top')


def test_field_over_a_lowered_csv_field_size_limit_is_a_row_error():
    limit = csv.field_size_limit(100)
    try:
        bad, good = read(
            HEADER + "A" * 101 + ",B,2025-07-12,20:00,21:00\nC,D,2025-07-12,22:00,23:00\n"
        )
    finally:
        csv.field_size_limit(limit)
    assert isinstance(bad, RowError) and bad.line == 2 and "field limit" in bad.reason
    assert isinstance(good, Performance)


def test_runaway_quote_is_cut_off_as_a_row_error_and_reading_goes_on():
    runaway = '"Unclosed,B,2025-07-12,20:00,21:00\n' + "x\n" * 100_000
    items = read(HEADER + runaway + "C,D,2025-07-12,22:00,23:00\n")
    assert items[0].line == 2
    assert isinstance(items[0], RowError) and "closing quote missing?" in items[0].reason
    assert items[-1] == Performance(
        "C", "D", "2025-07-12", "2025-07-12T22:00", "2025-07-12T23:00", "22:00", "23:00", 100_003
    )


def test_a_row_running_on_past_64_kib_is_cut_off_by_its_bytes():
    # Lines of 1,000 wide blanks (3,001 bytes): the 22nd takes the row past 65,536 bytes,
    # though it has 22,035 characters. The blank lines after it are skipped.
    runaway = '"Unclosed,B,2025-07-12,20:00,21:00\n' + ("\u3000" * 1000 + "\n") * 30
    items = read(HEADER + runaway + "C,D,2025-07-12,22:00,23:00\n")
    assert items[0] == RowError(
        2,
        "The row runs on to line 24 and is longer than 65,536 bytes (is a closing quote missing?)",
    )
    assert items[1:] == [
        Performance(
            "C", "D", "2025-07-12", "2025-07-12T22:00", "2025-07-12T23:00", "22:00", "23:00", 33
        )
    ]


def test_row_error_for_a_row_spanning_lines_points_at_a_missing_closing_quote():
    items = read(HEADER + 'A,B,2025-07-12,20:00,21:00\n"Unclosed,B,2025-07-12,20:00\nC,D\nE\n')
    assert items[1] == RowError(
        3, "expected 5 fields, found 1 (the row runs on to line 5: is a closing quote missing?)"
    )


def test_line_numbers_are_where_rows_start_across_blank_lines_and_quoted_newlines():
    content = (
        HEADER
        + '"Multi\nLine\nName",B,2025-07-12,20:00,21:00\r\n'
        + "\r\n"
        + "C,D,2025-07-12,25:00,23:00\r\n"
        + "E,F,2025-07-12,22:00,23:00\r\n"
    )
    assert [item.line for item in read(content)] == [2, 6, 7]


# The records themselves


def records_of(*physical: str) -> list[tuple[list[str] | str, int]]:
    """Each record of the lines, read as read_lineup reads them, numbered from line 1: its
    cells or why it cannot be read, and the number of its last line."""
    remaining = iter(physical)
    records = Records(remaining)
    read_so_far, number = [], 0
    for text in remaining:
        cells, number = records.read(text, number + 1)
        read_so_far.append((cells, number))
    return read_so_far


def test_a_line_without_quotes_is_a_record_split_at_its_commas_line_break_and_all():
    assert records_of("a, b ,c\r\n") == [(["a", " b ", "c\r\n"], 1)]


def test_a_quoted_field_may_run_on_to_the_next_lines_and_the_record_ends_where_it_does():
    read_so_far = records_of('"Act\n', 'and Friends",B\r\n', "C,D\n")
    assert read_so_far == [(["Act\nand Friends", "B"], 2), (["C", "D\n"], 3)]


def test_a_record_csv_cannot_read_is_the_reason_in_place_of_its_cells():
    limit = csv.field_size_limit(5)
    try:
        read_so_far = records_of("123456,B\n", "C,D\n")
    finally:
        csv.field_size_limit(limit)
    assert read_so_far == [("field larger than field limit (5)", 1), (["C", "D\n"], 2)]


def test_a_row_running_into_a_line_cut_as_too_long_ends_there_and_says_so(monkeypatch):
    monkeypatch.setattr(lines, "MAX_LINE_BYTES", 16)
    physical = iter(Lines(io.BytesIO(b'"Unclosed,B\nthis line is too long\nC,D\n')))
    records = Records(physical)
    assert records.read(next(physical), 1) == (
        "The row runs on to line 2 and is longer than 16 bytes (is a closing quote missing?)",
        1,
    )
    assert records.ran_into_cut_line
    assert list(physical) == ["\n", "C,D\n"]  # the blank line in place of the cut one


def test_why_a_record_is_unreadable_names_the_line_or_where_the_row_runs_on_to():
    assert why_unreadable(TooLongError("line"), 7, 6) == "Line 7 is longer than 65,536 bytes"
    assert why_unreadable(TooLongError("row"), 7, 30) == (
        "The row runs on to line 30 and is longer than 65,536 bytes (is a closing quote missing?)"
    )
    assert why_unreadable(TooLongError("line"), 7, 30).startswith("The row runs on to line 31")
    assert note_run_on("expected 5 fields, found 1", 3, 3) == "expected 5 fields, found 1"


def test_record_starts_are_the_lines_records_start_on_counted_from_the_first_line_given():
    data = b'A,B\n"C\nD",E\n\nF\r\n"G""",H\n'
    assert list(record_starts(io.BytesIO(data), 10)) == [10, 11, 13, 14, 15]
