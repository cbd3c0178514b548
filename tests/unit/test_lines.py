"""Examples of the parser's first layer (lineup_ingest.lines): bytes → physical lines.

The encodings, line breaks and the line limit, seen in what read_lineup yields, then in the
lines themselves.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest

from lineup_ingest import lines
from lineup_ingest.lines import CHECK_ALL, CHECK_NAMES, CHECK_NONE, NUL, Lines, TooLongError
from lineup_ingest.parsing import Performance, RowError
from tests.unit.reading import HEADER, read, read_one

# As read_lineup reads them


def test_utf8_byte_order_mark_is_ignored():
    row = read_one(b"\xef\xbb\xbf" + (HEADER + "A,B,2025-07-12,20:00,21:00\n").encode())
    assert isinstance(row, Performance)


def test_crlf_and_lf_line_endings_give_the_same_performances():
    lf = HEADER + "A,B,2025-07-12,20:00,21:00\n\nC,D,2025-07-12,22:00,23:00\n"
    assert read(lf.replace("\n", "\r\n")) == read(lf)


def test_row_that_is_not_utf8_is_a_row_error_and_the_other_rows_load():
    content = (
        (HEADER + "A,B,2025-07-12,20:00,21:00\n").encode()
        + "Beyonc\xe9,Main,2025-07-12,20:00,21:00\n".encode("cp1252")
        + b"C,D,2025-07-12,22:00,23:00\n"
    )
    first, bad, last = read(content)
    assert bad == RowError(3, 'The row is not valid UTF-8: export the file as "CSV UTF-8"')
    assert isinstance(first, Performance) and isinstance(last, Performance)


def test_row_with_nul_bytes_is_a_row_error_and_the_other_rows_load():
    content = HEADER + "A\x00,B,2025-07-12,20:00,21:00\nC,D,2025-07-12,22:00,23:00\n"
    bad, good = read(content)
    assert isinstance(bad, RowError) and bad.line == 2 and "NUL" in bad.reason
    assert isinstance(good, Performance) and good.line == 3


def test_nul_byte_inside_a_quoted_newline_rejects_the_whole_row():
    content = HEADER + '"A\x00\nB",C,2025-07-12,20:00,21:00\nD,E,2025-07-12,22:00,23:00\n'
    bad, good = read(content)
    assert isinstance(bad, RowError) and bad.line == 2 and "NUL" in bad.reason
    assert isinstance(good, Performance) and good.line == 4


def test_a_line_over_64_kib_is_a_row_error_naming_it_and_the_rows_around_it_load():
    # 20,000 characters, but 80,000 bytes: the limit is in bytes.
    long_line = "Long,B," + "🎸" * 20_000 + ",20:00,21:00\n"
    good = "A,B,2025-07-12,20:00,21:00\n"
    items = read(HEADER + good + long_line + good.replace("A", "C"))
    assert [type(item) for item in items] == [Performance, RowError, Performance]
    assert items[1] == RowError(3, "Line 3 is longer than 65,536 bytes")
    assert (items[0].performer, items[2].line) == ("A", 4)


def test_a_line_of_64_kib_with_its_line_break_is_read_and_one_byte_more_is_not():
    row = "A,B,2025-07-12,20:00,21:00," + "é" * 32_754  # 27 + 65,508 bytes
    assert len((row + "\n").encode()) == 65_536
    header = "Performer,Stage,Date,Start,End,Notes\n"
    assert isinstance(read_one(header + row + "\n"), Performance)
    assert read_one(header + row + "x\n") == RowError(2, "Line 2 is longer than 65,536 bytes")


# The lines themselves


def physical_lines(data: bytes, *, bom: bool = True) -> Iterator[str]:
    """The lines of the bytes, with "too long" in place of each line cut as too long."""
    physical = iter(Lines(io.BytesIO(data), bom=bom))
    while True:
        try:
            yield from physical
            return
        except TooLongError as error:
            yield f"too {error.what}"


def test_lines_end_at_crlf_cr_or_lf_only_and_keep_their_breaks():
    data = "a,b\r\nc\rd\ne\vf\x85g\u2028h\x1ci".encode()
    assert list(physical_lines(data)) == ["a,b\r\n", "c\r", "d\n", "e\vf\x85g\u2028h\x1ci"]


@pytest.mark.parametrize("chunk", [1, 2, 3, 5])
def test_a_line_break_or_character_split_between_chunks_reads_as_one(chunk, monkeypatch):
    data = "Bjö🎸rk\r\nA\rB\r\n\r\nC".encode()
    whole = list(physical_lines(data))
    monkeypatch.setattr(lines, "CHUNK_BYTES", chunk)
    assert list(physical_lines(data)) == whole == ["Bjö🎸rk\r\n", "A\r", "B\r\n", "\r\n", "C"]


def test_a_byte_order_mark_is_dropped_only_at_the_start_of_a_file():
    data = b"\xef\xbb\xbfA\n"
    assert list(physical_lines(data)) == ["A\n"]
    assert list(physical_lines(data, bom=False)) == ["\ufeffA\n"]


def test_a_line_too_long_is_an_error_then_a_blank_line_so_the_count_of_lines_holds(
    monkeypatch,
):
    monkeypatch.setattr(lines, "MAX_LINE_BYTES", 8)
    data = b"1234567\n12345678\nfits\r\n"
    assert list(physical_lines(data)) == ["1234567\n", "too line", "\n", "fits\r\n"]


def test_the_line_limit_counts_bytes_of_the_file_not_characters(monkeypatch):
    monkeypatch.setattr(lines, "MAX_LINE_BYTES", 8)
    # 4 characters, 9 bytes; then a byte that is not UTF-8 (one byte) and a NUL (one byte).
    data = "éééé\n".encode() + b"\xe9\x00345\n"
    assert list(physical_lines(data)) == ["too line", "\n", f"\udce9345{NUL}\n"]


@pytest.mark.parametrize(
    ("data", "checks"),
    [
        (b"A,B,2025-07-12,20:00,21:00\r\n", CHECK_NONE),
        ("Björk,B,2025-07-12,20:00,21:00\n".encode(), CHECK_NAMES),
        (b"A\x1b,B,2025-07-12,20:00,21:00\n", CHECK_NAMES),
        (b"Beyonc\xe9,B,2025-07-12,20:00,21:00\n", CHECK_ALL),
        (b"A\x00,B,2025-07-12,20:00,21:00\n", CHECK_ALL),
    ],
    ids=["ascii", "accent", "escape", "not-utf8", "nul"],
)
def test_lines_note_what_their_rows_need_checked(data, checks):
    file_lines = Lines(io.BytesIO(data))
    next(iter(file_lines))  # the checks are those of the chunk whose lines are handed out
    assert file_lines.checks == checks


def test_a_line_with_nul_bytes_is_read_without_them_and_marked_at_its_end():
    assert list(physical_lines(b'"A\x00",B\r\nC\n')) == [f'"A",B{NUL}\r\n', "C\n"]


@pytest.mark.parametrize(
    ("text", "size"), [("abc\n", 4), ("é", 2), ("🎸", 4), ("\udce9", 1), (NUL, 1)]
)
def test_file_bytes_is_the_size_a_line_had_in_the_file(text, size):
    assert lines.file_bytes(text) == size
