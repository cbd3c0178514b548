"""File names in any case, gzip read in bounded memory, and when what a load writes expires."""

from __future__ import annotations

import gzip
import io
import zlib
from datetime import datetime, timezone

import pytest

from lineup_ingest import compression, schema
from lineup_ingest.compression import (
    CompressedFileError,
    GzipRanges,
    GzipReader,
    decompressed_size,
    is_gzip,
)
from lineup_ingest.config import Config, ConfigError
from lineup_ingest.filenames import is_folder_marker, is_lineup_name
from lineup_ingest.parsing import Performance, read_header, read_lineup
from lineup_ingest.splitting import Boundary, next_boundary, offset_after_lines, part_count
from tests.lineups import tricky_csv, tricky_rows

# --- names ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [
        "uploads/lineup.csv",
        "uploads/LINEUP.CSV",
        "uploads/Lineup.Csv",
        "uploads/a/b.csv.gz",
        "uploads/LINEUP.CSV.GZ",
        "uploads/x.Csv.Gz",
        "uploads/.csv",
    ],
)
def test_csv_and_csv_gz_names_in_any_case_are_lineups(key):
    assert is_lineup_name(key)


@pytest.mark.parametrize(
    "key",
    [
        "uploads/lineup.xlsx",
        "uploads/lineup.txt",
        "uploads/lineup.gz",
        "uploads/lineup.csv.zip",
        "uploads/lineup.csv ",
        "uploads/lineupcsv",
        "uploads/lineup.tsv",
        "uploads/",
    ],
)
def test_other_names_are_not_lineups(key):
    assert not is_lineup_name(key)


def test_only_an_empty_key_ending_in_a_slash_is_a_folder_marker():
    assert is_folder_marker("uploads/2025/", 0)
    assert not is_folder_marker("uploads/2025/", 12)  # has content: it is told it is no lineup
    assert not is_folder_marker("uploads/empty.csv", 0)


# --- gzip ----------------------------------------------------------------------------------


class CountingSource:
    """Opens byte ranges of ``data`` from an offset, counting what is read and from where."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.read_bytes = 0
        self.opened_at: list[int] = []

    def __call__(self, offset: int) -> io.BufferedIOBase:
        self.opened_at.append(offset)
        source = self

        class Stream(io.BytesIO):
            def read(self, size=-1):
                chunk = super().read(size)
                source.read_bytes += len(chunk)
                return chunk

        return Stream(self.data[offset:])


def zeros_gzip(decompressed: int) -> bytes:
    """A gzip of ``decompressed`` zero bytes, made a MiB at a time."""
    deflate = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    chunk = bytes(1024 * 1024)
    out = [deflate.compress(chunk) for _ in range(decompressed // len(chunk))]
    return b"".join(out) + deflate.flush()


CSV = tricky_csv(tricky_rows(400))


def test_only_data_starting_with_gzips_magic_number_is_gzip():
    assert is_gzip(gzip.compress(b"Performer,Stage\n"))
    assert not is_gzip(CSV)
    assert not is_gzip(b"\xef\xbb\xbfPerformer")  # a byte order mark
    assert not is_gzip(b"")


def test_a_gzip_reader_gives_back_the_csv_across_members_and_zero_padding():
    data = gzip.compress(CSV[:5000]) + gzip.compress(CSV[5000:]) + bytes(100)

    with GzipReader(CountingSource(data)) as reader:
        assert reader.read() == CSV
        assert reader.position == len(CSV)


def test_a_gzip_reader_hands_out_at_most_a_mebibyte_at_a_time_of_a_bomb():
    bomb = zeros_gzip(64 * 1024 * 1024)
    assert len(bomb) < 100_000

    with GzipReader(CountingSource(bomb)) as reader:
        sizes = [len(reader.read(1 << 30)) for _ in range(3)]

    assert sizes == [compression._OUTPUT_BYTES] * 3


def test_the_size_of_a_bomb_stops_being_counted_once_past_the_limit():
    bomb = zeros_gzip(256 * 1024 * 1024)
    source = CountingSource(bomb)

    size = decompressed_size(source, limit=10 * 1024 * 1024)

    assert 10 * 1024 * 1024 < size <= 11 * 1024 * 1024
    # It stopped reading the input too: one chunk of the bomb's four.
    assert source.read_bytes <= compression._INPUT_BYTES < len(bomb) // 3


def test_the_size_of_a_gzip_within_the_limit_is_its_decompressed_size():
    assert decompressed_size(CountingSource(gzip.compress(CSV)), limit=len(CSV)) == len(CSV)


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda data: data[: len(data) // 2], "ends early"),
        (lambda data: data[:20] + bytes(b ^ 0x55 for b in data[20:40]) + data[40:], "corrupt"),
        (lambda data: data + b"not gzip", "corrupt"),
    ],
)
def test_gzip_data_cut_short_or_corrupt_is_an_error(damage, message):
    with pytest.raises(CompressedFileError, match=message):
        decompressed_size(CountingSource(damage(gzip.compress(CSV))), limit=10**9)


@pytest.mark.parametrize(
    "start, end",
    [
        (0, None),
        (0, 10),
        (777, 5000),
        (5000, None),
        (len(CSV) - 3, None),
        (len(CSV), None),
        (100, 100),
    ],
)
def test_a_range_of_a_gzip_file_is_that_range_of_its_decompressed_bytes(start, end):
    ranges = GzipRanges(CountingSource(gzip.compress(CSV)))

    with ranges.open(start, end) as stream:
        assert stream.read() == CSV[start:end]


def test_a_range_opened_again_at_the_same_start_decompresses_from_there_not_the_start():
    # Members of 1 KiB, so the checkpoint is well inside the compressed data.
    data = b"".join(gzip.compress(CSV[i : i + 1024]) for i in range(0, len(CSV), 1024))
    source = CountingSource(data)
    ranges = GzipRanges(source)
    start = len(CSV) * 3 // 4
    with ranges.open(start) as stream:
        first = stream.read()
    read_once = source.read_bytes

    with ranges.open(start) as stream:
        again = stream.read()

    assert first == again == CSV[start:]
    assert source.opened_at[-1] > len(data) // 2
    assert source.read_bytes - read_once < len(data) // 2


def rows_in_parts(open_content, size: int, part_bytes: int) -> list:
    """Every row read part by part, as the Lambda's parts read them."""
    with open_content(0) as head:
        header, header_lines = read_header(head)
    with open_content(0) as head:
        start = Boundary(offset_after_lines(head, header_lines), header_lines + 1)
    rows: list[object] = []
    for part in range(part_count(size, part_bytes)):
        end = next_boundary(open_content, start, (part + 1) * part_bytes, size)
        with open_content(start.offset, end.offset) as body:
            rows += read_lineup(body, header=header, first_line=start.line)
        start = end
    return rows


@pytest.mark.parametrize("part_bytes", [1000, 4096, 10_000, len(CSV)])
def test_a_gzip_file_read_in_parts_reads_the_rows_and_lines_of_the_plain_file(part_bytes):
    compressed = gzip.compress(CSV)
    whole = list(read_lineup(io.BytesIO(CSV)))

    def open_content(start, end=None):
        return GzipRanges(CountingSource(compressed)).open(start, end)

    rows = rows_in_parts(open_content, len(CSV), part_bytes)

    assert rows == whole
    assert len(rows) == 400 and all(type(row) is Performance for row in rows)
    assert rows[-1].line > 400  # a third of the rows span three lines


# --- retention -----------------------------------------------------------------------------


def test_rows_expire_the_retention_days_after_the_upload_time():
    uploaded = "2025-07-12T18:30:05+00:00"
    expected = datetime(2025, 10, 10, 18, 30, 5, tzinfo=timezone.utc).timestamp()  # +90 days

    assert schema.expires_at(uploaded, 90) == expected
    assert schema.expires_at("2025-07-12T18:30:05Z", 90) == expected
    assert schema.expires_at("2025-07-12T18:30:05.123+00:00", 90) == expected
    assert (
        schema.expires_at(uploaded, 1)
        == datetime(2025, 7, 13, 18, 30, 5, tzinfo=timezone.utc).timestamp()
    )


def test_zero_retention_days_keeps_rows_forever():
    assert schema.expires_at("2025-07-12T18:30:05+00:00", 0) is None
    assert schema.expiry(None) == {}
    assert schema.expiry(1_760_000_000) == {"expires_at": 1_760_000_000}


def test_a_performance_item_carries_expires_at_only_when_it_expires():
    (row,) = read_lineup(io.BytesIO(b"Performer,Stage,Date,Start,End\nA,M,2025-07-12,20:00,21:00"))
    keys = {"source_key": "uploads/l.csv", "load_id": "e", "uploaded_at": "2025-07-12T00:00:00"}

    assert schema.performance_item(row, **keys, expires_at=1_760_000_000)["expires_at"] == (
        1_760_000_000
    )
    assert "expires_at" not in schema.performance_item(row, **keys)


COMPLETE = {"TABLE_NAME": "t", "TOPIC_ARN": "a", "PARTS_QUEUE_URL": "q"}


def test_retention_days_come_from_the_environment_and_default_to_keeping_rows():
    assert Config.from_environment(COMPLETE).retention_days == 0
    assert Config.from_environment({**COMPLETE, "UPLOAD_RETENTION_DAYS": "90"}).retention_days == 90
    assert Config.from_environment({**COMPLETE, "UPLOAD_RETENTION_DAYS": "0"}).retention_days == 0


@pytest.mark.parametrize(
    "value, message",
    [
        ("-1", "UPLOAD_RETENTION_DAYS must be 0 \\(keep forever\\) or more"),
        ("90d", "UPLOAD_RETENTION_DAYS must be a whole number"),
    ],
)
def test_a_bad_retention_setting_is_refused_naming_the_variable(value, message):
    with pytest.raises(ConfigError, match=message):
        Config.from_environment({**COMPLETE, "UPLOAD_RETENTION_DAYS": value})
