"""What the loading logic needs from the outside world, as small interfaces.

`ingest` and `service` depend on these, never on boto3; `adapters` implements them over
S3, DynamoDB, SQS and SNS, and the tests' in-memory fakes (tests/fakes.py) implement them
over dicts. `bootstrap` chooses the adapters.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any, Protocol

from lineup_ingest.parts import PartTask, Progress

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


class LineupStore(Protocol):
    """The lineup table: performances written in batches, and one record per upload."""

    @property
    def budget(self) -> Budget: ...  # its reserve_ms is kept back from a part's time

    # performances
    def put_items(self, items: list[dict[str, Any]]) -> None: ...
    def drain(self) -> None: ...
    def settle(self) -> None: ...
    def longest_set_minutes(self) -> int: ...
    def raise_longest_set(self, minutes: int) -> None: ...
    def other_versions_loaded(self, source_key: str, etag: str) -> bool: ...
    def stale_keys(
        self, source_key: str, etag: str, uploaded_at: str
    ) -> Iterator[dict[str, str]]: ...
    def delete_keys(self, keys: Iterable[dict[str, str]]) -> int: ...

    # the upload's record
    def upload_record(self, source_key: str, etag: str) -> dict[str, Any] | None: ...
    def begin_load(self, record: dict[str, Any]) -> bool: ...
    def set_facts(self, source_key: str, etag: str, facts: dict[str, Any]) -> None: ...
    def commit_part(
        self, task: PartTask, progress: Progress, failure: str | None, *,
        started_at: str = "", finished_at: str = "",
    ) -> dict[str, Any] | None: ...
    def commit_unreached(self, task: PartTask, reason: str) -> dict[str, Any] | None: ...
    def committed_parts(self, task: PartTask) -> Iterator[dict[str, Any]]: ...
    def claim_finish(self, source_key: str, etag: str, uploaded_at: str, who: str) -> bool: ...
    def put_final_record(self, record: dict[str, Any]) -> None: ...
    def was_queued(self, task: PartTask) -> bool: ...
    def mark_queued(self, task: PartTask) -> None: ...


class PartQueue(Protocol):
    """Hands parts of a file to other invocations, and brings failed ones back later."""

    def send(self, task: PartTask, delay_s: int = 0) -> None: ...
    def retry_delay_s(self, attempt: int) -> int: ...
    def retry_later(self, receipt_handle: str, attempt: int) -> None: ...


class Publisher(Protocol):
    def publish(self, subject: str, message: str) -> None: ...


RemainingMs = Callable[[], int]
