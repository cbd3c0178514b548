"""Sets as calendars (RFC 5545, through the ``icalendar`` library) and as CSV.

`festival export` and the explorer's subscription URLs (/calendar/...) both build their
answer here, from the same queries, so a file and a subscription hold the same events.

Stored times are the festival's wall-clock times; each set carries its file's time zone
(``zone``, an IANA name kept on the file's head). An event's start and end are written
in that zone with ``TZID`` (and a ``VTIMEZONE`` for it), so a phone elsewhere shows the
right local time; a set in UTC is written in UTC (``...Z``).
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from icalendar import Calendar, Event

from lineup_ingest import schema

PRODUCT_ID = "-//festival-lineup//festival export//EN"
UID_DOMAIN = "festival-lineup.export"  # the right-hand side of every UID (RFC 5545 3.8.4.7)
# The columns of a CSV of sets: what a spreadsheet needs to place and check each one.
CSV_COLUMNS = ("performer", "stage", "start", "end", "zone", "source_file", "source_line")
KINDS = ("performer", "stage", "night")
# A cell a spreadsheet would run as a formula (=, +, -, @, or a tab or carriage return
# first): written after an apostrophe, which spreadsheets show as text (OWASP's advice).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class CalendarError(ValueError):
    """A set the calendar cannot hold as asked (its time zone is unknown here)."""


@dataclass(frozen=True)
class Selection:
    """Which sets a calendar holds: a performer's, a stage's, or a festival night's."""

    kind: str  # one of KINDS
    value: str  # the name as asked, or the night's date (YYYY-MM-DD)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"a calendar is of a {', a '.join(KINDS)}, not a {self.kind}")

    def title(self, performances: list[dict] | None = None) -> str:
        """The calendar's name: the performer or stage as the lineup writes it (as asked,
        spaces collapsed, when nothing was found), or the night."""
        if self.kind == "night":
            return f"Festival night of {self.night:%A %d %B %Y}"
        name = performances[0][self.kind] if performances else " ".join(self.value.split())
        return f"{name} ({self.kind})"

    @property
    def night(self) -> date:
        try:
            return date.fromisoformat(self.value.strip())
        except ValueError:
            raise ValueError(f"{self.value!r} is not a date like 2025-07-12") from None

    @property
    def file_stem(self) -> str:
        """A file name for it, without extension: letters, digits and dashes."""
        cleaned = "".join(
            ch if ch.isascii() and ch.isalnum() else "-" for ch in self.value.strip().casefold()
        )
        return f"{self.kind}-{'-'.join(part for part in cleaned.split('-') if part) or 'sets'}"

    def performances(self, queries: Any, day_starts: Callable[[], time]) -> list[dict]:
        """The sets, from the queries (a `LineupQueries` or anything answering the same);
        ``day_starts`` gives the night's boundary hour, asked only for a night."""
        if self.kind == "performer":
            return list(queries.by_performer(self.value))
        if self.kind == "stage":
            return list(queries.by_stage(self.value))
        return list(queries.on_night(self.night, day_starts()))


def zone_of(performance: dict) -> ZoneInfo:
    name = str(performance.get("zone") or "UTC")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise CalendarError(
            f"the time zone {name!r} of {performance.get('source_file')} is not known here"
            " (install the tzdata package)"
        ) from None


def event_uid(performance: dict) -> str:
    """The same set (performer, stage and start, in any case and spacing) gets the same
    UID in every export: a calendar subscribed to updates it rather than adding it."""
    identity = "\x1f".join(
        (
            schema.name_key(performance["performer"]),
            schema.name_key(performance["stage"]),
            performance["start"],
        )
    )
    return f"{hashlib.sha256(identity.encode('utf-8')).hexdigest()[:32]}@{UID_DOMAIN}"


def calendar(performances: list[dict], name: str, *, now: datetime | None = None) -> bytes:
    """An RFC 5545 calendar of the sets, one VEVENT a set (the same set in two files is
    one event), with a VTIMEZONE for each zone used."""
    stamp = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    cal = Calendar()
    cal.add("prodid", PRODUCT_ID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    zones = {str(p.get("zone") or "UTC") for p in performances}
    if len(zones) == 1:
        cal.add("x-wr-timezone", zones.pop())
    seen: set[str] = set()
    for performance in performances:
        uid = event_uid(performance)
        if uid in seen:
            continue
        seen.add(uid)
        cal.add_component(_event(performance, uid, stamp))
    cal.add_missing_timezones()
    return bytes(cal.to_ical())


def _event(performance: dict, uid: str, stamp: datetime) -> Event:
    zone = zone_of(performance)
    start = datetime.fromisoformat(performance["start"]).replace(tzinfo=zone)
    end = datetime.fromisoformat(performance["end"]).replace(tzinfo=zone)
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", stamp)
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("summary", performance["performer"])
    event.add("location", performance["stage"])
    where = performance.get("source_file")
    line = performance.get("source_line")
    event.add(
        "description",
        f"{performance['performer']} on {performance['stage']}, "
        f"{start:%a %d %b %H:%M} to {end:%H:%M} ({zone.key})"
        + (f". From {where}" + (f", line {line}" if line else "") + "." if where else "."),
    )
    return event


def csv_text(performances: list[dict]) -> str:
    """The sets as CSV with a header row (CSV_COLUMNS), times as stored (ISO, to the
    minute, wall-clock in ``zone``)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for performance in performances:
        writer.writerow([csv_cell(performance.get(column)) for column in CSV_COLUMNS])
    return out.getvalue()


def csv_cell(value: Any) -> Any:
    """A value as a CSV cell: None empty, text that a spreadsheet would run as a formula
    behind an apostrophe."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
