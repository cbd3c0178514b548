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
    A lineup row is a few hundred bytes. A line longer than 65,536 bytes (64 KiB) of the file,
    or a row that runs on past that (a quoted field whose closing quote is missing), becomes a
    `RowError` naming its line and the reason, and reading goes on with the next line; so does
    a field longer than csv's field size limit. Bytes, not characters: a character is 1 to 4
    bytes of UTF-8, so a limit of 65,536 characters let a line hold 256 KiB.

Memory:
    Memory does not grow with the file, nor from file to file in one process (a warm Lambda).
    A read holds a chunk of 32 KiB of the file, the line or row being read (at most 64 KiB, or
    128 KiB for a row that runs on, as read from the file), and the caches of Date, Start and
    End cells (a lineup repeats a few over and over). The caches are made for each read and
    dropped with it, hold at most 1,024 entries each, and only the cells of rows whose Date,
    Start and End are at most 500 characters together: less than 8 MB whatever the file
    holds (5 MB filled with the heaviest entries, see tests/unit/test_memory.py).

Names:
    A performer or stage name must fit in the table's keys: its name key (see schema.name_key)
    is at most schema.NAME_KEY_MAX_BYTES (500) bytes of UTF-8, 500 letters of plain ASCII.
    It must not hold a character that changes how text is shown (see text.DISPLAY_CONTROLS):
    a control character (a tab is whitespace, and allowed), or a bidirectional mark or
    override. Either makes the row a `RowError` naming the problem, or the character as
    U+XXXX, and the other rows still load.

    A name in a wrapped spreadsheet cell holds line breaks inside its quotes ("Act\nand
    Friends"): that is plain CSV, so each line break (CR, LF or CRLF, or several in a row),
    with the spaces and tabs around it, is read as one space ("Act and Friends"), and
    `ReadCounts.names_joined` counts the names joined so. Only a record over several lines
    can hold one, so rows of one line never pay for it. Line breaks at a name's ends are
    stripped as whitespace, as before; other control characters stay row errors.

Times:
    Start and End are read on a 24-hour clock ("20:00", "8:00" is 08:00, "0:30") unless they
    carry AM/PM in any case or spacing ("8:00 PM", "8pm", "12:00 AM" is 00:00); seconds and
    "24:00" are not accepted. A set starts on its Date and ends at the first time after its
    Start that reads as its End: the next day when End is not after Start (End equal to Start
    is a 24-hour set).

    That is the "24h" clock, the default. On the "pm" clock, `read_lineup(stream, clock="pm")`,
    a time without AM/PM is on a 12-hour clock in the afternoon or evening: hours 1 to 11 are
    PM and 12 is noon ("7:00" is 19:00, "12:30" is 12:30), and by the rule above an End may be
    the next morning ("11:00" to "1:00" is 23:00 to 01:00; End equal to Start is 12 hours
    later). There a time without AM/PM with an hour 0, an hour after 12 or a zero-padded hour
    ("08:00") is a row error, and a set starting after midnight needs AM ("12:30 AM").
    Times with AM/PM read the same on both clocks.

    A setting of "auto" is decided per file by `decide_clock_from_head` from the Start and
    End of its first 1,000 rows: "pm" when no time has AM/PM, an hour 0, an hour after 12 or
    a zero-padded hour, "24h" otherwise. Why: a person writing on a 24-hour clock writes
    evening sets as 19:00 or 20:00, and a festival's head holds evening sets, so a head
    without one such time is on a 12-hour clock, like the client's example ("Chappell Roan,
    Main Stage, 5:00, 7:00"). An hour 0 or a zero-padded hour is a 24-hour habit too. AM/PM
    beside bare times leaves the bare ones on the 24-hour clock, as before: the writer marks
    what they mean, and guessing against that would be worse than today. One such time is
    enough, with no share or threshold, so the rule is easy to state and to check by eye. It
    errs in two cases, each shown by the decision's reason, a line for a person, and fixed by
    setting the clock: a 24-hour file whose head has only hours 1 to 12 (a morning programme)
    is read as afternoon, and a 12-hour file with one typo such as "13:00" in its head is read
    on the 24-hour clock. A head with no readable time stays "24h".

The parser does not judge the lineup: overlapping sets and duplicate rows are yielded as given.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import functools
import itertools
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import IO, NamedTuple

from lineup_ingest.schema import NAME_KEY_MAX_BYTES, name_key
from lineup_ingest.text import DISPLAY_CONTROLS, describe, visible

REQUIRED_COLUMNS = ("performer", "stage", "start", "end", "date")

_LABELS = {column: column.capitalize() for column in REQUIRED_COLUMNS}
_HEADER_EXAMPLE = "Performer, Stage, Date, Start, End"
_UTF8_HINT = 'export the file as "CSV UTF-8"'
_TIME_HINT = "use 20:00 or 8:00 PM"
_PM_TIME_HINT = "use 8:00 for 20:00, or 8:00 AM"
_DATE_HINT = "use YYYY-MM-DD, e.g. 2025-07-12"
_NUL_REASON = "The row contains NUL bytes, which text never has"

# How much of the file is read and decoded at a time.
_CHUNK_BYTES = 32 * 1024
# A lineup row is a few hundred bytes. A line or a row longer than this many bytes of the file
# is a missing closing quote or a binary file, and stopping there keeps memory bounded however
# the file is broken.
_MAX_LINE_BYTES = 64 * 1024

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
# A name's line breaks, one or several in a row, with the blanks around them: one space.
_WRAPPED = re.compile(r"[ \t]*[\r\n][ \t\r\n]*")

# What the rows of a chunk of the file need besides the checks of every row (see _Lines).
_CHECK_NONE = 0  # a chunk of ASCII without control characters but tabs and line breaks
_CHECK_NAMES = 1  # names may hold display controls, or name keys be too long
_CHECK_ALL = 2  # rows may hold NUL bytes or bytes that are not UTF-8; from then on, always
# The bytes of a chunk whose names need no check when it has no others (non-ASCII bytes
# make the chunk's text non-ASCII, which is checked first).
_PLAIN_BYTES = bytes(range(0x20, 0x7F)) + b"\t\r\n" + bytes(range(0x80, 0x100))
# A name of at most this many characters has a name key of at most NAME_KEY_MAX_BYTES
# bytes, whatever its characters: canonical decomposition makes at most 4 code points of a
# character (NFC composes some back, never more), collapsing whitespace makes nothing
# longer, and case folding makes at most 6 bytes of UTF-8 of a code point (U+0390, of 2
# bytes, folds to 6). tests/unit/test_hostile_input.py checks the 4 and the 6.
_SHORT_NAME = NAME_KEY_MAX_BYTES // (4 * 6)

# The clocks that times without AM/PM are read on, and the values a setting may take.
_READING_CLOCKS = ("24h", "pm")
CLOCKS = ("auto", *_READING_CLOCKS)
# How many rows of a file's head decide its clock for "auto".
CLOCK_HEAD_ROWS = 1000

# A set's (date, start, end, raw start, raw end).
_When = tuple[str, str, str, str, str]
# The _When of a row's Date, Start and End, or what is wrong with them.
_Schedule = Callable[[str, str, str], "_When | str"]


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


class ClockDecision(NamedTuple):
    """The clock chosen for a file's times without AM/PM, and why, in a line for a person."""

    clock: str  # "24h" or "pm"
    reason: str


@dataclass
class ReadCounts:
    """What a read noted besides its rows: names in wrapped cells joined into one line."""

    names_joined: int = 0


class LineupFileError(Exception):
    """The whole file is unusable (empty, no usable header, header only, binary junk).

    The message is for a person.
    """


def read_lineup(
    stream: IO[bytes],
    *,
    clock: str = "24h",
    header: Header | None = None,
    first_line: int = 1,
    counts: ReadCounts | None = None,
) -> Iterator[Performance | RowError]:
    """Stream rows from a binary file-like object (an S3 StreamingBody or open(path,'rb')).

    Yields a Performance or a RowError per non-blank row, in file order. Raises
    LineupFileError when the file is unusable. The stream is read, never closed. `clock` is
    how times without AM/PM are read: "24h" or "pm" (see Times above; `decide_clock_from_head`
    picks one for "auto"); another value raises ValueError before the stream is read.

    A part of a file (see splitting.py) is read with the file's ``header`` and the number
    of the physical line it starts on: the stream then starts at a record, holds no header,
    and may hold no row at all.

    ``counts``, when given, counts the names of the Performances yielded so far that were
    joined from a wrapped cell (see Names above).
    """
    schedules = _schedules_on(clock)
    counts = ReadCounts() if counts is None else counts
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
    # local variables and C calls (str.split, str.strip, the lru_cache of `schedule`), and a
    # tuple made straight into a Performance (a frozen dataclass would cost several times
    # more). Anything unusual (a short row, an empty cell, a bad time) goes to `_read_row`.
    # Names are looked at only in the chunks of the file that need it (see _Lines.checks),
    # and in lines that are long or records that run on over several lines.
    schedule, any_schedule = schedules
    positions = header.positions
    performer_at, stage_at = positions["performer"], positions["stage"]
    date_at, start_at, end_at = positions["date"], positions["start"], positions["end"]
    needed_width, width = header.needed_width, header.width
    # A line of ASCII this long at most has no name too long for a key, and its Date, Start
    # and End may go to the caches as they are (`schedule`); longer ones go to _read_row.
    long_line = min(field_limit, NAME_KEY_MAX_BYTES, _CACHED_CHARS)
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
                if '"' in text or len(text) > long_line:
                    if '"' in text or len(text) > field_limit:
                        # csv reads a record with quotes, which may run on to the next lines
                        # (and a line that could hold a field over csv's limit, to reject it
                        # as csv does).
                        cells, number = quoted.read(text, line)
                        if isinstance(cells, RowError):
                            has_rows = True
                            yield cells
                            continue
                    else:
                        cells = text.split(",")
                    if len(text) > long_line or number > line:
                        # A name may be too long for a key, or hold a line break.
                        dirty = lines.checks == _CHECK_ALL
                        item = _read_row(header, cells, line, number, dirty, any_schedule, counts)
                        if item is not None:
                            has_rows = True
                            yield item
                        continue
                else:
                    # Without quotes a line is a record and its cells are what is between the
                    # commas, as csv reads them, but found several times faster. The line break
                    # stays on the last cell: every cell used is stripped.
                    cells = text.split(",")
                if needed_width <= len(cells) <= width:
                    date_text, start_text, end_text = cells[date_at], cells[start_at], cells[end_at]
                    if date_text != last_date or start_text != last_start or end_text != last_end:
                        last_date, last_start, last_end = date_text, start_text, end_text
                        when = schedule(date_text, start_text, end_text)
                        scheduled = isinstance(when, tuple)
                        if isinstance(when, tuple):
                            date, start, end, raw_start, raw_end = when
                    performer = cells[performer_at].strip()
                    stage = cells[stage_at].strip()
                    if (
                        scheduled
                        and performer
                        and stage
                        and (not lines.checks or _plain_names(performer, stage, lines.checks))
                    ):
                        has_rows = True
                        yield new_performance(
                            Performance,
                            (performer, stage, date, start, end, raw_start, raw_end, line),
                        )
                        continue
                dirty = lines.checks == _CHECK_ALL
                item = _read_row(header, cells, line, number, dirty, any_schedule, counts)
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


def read_header(stream: IO[bytes]) -> tuple[Header, int]:
    """The header of a lineup file and the number of its last physical line.

    Raises LineupFileError as read_lineup does for a file without a usable header.
    """
    physical = iter(_Lines(stream))
    return _read_header(physical, _QuotedRecords(physical), csv.field_size_limit())


def record_starts(stream: IO[bytes], first_line: int) -> Iterator[int]:
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
    in_place_of_a_cut_line = False
    while True:
        try:
            for text in physical:
                number += 1
                if in_place_of_a_cut_line:
                    # A row ran into a line too long: reading from that line would read
                    # the line itself, not the row's error, so no part starts here.
                    in_place_of_a_cut_line = False
                else:
                    yield number
                if '"' in text or len(text) > field_limit:
                    number = quoted.read(text, number)[1]
                    in_place_of_a_cut_line = quoted.ran_into_cut_line
            return
        except _TooLongError:
            # The line was cut: the blank line put in its place is read next, as a record
            # that starts on the cut line's number, as read_lineup reads it.
            continue


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
    zero-padded hour (see Times above for why); "24h" otherwise. Cells that are not times
    are ignored.
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


def decide_clock_from_head(stream: IO[bytes]) -> ClockDecision:
    """`decide_clock` for a binary stream of a file, or of its head: the header and rows.

    Reads the header and up to CLOCK_HEAD_ROWS rows on the "24h" clock (the stream is read in
    chunks of 32 KiB, so a little more); rows that are errors are ignored. Raises
    LineupFileError as `read_lineup` does.
    """
    head = itertools.islice(read_lineup(stream, clock="24h"), CLOCK_HEAD_ROWS)
    return decide_clock(
        text for row in head if type(row) is Performance for text in (row.raw_start, row.raw_end)
    )


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


class Header(NamedTuple):
    """Where the required columns are, and how many cells a row may have."""

    width: int
    needed_width: int
    positions: dict[str, int]


class _TooLongError(Exception):
    """A line or a row ran past _MAX_LINE_BYTES; it becomes a row error, reading goes on."""

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
    code per line, which would cost as much as the rest of reading a row. Per chunk, what
    its rows need checked is noted (see `checks`), and a line longer than _MAX_LINE_BYTES is
    replaced by a _TooLongError and a blank line, to keep the count of lines.
    """

    def __init__(self, stream: IO[bytes], *, bom: bool = True) -> None:
        self._stream = stream
        # A byte order mark means one only at the start of a file, not of a part of it.
        encoding = "utf-8-sig" if bom else "utf-8"
        self._decoder = codecs.getincrementaldecoder(encoding)(errors="surrogateescape")
        # What the lines handed out last, those of the chunk read last, need checked:
        # _CHECK_NONE for a chunk of ASCII without control characters but tabs and line
        # breaks; _CHECK_NAMES for other chunks, whose names may hold display controls or
        # be too long for a key; _CHECK_ALL once lines may hold _NUL or _NOT_UTF8
        # characters, and from then on. A line that ends in a later chunk than it starts
        # in is handed out with the later chunk, whose checks then count what it started
        # with.
        self.checks = _CHECK_NONE

    def __iter__(self) -> Iterator[str]:
        return itertools.chain.from_iterable(self._chunks())

    def _chunks(self) -> Iterator[Iterable[str]]:
        pending = ""  # the start of a line whose end has not been read yet
        skipping = False  # dropping the rest of a line that was too long
        while True:
            data = self._stream.read(_CHUNK_BYTES)
            final = not data
            # The start of a line handed out with this chunk, which needed checks.
            carried = bool(pending) and self.checks != _CHECK_NONE
            text = pending + self._decode(data, final)
            if skipping:
                text, skipping = _after_line_break(text, final)
                if skipping:
                    pending = text
                    continue
            lines = _split_lines(text)
            pending = "" if final or not lines or lines[-1][-1] == "\n" else lines.pop()
            # Lines are measured as they are in the file, NUL bytes included, whichever
            # chunk they end in; then their NUL bytes are moved for csv. Only a line of more
            # than a quarter of the limit in characters may be too long (see _too_long): C
            # finds the longest.
            quarter = _MAX_LINE_BYTES // 4
            pieces: Iterable[Iterable[str]] = (
                _cut_long_lines(lines)
                if len(text) - len(pending) > quarter and max(map(len, lines), default=0) > quarter
                else (lines,)
            )
            if "\x00" in text:
                self.checks = _CHECK_ALL
                pieces = (
                    list(map(_move_nul, piece)) if type(piece) is list else piece
                    for piece in pieces
                )
            if self.checks != _CHECK_ALL:
                plain = text.isascii() and not carried and not data.translate(None, _PLAIN_BYTES)
                self.checks = _CHECK_NONE if plain else _CHECK_NAMES
            yield from pieces
            if _too_long(pending):
                yield _cut_line()
                yield ["\n"]
                # A pending line may already end with its break, "\r" held back in case
                # "\n" follows: then only that "\n" is still to be skipped.
                pending, skipping = ("\r" if pending.endswith("\r") else ""), True
            if final:
                return

    def _decode(self, data: bytes, final: bool) -> str:
        text = self._decoder.decode(data, final)
        if not (self.checks == _CHECK_ALL or text.isascii()) and _NOT_UTF8.search(text):
            self.checks = _CHECK_ALL
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


def _too_long(line: str) -> bool:
    """Whether a line, as decoded, was more than _MAX_LINE_BYTES bytes of the file."""
    # A character is 1 to 4 bytes of UTF-8, and a byte that is not UTF-8 is one character:
    # only a line of more than a quarter of the limit in characters needs encoding to tell.
    return len(line) > _MAX_LINE_BYTES // 4 and _file_bytes(line) > _MAX_LINE_BYTES


def _file_bytes(text: str) -> int:
    """How many bytes of the file decoded text was (NUL bytes moved for csv count as one)."""
    if text.isascii():  # known without looking at the characters
        return len(text)
    # Each byte that is not UTF-8 was decoded to a lone surrogate, which "replace" encodes as
    # one byte again ("?"), as it does _NUL.
    return len(text.encode("utf-8", "replace"))


def _cut_long_lines(lines: list[str]) -> Iterator[Iterable[str]]:
    start = 0
    for at, line in enumerate(lines):
        if _too_long(line):
            yield lines[start:at]
            yield _cut_line()
            yield ["\n"]
            start = at + 1
    yield lines[start:]


class _QuotedRecords:
    """csv.reader for the records that have quotes, handed over by their first line.

    A quoted field may hold line breaks, so csv may read on into the next physical lines;
    a record that runs on past _MAX_LINE_BYTES bytes (a missing closing quote) is cut off.
    """

    def __init__(self, physical: Iterator[str]) -> None:
        self._physical = physical
        self._first: list[str] = []
        self._reader = csv.reader(self._feed())
        # Whether the last record read ran into a line cut as too long: the blank line put
        # in that line's place comes next, and is no record of the file's own.
        self.ran_into_cut_line = False

    def read(self, first: str, line: int) -> tuple[list[str] | RowError, int]:
        """The record starting with `first`, line number `line`, and the number of its last."""
        reader = self._reader
        lines_before = reader.line_num
        self._first.append(first)
        self.ran_into_cut_line = False
        try:
            cells = next(reader)
        except (csv.Error, _TooLongError) as error:
            self.ran_into_cut_line = isinstance(error, _TooLongError) and error.what == "line"
            last = line + reader.line_num - lines_before - 1
            if isinstance(error, _TooLongError):
                self._reader = csv.reader(self._feed())  # the old feed ended with the error
            return RowError(line, _unreadable(error, line, last)), last
        return cells, line + reader.line_num - lines_before - 1

    def _feed(self) -> Iterator[str]:
        """The lines for csv: each first line handed over, then the lines it runs on to."""
        while True:
            first = self._first.pop()
            size = _file_bytes(first)
            yield first
            while not self._first:  # csv reads on before the next record is handed over
                if size > _MAX_LINE_BYTES:
                    raise _TooLongError("row")
                line = next(self._physical, None)
                if line is None:
                    return
                size += _file_bytes(line)
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
            return f"Line {line} is longer than {_MAX_LINE_BYTES:,} bytes"
        runs_to = last_line + 1 if error.what == "line" else last_line
        return (
            f"The row runs on to line {runs_to} and is longer than {_MAX_LINE_BYTES:,} bytes"
            " (is a closing quote missing?)"
        )
    reason = str(error)  # csv's: a field longer than its field size limit
    if last_line > line:
        reason += f" (the row runs on to line {last_line}: is a closing quote missing?)"
    return reason


def _read_row(
    header: Header,
    cells: list[str],
    line: int,
    last_line: int,
    dirty: bool,
    schedule: _Schedule,
    counts: ReadCounts | None = None,
) -> Performance | RowError | None:
    """A record read with every check, one at a time; None for a blank one. A name in a
    wrapped cell (a record over several lines) is joined into one line, and counted."""
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
    names_joined = 0
    if last_line > line:  # only a record over several lines may hold a wrapped name
        performer, stage, names_joined = _unwrapped(performer, stage)
    problems = [
        problem
        for column, name in (("performer", performer), ("stage", stage))
        if (problem := _name_problem(_LABELS[column], name))
    ]
    when = schedule(values["date"], values["start"], values["end"])
    if isinstance(when, str):
        problems.append(when)
    if problems or isinstance(when, str):
        return RowError(line, "; ".join(problems))
    if names_joined and counts is not None:
        counts.names_joined += names_joined
    return Performance(performer, stage, *when, line)


def _unwrapped(performer: str, stage: str) -> tuple[str, str, int]:
    """The names with each run of line breaks, and the blanks around it, as one space; and
    how many of the two held one."""
    joined = 0
    if "\n" in performer or "\r" in performer:
        performer, joined = _WRAPPED.sub(" ", performer), joined + 1
    if "\n" in stage or "\r" in stage:
        stage, joined = _WRAPPED.sub(" ", stage), joined + 1
    return performer, stage, joined


def _plain_names(performer: str, stage: str, checks: int) -> bool:
    """Whether the names of a row of a chunk that needs `checks` surely fit in a key and
    hold no display control, so that the row needs no other check; else _read_row."""
    # str.isprintable is false for every display control, and for a few harmless characters
    # too (a no-break space, a zero-width joiner), which _read_row then accepts.
    return (
        checks == _CHECK_NAMES
        and performer.isprintable()
        and stage.isprintable()
        and (len(performer) <= _SHORT_NAME or _name_fits(performer))
        and (len(stage) <= _SHORT_NAME or _name_fits(stage))
    )


def _name_fits(name: str) -> bool:
    """Whether the name key of a name is at most NAME_KEY_MAX_BYTES long."""
    return (
        len(name) <= _SHORT_NAME
        or (name.isascii() and len(name) <= NAME_KEY_MAX_BYTES)
        or _name_key_bytes(name) <= NAME_KEY_MAX_BYTES
    )


def _name_key_bytes(name: str) -> int:
    return len(name_key(name).encode("utf-8", "surrogatepass"))


def _name_problem(label: str, name: str) -> str | None:
    """What is wrong with a performer or stage name, or None."""
    if not name:
        return f"{label} is empty"
    control = DISPLAY_CONTROLS.search(name)
    if control is not None:
        return (
            f"{label} contains {describe(control.group())}, a character that changes how"
            " text is shown: remove it"
        )
    if _name_fits(name):
        return None
    written, in_key = len(name.encode("utf-8", "surrogatepass")), _name_key_bytes(name)
    size = f"{written:,} bytes long"
    if in_key != written:
        size += f" ({in_key:,} as it is kept for search, in lower case)"
    return (
        f"{label} is {size}; at most {NAME_KEY_MAX_BYTES:,} bytes fit (a letter of plain"
        " ASCII is one byte, an accented one two): shorten it"
    )


# A lineup repeats a few dates and times over and over, so small caches save most of the
# work on a big file. The cells are keys as they are in the file, blanks around them
# included, so that a row needs no work before the look-up. Each read of a file has caches
# of its own (see _schedules_on), so that nothing a file puts in them outlives its read in a
# warm Lambda; and they hold only the cells of rows whose Date, Start and End are at most
# _CACHED_CHARS characters together, so that a file of distinct long cells cannot fill them
# with megabytes: at most _CACHE_ENTRIES entries of a few KB each, in each of three caches.
_CACHE_ENTRIES = 1024
# As long as the longest line read by read_lineup's fast loop (see long_line there).
_CACHED_CHARS = NAME_KEY_MAX_BYTES


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


class _Schedules(NamedTuple):
    """The schedule functions of one read of a file."""

    # Cached: for a Date, Start and End of at most _CACHED_CHARS characters together.
    cached: _Schedule
    # For cells of any length: longer ones are read without the caches.
    any_length: _Schedule


def _schedules_on(clock: str) -> _Schedules:
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
    ) -> _When | str:
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

    def schedule_any(date_text: str, start_text: str, end_text: str) -> _When | str:
        if len(date_text) + len(start_text) + len(end_text) <= _CACHED_CHARS:
            return cached(date_text, start_text, end_text)
        return schedule(date_text, start_text, end_text, _day, read_time)

    return _Schedules(cached, schedule_any)


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
            problems.append(f"{_LABELS[column]} is empty")
            continue
        try:
            parse(text.strip())
        except ValueError as error:
            problems.append(f"{_LABELS[column]} {error}")
    return "; ".join(problems)
