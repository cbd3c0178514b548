"""The header of a lineup file and a row's cells by column: the parser's third layer
(records → rows).

The first non-blank record is the header. It must name the columns of REQUIRED_COLUMNS, in
any order, case and surrounding whitespace ignored; other columns are ignored. A row may
leave out trailing cells of columns that are not required, no more. A file whose header
cannot be read, or names a required column never or twice, raises LineupFileError: a file
that is not a lineup is refused whole before any row is read.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, NamedTuple

from lineup_ingest.csv_records import Records, why_unreadable
from lineup_ingest.lines import NOT_UTF8, NUL, NUL_REASON, UTF8_HINT, Lines, TooLongError

REQUIRED_COLUMNS = ("performer", "stage", "start", "end", "date")
# How a column is named to a person, in reasons and messages.
LABELS = {column: column.capitalize() for column in REQUIRED_COLUMNS}
_HEADER_EXAMPLE = "Performer, Stage, Date, Start, End"


class LineupFileError(Exception):
    """The whole file is unusable (empty, no usable header, header only, binary junk).

    The message is for a person.
    """


class Header(NamedTuple):
    """Where the required columns are, and how many cells a row may have."""

    width: int
    needed_width: int
    positions: dict[str, int]

    def required_positions(self) -> tuple[int, ...]:
        """Where a row's cells of REQUIRED_COLUMNS are, in that order."""
        return tuple(self.positions[column] for column in REQUIRED_COLUMNS)

    def row(self, cells: list[str]) -> dict[str, str] | str | None:
        """A record's cells of the required columns, by column; None for a blank record,
        which is no row; or why a record of the wrong width is no row."""
        if not any(map(str.strip, cells)):
            return None
        if not self.needed_width <= len(cells) <= self.width:
            return f"expected {self.width} fields, found {len(cells)}"
        return {column: cells[index] for column, index in self.positions.items()}


def read_header(stream: IO[bytes]) -> tuple[Header, int]:
    """The header of a lineup file and the number of its last physical line.

    Raises LineupFileError as read_lineup does for a file without a usable header.
    """
    physical = iter(Lines(stream))
    return read_header_record(physical, Records(physical))


def read_header_record(physical: Iterator[str], records: Records) -> tuple[Header, int]:
    """The first non-blank record, checked and read as the header; and its last line number.

    `records` reads from `physical`, the lines of a file from its start.
    """
    number = 0
    try:
        for text in physical:
            number += 1
            line = number
            cells, number = records.read(text, line)
            if isinstance(cells, str):
                raise _not_csv(line, cells)
            joined = "".join(cells)
            if NUL in joined:
                raise _not_csv(line, NUL_REASON)
            if joined.strip():
                if NOT_UTF8.search(joined):
                    raise LineupFileError(
                        f"The header on line {line} is not valid UTF-8: {UTF8_HINT}."
                    )
                return _header_from(cells), number
    except TooLongError as error:
        raise _not_csv(number + 1, why_unreadable(error, number + 1, number)) from None
    raise LineupFileError(
        f"The file is empty: it needs a header line ({_HEADER_EXAMPLE}) and one row per set."
    )


def _not_csv(line: int, reason: str) -> LineupFileError:
    return LineupFileError(
        f"This does not look like a CSV text file (line {line}: {reason}). "
        f"If it is a spreadsheet, {UTF8_HINT}."
    )


def _header_from(cells: list[str]) -> Header:
    names = [cell.strip().casefold() for cell in cells]
    missing = [LABELS[column] for column in REQUIRED_COLUMNS if column not in names]
    if missing:
        raise LineupFileError(
            f"The first line must be a header naming the columns {_HEADER_EXAMPLE}; "
            f"it is missing {', '.join(missing)}."
        )
    repeated = [LABELS[column] for column in REQUIRED_COLUMNS if names.count(column) > 1]
    if repeated:
        raise LineupFileError(f"The header names {', '.join(repeated)} more than once.")
    positions = {column: names.index(column) for column in REQUIRED_COLUMNS}
    return Header(len(cells), max(positions.values()) + 1, positions)
