"""A part of an uploaded file to load, as a message between invocations (pure).

Every load is one or more parts. The invocation that receives the S3 event reads the
header, decides how many parts the file has and loads part 0 itself; each part finds where
the next one starts and hands it on through the parts queue before loading its own rows,
so parts run in parallel. A part short of time hands the rest of itself on (``done``).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from lineup_ingest import schema
from lineup_ingest.parsing import Header, RowError

# How many rejected rows a part keeps, to show the file's first ones in its email.
REJECTED_KEPT = 50


@dataclass(frozen=True)
class Progress:
    """What a part has read so far, carried to the invocation that resumes it."""

    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    rejected: tuple[tuple[int, str], ...] = ()

    def with_row_error(self, error: RowError) -> Progress:
        kept = self.rejected
        if len(kept) < REJECTED_KEPT:
            kept = (*kept, (error.line, error.reason))
        return replace(self, rows_rejected=self.rows_rejected + 1, rejected=kept)


@dataclass(frozen=True)
class PartTask:
    bucket: str
    key: str
    etag: str
    size: int
    uploaded_at: str
    started_at: str
    part: int
    parts: int
    part_bytes: int
    start: int  # byte offset of the part's first record
    line: int  # the physical line number of that record
    header: Header
    clock: str = "24h"  # how times without AM/PM are read, decided once for the file
    done: Progress = field(default_factory=Progress)
    # Who may finish the file if this part ends it: one token per queued message, kept by
    # its redeliveries and hand-overs, so a copy queued twice never sends a second email.
    claim: str = ""  # when resumed: what was read before
    # A gzip file: offsets and size are in decompressed bytes (see compression.py).
    gzip: bool = False
    # When the table's TTL may delete what this upload writes (epoch seconds), decided
    # once for the upload; None: never.
    expires_at: int | None = None

    @property
    def is_last(self) -> bool:
        return self.part == self.parts - 1

    @property
    def next_start(self) -> int:
        """The byte at or after which the next part's first record starts."""
        return (self.part + 1) * self.part_bytes

    def to_message(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_message(cls, text: str) -> PartTask:
        data = json.loads(text)
        header = data.pop("header")
        done = data.pop("done")
        done["rejected"] = tuple(tuple(pair) for pair in done["rejected"])
        return cls(
            **data,
            header=Header(header[0], header[1], header[2]),
            done=Progress(**done),
        )


def part_counts(
    progress: Progress, failure: str | None, started_at: str = "", finished_at: str = ""
) -> dict[str, Any]:
    """A part's entry in its upload's ``parts`` map: its counts, and why it failed."""
    counts: dict[str, Any] = {
        "rows_read": progress.rows_read,
        "rows_loaded": progress.rows_loaded,
        "rows_rejected": progress.rows_rejected,
        "started_at": started_at,
        "finished_at": finished_at,
    }
    if failure:
        counts["failure"] = failure
    return counts


def part_done_item(task: PartTask, progress: Progress, counts: dict[str, Any]) -> dict[str, Any]:
    """The item that keeps a part's counts and its first rejected rows."""
    return {
        **schema.part_done_key(task.key, task.etag, task.uploaded_at, task.part),
        "part": task.part,
        "first_line": task.line,
        **counts,
        "rejected": [[line, reason] for line, reason in progress.rejected],
        **schema.expiry(task.expires_at),
    }
