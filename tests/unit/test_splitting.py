"""A file read in parts reads exactly the rows of one pass, with the file's line numbers."""

from __future__ import annotations

import io

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from lineup_ingest import lines, splitting
from lineup_ingest.parsing import LineupFileError, read_header, read_lineup
from lineup_ingest.splitting import Boundary, next_boundary, part_count
from tests.lineups import lineup_csv, lineup_rows


def read_in_parts(data: bytes, part_bytes: int) -> tuple[list, list[Boundary]]:
    """Every row of ``data`` read part by part, as the Lambda's parts read them."""

    def open_from(offset: int) -> io.BytesIO:
        return io.BytesIO(data[offset:])

    header, header_lines = read_header(io.BytesIO(data))
    with open_from(0) as stream:
        data_start = splitting.offset_after_lines(stream, header_lines)
    starts = [Boundary(data_start, header_lines + 1)]
    for index in range(1, part_count(len(data), part_bytes)):
        starts.append(next_boundary(open_from, starts[-1], index * part_bytes, len(data)))
    ends = [start.offset for start in starts[1:]] + [len(data)]
    rows: list = []
    for start, end in zip(starts, ends, strict=True):
        part = io.BytesIO(data[start.offset : end])
        rows += read_lineup(part, header=header, first_line=start.line)
    return rows, starts


def read_whole(data: bytes) -> list:
    try:
        return list(read_lineup(io.BytesIO(data)))
    except LineupFileError as error:
        assume("no rows" in str(error))  # a file with a usable header
        return []


QUOTED_ROWS = (
    b"Performer,Stage,Start,End,Date\r\n"
    b'"Earth, Wind\r\n& Fire",Main Stage,20:00,21:00,2025-07-12\r\n'
    b"Plain,Side Stage,20:00,21:00,2025-07-12\n"
    b'"Say ""Hi""\n,\n",Dance Tent,1:00,2:00,2025-07-13\r'
    b"Last,Main Stage,22:00,23:00,2025-07-13"
)


@pytest.mark.parametrize("part_bytes", range(1, len(QUOTED_ROWS) + 2))
def test_every_cut_of_a_file_with_line_breaks_in_quotes_reads_the_same_rows(part_bytes):
    rows, _ = read_in_parts(QUOTED_ROWS, part_bytes)

    assert rows == read_whole(QUOTED_ROWS)
    assert [row.line for row in rows] == [2, 4, 5, 8]


def test_parts_start_on_records_near_their_nominal_start():
    data = lineup_csv(lineup_rows(2_000))

    rows, starts = read_in_parts(data, 10_000)

    assert rows == read_whole(data)
    assert len(starts) == part_count(len(data), 10_000) > 6
    for part, start in enumerate(starts[1:], 1):
        assert 0 <= start.offset - part * 10_000 < 100  # the next line start
        assert data[start.offset - 2 : start.offset] == b"\r\n"


FRAGMENTS = [
    b"a",
    b"Bob",
    b",",
    b'"',
    b'""',
    b"\r",
    b"\n",
    b"\r\n",
    b"\x00",
    b"\xff",
    b"\xc3\xa9",
    b"20:00",
    b"2025-07-12",
    b" ",
]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    body=st.lists(st.sampled_from(FRAGMENTS), max_size=120).map(b"".join),
    part_bytes=st.integers(1, 60),
    max_bytes=st.integers(33, 60),  # the header line is 31 bytes
    chunk=st.integers(1, 9),
)
def test_any_file_read_in_parts_reads_what_one_pass_reads(
    body, part_bytes, max_bytes, chunk, monkeypatch_module
):
    # Small limits and chunks, so that cut lines and rows and chunk edges happen often.
    monkeypatch_module.setattr(lines, "MAX_LINE_BYTES", max_bytes)
    monkeypatch_module.setattr(lines, "CHUNK_BYTES", chunk)
    monkeypatch_module.setattr(splitting, "_CHUNK_BYTES", chunk)
    data = b"Performer,Stage,Start,End,Date\n" + body

    rows, _ = read_in_parts(data, part_bytes)

    assert rows == read_whole(data)


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def test_a_line_cut_as_too_long_at_its_carriage_return_keeps_the_next_line(monkeypatch):
    # Found by the property above: the cut line's "\r" ended a chunk, and the line after
    # it was skipped as if it were still part of the long line.
    monkeypatch.setattr(lines, "MAX_LINE_BYTES", 33)
    monkeypatch.setattr(lines, "CHUNK_BYTES", 2)
    data = b"Performer,Stage,Start,End,Date\nBob2025-07-122025-07-122025-07-12\ra"

    rows = list(
        read_lineup(io.BytesIO(data[31:]), header=read_header(io.BytesIO(data))[0], first_line=2)
    )

    assert [row.line for row in rows] == [2, 3]
