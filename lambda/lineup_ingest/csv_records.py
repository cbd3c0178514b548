"""The CSV records of a lineup file: the parser's second layer (physical lines → records).

A record is what csv reads as one row: a line, or several when a quoted field holds line
breaks (a wrapped spreadsheet cell). A record that cannot be read (a field over csv's field
size limit, or a row running on past lines.MAX_LINE_BYTES bytes because a closing quote is
missing) gives the reason instead of its cells, and reading goes on with the next line.
Records are numbered by the physical line they start on, 1 being the first of the file.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import IO

from lineup_ingest import lines


class Records:
    """The records of a file's physical lines, each handed over by its first line.

    A line without quotes is a record, its cells what lies between its commas: as csv reads
    them, several times faster. A line with quotes, or long enough to hold a field over
    csv's limit, goes to csv.reader, which may read on into the next physical lines; a
    record that runs on past lines.MAX_LINE_BYTES bytes is cut off.
    """

    def __init__(self, physical: Iterator[str]) -> None:
        self._physical = physical
        self._first: list[str] = []
        self._reader = csv.reader(self._feed())
        # csv's limit on a field as the read starts: a line this long may hold one over it.
        self.field_limit = csv.field_size_limit()
        # Whether the last record read ran into a line cut as too long: the blank line put
        # in that line's place comes next, and is no record of the file's own.
        self.ran_into_cut_line = False

    def read(self, first: str, line: int) -> tuple[list[str] | str, int]:
        """The cells of the record whose first line is `first`, number `line`, or the reason
        it cannot be read; and the number of its last line."""
        self.ran_into_cut_line = False
        if '"' not in first and len(first) <= self.field_limit:
            return first.split(","), line
        reader = self._reader
        lines_before = reader.line_num
        self._first.append(first)
        try:
            cells = next(reader)
        except (csv.Error, lines.TooLongError) as error:
            self.ran_into_cut_line = isinstance(error, lines.TooLongError) and error.what == "line"
            last = line + reader.line_num - lines_before - 1
            if isinstance(error, lines.TooLongError):
                self._reader = csv.reader(self._feed())  # the old feed ended with the error
            return why_unreadable(error, line, last), last
        return cells, line + reader.line_num - lines_before - 1

    def _feed(self) -> Iterator[str]:
        """The lines for csv: each first line handed over, then the lines it runs on to."""
        while True:
            first = self._first.pop()
            size = lines.file_bytes(first)
            yield first
            while not self._first:  # csv reads on before the next record is handed over
                if size > lines.MAX_LINE_BYTES:
                    raise lines.TooLongError("row")
                line = next(self._physical, None)
                if line is None:
                    return
                size += lines.file_bytes(line)
                yield line


def why_unreadable(error: Exception, line: int, last_line: int) -> str:
    """Why the record from `line` to `last_line` could not be read: a lines.TooLongError (a
    line too long has `last_line` before `line`) or csv's error."""
    if isinstance(error, lines.TooLongError):
        if line > last_line:
            return f"Line {line} is longer than {lines.MAX_LINE_BYTES:,} bytes"
        runs_to = last_line + 1 if error.what == "line" else last_line
        return (
            f"The row runs on to line {runs_to} and is longer than {lines.MAX_LINE_BYTES:,}"
            " bytes (is a closing quote missing?)"
        )
    return note_run_on(str(error), line, last_line)  # csv's: a field over its limit


def note_run_on(reason: str, line: int, last_line: int) -> str:
    """The reason a record is not a row, saying how far it runs on if it is over several
    lines: a closing quote may be missing."""
    if last_line > line:
        reason += f" (the row runs on to line {last_line}: is a closing quote missing?)"
    return reason


def record_starts(stream: IO[bytes], first_line: int) -> Iterator[int]:
    """The physical line number of every record of a stream that starts at a record.

    This walks the file exactly as read_lineup does (the same lines, the same quoted
    records, the same cuts of lines and rows too long) without reading the rows, so a
    part of a file may start at any of these lines and read the same rows as one pass.
    """
    physical = iter(lines.Lines(stream, bom=False))
    records = Records(physical)
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
                if '"' in text or len(text) > records.field_limit:  # it may run on
                    number = records.read(text, number)[1]
                    in_place_of_a_cut_line = records.ran_into_cut_line
            return
        except lines.TooLongError:
            # The line was cut: the blank line put in its place is read next, as a record
            # that starts on the cut line's number, as read_lineup reads it.
            continue
