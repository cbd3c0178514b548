"""What the loading logic needs from the outside world, as small interfaces.

`ingest` and `service` depend on these, never on boto3; `adapters` implements them over
S3, DynamoDB, SQS and SNS, and the tests' in-memory fakes (tests/fakes.py) implement them
over dicts. `bootstrap` chooses the adapters.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any, Protocol

from lineup_ingest.parts import CollectTask, PartTask, Progress, part_counts

# A record's key, some of its attributes, and amounts to add to counters of it.
RecordKey = dict[str, str]
Fields = dict[str, Any]
Additions = dict[str, int]

BATCH_LIMIT = 25  # BatchWriteItem's maximum: the size of the batches put_items receives


class ObjectGoneError(Exception):
    """The uploaded object no longer exists (deleted before we could read it)."""


class ObjectReplacedError(Exception):
    """The uploaded object was replaced by a newer version while it was being loaded."""


class ObjectStore(Protocol):
    """The upload bucket: one version of an object, read in byte ranges."""

    def open_range(
        self, bucket: str, key: str, etag: str, start: int, end: int | None = None
    ) -> IO[bytes]: ...

    def describe(self, bucket: str, key: str) -> tuple[dict[str, str], str, str, int]: ...

    def current_etag(self, bucket: str, key: str) -> str | None: ...


class Budget(Protocol):
    reserve_ms: int


class RowStore(Protocol):
    """The lineup's rows: written in batches by a part, deleted in batches by collection."""

    @property
    def budget(self) -> Budget: ...  # its reserve_ms is kept back from a part's time

    def put_items(self, items: list[dict[str, Any]]) -> None: ...
    def drain(self) -> None: ...
    def settle(self) -> None: ...
    def longest_set_minutes(self) -> int: ...
    def raise_longest_set(self, minutes: int) -> None: ...
    def version_keys(self, source_key: str, version: str, limit: int) -> list[dict[str, str]]: ...
    def delete_keys(self, keys: Iterable[dict[str, str]]) -> int: ...


class RecordStore(Protocol):
    """The upload and removal records, moved from state to state by conditional writes."""

    def record(self, key: dict[str, str]) -> dict[str, Any] | None: ...
    def create_record(self, record: dict[str, Any]) -> bool: ...
    def update_record(
        self, key: RecordKey, sets: Fields, expect: Fields, *, add: Additions | None = None
    ) -> Fields | None: ...
    def records(self) -> Iterator[dict[str, Any]]: ...


@dataclass(frozen=True)
class PartEnding:
    """How a part ended, as its load's record counts it: done (no failure) or failed."""

    failure: str | None = None
    started_at: str = ""
    finished_at: str = ""
    # A failed part's reason for the parts after it, which nothing will queue now.
    unreached: str | None = None

    def entries(self, task: PartTask, progress: Progress) -> dict[int, dict[str, Any]]:
        """What the record's ``parts`` map gets, by part number: this part's counts, and
        for a failure with ``unreached``, those of the parts after it (none read)."""
        counts = part_counts(progress, self.failure, self.started_at, self.finished_at)
        entries = {task.part: counts}
        if self.unreached:
            empty = {"rows_read": 0, "rows_loaded": 0, "rows_rejected": 0}
            unreached = {**empty, "failure": self.unreached}
            entries.update({part: unreached for part in range(task.part + 1, task.parts)})
        return entries


PART_DONE = PartEnding()  # a part loaded to its end (its times unrecorded)


class PartStore(Protocol):
    """A load's parts: each counted once in its record, its rejected rows beside it."""

    def commit_part(
        self, task: PartTask, progress: Progress, ending: PartEnding = PART_DONE
    ) -> dict[str, Any] | None: ...
    def committed_parts(self, task: PartTask) -> Iterator[dict[str, Any]]: ...
    def was_queued(self, task: PartTask) -> bool: ...
    def mark_queued(self, task: PartTask) -> None: ...


class HeadStore(Protocol):
    """Each file's head: the newest event applied (``latest``) and the current version.

    Every change is one conditional write ordered by sequence: an older event never
    replaces a newer one's effect.
    """

    def head(self, source_key: str) -> dict[str, Any] | None: ...
    def heads(self) -> Iterator[dict[str, Any]]: ...
    def note_upload(self, source_key: str, sequence: str) -> bool: ...
    def make_current(
        self, source_key: str, sequence: str, etag: str, zone: str = ""
    ) -> tuple[bool, dict[str, Any] | None]: ...
    def remove_current(
        self, source_key: str, sequence: str, expected: str | None, expires_at: int
    ) -> bool: ...


# The attributes of a row `VersionReader.version_rows` reads by default: a set as stored.
ROW_ATTRIBUTES = ("performer", "stage", "start", "end")


class VersionReader(Protocol):
    """One upload version's rows read back whole (only the attributes asked for): what the
    end of a load compares with the version it replaces, or counts clashes in. Query only,
    consistent, over the version's own partitions."""

    def version_rows(
        self, source_key: str, version: str, attributes: Sequence[str] = ROW_ATTRIBUTES
    ) -> Iterator[dict[str, Any]]: ...


class ChangeStore(Protocol):
    """Where the whole change list of an upload version is kept (changes.to_chunks)."""

    def put_change_chunks(
        self, source_key: str, version: str, chunks: list[bytes], expires_at: int | None
    ) -> None: ...


class SketchStore(Protocol):
    """Each upload version's sketch of its sets (schema.sketch_key, lineup_ingest.sketch),
    in one partition read whole at the end of a load."""

    def put_sketch(self, item: dict[str, Any]) -> None: ...
    def sketches(self) -> Iterator[dict[str, Any]]: ...  # a consistent read


class LineupStore(
    RowStore,
    RecordStore,
    PartStore,
    HeadStore,
    VersionReader,
    ChangeStore,
    SketchStore,
    Protocol,
):
    """The whole table, as the adapter and the fake implement it."""


class RemovalStore(RecordStore, HeadStore, Protocol):
    """What a removal needs: its record, the versions' records and the file's head."""


class CollectionStore(RowStore, RecordStore, HeadStore, Protocol):
    """What collecting a version needs: its keys, its record and the file's head."""


class SweepStore(RecordStore, HeadStore, Protocol):
    """What the sweep reads and moves: every record and every head."""


class PartQueue(Protocol):
    """Hands parts of a file to other invocations, and brings failed ones back later."""

    def send(self, task: PartTask | CollectTask, delay_s: int = 0) -> None: ...
    def retry_delay_s(self, attempt: int) -> int: ...
    def retry_later(self, receipt_handle: str, attempt: int) -> None: ...


class FailureQueue(Protocol):
    """Where the parts queue puts a message that failed every delivery (its DLQ)."""

    def receive(self, limit: int) -> list[tuple[str, str]]: ...  # (receipt, body)
    def delete(self, receipt: str) -> None: ...


class UploadLister(Protocol):
    """The bucket as a listing: what the sweep compares the heads with."""

    # key, ETag, upload time (ISO, to the second, like describe's) and size
    def list_objects(
        self, bucket: str, prefix: str = ""
    ) -> Iterator[tuple[str, str, str, int]]: ...


class Publisher(Protocol):
    def publish(self, subject: str, message: str) -> None: ...


RemainingMs = Callable[[], int]
