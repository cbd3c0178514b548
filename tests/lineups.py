"""Lineup CSVs made up for tests and benchmarks."""

from __future__ import annotations

import csv
import io
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
            [f"Performer {number:07d}", stage, f"{start_hour}:00",
             f"{(start_hour + 2) % 24}:00", day.isoformat()]
        )
    return rows


def lineup_csv(rows: list[list[str]], header: tuple[str, ...] = (
        "Performer", "Stage", "Start", "End", "Date")) -> bytes:
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
