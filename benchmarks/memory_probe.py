"""Peak memory of loading N generated rows with the Lambda's real code (run by bench.py).

Runs in its own process on the Lambda runtime's interpreter, streams a generated file
(never held in memory) through ``Ingestion`` into a table that only counts requests, and
prints JSON: rows, peak resident memory (VmHWM) and write requests issued.
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "lambda"), str(ROOT)]

from tests.lineups import ChunkStream, lineup_csv, lineup_rows  # noqa: E402

from lineup_ingest.adapters import LineupTable  # noqa: E402
from lineup_ingest.events import UploadedObject  # noqa: E402
from lineup_ingest.ingest import Ingestion, LoadSettings  # noqa: E402
from lineup_ingest.retry import RetryBudget  # noqa: E402


class GeneratedFile(ChunkStream):
    """A CSV of ``rows`` rows produced in chunks as it is read."""

    def __init__(self, rows: int, chunk: int = 5_000) -> None:
        super().__init__(self._chunks(rows, chunk))

    @staticmethod
    def _chunks(rows: int, chunk: int):
        yield lineup_csv([])  # the header
        for first in range(0, rows, chunk):
            block = lineup_rows(min(chunk, rows - first))
            renamed = [[f"{row[0]}-{first}", *row[1:]] for row in block]
            yield lineup_csv(renamed).split(b"\r\n", 1)[1]


class CountingDynamoDB:
    """Accepts every write, keeps nothing, counts requests."""

    def __init__(self) -> None:
        self.requests: dict[str, int] = {}

    def _count(self, name: str) -> dict:
        self.requests[name] = self.requests.get(name, 0) + 1
        return {}

    def batch_write_item(self, **_: object) -> dict:
        return self._count("BatchWriteItem")

    def put_item(self, **_: object) -> dict:
        return self._count("PutItem")

    def update_item(self, **_: object) -> dict:
        return self._count("UpdateItem")

    def get_item(self, **_: object) -> dict:
        return self._count("GetItem")

    def get_paginator(self, _: str):
        counter = self

        class Pages:
            def paginate(self, **__: object):
                counter._count("Query")
                return [{"Items": []}]

        return Pages()


class GeneratedBucket:
    """One object, generated again whenever it is read (never held in memory)."""

    def __init__(self, rows: int) -> None:
        self.rows = rows

    def open_range(self, bucket: str, key: str, etag: str, start: int, end=None):
        stream = io.BufferedReader(GeneratedFile(self.rows))
        while start > 0:  # the ranges read here are the head and the rows after the header
            start -= len(stream.read(min(start, 65536)))
        return stream

    def current_etag(self, bucket: str, key: str) -> str:
        return "etag"


def peak_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


def main() -> None:
    rows = int(sys.argv[1])
    dynamodb = CountingDynamoDB()
    table = LineupTable(dynamodb, "bench", RetryBudget(lambda: 900_000))
    # One part as large as the file: the whole file in this process, as one invocation.
    whole = LoadSettings(part_bytes=2**62, max_file_bytes=2**62)
    # Stand-ins for the S3 adapter and the parts queue (one part: no queue).
    ingestion = Ingestion(GeneratedBucket(rows), table, None, print, whole)  # type: ignore[arg-type]
    upload = UploadedObject("bench", "uploads/bench.csv", "etag", 2**61)
    task, _ = ingestion.plan(upload, "", "2025-07-01T00:00:00+00:00", {})
    progress = ingestion.load_part(task, None)
    assert progress is not None and progress.rows_loaded == rows, progress
    print(
        json.dumps(
            {
                "rows": rows,
                "peak_kib": peak_kib(),
                "requests": dynamodb.requests,
                "python": ".".join(map(str, sys.version_info[:3])),
            }
        )
    )


if __name__ == "__main__":
    main()
