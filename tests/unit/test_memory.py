"""Memory stays flat from file to file in one process, as in a warm Lambda (issue 12).

Before the caches were bounded, a process that loaded four 75 MB files of distinct long bad
cells grew from 37 to 121 MiB here (53 to 313 MB in the Lambda): the parser's caches were
global, and kept cells of up to 256 KB each.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tracemalloc
from pathlib import Path

from lineup_ingest.parsing import Performance, RowError, read_lineup
from tests.lineups import MEMORY_HUNGRY_BLOCK

ROOT = Path(__file__).resolve().parents[2]
MIB = 1024 * 1024


def test_big_bad_files_one_after_another_leave_the_peak_memory_flat():
    # Four files of about 75 MB (185 blocks), loaded with the Lambda's code in a process of
    # their own; about 3 s.
    files, blocks = 4, 185
    probe = subprocess.run(
        [sys.executable, "-m", "tests.warm_memory_probe", str(files), str(blocks)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT / "lambda")},
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    before, *loaded = map(json.loads, probe.stdout.splitlines())

    assert [(file["rows_loaded"], file["rows_rejected"]) for file in loaded] == [
        (blocks * MEMORY_HUNGRY_BLOCK["good"], blocks * MEMORY_HUNGRY_BLOCK["errors"])
    ] * files
    peaks = [before["peak_mib"]] + [file["peak_mib"] for file in loaded]
    # The process before any file: the interpreter and boto3, about 37 MiB. A file of 75 MB
    # needs a few MiB more, and the files after it no more.
    assert peaks[1] - peaks[0] < 10, f"peak memory, MiB: {peaks}"
    assert max(peaks[2:]) - peaks[1] < 5, f"peak memory, MiB: {peaks}"
    assert max(peaks) < 100, f"peak memory, MiB: {peaks}"


def padding(number: int, width: int) -> str:
    """Blanks of two kinds that spell a number: ``width`` characters of 2 bytes at most."""
    return "".join("\u3000" if number >> bit & 1 else " " for bit in range(width))


def test_the_caches_of_a_read_hold_a_few_mib_at_most_and_nothing_after_it():
    # The heaviest entries there can be: lines of 500 characters (the longest whose cells
    # are cached) of distinct cells, first valid ones padded with wide blanks (which fill
    # the caches of dates and times), then ones of 4-byte characters (whose row errors,
    # quoting them, fill the cache of rows).
    rows = 1100  # more than the 1,024 entries of a cache
    lines = ["Performer,Stage,Date,Start,End"]
    lines += [
        f"A,B,2025-07-12{padding(n, 150)},8:00{padding(n, 150)},9:00{padding(n, 150)}"
        for n in range(rows)
    ]
    lines += [f"A,B,{n}{'🎸' * 160},{n}{'🎸' * 160},{n}{'🎸' * 160}" for n in range(rows)]
    data = "\n".join(lines).encode()
    assert max(map(len, lines)) <= 500

    tracemalloc.start()
    try:
        kinds = [type(item) for item in read_lineup(io.BytesIO(data))]
        left, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert kinds == [Performance] * rows + [RowError] * rows
    assert peak < 8 * MIB, f"peak {peak / MIB:.1f} MiB"  # 5.1 MiB measured
    assert left < MIB // 2, f"{left / MIB:.1f} MiB left after the read"
