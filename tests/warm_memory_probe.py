"""Peak memory of one process loading files one after another, as a warm Lambda does.

Run by tests/unit/test_memory.py in a process of its own: ``python -m tests.warm_memory_probe
FILES BLOCKS``. Loads FILES files of memory_hungry_lineup(BLOCKS) with the Lambda's code
(Ingestion.plan and load_part, each file one part, as one invocation loads it) into a table
that keeps nothing; the files are generated as they are read, never held in memory. Prints
a JSON line per file: its counts and the process's peak resident memory so far in MiB.
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator

from lineup_ingest.adapters import LineupTable
from lineup_ingest.events import UploadedObject
from lineup_ingest.ingest import Ingestion, LoadSettings
from lineup_ingest.retry import RetryBudget
from tests.lineups import memory_hungry_lineup


class GeneratedFile(io.RawIOBase):
    """The bytes of a generator of chunks, read as they are made."""

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


class GeneratedBucket:
    """Objects made again whenever they are read: memory_hungry_lineup(blocks, key)."""

    def __init__(self, blocks: int) -> None:
        self.blocks = blocks

    def open_range(self, bucket: str, key: str, etag: str, start: int, end=None):
        stream = io.BufferedReader(GeneratedFile(memory_hungry_lineup(self.blocks, key)))
        while start > 0:  # the ranges read are the head and the rows after the header
            start -= len(stream.read(min(start, 65536)))
        return stream


class NoTable:
    """A DynamoDB client that accepts every write and keeps nothing."""

    def batch_write_item(self, **_: object) -> dict:
        return {}

    def update_item(self, **_: object) -> dict:
        return {}

    def get_item(self, **_: object) -> dict:
        return {}


def peak_mib() -> float:
    """The peak resident memory of this process so far (VmHWM; ru_maxrss would start at the
    peak of the process that started this one, such as pytest's)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def main() -> None:
    files, blocks = int(sys.argv[1]), int(sys.argv[2])
    whole = LoadSettings(part_bytes=2**62, max_file_bytes=2**62)
    print(json.dumps({"file": None, "peak_mib": peak_mib()}), flush=True)
    for number in range(files):
        table = LineupTable(NoTable(), "lineup", RetryBudget(lambda: 900_000))
        ingestion = Ingestion(GeneratedBucket(blocks), table, None, print, whole)
        upload = UploadedObject("bucket", f"uploads/file-{number}.csv", "etag", 2**61)
        task, _ = ingestion.plan(upload, "", "2025-07-01T00:00:00+00:00", {})
        progress = ingestion.load_part(task, None)
        print(json.dumps({
            "file": number, "rows_loaded": progress.rows_loaded,
            "rows_rejected": progress.rows_rejected, "peak_mib": peak_mib(),
        }), flush=True)


if __name__ == "__main__":
    main()
