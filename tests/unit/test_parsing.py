"""Examples of the parser's top layer (lineup_ingest.parsing): read_lineup, which composes
the layers, each with examples of its own rules: test_lines.py (bytes → lines),
test_csv_records.py (lines → records), test_columns.py (records → rows), test_times.py and
test_performances.py (a row's values → a Performance), test_parsing_clocks.py (the clocks).
"""

import io

import pytest

from lineup_ingest.parsing import LineupFileError, Performance, read_header, read_lineup
from tests.unit.reading import HEADER, file_error, read


def test_a_simple_row_becomes_a_performance():
    (row,) = read(HEADER + "Sigur Rós,Main Stage,2025-07-12,20:00,21:30\n")
    assert type(row) is Performance
    assert row._asdict() == {
        "performer": "Sigur Rós",
        "stage": "Main Stage",
        "date": "2025-07-12",
        "start": "2025-07-12T20:00",
        "end": "2025-07-12T21:30",
        "raw_start": "20:00",
        "raw_end": "21:30",
        "line": 2,
    }


@pytest.mark.parametrize("content", [HEADER, HEADER + "\n\n", HEADER + ",,,,\n", HEADER.strip()])
def test_header_without_rows_is_a_file_error(content):
    assert "no rows" in file_error(content)


def test_header_problem_is_raised_before_any_row_is_yielded():
    rows = read_lineup(io.BytesIO(b"Performer,Stage\nA,B\n"))
    with pytest.raises(LineupFileError):
        next(rows)


def test_stream_is_read_lazily():
    class ExplodingAfterFirstChunk(io.RawIOBase):
        def __init__(self) -> None:
            self.chunks = [(HEADER + "A,B,2025-07-12,20:00,21:00\n").encode()]

        def readable(self) -> bool:
            return True

        def readinto(self, buffer) -> int:
            if not self.chunks:
                raise AssertionError("read past the first row")
            chunk = self.chunks.pop()
            buffer[: len(chunk)] = chunk
            return len(chunk)

    rows = read_lineup(ExplodingAfterFirstChunk())
    assert isinstance(next(rows), Performance)


def test_stream_is_left_open_for_the_caller():
    stream = io.BytesIO((HEADER + "A,B,2025-07-12,20:00,21:00\n").encode())
    list(read_lineup(stream))
    assert not stream.closed


def test_overlapping_and_duplicate_sets_are_all_yielded_as_given():
    rows = [
        "A,Main,2025-07-12,20:00,22:00",
        "B,Main,2025-07-12,21:00,23:00",
        "A,Main,2025-07-12,20:00,22:00",
    ]
    items = read(HEADER + "\n".join(rows) + "\n")
    assert all(isinstance(item, Performance) for item in items)
    assert [(item.performer, item.line) for item in items] == [("A", 2), ("B", 3), ("A", 4)]


def test_rows_read_apart_and_rows_read_in_the_fast_loop_are_the_same_performances():
    plain = "A,B,2025-07-12,20:00,21:00\n"
    quoted = '"A","B","2025-07-12","20:00","21:00"\n'
    long_line = "A,B,2025-07-12,20:00,21:00" + " " * 600 + "\n"
    items = read(HEADER + plain + quoted + long_line)
    performances = [item for item in items if isinstance(item, Performance)]
    assert [item.line for item in performances] == [2, 3, 4]
    assert {item._replace(line=0) for item in performances} == {performances[0]._replace(line=0)}


def test_a_part_of_a_file_is_read_with_the_files_header_from_its_first_line_and_may_be_empty():
    whole = (HEADER + "A,B,2025-07-12,20:00,21:00\nC,D,2025-07-12,22:00,23:00\n").encode()
    header, _ = read_header(io.BytesIO(whole))
    part = whole[whole.index(b"C,D") :]
    assert list(read_lineup(io.BytesIO(part), header=header, first_line=3)) == read(whole)[1:]
    assert list(read_lineup(io.BytesIO(b"\n"), header=header, first_line=4)) == []  # no rows
