"""Examples of a set's Date, Start and End (lineup_ingest.times): part of the parser's last
layer, a row's values → a Performance. How a file's clock is decided is in
test_parsing_clocks.py.
"""

from __future__ import annotations

import datetime

import pytest

from lineup_ingest.parsing import Performance, RowError, parse_date, parse_time
from lineup_ingest.times import schedules_on
from tests.unit.reading import HEADER, read, read_one, times_of

# Times and dates


@pytest.mark.parametrize(
    ("clock", "text", "expected"),
    [
        ("24h", "20:00", (20, 0)),
        ("24h", "8:00", (8, 0)),
        ("24h", "08:00", (8, 0)),
        ("24h", "0:30", (0, 30)),
        ("24h", "00:00", (0, 0)),
        ("24h", "23:59", (23, 59)),
        ("24h", " 21:15 ", (21, 15)),
        ("pm", "1:00", (13, 0)),
        ("pm", "7:00", (19, 0)),
        ("pm", " 8:15 ", (20, 15)),
        ("pm", "11:59", (23, 59)),
        ("pm", "12:00", (12, 0)),
        ("pm", "12:30", (12, 30)),
    ],
)
def test_a_time_without_am_or_pm_is_read_on_its_clock_24_hour_or_afternoon_and_evening(
    clock, text, expected
):
    assert parse_time(text, clock) == datetime.time(*expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("8:00 PM", (20, 0)),
        ("8:00pm", (20, 0)),
        ("8 PM", (20, 0)),
        ("8pm", (20, 0)),
        ("08:15 Pm", (20, 15)),
        ("8:00   am", (8, 0)),
        ("8:00 AM", (8, 0)),
        ("08:15 am", (8, 15)),
        ("12:00 AM", (0, 0)),
        ("12:30 am", (0, 30)),
        ("12:00 PM", (12, 0)),
        ("12:30 PM", (12, 30)),
        ("11:59 pM", (23, 59)),
    ],
)
def test_a_12_hour_time_with_am_or_pm_is_read_as_written_on_either_clock(text, expected):
    assert parse_time(text) == parse_time(text, "pm") == datetime.time(*expected)


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


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("20:00", "8:00 PM"),
        ("13:00", "1:00 PM"),
        ("23:59", "11:59 PM"),
        ("0:30", "12:30 AM"),
        ("00:00", "12:00 AM"),
        ("08:00", "8:00 AM"),
        ("09:30", "9:30 AM"),
        ("12:00", None),
    ],
)
def test_pm_clock_rejects_times_only_a_24_hour_clock_writes_saying_how_to_write_them(text, written):
    if written is None:
        assert parse_time(text, "pm") == datetime.time(12, 0)
        return
    with pytest.raises(ValueError) as raised:
        parse_time(text, "pm")
    assert str(raised.value) == (
        f"'{text}' has no AM/PM, and this file reads such times as afternoon or evening"
        f" (7:00 is 19:00): write {written}"
    )


@pytest.mark.parametrize("text", ["25:00", "7:60", "7", "noon", "13:00 PM", ""])
def test_pm_clock_rejects_what_is_not_a_time_with_a_hint_for_its_clock(text):
    with pytest.raises(ValueError, match=r"is not a time \(use 8:00 for 20:00, or 8:00 AM\)"):
        parse_time(text, "pm")


@pytest.mark.parametrize("clock", ["auto", "PM", "12h", ""])
def test_parse_time_rejects_a_clock_it_does_not_read_on(clock):
    with pytest.raises(ValueError, match="clock must be '24h' or 'pm'"):
        parse_time("7:00", clock)


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


# A row's Date, Start and End


def test_impossible_start_is_a_row_error_saying_how_to_write_a_time():
    assert read_one(HEADER + "A,B,2025-07-12,25:00,21:00\n") == RowError(
        2, "Start '25:00' is not a time (use 20:00 or 8:00 PM)"
    )


def test_impossible_date_is_a_row_error():
    assert read_one(HEADER + "A,B,2025-02-30,20:00,21:00\n") == RowError(
        2, "Date '2025-02-30' is not a day on the calendar"
    )


def test_long_cells_are_cut_short_in_reasons():
    row = read_one(HEADER + "A,B,2025-07-12,20:00," + "9" * 1000 + "\n")
    assert row == RowError(2, "End '" + "9" * 40 + "…' is not a time (use 20:00 or 8:00 PM)")


def test_pm_row_with_a_24_hour_time_is_a_row_error_and_the_other_rows_load():
    items = read(
        HEADER
        + "A,B,2025-07-12,7:00,9:00\n"
        + "C,D,2025-07-12,20:00,22:00\n"
        + "E,F,2025-07-12,9:00,10:00\n",
        "pm",
    )
    assert [type(item) for item in items] == [Performance, RowError, Performance]
    assert items[1] == RowError(
        3,
        "Start '20:00' has no AM/PM, and this file reads such times as afternoon or evening"
        " (7:00 is 19:00): write 8:00 PM; End '22:00' has no AM/PM, and this file reads such"
        " times as afternoon or evening (7:00 is 19:00): write 10:00 PM",
    )


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


@pytest.mark.parametrize(
    ("clock", "cells", "start", "end"),
    [
        ("24h", "2025-12-31,23:00,01:00", "2025-12-31T23:00", "2026-01-01T01:00"),
        ("24h", "2025-07-12,20:00,20:00", "2025-07-12T20:00", "2025-07-13T20:00"),
        ("pm", "2025-07-12,11:00,1:00", "2025-07-12T23:00", "2025-07-13T01:00"),
        ("pm", "2025-07-12,11:00,12:30", "2025-07-12T23:00", "2025-07-13T00:30"),
        ("pm", "2025-07-12,12:00,1:30", "2025-07-12T12:00", "2025-07-12T13:30"),
        ("pm", "2025-07-12,7:00,7:00", "2025-07-12T19:00", "2025-07-13T07:00"),
        ("pm", "2025-07-12,10:00 AM,11:30", "2025-07-12T10:00", "2025-07-12T11:30"),
        ("pm", "2025-07-12,11:00,1:00 PM", "2025-07-12T23:00", "2025-07-13T13:00"),
        ("pm", "2025-12-31,11:00,1:00", "2025-12-31T23:00", "2026-01-01T01:00"),
    ],
    ids=[
        "past-midnight-on-the-last-day-of-the-year-ends-in-the-next-year",
        "ending-when-it-starts-lasts-24-hours",
        "pm-past-midnight-ends-the-next-morning",
        "pm-ending-at-12-30-after-an-evening-start-ends-after-midnight",
        "pm-from-noon-ends-the-same-afternoon",
        "pm-ending-at-the-time-it-starts-lasts-12-hours",
        "pm-starting-in-the-morning-with-am-ends-that-morning",
        "pm-ending-with-am-or-pm-ends-as-written",
        "pm-past-midnight-on-the-last-day-of-the-year-ends-in-the-next-year",
    ],
)
def test_a_set_ends_at_the_first_time_after_its_start_that_reads_as_its_end(
    clock, cells, start, end
):
    assert times_of(read_one(f"{HEADER}A,B,{cells}\n", clock)) == (start, end)


def test_set_that_would_end_after_year_9999_is_a_row_error():
    row = read_one(HEADER + "A,B,9999-12-31,23:00,01:00\n")
    assert isinstance(row, RowError) and "9999" in row.reason


def test_the_same_cells_read_on_two_clocks_give_two_sets():
    row = HEADER + "A,B,2025-07-12,7:00,9:00\n"
    assert times_of(read_one(row, "24h")) == ("2025-07-12T07:00", "2025-07-12T09:00")
    assert times_of(read_one(row, "pm")) == ("2025-07-12T19:00", "2025-07-12T21:00")
    assert times_of(read_one(row, "24h")) == ("2025-07-12T07:00", "2025-07-12T09:00")


# The schedule functions themselves


@pytest.mark.parametrize("clock", ["24h", "pm"])
def test_cells_too_long_for_the_caches_are_read_as_cached_ones_are(clock):
    schedule = schedules_on(clock)
    padded = "2025-07-12" + " " * 600
    assert schedule.any_length(padded, "7:00", "9:00 PM") == schedule.cached(
        "2025-07-12", "7:00", "9:00 PM"
    )
    assert schedule.any_length("2025-07-12", "7:00", "9:00 PM")[0] == "2025-07-12"


def test_a_schedule_says_everything_wrong_with_the_cells_of_a_row():
    assert schedules_on("24h").cached(" ", "25:00", "") == (
        "Date is empty; Start '25:00' is not a time (use 20:00 or 8:00 PM); End is empty"
    )


def test_schedules_are_made_for_the_clocks_a_file_is_read_on_only():
    with pytest.raises(ValueError, match="clock must be '24h' or 'pm', not 'auto'"):
        schedules_on("auto")
