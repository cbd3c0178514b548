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
from lineup_ingest.report import REJECTED_ROWS_SHOWN


@dataclass(frozen=True)
class Progress:
    """What a part has read so far, carried to the invocation that resumes it."""

    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    rejected: tuple[tuple[int, str], ...] = ()
    # Names read from wrapped cells, their line breaks joined into spaces (performances.py).
    names_joined: int = 0
    # The bottom-k sketch of the sets loaded so far (lineup_ingest.sketch, encoded).
    sketch: str = ""

    def with_row_error(self, error: RowError) -> Progress:
        kept = self.rejected
        if len(kept) < REJECTED_ROWS_SHOWN:  # enough to show the file's first ones
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
    done: Progress = field(default_factory=Progress)  # when resumed: what was read before
    # A gzip file: offsets and size are in decompressed bytes (see compression.py).
    gzip: bool = False
    # When the table's TTL may delete what this upload writes (epoch seconds), decided
    # once for the upload; None: never.
    expires_at: int | None = None
    # The upload version (schema.sequence_key of its S3 event's sequencer): the rows' keys,
    # the record and the parts' bookkeeping are all this version's own.
    version: str = ""

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
        data.pop("kind", None)
        header = data.pop("header")
        done = data.pop("done")
        done["rejected"] = tuple(tuple(pair) for pair in done["rejected"])
        return cls(
            **data,
            header=Header(header[0], header[1], header[2]),
            done=Progress(**done),
        )


@dataclass(frozen=True)
class CollectTask:
    """A step of collecting the rows of a version that is no longer current (replaced,
    deleted, failed): bounded work, then the task queues itself again until nothing is left.

    ``final``: the pass after the fence (the function's timeout) since collection began:
    any delivery of the version's parts that was still writing then has ended, so a pass
    that finds nothing now is the last. ``removal``: the record of the delete that made
    the version garbage, whose email waits for the rows to be gone.
    """

    bucket: str
    key: str
    version: str
    removal: str = ""
    final: bool = False
    kind: str = "collect"

    def to_message(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_message(cls, text: str) -> CollectTask:
        return cls(**json.loads(text))


def task_from_message(text: str) -> PartTask | CollectTask:
    """A parts-queue message: a part to load, or a step of collecting a version's rows.

    Read as JSON, not as text: a queue may hand the body on re-encoded (LocalStack 4.14's
    poller adds spaces)."""
    data = json.loads(text)
    if isinstance(data, dict) and data.get("kind") == "collect":
        return CollectTask.from_message(text)
    return PartTask.from_message(text)


def part_counts(
    progress: Progress, failure: str | None, started_at: str = "", finished_at: str = ""
) -> dict[str, Any]:
    """A part's entry in its upload's ``parts`` map: its counts, and why it failed."""
    counts: dict[str, Any] = {
        "rows_read": progress.rows_read,
        "rows_loaded": progress.rows_loaded,
        "rows_rejected": progress.rows_rejected,
        "names_joined": progress.names_joined,
        "started_at": started_at,
        "finished_at": finished_at,
    }
    if failure:
        counts["failure"] = failure
    return counts


def part_done_item(task: PartTask, progress: Progress, counts: dict[str, Any]) -> dict[str, Any]:
    """The item that keeps a part's counts and its first rejected rows."""
    return {
        **schema.part_done_key(task.key, task.version, task.part),
        "part": task.part,
        "first_line": task.line,
        **counts,
        "rejected": [[line, reason] for line, reason in progress.rejected],
        **({"sketch": progress.sketch} if progress.sketch else {}),
        **schema.expiry(task.expires_at),
    }
