"""The process's peak memory, in each file's log line and upload record (issue 12)."""

from __future__ import annotations

import logging

import pytest

from lineup_ingest.memory import peak_memory_mb
from tests.lineups import lineup_csv, lineup_rows

pytestmark = pytest.mark.functional


@pytest.mark.parametrize(
    "body, status, loaded",
    [
        (lineup_csv(lineup_rows(30)), "OK", 30),
        (b"\x00\x01binary junk\xff", "FAILED", 0),  # refused before any part is loaded
    ],
)
def test_the_log_line_and_the_upload_record_carry_the_process_peak_memory(
    aws, caplog, body, status, loaded
):
    caplog.set_level(logging.INFO, logger="lineup_ingest")
    before = peak_memory_mb()

    aws.invoke(aws.upload("uploads/lineup.csv", body))

    (record,) = aws.upload_records()
    assert record["status"]["S"] == status
    peak = int(record["peak_memory_mb"]["N"])
    assert before <= peak <= peak_memory_mb()
    (line,) = [line for line in caplog.records if getattr(line, "file", None)]
    assert line.peak_memory_mb == peak
    assert line.getMessage() == (
        f"{status} uploads/lineup.csv: {loaded} loaded, 0 rejected, peak memory {peak} MB"
    )
