"""Lineup CSVs made up for tests and benchmarks."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date, timedelta

STAGES = ("Main Stage", "Side Stage", "Outdoor Stage", "Dance Tent", "Acoustic Barn")


def lineup_rows(count: int, first_day: date = date(2025, 7, 12)) -> list[list[str]]:
    """``count`` distinct sets spread over stages and days, some running past midnight."""
    rows = []
    for number in range(count):
        stage = STAGES[number % len(STAGES)]
        slot = number // len(STAGES)
        day = first_day + timedelta(days=slot // 10)
        start_hour = 14 + slot % 10  # 14:00 .. 23:00; the late ones end after midnight
        rows.append(
            [
                f"Performer {number:07d}",
                stage,
                f"{start_hour}:00",
                f"{(start_hour + 2) % 24}:00",
                day.isoformat(),
            ]
        )
    return rows


def lineup_csv(
    rows: list[list[str]], header: tuple[str, ...] = ("Performer", "Stage", "Start", "End", "Date")
) -> bytes:
    output = io.StringIO()
    writer = csv.writer(output, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return output.getvalue().encode("utf-8")


def tricky_rows(count: int, tag: str = "") -> list[list[str]]:
    """Rows with a Notes column: a third have commas and quotes in their quoted names and
    line breaks in their quoted notes, where a naive cut of the file falls. ``tag`` makes
    the names unique to a test. Write them with tricky_csv; names may not hold line breaks.
    """
    rows = [[f"{row[0]} {tag}" if tag else row[0], *row[1:]] for row in lineup_rows(count)]
    for number, row in enumerate(rows):
        if number % 3 == 0:
            row[0] = f'{row[0]}, "the" band'
            row.append('seated,\n"the" band\r\nlive')
        else:
            row.append("")
    return rows


def tricky_csv(rows: list[list[str]]) -> bytes:
    return lineup_csv(rows, header=("Performer", "Stage", "Start", "End", "Date", "Notes"))


def memory_hungry_lineup(blocks: int, tag: str = "") -> Iterator[bytes]:
    """A lineup of ``blocks`` blocks of rows that are hard on memory, a block per chunk.

    A block (about 400 KB) holds distinct long cells of 4-byte characters (a Date of just
    under 64 KiB, and one in a line past 64 KiB but of fewer than 65,536 characters), a
    closing quote missing for more than 64 KiB, a valid Date padded with 30,000 spaces, 100
    rows of too few fields and 2 with bad times, and one plain good row. ``tag`` makes every
    cell unique to one file, so that nothing a file leaves behind is found again by the next.
    """
    yield b"Performer,Stage,Date,Start,End\r\n"
    for block in range(blocks):
        yield "".join(_memory_hungry_block(f"{tag}.{block}")).encode()


# What read_lineup makes of a block of memory_hungry_lineup.
MEMORY_HUNGRY_BLOCK = {"good": 2, "errors": 105}


def _memory_hungry_block(tag: str) -> Iterator[str]:
    yield f"Good {tag},Main Stage,2025-07-12,20:00,21:00\r\n"
    yield f"Long date {tag},Main Stage,{tag}{'🎸' * 16_000},20:00,21:00\r\n"
    yield f"Long line {tag},Main Stage,{tag}{'🎸' * 60_000},20:00,21:00\r\n"
    yield f'"Runaway {tag},Main Stage,2025-07-12,20:00,21:00\r\n'
    yield f"{' ' * 998}\r\n" * 70  # blank lines: after the cut they are skipped
    yield f"Padded {tag},Main Stage,2025-07-12{' ' * 30_000},20:00,21:00\r\n"
    for number in range(100):
        yield f"Short {tag}.{number},Side Stage\r\n"
    for number in range(2):
        yield f"Bad time {tag}.{number},Side Stage,2025-07-12,{number}:{tag},21:00\r\n"


class ChunkStream(io.RawIOBase):
    """The bytes of an iterator of chunks, read as they are made (never all in memory)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self.chunks = chunks
        self.pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self.pending:
            self.pending = next(self.chunks, b"")
            if not self.pending:
                return 0
        size = min(len(buffer), len(self.pending))
        buffer[:size] = self.pending[:size]
        self.pending = self.pending[size:]
        return size


def wrapped_names_csv(count: int, every: int = 50, tag: str = "") -> bytes:
    """A lineup of ``count`` rows in which every ``every``-th performer's name sits in a
    wrapped spreadsheet cell: a quoted line break inside it ("Act 0400007\\nand Friends,
    Live"), CRLF line ends as a spreadsheet writes them. 2% of the names by default."""
    days = [(date(2025, 7, 12) + timedelta(days=n)).isoformat() for n in range(30)]
    lines = ["Performer,Stage,Date,Start,End"]
    for number in range(count):
        hour = 12 + number % 12
        name = f"Act {number:07d}{tag}"
        if number % every == every - 1:
            name = f'"{name}\nand Friends, Live"'
        lines.append(
            f"{name},{STAGES[number % 5]},{days[number // 5_000 % 30]},{hour}:00,{hour}:50"
        )
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


# One same-stage overlap (A and B on Main), one double booking (C on Tent and Park) and one
# changeover of 5 minutes (C then D on Park).
CLASHING = [
    ["A", "Main", "20:00", "21:00", "2025-07-12"],
    ["B", "Main", "20:30", "21:30", "2025-07-12"],
    ["C", "Tent", "20:00", "21:00", "2025-07-12"],
    ["C", "Park", "20:45", "22:00", "2025-07-12"],
    ["D", "Park", "22:05", "23:00", "2025-07-12"],
]
CLASH_LINE = (
    "Clashes:       1 stage overlap, 1 double booking, 1 changeover under 15 min"
    " (festival clashes lists them)"
)
