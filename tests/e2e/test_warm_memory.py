"""Memory across warm invocations: big files of bad rows one after another, through the stack.

LocalStack keeps a function's execution environment for 10 minutes after an invocation
(LAMBDA_KEEPALIVE_MS) and hands the next invocation to an idle one; our host-process
executor runs an environment as one Python process (localstack_plugin runtime_init.py), so
files loaded one after another are loaded by one warm process, as in AWS. Each file is one
part on the default stack (PartBytes is 16 MiB), loaded whole by the invocation S3 starts,
which also finishes it: the peak memory in its record and log line is that process's.
"""

from __future__ import annotations

import json

import pytest

from tests.e2e.conftest import wait_for
from tests.lineups import MEMORY_HUNGRY_BLOCK, memory_hungry_lineup

pytestmark = pytest.mark.e2e
FILES = 4
BLOCKS = 37  # about 15 MB a file: one part
LOAD_DEADLINE_S = 180.0
# What a file may add to the peak of the process once the first has been loaded. Before
# the caches were bounded, each such file added about 12 MB, and four 75 MB files 260 MB.
MARGIN_MB = 10


def log_line(pipeline, key: str) -> dict | None:
    """The function's JSON log line about a file, with the log stream (the process) it is in.

    Logs are stored once the invocation has returned.
    """
    pages = pipeline.logs.get_paginator("filter_log_events").paginate(
        logGroupName=f"/aws/lambda/{pipeline.function}"
    )
    for page in pages:
        for event in page["events"]:
            if event["message"].startswith("{"):
                line = json.loads(event["message"])
                if line.get("file") == key:
                    return {**line, "stream": event["logStreamName"]}
    return None


def test_big_bad_files_in_a_row_keep_the_warm_process_peak_memory_flat(pipeline):
    keys, lines = [], []
    for _ in range(FILES):
        key = pipeline.unique_key("memory-hungry.csv")
        pipeline.upload(key, b"".join(memory_hungry_lineup(BLOCKS, key)))
        wait_for(
            f"an email about {key}", lambda key=key: pipeline.emails_about(key), LOAD_DEADLINE_S
        )
        # The next upload only once this invocation has returned, so that the process is
        # idle and gets the next file, rather than a new one beside it.
        lines.append(
            wait_for(
                f"the log line about {key}",
                lambda key=key: log_line(pipeline, key),
                LOAD_DEADLINE_S,
            )
        )
        keys.append(key)

    good, errors = BLOCKS * MEMORY_HUNGRY_BLOCK["good"], BLOCKS * MEMORY_HUNGRY_BLOCK["errors"]
    peaks = []
    for key, line in zip(keys, lines, strict=True):
        (email,) = pipeline.emails_about(key)
        text = email["text"].splitlines()
        assert f"Rows loaded:   {good}" in text and f"Rows rejected: {errors}" in text
        performers = sorted(item["performer"]["S"] for item in pipeline.items_of(key))
        assert performers == sorted(
            f"{kind} {key}.{block}" for block in range(BLOCKS) for kind in ("Good", "Padded")
        )
        (record,) = pipeline.upload_records(key)
        assert record["status"]["S"] == "PARTIAL"
        peak = int(record["peak_memory_mb"]["N"])
        assert line["peak_memory_mb"] == peak
        assert f"peak memory {peak} MB" in line["message"]
        peaks.append(peak)

    streams = {line["stream"] for line in lines}
    assert len(streams) == 1, f"the files were loaded by {len(streams)} processes: {streams}"
    assert max(peaks[1:]) <= peaks[0] + MARGIN_MB, f"peak memory by file, MB: {peaks}"
