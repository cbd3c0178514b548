"""Festival nights: which festival day a moment belongs to, and the moments of a day."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from festival.nights import (
    DEFAULT_DAY_STARTS,
    DayStartsError,
    calendar_days,
    format_day_starts,
    night_of,
    night_window,
    parse_day_starts,
)

SIX = time(6, 0)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_the_default_boundary_is_six_in_the_morning():
    assert DEFAULT_DAY_STARTS == time(6, 0)


@pytest.mark.parametrize(
    ("moment", "night"),
    [
        ("2025-07-12T22:00", "2025-07-12"),  # an evening set: its own date
        ("2025-07-12T23:59", "2025-07-12"),
        ("2025-07-13T00:00", "2025-07-12"),  # midnight belongs to the night before
        ("2025-07-13T01:00", "2025-07-12"),
        ("2025-07-13T05:59", "2025-07-12"),  # the last minute before the boundary
        ("2025-07-13T06:00", "2025-07-13"),  # exactly at the boundary: the new day
        ("2025-07-13T06:01", "2025-07-13"),
        ("2025-07-13T12:00", "2025-07-13"),
    ],
)
def test_a_moment_before_the_boundary_belongs_to_the_night_before(moment, night):
    assert night_of(at(moment), SIX) == date.fromisoformat(night)


def test_a_midnight_boundary_makes_nights_calendar_days():
    assert night_of(at("2025-07-13T00:00"), time(0, 0)) == date(2025, 7, 13)
    assert night_of(at("2025-07-12T23:59"), time(0, 0)) == date(2025, 7, 12)


def test_a_boundary_with_minutes_is_honoured():
    assert night_of(at("2025-07-13T04:29"), time(4, 30)) == date(2025, 7, 12)
    assert night_of(at("2025-07-13T04:30"), time(4, 30)) == date(2025, 7, 13)


def test_a_night_runs_from_its_boundary_to_the_same_hour_the_next_day():
    assert night_window(date(2025, 7, 12), SIX) == (at("2025-07-12T06:00"), at("2025-07-13T06:00"))


def test_a_night_window_crosses_the_end_of_a_month_and_a_year():
    assert night_window(date(2025, 12, 31), time(5, 0)) == (
        at("2025-12-31T05:00"),
        at("2026-01-01T05:00"),
    )


def test_a_set_spanning_the_boundary_belongs_to_the_night_it_started_in():
    start, end = at("2025-07-13T05:00"), at("2025-07-13T07:00")
    night = night_of(start, SIX)
    assert night == date(2025, 7, 12)
    first, last = night_window(night, SIX)
    assert first <= start < last < end  # it started in the night and ends after it


def test_a_set_starting_before_the_boundary_is_not_the_days_set():
    first, _ = night_window(date(2025, 7, 13), SIX)
    assert night_of(at("2025-07-13T05:30"), SIX) != date(2025, 7, 13)
    assert at("2025-07-13T05:30") < first


def test_a_night_reads_the_day_partitions_of_its_date_and_the_next_one():
    assert calendar_days(date(2025, 7, 12), SIX) == [date(2025, 7, 12), date(2025, 7, 13)]
    assert calendar_days(date(2025, 7, 12), time(0, 0)) == [date(2025, 7, 12)]


@pytest.mark.parametrize(
    ("text", "boundary"),
    [("06:00", time(6, 0)), ("6:00", time(6, 0)), (" 05:30 ", time(5, 30)), ("00:00", time())],
)
def test_a_boundary_is_read_as_hours_and_minutes(text, boundary):
    assert parse_day_starts(text) == boundary


@pytest.mark.parametrize("text", ["", "6", "06", "6am", "24:00", "06:60", "06:00:00", "-1:00"])
def test_a_boundary_that_is_not_a_time_of_day_is_refused_saying_so(text):
    with pytest.raises(DayStartsError, match="is not a time of day"):
        parse_day_starts(text)


def test_a_boundary_is_written_back_as_it_is_read():
    assert format_day_starts(time(5, 0)) == "05:00"
    assert parse_day_starts(format_day_starts(time(23, 59))) == time(23, 59)


moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)).map(
    lambda moment: moment.replace(second=0, microsecond=0)
)
boundaries = st.times().map(lambda boundary: boundary.replace(second=0, microsecond=0))


@given(moments, boundaries)
def test_every_moment_lies_in_the_window_of_its_night(moment, boundary):
    start, end = night_window(night_of(moment, boundary), boundary)
    assert start <= moment < end


@given(moments, boundaries)
def test_every_moment_starts_on_a_calendar_day_its_night_reads(moment, boundary):
    assert moment.date() in calendar_days(night_of(moment, boundary), boundary)
