"""Read a festival lineup CSV into performances, one row at a time.

This module is the pure core of the Lambda: standard library only, no AWS. `read_lineup`
streams a binary file-like object (an S3 StreamingBody or ``open(path, "rb")``) and yields a
`Performance` for each good row and a `RowError` for each bad one, so one typo does not stop
the rest of the lineup from loading. Memory use does not grow with the size of the file.

The file:
    The first non-blank line is the header. It must name the columns Performer, Stage, Date,
    Start and End, in any order, case and surrounding whitespace ignored; other columns are
    ignored. Blank lines, and rows whose cells are all blank, are skipped. Line numbers are
    physical lines, 1 being the first line of the file; a row that spans lines (a quoted field
    with a newline) has the line it starts on. A file that is empty, has no usable header or
    has no rows raises `LineupFileError`. A header problem is raised before any row is
    yielded; a file with a header but no rows is only known to be one at its end, when nothing
    has been yielded either.

Encoding:
    The file must be UTF-8 (with or without a BOM). A row holding bytes that are not valid
    UTF-8, such as a Windows-1252 "é", becomes a `RowError` asking for a "CSV UTF-8" export
    while the other rows still load; so does a row holding NUL bytes. A header that is not
    UTF-8 makes the file unusable.

Size:
    A lineup row is a few hundred characters. A line or a row (a quoted field whose closing
    quote is missing runs on) longer than 65,536 characters becomes a `RowError`, and reading
    goes on with the next line; so does a field longer than csv's field size limit. This is
    what keeps memory bounded.

Times:
    Start and End are read on a 24-hour clock ("20:00", "8:00" is 08:00, "0:30") unless they
    carry AM/PM in any case or spacing ("8:00 PM", "8pm", "12:00 AM" is 00:00); seconds and
    "24:00" are not accepted. A set starts on its Date; when End is not after Start the set
    ends the next day (End equal to Start is a 24-hour set).

The parser does not judge the lineup: overlapping sets and duplicate rows are yielded as given.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import functools
import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO, NamedTuple

REQUIRED_COLUMNS = ("performer", "stage", "start", "end", "date")

_LABELS = {column: column.capitalize() for column in REQUIRED_COLUMNS}
_HEADER_EXAMPLE = "Performer, Stage, Date, Start, End"
_UTF8_HINT = 'export the file as "CSV UTF-8"'
_TIME_HINT = "use 20:00 or 8:00 PM"
_DATE_HINT = "use YYYY-MM-DD, e.g. 2025-07-12"
_NUL_REASON = "The row contains NUL bytes, which text never has"

# How much of the file is read and decoded at a time.
_CHUNK_BYTES = 32 * 1024
# A lineup row is a few hundred characters. A line or a row this long is a missing closing
# quote or a binary file, and stopping there keeps memory bounded however the file is broken.
_MAX_CHARS = 64 * 1024

_TIME = re.compile(
    r"(?P<hour>[0-9]{1,2})(?::(?P<minute>[0-9]{2}))?\s*(?:(?P<meridiem>[AaPp])[Mm])?"
)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# Decoding with errors="surrogateescape" turns each byte that is not UTF-8 into a lone
# surrogate from U+DC80 to U+DCFF, and a valid UTF-8 file never decodes to one.
_NOT_UTF8 = re.compile("[\udc80-\udcff]")
# Marks a line that had NUL bytes (see _move_nul): a lone surrogate, which decoding never
# makes. Python 3.10's csv stops at a NUL, which would split a quoted field; this it reads.
_NUL = "\udc00"
# Lines end in "\r\n", "\r" or "\n" and nothing else (str.splitlines also splits at "\v",
# "\f", "\x1c"-"\x1e", "\x85", "\u2028" and "\u2029").
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


class Performance(NamedTuple):
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


def read_lineup(
    stream: BinaryIO,
    *,
    header: Header | None = None,
    first_line: int = 1,
) -> Iterator[Performance | RowError]:
    """Stream rows from a binary file-like object (an S3 StreamingBody or open(path,'rb')).

    Yields a Performance or a RowError per non-blank row, in file order. Raises
    LineupFileError when the file is unusable. The stream is read, never closed.

    A part of a file (see splitting.py) is read with the file's ``header`` and the number
    of the physical line it starts on: the stream then starts at a record, holds no header,
    and may hold no row at all.
    """
    lines = _Lines(stream, bom=header is None)
    physical = iter(lines)
    quoted = _QuotedRecords(physical)
    field_limit = csv.field_size_limit()
    whole_file = header is None
    if header is None:
        header, number = _read_header(physical, quoted, field_limit)
    else:
        number = first_line - 1
    # The loop below runs once per row of files of a million rows, so it is shaped for speed:
    # local variables and C calls (str.split, str.strip, the lru_cache of `_schedule`), and a
    # tuple made straight into a Performance (a frozen dataclass would cost several times
    # more). Anything unusual (a short row, an empty cell, a bad time) goes to `_read_row`.
    positions = header.positions
    performer_at, stage_at = positions["performer"], positions["stage"]
    date_at, start_at, end_at = positions["date"], positions["start"], positions["end"]
    needed_width, width = header.needed_width, header.width
    new_performance = tuple.__new__
    has_rows = False
    # Date, Start and End of the row before, and what they make: consecutive rows often
    # share them (one time slot on every stage), and comparing is cheaper than a look-up.
    last_date = last_start = last_end = None
    scheduled = False
    date = start = end = raw_start = raw_end = ""
    while True:
        try:
            for text in physical:
                number += 1
                line = number
                if '"' in text or len(text) > field_limit:
                    # csv reads a record with quotes, which may run on to the next lines (and
                    # a line that could hold a field over csv's limit, to reject it as csv does).
                    cells, number = quoted.read(text, line)
                    if type(cells) is RowError:
                        has_rows = True
                        yield cells
                        continue
                else:
                    # Without quotes a line is a record and its cells are what is between the
                    # commas, as csv reads them, but found several times faster. The line break
                    # stays on the last cell: every cell used is stripped.
                    cells = text.split(",")
                if needed_width <= len(cells) <= width and not lines.dirty:
                    date_text, start_text, end_text = cells[date_at], cells[start_at], cells[end_at]
                    if date_text != last_date or start_text != last_start or end_text != last_end:
                        last_date, last_start, last_end = date_text, start_text, end_text
                        when = _schedule(date_text, start_text, end_text)
                        scheduled = type(when) is tuple
                        if scheduled:
                            date, start, end, raw_start, raw_end = when
                    performer = cells[performer_at].strip()
                    stage = cells[stage_at].strip()
                    if scheduled and performer and stage:
                        has_rows = True
                        yield new_performance(
                            Performance,
                            (performer, stage, date, start, end, raw_start, raw_end, line),
                        )
                        continue
                item = _read_row(header, cells, line, number, lines.dirty)
                if item is not None:
                    has_rows = True
                    yield item
            break
        except _TooLongError as error:
            # A line too long outside quotes: it is skipped and reading goes on.
            has_rows = True
            yield RowError(number + 1, _unreadable(error, number + 1, number))
    if not has_rows and whole_file:
        raise LineupFileError(
            "The file has a header but no rows: add one row per set below the header."
        )


def read_header(stream: BinaryIO) -> tuple[Header, int]:
    """The header of a lineup file and the number of its last physical line.

    Raises LineupFileError as read_lineup does for a file without a usable header.
    """
    physical = iter(_Lines(stream))
    return _read_header(physical, _QuotedRecords(physical), csv.field_size_limit())


def record_starts(stream: BinaryIO, first_line: int) -> Iterator[int]:
    """The physical line number of every record of a stream that starts at a record.

    This walks the file exactly as read_lineup does (the same lines, the same quoted
    records, the same cuts of lines and rows too long) without reading the rows, so a
    part of a file may start at any of these lines and read the same rows as one pass.
    """
    lines = _Lines(stream, bom=False)
    physical = iter(lines)
    quoted = _QuotedRecords(physical)
    field_limit = csv.field_size_limit()
    number = first_line - 1
    while True:
        try:
            for text in physical:
                number += 1
                yield number
                if '"' in text or len(text) > field_limit:
                    number = quoted.read(text, number)[1]
            return
        except _TooLongError:
            # The line was cut: the blank line put in its place is read next, as a record
            # that starts on the cut line's number, as read_lineup reads it.
            continue


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


class Header(NamedTuple):
    """Where the required columns are, and how many cells a row may have."""

    width: int
    needed_width: int
    positions: dict[str, int]


class _TooLongError(Exception):
    """A line or a row ran past _MAX_CHARS; it becomes a row error and reading goes on."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what  # "line" or "row"


def _cut_line() -> Iterator[str]:
    """Put among the lines in place of one too long: raises _TooLongError when reached."""
    raise _TooLongError("line")
    yield ""  # pragma: no cover - makes this a generator, which raises when first read


class _Lines:
    """The physical lines of a binary stream, decoded, with their line breaks.

    The stream is decoded and split into lines a chunk at a time by C code (the codec,
    str.splitlines) and the lines are handed out through itertools.chain: there is no Python
    code per line, which would cost as much as the rest of reading a row. Per chunk, NUL
    bytes and bytes that are not UTF-8 are noted (see `dirty`), and a line longer than
    _MAX_CHARS is replaced by a _TooLongError and a blank line, to keep the count of lines.
    """

    def __init__(self, stream: BinaryIO, *, bom: bool = True) -> None:
        self._stream = stream
        # A byte order mark means one only at the start of a file, not of a part of it.
        encoding = "utf-8-sig" if bom else "utf-8"
        self._decoder = codecs.getincrementaldecoder(encoding)(errors="surrogateescape")
        # Once true, lines may hold _NUL or _NOT_UTF8 characters, and each row is checked.
        self.dirty = False

    def __iter__(self) -> Iterator[str]:
        return itertools.chain.from_iterable(self._chunks())

    def _chunks(self) -> Iterator[Iterable[str]]:
        pending = ""  # the start of a line whose end has not been read yet
        skipping = False  # dropping the rest of a line that was too long
        while True:
            data = self._stream.read(_CHUNK_BYTES)
            final = not data
            text = pending + self._decode(data, final)
            if skipping:
                text, skipping = _after_line_break(text, final)
                if skipping:
                    pending = text
                    continue
            lines = _split_lines(text)
            pending = "" if final or not lines or lines[-1][-1] == "\n" else lines.pop()
            if "\x00" in text:
                self.dirty = True
                lines = list(map(_move_nul, lines))
            if len(text) - len(pending) > _MAX_CHARS:
                yield from _cut_long_lines(lines)
            else:
                yield lines
            if len(pending) > _MAX_CHARS:
                yield _cut_line()
                yield ["\n"]
                # A pending line may already end with its break, "\r" held back in case
                # "\n" follows: then only that "\n" is still to be skipped.
                pending, skipping = ("\r" if pending.endswith("\r") else ""), True
            if final:
                return

    def _decode(self, data: bytes, final: bool) -> str:
        text = self._decoder.decode(data, final)
        if not (self.dirty or text.isascii()) and _NOT_UTF8.search(text):
            self.dirty = True
        return text


def _move_nul(line: str) -> str:
    """The line without its NUL bytes, and with _NUL at its end if it had any.

    The reader then reads the line as if the NUL bytes were not there, and the row is
    rejected: a NUL inside a quoted field does not end it early, nor one before a quote make
    the quote a plain character.
    """
    if "\x00" not in line:
        return line
    body = line.rstrip("\r\n")
    return body.replace("\x00", "") + _NUL + line[len(body) :]


def _split_lines(text: str) -> list[str]:
    lines = text.splitlines(keepends=True)
    # str.splitlines is fast but splits at more than "\r" and "\n": when it made more lines
    # than there are "\n" (the last line may have none), split again with a regex.
    if len(lines) != text.count("\n") + (not text.endswith("\n")) - (not text):
        lines = _LINE.findall(text)
    return lines


def _after_line_break(text: str, final: bool) -> tuple[str, bool]:
    """The text after the first line break, and whether that break is still to be read."""
    match = _LINE_BREAK.search(text)
    if match is None:
        return "", not final
    if match.group() == "\r" and match.end() == len(text) and not final:
        return "\r", True  # it may be the first half of "\r\n"
    return text[match.end() :], False


def _cut_long_lines(lines: list[str]) -> Iterator[Iterable[str]]:
    start = 0
    for at, line in enumerate(lines):
        if len(line) > _MAX_CHARS:
            yield lines[start:at]
            yield _cut_line()
            yield ["\n"]
            start = at + 1
    yield lines[start:]


class _QuotedRecords:
    """csv.reader for the records that have quotes, handed over by their first line.

    A quoted field may hold line breaks, so csv may read on into the next physical lines;
    a record that runs on past _MAX_CHARS characters (a missing closing quote) is cut off.
    """

    def __init__(self, physical: Iterator[str]) -> None:
        self._physical = physical
        self._first: list[str] = []
        self._reader = csv.reader(self._feed())

    def read(self, first: str, line: int) -> tuple[list[str] | RowError, int]:
        """The record starting with `first`, line number `line`, and the number of its last."""
        reader = self._reader
        lines_before = reader.line_num
        self._first.append(first)
        try:
            cells = next(reader)
        except (csv.Error, _TooLongError) as error:
            last = line + reader.line_num - lines_before - 1
            if isinstance(error, _TooLongError):
                self._reader = csv.reader(self._feed())  # the old feed ended with the error
            return RowError(line, _unreadable(error, line, last)), last
        return cells, line + reader.line_num - lines_before - 1

    def _feed(self) -> Iterator[str]:
        """The lines for csv: each first line handed over, then the lines it runs on to."""
        while True:
            first = self._first.pop()
            chars = len(first)
            yield first
            while not self._first:  # csv reads on before the next record is handed over
                if chars > _MAX_CHARS:
                    raise _TooLongError("row")
                line = next(self._physical, None)
                if line is None:
                    return
                chars += len(line)
                yield line


def _read_header(
    physical: Iterator[str], quoted: _QuotedRecords, field_limit: int
) -> tuple[Header, int]:
    """The first non-blank record, checked and read as the header; and its last line number."""
    number = 0
    try:
        for text in physical:
            number += 1
            line = number
            if '"' in text or len(text) > field_limit:
                cells, number = quoted.read(text, line)
            else:
                cells = text.split(",")
            if isinstance(cells, RowError):
                raise _not_csv(line, cells.reason)
            joined = "".join(cells)
            if _NUL in joined:
                raise _not_csv(line, _NUL_REASON)
            if joined.strip():
                if _NOT_UTF8.search(joined):
                    raise LineupFileError(
                        f"The header on line {line} is not valid UTF-8: {_UTF8_HINT}."
                    )
                return _header_from(cells), number
    except _TooLongError as error:
        raise _not_csv(number + 1, _unreadable(error, number + 1, number)) from None
    raise LineupFileError(
        f"The file is empty: it needs a header line ({_HEADER_EXAMPLE}) and one row per set."
    )


def _not_csv(line: int, reason: str) -> LineupFileError:
    return LineupFileError(
        f"This does not look like a CSV text file (line {line}: {reason}). "
        f"If it is a spreadsheet, {_UTF8_HINT}."
    )


def _header_from(cells: list[str]) -> Header:
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
    return Header(len(cells), max(positions.values()) + 1, positions)


def _unreadable(error: Exception, line: int, last_line: int) -> str:
    """Why the record from `line` to `last_line` could not be read."""
    if isinstance(error, _TooLongError):
        if line > last_line:
            return f"Line {line} is longer than {_MAX_CHARS} characters"
        runs_to = last_line + 1 if error.what == "line" else last_line
        return (
            f"The row runs on to line {runs_to} and is longer than {_MAX_CHARS} characters"
            " (is a closing quote missing?)"
        )
    reason = str(error)  # csv's: a field longer than its field size limit
    if last_line > line:
        reason += f" (the row runs on to line {last_line}: is a closing quote missing?)"
    return reason


def _read_row(
    header: Header, cells: list[str], line: int, last_line: int, dirty: bool
) -> Performance | RowError | None:
    """A record read with every check, one at a time; None for a blank one."""
    if dirty:
        joined = "".join(cells)
        if _NUL in joined:
            return RowError(line, _NUL_REASON)
        if _NOT_UTF8.search(joined):
            return RowError(line, f"The row is not valid UTF-8: {_UTF8_HINT}")
    if not any(map(str.strip, cells)):
        return None
    if not header.needed_width <= len(cells) <= header.width:
        reason = f"expected {header.width} fields, found {len(cells)}"
        if last_line > line:
            reason += f" (the row runs on to line {last_line}: is a closing quote missing?)"
        return RowError(line, reason)
    values = {column: cells[index] for column, index in header.positions.items()}
    performer, stage = values["performer"].strip(), values["stage"].strip()
    problems = [
        f"{_LABELS[name]} is empty"
        for name, value in (("performer", performer), ("stage", stage))
        if not value
    ]
    when = _schedule(values["date"], values["start"], values["end"])
    if isinstance(when, str):
        problems.append(when)
    if problems:
        return RowError(line, "; ".join(problems))
    return Performance(performer, stage, *when, line)


# A lineup repeats a few dates and times over and over, so small caches save most of the
# work on a big file while keeping memory bounded. The cells are keys as they are in the file,
# blanks around them included, so that a row needs no work before the look-up.
@functools.lru_cache(maxsize=1024)
def _schedule(date_text: str, start_text: str, end_text: str) -> tuple[str, ...] | str:
    """(date, start, end, raw start, raw end) of a set, or what is wrong with its cells."""
    try:
        day, next_day = _day(date_text)
        start, raw_start = _clock(start_text)
        end, raw_end = _clock(end_text)
    except ValueError:
        return _schedule_problems(date_text, start_text, end_text)
    if end > start:
        end_day = day
    elif next_day is not None:
        end_day = next_day  # the set goes past midnight; End equal to Start is a 24-hour set
    else:
        return f"Date {day} is too late: the set would end after year 9999"
    return day, f"{day}T{start}", f"{end_day}T{end}", raw_start, raw_end


@functools.lru_cache(maxsize=1024)
def _day(text: str) -> tuple[str, str | None]:
    """The ISO date and the day after it (None after 9999-12-31). Raises ValueError."""
    day = parse_date(text)
    if day == datetime.date.max:
        return day.isoformat(), None
    return day.isoformat(), (day + datetime.timedelta(days=1)).isoformat()


@functools.lru_cache(maxsize=1024)
def _clock(text: str) -> tuple[str, str]:
    """The time as 'HH:MM', and as written. Raises ValueError."""
    return parse_time(text).isoformat(timespec="minutes"), text.strip()


def _schedule_problems(date_text: str, start_text: str, end_text: str) -> str:
    """Everything that is wrong with the Date, Start and End of a row."""
    problems = []
    for parse, column, text in (
        (parse_date, "date", date_text),
        (parse_time, "start", start_text),
        (parse_time, "end", end_text),
    ):
        if not text.strip():
            problems.append(f"{_LABELS[column]} is empty")
            continue
        try:
            parse(text.strip())
        except ValueError as error:
            problems.append(f"{_LABELS[column]} {error}")
    return "; ".join(problems)
