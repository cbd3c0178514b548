"""Festival nights: a festival day runs from a boundary hour to the same hour the next day.

To a festival, Saturday night runs until the early morning: with the boundary at 06:00
(the default), a set starting at 01:00 on Sunday belongs to Saturday's night. A set belongs
to the night its *start* falls in, so each set belongs to exactly one night; a set crossing
the boundary (05:00–07:00) belongs to the night it started in. A boundary of 00:00 makes
nights calendar days. Pure: the standard library only.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

DEFAULT_DAY_STARTS = time(6, 0)
DAY_STARTS_OUTPUT = "FestivalDayStarts"  # the stack output holding the deployed boundary

_HOUR_MINUTE = re.compile(r"(\d{1,2}):(\d{2})")


class DayStartsError(ValueError):
    """A boundary hour that is not a time of day like 06:00 (the message says why)."""


def parse_day_starts(text: str) -> time:
    """A boundary hour written as HH:MM (00:00 to 23:59; 6:00 is read as 06:00)."""
    match = _HOUR_MINUTE.fullmatch(text.strip())
    if match is None:
        raise DayStartsError(f"{text!r} is not a time of day like 06:00")
    hour, minute = int(match[1]), int(match[2])
    if hour > 23 or minute > 59:
        raise DayStartsError(f"{text!r} is not a time of day between 00:00 and 23:59")
    return time(hour, minute)


def format_day_starts(day_starts: time) -> str:
    """The boundary hour as HH:MM, as parse_day_starts reads it."""
    return day_starts.strftime("%H:%M")


def _offset(day_starts: time) -> timedelta:
    return timedelta(hours=day_starts.hour, minutes=day_starts.minute)


def night_of(moment: datetime, day_starts: time = DEFAULT_DAY_STARTS) -> date:
    """The festival day a moment belongs to: its date, or the day before when it comes
    before the boundary hour (01:00 on the 13th is the night of the 12th; 06:00 on the
    13th, with the boundary at 06:00, is the 13th's)."""
    return (moment - _offset(day_starts)).date()


def night_window(night: date, day_starts: time = DEFAULT_DAY_STARTS) -> tuple[datetime, datetime]:
    """The moments of a festival day, [start, end): from the boundary hour on its date to
    the same hour the next day."""
    start = datetime.combine(night, day_starts)
    return start, start + timedelta(days=1)


def calendar_days(night: date, day_starts: time = DEFAULT_DAY_STARTS) -> list[date]:
    """The calendar dates a night's starts fall on: its own date, and the next one unless
    the boundary is midnight (the lineup's day partitions to read for the night)."""
    start, end = night_window(night, day_starts)
    last = (end - timedelta(minutes=1)).date()
    return [start.date() + timedelta(days=n) for n in range((last - start.date()).days + 1)]
