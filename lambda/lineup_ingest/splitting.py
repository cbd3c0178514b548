"""Where a big file is cut into parts: byte ranges that start on records (pure).

Part ``k`` of a file nominally starts at byte ``k * part_bytes``; it really starts at the
first *record* that starts at or after that byte, because a quoted field may hold commas,
quotes and line breaks, so not every line break ends a record. A record start is found
by walking the file with the parser's own record reader (`csv_records.record_starts`) from a
known record start, the start of the part before, so a part reads exactly the rows one
pass over the whole file would read, with the file's own line numbers.

Finding part ``k + 1``'s start takes three cheap passes over part ``k``'s bytes: count line
breaks up to the nominal start (which line starts there), walk the records from the part's
start to the first record on or after that line, and count line breaks again to turn that
line into a byte offset. Counting is done by bytes.count, walking by the parser's C-backed
line splitting: a fraction of the cost of loading the rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO

from lineup_ingest.csv_records import record_starts

_CHUNK_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Boundary:
    """A record start: its byte offset in the file and the number of its physical line."""

    offset: int
    line: int


def part_count(size: int, part_bytes: int) -> int:
    """How many parts a file of ``size`` bytes is loaded in (at least one)."""
    return max(1, -(-size // part_bytes))


def next_boundary(
    open_from: Callable[[int], IO[bytes]], start: Boundary, target: int, size: int
) -> Boundary:
    """The first record start at or after byte ``target``, walking from record start ``start``.

    ``open_from(offset)`` streams the file from that byte to its end. With no record
    starting at or after ``target``, the end of the file is the boundary.
    """
    if start.offset >= target:
        return start
    if target >= size:
        return Boundary(size, _line_after_end(open_from, start))
    with open_from(start.offset) as stream:
        target_line = start.line + 1 + _breaks_before(stream, target - start.offset)
    with open_from(start.offset) as stream:
        line = next((n for n in record_starts(stream, start.line) if n >= target_line), None)
    if line is None:
        return Boundary(size, _line_after_end(open_from, start))
    with open_from(start.offset) as stream:
        offset = start.offset + offset_after_lines(stream, line - start.line)
    return Boundary(offset, line)


def _chunks(stream: IO[bytes]) -> Iterator[bytes]:
    """The stream in chunks, none of which but the last ends with "\\r" (half of "\\r\\n")."""
    carry = b""
    while True:
        data = stream.read(_CHUNK_BYTES)
        if not data:
            if carry:
                yield carry
            return
        data = carry + data
        carry = b""
        if data.endswith(b"\r"):
            data, carry = data[:-1], b"\r"
        if data:
            yield data


def _count_breaks(data: bytes) -> int:
    """Line breaks in ``data``: "\\r\\n", "\\r" and "\\n", as the parser splits lines."""
    return data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n")


def _breaks_before(stream: IO[bytes], length: int) -> int:
    """How many line breaks end before byte ``length`` of the stream.

    That is how many lines after the first start before it: the line starting at or
    after ``length`` is the first line plus this many.
    """
    seen = breaks = 0
    for data in _chunks(stream):
        if seen + len(data) < length:
            breaks += _count_breaks(data)
            seen += len(data)
            continue
        head = data[: length - seen]
        # A break that ends exactly at `length`, or a "\r\n" cut in two by it, does not end
        # before it.
        return breaks + _count_breaks(head) - (head[-1:] in (b"\r", b"\n"))
    return breaks


def offset_after_lines(stream: IO[bytes], breaks: int) -> int:
    """The byte offset just after the ``breaks``-th line break of the stream.

    That is where the line after the first ``breaks`` lines starts.
    """
    seen = 0
    for data in _chunks(stream):
        here = _count_breaks(data)
        if here < breaks:
            breaks -= here
            seen += len(data)
            continue
        at = 0
        for _ in range(breaks):
            newline, carriage = data.find(b"\n", at), data.find(b"\r", at)
            if carriage != -1 and (newline == -1 or carriage < newline):
                at = carriage + (2 if data[carriage + 1 : carriage + 2] == b"\n" else 1)
            else:
                at = newline + 1
        return seen + at
    return seen


def _line_after_end(open_from: Callable[[int], IO[bytes]], start: Boundary) -> int:
    """The number the line after the file's last would have."""
    with open_from(start.offset) as stream:
        return start.line + sum(map(_count_breaks, _chunks(stream)))
