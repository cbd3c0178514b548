"""Read a festival lineup CSV into performances, one row at a time.

This module is the pure core of the Lambda: standard library only, no AWS. `read_lineup`
streams a binary file-like object (an S3 StreamingBody or ``open(path, "rb")``) and yields a
`Performance` for each good row and a `RowError` for each bad one, so one typo does not stop
the rest of the lineup from loading. Memory use does not grow with the size of the file.

The file:
    The first non-blank line is the header. It must name the columns Performer, Stage, Date,
    Start and End, in any order, case and surrounding whitespace ignored; other columns are
    ignored. Blank lines are skipped. Line numbers are physical lines, 1 being the first line
    of the file; a row that spans lines (a quoted field with a newline) has the line it starts
    on. A file that is empty, has no usable header or has no rows raises `LineupFileError`.
    A header problem is raised before any row is yielded; a file with a header but no rows is
    only known to be one at its end, when nothing has been yielded either.

Encoding:
    The file must be UTF-8 (with or without a BOM). A row holding bytes that are not valid
    UTF-8, such as a Windows-1252 "é", becomes a `RowError` asking for a "CSV UTF-8" export
    while the other rows still load; a header that is not UTF-8 makes the file unusable.

Times:
    Start and End are read on a 24-hour clock ("20:00", "8:00" is 08:00, "0:30") unless they
    carry AM/PM in any case or spacing ("8:00 PM", "8pm", "12:00 AM" is 00:00); seconds and
    "24:00" are not accepted. A set starts on its Date; when End is not after Start the set
    ends the next day (End equal to Start is a 24-hour set).

The parser does not judge the lineup: overlapping sets and duplicate rows are yielded as given.
"""

import csv
import datetime
import functools
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO, NamedTuple, TypeVar

REQUIRED_COLUMNS = ("performer", "stage", "start", "end", "date")

_LABELS = {column: column.capitalize() for column in REQUIRED_COLUMNS}
_HEADER_EXAMPLE = "Performer, Stage, Date, Start, End"
_UTF8_HINT = 'export the file as "CSV UTF-8"'
_TIME_HINT = "use 20:00 or 8:00 PM"
_DATE_HINT = "use YYYY-MM-DD, e.g. 2025-07-12"

# A lineup row is a few hundred characters. Anything this long is a missing closing quote or
# a binary file, and stopping there keeps memory bounded however the file is broken.
_MAX_RECORD_CHARS = 64 * 1024

_TIME = re.compile(
    r"(?P<hour>[0-9]{1,2})(?::(?P<minute>[0-9]{2}))?\s*(?:(?P<meridiem>[AaPp])[Mm])?"
)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# Decoding with errors="surrogateescape" turns each byte that is not UTF-8 into a lone
# surrogate, and a valid UTF-8 file never decodes to one.
_NOT_UTF8 = re.compile("[\ud800-\udfff]")

_T = TypeVar("_T")


@dataclass(frozen=True)
class Performance:
    """One set of one performer on one stage."""

    performer: str
    stage: str
    date: str
    start: str
    end: str
    raw_start: str
    raw_end: str
    line: int


@dataclass(frozen=True)
class RowError:
    """A row that could not be read, with the reason in words for the person who wrote it."""

    line: int
    reason: str


class LineupFileError(Exception):
    """The whole file is unusable (empty, no usable header, header only, binary junk).

    The message is for a person.
    """


class _Header(NamedTuple):
    """Where the required columns are, and how many cells a row may have."""

    width: int
    needed_width: int
    positions: dict[str, int]


class _Record(NamedTuple):
    """One CSV record: its cells, or why it could not be read."""

    line: int
    last_line: int
    cells: list[str] | str


class _RecordTooLongError(Exception):
    """A record ran past _MAX_RECORD_CHARS; it becomes a row error and reading goes on."""


class _PhysicalLines:
    """The physical lines of a text stream, counted, with checks on each record.

    The reader sees no NUL bytes (Python 3.10's csv refuses them, later ones keep them):
    they are dropped and `has_nul` tells that the record they were in is to be rejected.
    """

    def __init__(self, text: io.TextIOBase) -> None:
        self._text = text
        self._record_chars = 0
        self.count = 0
        self.has_nul = False

    def __iter__(self) -> "_PhysicalLines":
        return self

    def __next__(self) -> str:
        budget = _MAX_RECORD_CHARS - self._record_chars
        line = self._text.readline(budget + 1)
        if not line:
            raise StopIteration
        self.count += 1
        self._record_chars += len(line)
        if len(line) > budget:
            self._skip_rest_of_line(line)
            raise _RecordTooLongError(
                f"The row runs on to line {self.count} and is longer than"
                f" {_MAX_RECORD_CHARS} characters (is a closing quote missing?)"
            )
        if "\x00" in line:
            # Let the reader find where the record ends before rejecting it whole, so that
            # the rest of a quoted field is not read as rows of its own.
            self.has_nul = True
            line = line.replace("\x00", "")
        return line

    def start_record(self) -> None:
        self._record_chars = 0
        self.has_nul = False

    def _skip_rest_of_line(self, line: str) -> None:
        while line and not line.endswith(("\n", "\r")):
            line = self._text.readline(_MAX_RECORD_CHARS)


def read_lineup(stream: BinaryIO) -> Iterator[Performance | RowError]:
    """Stream rows from a binary file-like object (an S3 StreamingBody or open(path,'rb')).

    Yields a Performance or a RowError per non-blank row, in file order. Raises
    LineupFileError when the file is unusable. The stream is read, never closed.
    """
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="", errors="surrogateescape")
    try:
        records = _records(text)
        header = _read_header(records)
        has_rows = False
        for record in records:
            has_rows = True
            yield _read_row(header, record)
        if not has_rows:
            raise LineupFileError(
                "The file has a header but no rows: add one row per set below the header."
            )
    finally:
        # The caller owns the stream: let go of it so that closing the wrapper cannot close it.
        if not text.closed:
            text.detach()


def parse_time(text: str) -> datetime.time:
    """Read '20:00', '8:00' (08:00), '8:00 PM', '8pm' or '12:30 am'; no seconds, no '24:00'.

    Raises ValueError with a message for a person.
    """
    match = _TIME.fullmatch(text.strip())
    if match is None:
        raise _not_a_time(text)
    hour_text, minute_text, meridiem = match.groups()
    if minute_text is None and meridiem is None:
        raise _not_a_time(text)
    hour, minute = int(hour_text), int(minute_text or 0)
    if meridiem is not None:
        if not 1 <= hour <= 12:
            raise _not_a_time(text)
        hour = hour % 12 + (12 if meridiem in "Pp" else 0)
    if hour > 23 or minute > 59:
        raise _not_a_time(text)
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


def _not_a_time(text: str) -> ValueError:
    return ValueError(f"{_quote(text)} is not a time ({_TIME_HINT})")


def _quote(text: str, limit: int = 40) -> str:
    """Quote a cell for a message, cut short: a runaway cell can be thousands of characters."""
    return f"'{text}'" if len(text) <= limit else f"'{text[:limit]}…'"


def _records(text: io.TextIOBase) -> Iterator[_Record]:
    """Yield each non-blank CSV record of the text, or why it could not be read."""
    lines = _PhysicalLines(text)
    reader = csv.reader(lines)
    while True:
        lines.start_record()
        line = lines.count + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except (_RecordTooLongError, csv.Error) as error:
            # csv's field size limit is process-wide, so it may have been set below ours.
            # The reader starts afresh on the next line, so reading goes on after a broken record.
            yield _Record(line, lines.count, str(error))
            continue
        if lines.has_nul:
            yield _Record(line, lines.count, "The row contains NUL bytes, which text never has")
        elif any(map(str.strip, cells)):
            yield _Record(line, lines.count, cells)


def _read_header(records: Iterator[_Record]) -> _Header:
    first = next(records, None)
    if first is None:
        raise LineupFileError(
            f"The file is empty: it needs a header line ({_HEADER_EXAMPLE}) and one row per set."
        )
    line, cells = first.line, first.cells
    if isinstance(cells, str):
        raise LineupFileError(
            f"This does not look like a CSV text file (line {line}: {cells}). "
            f"If it is a spreadsheet, {_UTF8_HINT}."
        )
    if any(map(_NOT_UTF8.search, cells)):
        raise LineupFileError(f"The header on line {line} is not valid UTF-8: {_UTF8_HINT}.")
    return _header_from(cells)


def _header_from(cells: list[str]) -> _Header:
    names = [cell.strip().casefold() for cell in cells]
    missing = [_LABELS[column] for column in REQUIRED_COLUMNS if column not in names]
    if missing:
        raise LineupFileError(
            f"The first line must be a header naming the columns {_HEADER_EXAMPLE}; "
            f"it is missing {', '.join(missing)}."
        )
    repeated = [_LABELS[column] for column in REQUIRED_COLUMNS if names.count(column) > 1]
    if repeated:
        raise LineupFileError(f"The header names {', '.join(repeated)} more than once.")
    positions = {column: names.index(column) for column in REQUIRED_COLUMNS}
    return _Header(len(cells), max(positions.values()) + 1, positions)


def _read_row(header: _Header, record: _Record) -> Performance | RowError:
    line, cells = record.line, record.cells
    if isinstance(cells, str):
        return RowError(line, cells)
    if any(map(_NOT_UTF8.search, cells)):
        return RowError(line, f"The row is not valid UTF-8: {_UTF8_HINT}")
    if not header.needed_width <= len(cells) <= header.width:
        reason = f"expected {header.width} fields, found {len(cells)}"
        if record.last_line > line:
            reason += f" (the row runs on to line {record.last_line}: is a closing quote missing?)"
        return RowError(line, reason)
    values = {column: cells[index].strip() for column, index in header.positions.items()}
    return _performance(line, values)


def _performance(line: int, values: dict[str, str]) -> Performance | RowError:
    problems = [f"{_LABELS[name]} is empty" for name in ("performer", "stage") if not values[name]]
    schedule = _schedule(values["date"], values["start"], values["end"])
    if isinstance(schedule, str):
        problems.append(schedule)
    elif not problems:
        date, start, end = schedule
        return Performance(
            performer=values["performer"],
            stage=values["stage"],
            date=date,
            start=start,
            end=end,
            raw_start=values["start"],
            raw_end=values["end"],
            line=line,
        )
    return RowError(line, "; ".join(problems))


# A lineup repeats a few dates and times over and over, so a small cache saves most of the
# work on a big file while keeping memory bounded.
@functools.lru_cache(maxsize=1024)
def _schedule(date_text: str, start_text: str, end_text: str) -> tuple[str, str, str] | str:
    """The ISO date, start and end of a set, or what is wrong with its Date, Start and End."""
    problems: list[str] = []
    day = _parse_cell(parse_date, "date", date_text, problems)
    start = _parse_cell(parse_time, "start", start_text, problems)
    end = _parse_cell(parse_time, "end", end_text, problems)
    if problems or day is None or start is None or end is None:
        return "; ".join(problems)
    starts_at = datetime.datetime.combine(day, start)
    ends_at = datetime.datetime.combine(day, end)
    if ends_at <= starts_at:
        # The set goes past midnight; End equal to Start is a 24-hour set.
        try:
            ends_at += datetime.timedelta(days=1)
        except OverflowError:
            return f"Date {day} is too late: the set would end after year 9999"
    return (
        day.isoformat(),
        starts_at.isoformat(timespec="minutes"),
        ends_at.isoformat(timespec="minutes"),
    )


def _parse_cell(
    parse: Callable[[str], _T], column: str, text: str, problems: list[str]
) -> _T | None:
    """Parse one cell, or record why it cannot be parsed and return None."""
    if not text:
        problems.append(f"{_LABELS[column]} is empty")
        return None
    try:
        return parse(text)
    except ValueError as error:
        problems.append(f"{_LABELS[column]} {error}")
        return None
