"""Read a festival lineup CSV into performances, one row at a time: the parser's top layer.

The pure core of the Lambda: standard library only, no AWS. `read_lineup` streams a binary
file-like object (an S3 StreamingBody or ``open(path, "rb")``) and yields a `Performance`
for each good row and a `RowError` for each bad one, so one typo does not stop the rest of
the lineup from loading. Memory does not grow with the file, nor from file to file in one
warm process. It composes the parser's layers, a module each:

    lines.py                  bytes → physical lines (UTF-8, chunks, the 64 KiB limit)
    csv_records.py            physical lines → CSV records (quoting, records over lines)
    columns.py                records → rows (the header, a row's cells by column)
    times.py, performances.py a row's values → a Performance (dates, times and clocks;
                              names)

The rules a lineup file follows are in docs/ingest.md (Reading a lineup file). The parser
does not judge the lineup: overlapping sets and duplicate rows are yielded as given.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import IO

from lineup_ingest.columns import (
    REQUIRED_COLUMNS,
    Header,
    LineupFileError,
    read_header,
    read_header_record,
)
from lineup_ingest.csv_records import Records, record_starts, why_unreadable
from lineup_ingest.lines import CHECK_ALL, Lines, TooLongError
from lineup_ingest.performances import Performance, ReadCounts, RowError, plain_names, read_row
from lineup_ingest.schema import NAME_KEY_MAX_BYTES
from lineup_ingest.times import (
    CACHED_CHARS,
    CLOCKS,
    ClockDecision,
    decide_clock,
    parse_clock,
    parse_date,
    parse_time,
    schedules_on,
)

__all__ = [
    "CLOCKS",
    "CLOCK_HEAD_ROWS",
    "REQUIRED_COLUMNS",
    "ClockDecision",
    "Header",
    "LineupFileError",
    "Performance",
    "ReadCounts",
    "RowError",
    "decide_clock",
    "decide_clock_from_head",
    "parse_clock",
    "parse_date",
    "parse_time",
    "read_header",
    "read_lineup",
    "record_starts",
]

# How many rows of a file's head decide its clock for "auto".
CLOCK_HEAD_ROWS = 1000


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
    LineupFileError when the file is unusable: a header problem before any row is yielded,
    a file with a header but no rows at its end. The stream is read lazily, never closed.
    `clock` is how times without AM/PM are read: "24h" or "pm" (see times.py;
    `decide_clock_from_head` picks one for "auto"); another value raises ValueError before
    the stream is read.

    A part of a file (see splitting.py) is read with the file's ``header`` and the number
    of the physical line it starts on: the stream then starts at a record, holds no header,
    and may hold no row at all.

    ``counts``, when given, counts the names of the Performances yielded so far that were
    joined from a wrapped cell (see performances.py).
    """
    return _rows(stream, clock, header, first_line, ReadCounts() if counts is None else counts)


def _rows(
    stream: IO[bytes], clock: str, header: Header | None, first_line: int, counts: ReadCounts
) -> Iterator[Performance | RowError]:
    """read_lineup's rows. The loop runs once per row of files of a million rows, so it reads
    a plain row itself, with local variables and C calls: a line without quotes split at its
    commas, its Date, Start and End from `schedule`'s cache, a tuple made straight into a
    Performance. Anything unusual (quotes, a long line, a short row, an empty cell, a bad
    time, names to look at: lines.Lines.checks) goes to performances.read_row."""
    schedule, any_schedule = schedules_on(clock)
    lines = Lines(stream, bom=header is None)
    physical = iter(lines)
    records = Records(physical)
    whole_file = header is None
    if header is None:
        header, number = read_header_record(physical, records)
    else:
        number = first_line - 1
    performer_at, stage_at, start_at, end_at, date_at = header.required_positions()
    needed_width, width = header.needed_width, header.width
    # A line of ASCII this long at most has no name too long for a key, and its Date, Start
    # and End may go to the caches as they are (`schedule`); longer ones go to read_row.
    long_line = min(records.field_limit, NAME_KEY_MAX_BYTES, CACHED_CHARS)
    new_performance, has_rows, scheduled = tuple.__new__, False, False
    # Date, Start and End of the row before, and what they make: consecutive rows often
    # share them (one time slot on every stage), and comparing is cheaper than a look-up.
    last_date = last_start = last_end = None
    date = start = end = raw_start = raw_end = ""
    while True:
        try:
            for text in physical:
                number += 1
                line = number
                if '"' in text or len(text) > long_line:
                    cells, number = records.read(text, line)
                    if isinstance(cells, str):  # why the record cannot be read
                        has_rows = True
                        yield RowError(line, cells)
                        continue
                    # A name may be too long for a key, or hold a line break.
                    careful = len(text) > long_line or number > line
                else:
                    cells, careful = text.split(","), False
                if not careful and needed_width <= len(cells) <= width:
                    date_text, start_text, end_text = cells[date_at], cells[start_at], cells[end_at]
                    if date_text != last_date or start_text != last_start or end_text != last_end:
                        last_date, last_start, last_end = date_text, start_text, end_text
                        when = schedule(date_text, start_text, end_text)
                        scheduled = isinstance(when, tuple)
                        if isinstance(when, tuple):
                            date, start, end, raw_start, raw_end = when
                    performer, stage = cells[performer_at].strip(), cells[stage_at].strip()
                    if (
                        scheduled
                        and performer
                        and stage
                        and (not lines.checks or plain_names(performer, stage, lines.checks))
                    ):
                        has_rows = True
                        yield new_performance(
                            Performance,
                            (performer, stage, date, start, end, raw_start, raw_end, line),
                        )
                        continue
                dirty = lines.checks == CHECK_ALL
                item = read_row(header, cells, line, number, dirty, any_schedule, counts)
                if item is not None:
                    has_rows = True
                    yield item
            break
        except TooLongError as error:
            # A line too long outside quotes: it is skipped and reading goes on.
            has_rows = True
            yield RowError(number + 1, why_unreadable(error, number + 1, number))
    if not has_rows and whole_file:
        raise LineupFileError(
            "The file has a header but no rows: add one row per set below the header."
        )


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
