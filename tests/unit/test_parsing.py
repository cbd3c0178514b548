"""Examples of how a lineup CSV is read: one test per rule of lineup_ingest.parsing."""

import csv
import datetime
import io

import pytest

from lineup_ingest.parsing import (
    REQUIRED_COLUMNS,
    LineupFileError,
    Performance,
    RowError,
    parse_date,
    parse_time,
    read_lineup,
)

HEADER = "Performer,Stage,Date,Start,End\n"


def read(csv_text: str | bytes) -> list[Performance | RowError]:
    data = csv_text.encode() if isinstance(csv_text, str) else csv_text
    return list(read_lineup(io.BytesIO(data)))


def read_one(csv_text: str | bytes) -> Performance | RowError:
    (item,) = read(csv_text)
    return item


def file_error(csv_text: str | bytes) -> str:
    with pytest.raises(LineupFileError) as raised:
        read(csv_text)
    return str(raised.value)


# The header


def test_required_columns_are_the_five_lineup_fields():
    assert REQUIRED_COLUMNS == ("performer", "stage", "start", "end", "date")


def test_a_simple_row_becomes_a_performance():
    assert read(HEADER + "Sigur Rós,Main Stage,2025-07-12,20:00,21:30\n") == [
        Performance(
            performer="Sigur Rós",
            stage="Main Stage",
            date="2025-07-12",
            start="2025-07-12T20:00",
            end="2025-07-12T21:30",
            raw_start="20:00",
            raw_end="21:30",
            line=2,
        )
    ]


def test_header_names_match_whatever_their_case_and_surrounding_whitespace():
    row = read_one("  PERFORMER ,stage,\tDate ,START,  end\nA,B,2025-07-12,20:00,21:00\n")
    assert isinstance(row, Performance)
    assert (row.performer, row.stage, row.start) == ("A", "B", "2025-07-12T20:00")


def test_columns_may_come_in_any_order():
    row = read_one("End,Date,Stage,Start,Performer\n21:00,2025-07-12,Tent,20:00,Björk\n")
    assert isinstance(row, Performance)
    assert (row.performer, row.stage, row.start, row.end) == (
        "Björk",
        "Tent",
        "2025-07-12T20:00",
        "2025-07-12T21:00",
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


@pytest.mark.parametrize("content", [HEADER, HEADER + "\n\n", HEADER + ",,,,\n", HEADER.strip()])
def test_header_without_rows_is_a_file_error(content):
    assert "no rows" in file_error(content)


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


def test_header_problem_is_raised_before_any_row_is_yielded():
    rows = read_lineup(io.BytesIO(b"Performer,Stage\nA,B\n"))
    with pytest.raises(LineupFileError):
        next(rows)


# Bytes, quoting and lines


def test_utf8_byte_order_mark_is_ignored():
    row = read_one(b"\xef\xbb\xbf" + (HEADER + "A,B,2025-07-12,20:00,21:00\n").encode())
    assert isinstance(row, Performance)


def test_crlf_and_lf_line_endings_give_the_same_performances():
    lf = HEADER + "A,B,2025-07-12,20:00,21:00\n\nC,D,2025-07-12,22:00,23:00\n"
    assert read(lf.replace("\n", "\r\n")) == read(lf)


def test_blank_lines_are_skipped_but_still_counted():
    items = read("\n" + HEADER + "\n  \n,,,,\nA,B,2025-07-12,20:00,21:00\n\n")
    assert [(type(item), item.line) for item in items] == [(Performance, 6)]


def test_quoted_fields_keep_commas_doubled_quotes_and_newlines():
    row = read_one(
        "Performer,Stage,Date,Start,End,Notes\n"
        '"Crosby, Stills & Nash","The ""Big"" Top",2025-07-12,20:00,21:00,"one\ntwo"\n'
    )
    assert isinstance(row, Performance)
    assert (row.performer, row.stage) == ("Crosby, Stills & Nash", 'The "Big" Top')


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


def test_row_that_is_not_utf8_is_a_row_error_and_the_other_rows_load():
    content = (
        (HEADER + "A,B,2025-07-12,20:00,21:00\n").encode()
        + "Beyonc\xe9,Main,2025-07-12,20:00,21:00\n".encode("cp1252")
        + b"C,D,2025-07-12,22:00,23:00\n"
    )
    first, bad, last = read(content)
    assert bad == RowError(3, 'The row is not valid UTF-8: export the file as "CSV UTF-8"')
    assert isinstance(first, Performance) and isinstance(last, Performance)


def test_row_with_nul_bytes_is_a_row_error_and_the_other_rows_load():
    content = HEADER + "A\x00,B,2025-07-12,20:00,21:00\nC,D,2025-07-12,22:00,23:00\n"
    bad, good = read(content)
    assert bad.line == 2 and "NUL" in bad.reason
    assert isinstance(good, Performance) and good.line == 3


def test_nul_byte_inside_a_quoted_newline_rejects_the_whole_row():
    content = HEADER + '"A\x00\nB",C,2025-07-12,20:00,21:00\nD,E,2025-07-12,22:00,23:00\n'
    bad, good = read(content)
    assert bad.line == 2 and "NUL" in bad.reason
    assert isinstance(good, Performance) and good.line == 4


def test_field_over_a_lowered_csv_field_size_limit_is_a_row_error():
    limit = csv.field_size_limit(100)
    try:
        bad, good = read(
            HEADER + "A" * 101 + ",B,2025-07-12,20:00,21:00\nC,D,2025-07-12,22:00,23:00\n"
        )
    finally:
        csv.field_size_limit(limit)
    assert bad.line == 2 and "field limit" in bad.reason
    assert isinstance(good, Performance)


def test_runaway_quote_is_cut_off_as_a_row_error_and_reading_goes_on():
    runaway = '"Unclosed,B,2025-07-12,20:00,21:00\n' + "x\n" * 100_000
    items = read(HEADER + runaway + "C,D,2025-07-12,22:00,23:00\n")
    assert items[0].line == 2
    assert isinstance(items[0], RowError) and "closing quote missing?" in items[0].reason
    assert items[-1] == Performance(
        "C", "D", "2025-07-12", "2025-07-12T22:00", "2025-07-12T23:00", "22:00", "23:00", 100_003
    )


def test_a_line_over_64_kib_is_a_row_error_naming_it_and_the_rows_around_it_load():
    # 20,000 characters, but 80,000 bytes: the limit is in bytes.
    long_line = "Long,B," + "🎸" * 20_000 + ",20:00,21:00\n"
    good = "A,B,2025-07-12,20:00,21:00\n"
    items = read(HEADER + good + long_line + good.replace("A", "C"))
    assert [type(item) for item in items] == [Performance, RowError, Performance]
    assert items[1] == RowError(3, "Line 3 is longer than 65,536 bytes")
    assert (items[0].performer, items[2].line) == ("A", 4)


def test_a_line_of_64_kib_with_its_line_break_is_read_and_one_byte_more_is_not():
    row = "A,B,2025-07-12,20:00,21:00," + "é" * 32_754  # 27 + 65,508 bytes
    assert len((row + "\n").encode()) == 65_536
    header = "Performer,Stage,Date,Start,End,Notes\n"
    assert isinstance(read_one(header + row + "\n"), Performance)
    assert read_one(header + row + "x\n") == RowError(2, "Line 2 is longer than 65,536 bytes")


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


def test_long_cells_are_cut_short_in_reasons():
    row = read_one(HEADER + "A,B,2025-07-12,20:00," + "9" * 1000 + "\n")
    assert row == RowError(2, "End '" + "9" * 40 + "…' is not a time (use 20:00 or 8:00 PM)")


def test_line_numbers_are_where_rows_start_across_blank_lines_and_quoted_newlines():
    content = (
        HEADER
        + '"Multi\nLine\nName",B,2025-07-12,20:00,21:00\r\n'
        + "\r\n"
        + "C,D,2025-07-12,25:00,23:00\r\n"
        + "E,F,2025-07-12,22:00,23:00\r\n"
    )
    assert [item.line for item in read(content)] == [2, 6, 7]


def test_stream_is_read_lazily():
    class ExplodingAfterFirstChunk(io.RawIOBase):
        def __init__(self) -> None:
            self.chunks = [(HEADER + "A,B,2025-07-12,20:00,21:00\n").encode()]

        def readable(self) -> bool:
            return True

        def readinto(self, buffer) -> int:
            if not self.chunks:
                raise AssertionError("read past the first row")
            chunk = self.chunks.pop()
            buffer[: len(chunk)] = chunk
            return len(chunk)

    rows = read_lineup(ExplodingAfterFirstChunk())
    assert isinstance(next(rows), Performance)


def test_stream_is_left_open_for_the_caller():
    stream = io.BytesIO((HEADER + "A,B,2025-07-12,20:00,21:00\n").encode())
    list(read_lineup(stream))
    assert not stream.closed


# Fields of a row


def test_row_with_too_few_fields_is_a_row_error():
    assert read_one(HEADER + "A,B,2025-07-12,20:00\n") == RowError(2, "expected 5 fields, found 4")


def test_row_with_too_many_fields_is_a_row_error():
    assert read_one(HEADER + "A,B,2025-07-12,20:00,21:00,x\n") == RowError(
        2, "expected 5 fields, found 6"
    )


def test_row_may_leave_out_trailing_columns_that_are_not_needed():
    row = read_one("Performer,Stage,Date,Start,End,Notes,Genre\nA,B,2025-07-12,20:00,21:00\n")
    assert isinstance(row, Performance)


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


def test_impossible_start_is_a_row_error_saying_how_to_write_a_time():
    assert read_one(HEADER + "A,B,2025-07-12,25:00,21:00\n") == RowError(
        2, "Start '25:00' is not a time (use 20:00 or 8:00 PM)"
    )


def test_impossible_date_is_a_row_error():
    assert read_one(HEADER + "A,B,2025-02-30,20:00,21:00\n") == RowError(
        2, "Date '2025-02-30' is not a day on the calendar"
    )


# Times and dates


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("20:00", (20, 0)),
        ("8:00", (8, 0)),
        ("08:00", (8, 0)),
        ("0:30", (0, 30)),
        ("00:00", (0, 0)),
        ("23:59", (23, 59)),
        (" 21:15 ", (21, 15)),
    ],
)
def test_24_hour_times_are_read(text, expected):
    assert parse_time(text) == datetime.time(*expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("8:00 PM", (20, 0)),
        ("8:00pm", (20, 0)),
        ("8 PM", (20, 0)),
        ("8pm", (20, 0)),
        ("08:15 Pm", (20, 15)),
        ("8:00   am", (8, 0)),
        ("12:00 AM", (0, 0)),
        ("12:30 am", (0, 30)),
        ("12:00 PM", (12, 0)),
        ("12:30 PM", (12, 30)),
        ("11:59 pM", (23, 59)),
    ],
)
def test_12_hour_times_with_am_or_pm_are_read(text, expected):
    assert parse_time(text) == datetime.time(*expected)


def test_time_without_am_or_pm_is_read_on_a_24_hour_clock():
    assert parse_time("8:00") == datetime.time(8, 0)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "  ",
        "25:00",
        "24:00",
        "7:60",
        "13:00 PM",
        "0:30 AM",
        "20:00:00",
        "20",
        "8.00",
        "8:0",
        "noon",
        "８:００",
        "8:00 PM extra",
        "-1:00",
    ],
)
def test_impossible_times_are_rejected_with_a_readable_message(text):
    with pytest.raises(ValueError, match=r"is not a time \(use 20:00 or 8:00 PM\)"):
        parse_time(text)


def test_iso_dates_are_read():
    assert parse_date("2025-07-12") == datetime.date(2025, 7, 12)


@pytest.mark.parametrize("text", ["12/07/2025", "2025-7-12", "20250712", "12 July 2025", ""])
def test_dates_in_other_formats_are_rejected(text):
    with pytest.raises(ValueError, match="use YYYY-MM-DD"):
        parse_date(text)


@pytest.mark.parametrize("text", ["2025-02-30", "2025-13-01", "0000-01-01"])
def test_days_not_on_the_calendar_are_rejected(text):
    with pytest.raises(ValueError, match="not a day on the calendar"):
        parse_date(text)


# When sets start and end


def test_set_starts_on_the_day_of_its_date_column():
    row = read_one(HEADER + "A,B,2025-07-13,0:30,2:00\n")
    assert isinstance(row, Performance)
    assert (row.date, row.start, row.end) == ("2025-07-13", "2025-07-13T00:30", "2025-07-13T02:00")


def test_set_past_midnight_ends_next_day():
    row = read_one(HEADER + "A,B,2025-07-12,11:30 PM,1:00 AM\n")
    assert isinstance(row, Performance)
    assert (row.start, row.end) == ("2025-07-12T23:30", "2025-07-13T01:00")
    assert (row.raw_start, row.raw_end) == ("11:30 PM", "1:00 AM")


def test_set_past_midnight_on_the_last_day_of_the_year_ends_in_the_next_year():
    row = read_one(HEADER + "A,B,2025-12-31,23:00,01:00\n")
    assert isinstance(row, Performance) and row.end == "2026-01-01T01:00"


def test_set_ending_when_it_starts_lasts_24_hours():
    row = read_one(HEADER + "A,B,2025-07-12,20:00,20:00\n")
    assert isinstance(row, Performance) and row.end == "2025-07-13T20:00"


def test_set_that_would_end_after_year_9999_is_a_row_error():
    row = read_one(HEADER + "A,B,9999-12-31,23:00,01:00\n")
    assert isinstance(row, RowError) and "9999" in row.reason


def test_overlapping_and_duplicate_sets_are_all_yielded_as_given():
    rows = [
        "A,Main,2025-07-12,20:00,22:00",
        "B,Main,2025-07-12,21:00,23:00",
        "A,Main,2025-07-12,20:00,22:00",
    ]
    items = read(HEADER + "\n".join(rows) + "\n")
    assert all(isinstance(item, Performance) for item in items)
    assert [(item.performer, item.line) for item in items] == [("A", 2), ("B", 3), ("A", 4)]
