"""What the parser's example tests share: a lineup written as text, read by read_lineup."""

from __future__ import annotations

import io

import pytest

from lineup_ingest.parsing import LineupFileError, Performance, RowError, read_lineup

HEADER = "Performer,Stage,Date,Start,End\n"


def read(csv_text: str | bytes, clock: str | None = None) -> list[Performance | RowError]:
    """The rows of the text, read on the clock given, or on read_lineup's default."""
    data = csv_text.encode() if isinstance(csv_text, str) else csv_text
    if clock is None:
        return list(read_lineup(io.BytesIO(data)))
    return list(read_lineup(io.BytesIO(data), clock=clock))


def read_one(csv_text: str | bytes, clock: str | None = None) -> Performance | RowError:
    (item,) = read(csv_text, clock)
    return item


def file_error(csv_text: str | bytes) -> str:
    with pytest.raises(LineupFileError) as raised:
        read(csv_text)
    return str(raised.value)


def times_of(item: Performance | RowError) -> tuple[str, str]:
    assert isinstance(item, Performance), item
    return item.start, item.end
