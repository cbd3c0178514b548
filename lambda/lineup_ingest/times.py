"""A set's Date, Start and End, and the clocks its times are read on: part of the parser's
last layer (a row's values → a Performance; the names are in performances.py).

Start and End are read on the "24h" clock ("20:00", "8:00" is 08:00, "0:30") unless they
carry AM/PM in any case or spacing ("8:00 PM", "8pm", "12:00 AM" is 00:00). On the "pm"
clock a time without AM/PM is in the afternoon or evening: hours 1 to 11 are PM and 12 is
noon. A file set to "auto" is read on the clock `decide_clock` picks from its head. A set
starts on its Date and ends at the first time after its Start that reads as its End, so the
next day when End is not after Start. docs/ingest.md (Reading a lineup file) gives the rules
as the people who write lineups need them.
"""

from __future__ import annotations

import datetime
import functools
import re
from collections.abc import Callable, Iterable
from typing import NamedTuple

from lineup_ingest.columns import LABELS
from lineup_ingest.schema import NAME_KEY_MAX_BYTES
from lineup_ingest.text import visible

_TIME_HINT = "use 20:00 or 8:00 PM"
_PM_TIME_HINT = "use 8:00 for 20:00, or 8:00 AM"
_DATE_HINT = "use YYYY-MM-DD, e.g. 2025-07-12"

_TIME = re.compile(
    r"(?P<hour>[0-9]{1,2})(?::(?P<minute>[0-9]{2}))?\s*(?:(?P<meridiem>[AaPp])[Mm])?"
)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

# The clocks that times without AM/PM are read on, and the values a setting may take.
_READING_CLOCKS = ("24h", "pm")
CLOCKS = ("auto", *_READING_CLOCKS)

# A set's (date, start, end, raw start, raw end).
When = tuple[str, str, str, str, str]
# The When of a row's Date, Start and End, or what is wrong with them.
Schedule = Callable[[str, str, str], "When | str"]

# A lineup repeats a few dates and times over and over, so small caches save most of the
# work on a big file. The cells are keys as they are in the file, blanks around them
# included, so that a row needs no work before the look-up. Each read of a file has caches
# of its own (see schedules_on), so that nothing a file puts in them outlives its read in a
# warm Lambda; and they hold only the cells of rows whose Date, Start and End are at most
# CACHED_CHARS characters together, so that a file of distinct long cells cannot fill them
# with megabytes: at most _CACHE_ENTRIES entries of a few KB each, in each of three caches
# (less than 8 MB whatever the file holds, see tests/unit/test_memory.py).
_CACHE_ENTRIES = 1024
# As long as the longest line read by read_lineup's fast loop (see long_line there).
CACHED_CHARS = NAME_KEY_MAX_BYTES


class ClockDecision(NamedTuple):
    """The clock chosen for a file's times without AM/PM, and why, in a line for a person."""

    clock: str  # "24h" or "pm"
    reason: str


class Schedules(NamedTuple):
    """The schedule functions of one read of a file."""

    # Cached: for a Date, Start and End of at most CACHED_CHARS characters together.
    cached: Schedule
    # For cells of any length: longer ones are read without the caches.
    any_length: Schedule


def parse_time(text: str, clock: str = "24h") -> datetime.time:
    """Read '20:00', '8:00' (08:00), '8:00 PM', '8pm' or '12:30 am'; no seconds, no '24:00'.

    On the "pm" clock a time without AM/PM is on a 12-hour clock in the afternoon or evening:
    '7:00' is 19:00 and '12:30' is 12:30, while '20:00', '0:30' and '08:00' are rejected.
    Raises ValueError with a message for a person.
    """
    if clock not in _READING_CLOCKS:
        raise _not_a_reading_clock(clock)
    match = _TIME.fullmatch(text.strip())
    if match is None:
        raise _not_a_time(text, clock)
    hour_text, minute_text, meridiem = match.groups()
    if minute_text is None and meridiem is None:
        raise _not_a_time(text, clock)
    hour, minute = int(hour_text), int(minute_text or 0)
    if meridiem is not None:
        if not 1 <= hour <= 12:
            raise _not_a_time(text, clock)
        hour = hour % 12 + (12 if meridiem in "Pp" else 0)
    if hour > 23 or minute > 59:
        raise _not_a_time(text, clock)
    if meridiem is None and clock == "pm":
        if not 1 <= hour <= 12 or hour_text[0] == "0":
            raise _not_on_the_pm_clock(text, hour, minute)
        hour = hour % 12 + 12
    return datetime.time(hour, minute)


def parse_date(text: str) -> datetime.date:
    """Read an ISO date, 'YYYY-MM-DD' only. Raises ValueError with a message for a person."""
    iso = text.strip()
    if not _DATE.fullmatch(iso):
        raise ValueError(f"{_quote(text)} is not a date ({_DATE_HINT})")
    try:
        return datetime.date.fromisoformat(iso)
    except ValueError:
        raise ValueError(f"{_quote(text)} is not a day on the calendar") from None


def parse_clock(text: str) -> str:
    """Read a clock setting: 'auto', '24h' or 'pm', any case, surrounding spaces ignored.

    Raises ValueError with a message for a person.
    """
    clock = text.strip().casefold()
    if clock not in CLOCKS:
        raise ValueError(
            f"{_quote(text)} is not a clock for times without AM/PM: use auto (decided from"
            " the file), 24h (20:00 is 20:00, 8:00 is 08:00) or pm (7:00 is 19:00)"
        )
    return clock


def decide_clock(times: Iterable[str]) -> ClockDecision:
    """The clock for times without AM/PM, from the Start and End cells of a file's head.

    "pm" when the times are all without AM/PM and none has an hour 0, an hour after 12 or a
    zero-padded hour; "24h" otherwise. Cells that are not times are ignored.

    Why: a person writing on a 24-hour clock writes evening sets as 19:00 or 20:00, and a
    festival's head holds evening sets, so a head without one such time is on a 12-hour
    clock, like the client's example ("Chappell Roan, Main Stage, 5:00, 7:00"). An hour 0
    or a zero-padded hour is a 24-hour habit too. AM/PM beside bare times leaves the bare
    ones on the 24-hour clock: the writer marks what they mean, and guessing against that
    would be worse. One such time is enough, with no share or threshold, so the rule is easy
    to state and to check by eye. It errs in two cases, each shown by the reason and fixed
    by setting the clock: a 24-hour head of hours 1 to 12 only (a morning programme) is read
    as afternoon, and a 12-hour head with one typo such as "13:00" on the 24-hour clock.
    """
    examples: dict[str, str] = {}  # the first time of each kind
    for text in times:
        written = text.strip()
        match = _TIME.fullmatch(written)
        if match is None:
            continue
        try:
            parse_time(written)
        except ValueError:
            continue  # not a time: it says nothing about the clock
        hour_text, _, meridiem = match.groups()
        hour = int(hour_text)
        if meridiem is not None:
            kind = "marked"
        elif hour > 12:
            kind = "after 12"
        elif hour == 0:
            kind = "hour 0"
        elif hour_text[0] == "0":
            kind = "zero-padded"
        else:
            kind = "noon" if hour == 12 else "unmarked"
        examples.setdefault(kind, written)
    return _decision(examples)


def _decision(examples: dict[str, str]) -> ClockDecision:
    """decide_clock's decision from the first time of each kind found."""
    for kind, says in (
        ("after 12", "an hour after 12"),
        ("hour 0", "an hour 0"),
        ("zero-padded", "a zero-padded hour"),
    ):
        if kind in examples:
            return ClockDecision(
                "24h", f"times have {says} (e.g. {examples[kind]}): read on a 24-hour clock"
            )
    unmarked = examples.get("unmarked") or examples.get("noon")
    if "marked" in examples:
        if unmarked is None:
            return ClockDecision("24h", "times have AM/PM: read as written")
        return ClockDecision(
            "24h",
            f"some times have AM/PM (e.g. {examples['marked']}): the others are read on a"
            f" 24-hour clock, e.g. {unmarked} -> {_clock(unmarked)[0]}",
        )
    if unmarked is not None:
        return ClockDecision(
            "pm",
            "times have no AM/PM and no hour after 12: read as afternoon/evening,"
            f" e.g. {unmarked} -> {_clock_pm(unmarked)[0]}",
        )
    return ClockDecision("24h", "no times to judge by: read on a 24-hour clock")


def schedules_on(clock: str) -> Schedules:
    """New schedule functions of a clock, with caches of their own, for one read of a file.

    One function per clock keeps the clock out of the cache's keys and the look-up of the
    hot loop as cheap on every clock. Raises ValueError for an unknown clock.
    """
    if clock not in _READING_CLOCKS:
        raise _not_a_reading_clock(clock)
    read_time = _clock_pm if clock == "pm" else _clock
    cached_day = functools.lru_cache(maxsize=_CACHE_ENTRIES)(_day)
    cached_time = functools.lru_cache(maxsize=_CACHE_ENTRIES)(read_time)

    def schedule(
        date_text: str,
        start_text: str,
        end_text: str,
        day_of: Callable = cached_day,
        time_of: Callable = cached_time,
    ) -> When | str:
        """(date, start, end, raw start, raw end) of a set, or what is wrong with its cells.

        The set ends at the first time after its Start that reads as its End.
        """
        try:
            day, next_day = day_of(date_text)
            start, raw_start, _ = time_of(start_text)
            end, raw_end, end_before_noon = time_of(end_text)
        except ValueError:
            return _schedule_problems(date_text, start_text, end_text, clock)
        if end_before_noon is not None and (end_before_noon > start or end <= start):
            end = end_before_noon  # "11:00" to "1:00" on the "pm" clock is 23:00 to 01:00
        if end > start:
            end_day = day
        elif next_day is not None:
            end_day = next_day  # the set goes past midnight; End equal to Start: 24 hours
        else:
            return f"Date {day} is too late: the set would end after year 9999"
        return day, f"{day}T{start}", f"{end_day}T{end}", raw_start, raw_end

    cached = functools.lru_cache(maxsize=_CACHE_ENTRIES)(schedule)

    def schedule_any(date_text: str, start_text: str, end_text: str) -> When | str:
        if len(date_text) + len(start_text) + len(end_text) <= CACHED_CHARS:
            return cached(date_text, start_text, end_text)
        return schedule(date_text, start_text, end_text, _day, read_time)

    return Schedules(cached, schedule_any)


def _day(text: str) -> tuple[str, str | None]:
    """The ISO date and the day after it (None after 9999-12-31). Raises ValueError."""
    day = parse_date(text)
    if day == datetime.date.max:
        return day.isoformat(), None
    return day.isoformat(), (day + datetime.timedelta(days=1)).isoformat()


def _clock(text: str) -> tuple[str, str, None]:
    """The time as 'HH:MM' on the "24h" clock, as written, and None. Raises ValueError."""
    return parse_time(text).isoformat(timespec="minutes"), text.strip(), None


def _clock_pm(text: str) -> tuple[str, str, str | None]:
    """The time as 'HH:MM' on the "pm" clock, as written, and what else it may mean, or None.

    A time without AM/PM is read as afternoon or evening, but as an End it may be the morning
    after ("11:00" to "1:00"): the 'HH:MM' 12 hours earlier. Raises ValueError.
    """
    time = parse_time(text, "pm")
    written = text.strip()
    hours_minutes = time.isoformat(timespec="minutes")
    if written[-1] in "mM":
        return hours_minutes, written, None
    return hours_minutes, written, f"{time.hour - 12:02d}:{time.minute:02d}"


def _schedule_problems(date_text: str, start_text: str, end_text: str, clock: str) -> str:
    """Everything that is wrong with the Date, Start and End of a row."""
    problems = []
    read_time = functools.partial(parse_time, clock=clock)
    for parse, column, text in (
        (parse_date, "date", date_text),
        (read_time, "start", start_text),
        (read_time, "end", end_text),
    ):
        if not text.strip():
            problems.append(f"{LABELS[column]} is empty")
            continue
        try:
            parse(text.strip())
        except ValueError as error:
            problems.append(f"{LABELS[column]} {error}")
    return "; ".join(problems)


def _not_a_time(text: str, clock: str) -> ValueError:
    hint = _PM_TIME_HINT if clock == "pm" else _TIME_HINT
    return ValueError(f"{_quote(text)} is not a time ({hint})")


def _not_on_the_pm_clock(text: str, hour: int, minute: int) -> ValueError:
    """A time fit for a 24-hour clock only, in a file read on the "pm" clock."""
    written = f"{hour % 12 or 12}:{minute:02d} {'PM' if hour >= 12 else 'AM'}"
    return ValueError(
        f"{_quote(text)} has no AM/PM, and this file reads such times as afternoon or evening"
        f" (7:00 is 19:00): write {written}"
    )


def _not_a_reading_clock(clock: object) -> ValueError:
    return ValueError(f"clock must be '24h' or 'pm', not {clock!r}")


def _quote(text: str, limit: int = 40) -> str:
    """Quote a cell for a message, cut short: a runaway cell can be thousands of characters."""
    return f"'{visible(text)}'" if len(text) <= limit else f"'{visible(text[:limit])}…'"
