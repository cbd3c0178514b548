"""In-memory stand-ins for the ports (lambda/lineup_ingest/ports.py): the service's use
case tested in milliseconds, with no AWS API at all.

They keep the semantics the loading logic relies on (conditional writes, the record's
``parts`` map, a version's ETag); tests/functional/test_store_contract.py runs the same
checks against them and against the real adapters over moto, so the two cannot drift.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from lineup_ingest import ports, schema
from lineup_ingest.lifecycle import Status
from lineup_ingest.parts import (
    CollectTask,
    PartTask,
    Progress,
    part_done_item,
    task_from_message,
)
from lineup_ingest.ports import (
    PART_DONE,
    ROW_ATTRIBUTES,
    ObjectGoneError,
    ObjectReplacedError,
    PartEnding,
)


@dataclass
class StoredObject:
    body: bytes
    etag: str
    uploaded_at: str
    metadata: dict[str, str] = field(default_factory=dict)


class MemoryBucket:
    """S3 with one version per key; `put` returns the event S3 would send."""

    def __init__(
        self, name: str = "uploads-bucket", clock: Callable[[], str] | None = None
    ) -> None:
        self.name = name
        self.objects: dict[str, StoredObject] = {}
        self._uploads = 0
        self.clock = clock  # ISO to the second; by default each event a second later

    def _moment(self) -> str:
        """Each event a second later than the one before (2025-07-01 from midnight)."""
        if self.clock is not None:
            return self.clock()
        hours, rest = divmod(self._uploads, 3600)
        return f"2025-07-01T{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"

    def put(self, key: str, body: bytes, metadata: dict[str, str] | None = None) -> dict:
        self._uploads += 1
        etag = hashlib.md5(body).hexdigest()  # noqa: S324 (S3's ETag of a single-part upload)
        uploaded_at = f"{self._moment()}+00:00"
        self.objects[key] = StoredObject(body, etag, uploaded_at, dict(metadata or {}))
        return {
            "Records": [
                {
                    "eventSource": "aws:s3",
                    "eventName": "ObjectCreated:Put",
                    "s3": {
                        "bucket": {"name": self.name},
                        "object": {
                            "key": key,
                            "eTag": etag,
                            "size": len(body),
                            "sequencer": f"{self._uploads:016X}",
                        },
                    },
                }
            ]
        }

    def delete(self, key: str) -> dict:
        """Delete the object; the event S3 sends for it."""
        del self.objects[key]
        self._uploads += 1
        return {
            "Records": [
                {
                    "eventSource": "aws:s3",
                    "eventName": "ObjectRemoved:Delete",
                    "eventTime": f"{self._moment()}.000Z",
                    "s3": {
                        "bucket": {"name": self.name},
                        "object": {"key": key, "sequencer": f"{self._uploads:016X}"},
                    },
                }
            ]
        }

    def _version(self, key: str) -> StoredObject:
        found = self.objects.get(key)
        if found is None:
            raise ObjectGoneError(f"s3://{self.name}/{key} no longer exists")
        return found

    def open_range(
        self, bucket: str, key: str, etag: str, start: int, end: int | None = None
    ) -> IO[bytes]:
        version = self._version(key)
        if version.etag != etag:
            raise ObjectReplacedError(f"s3://{bucket}/{key} was replaced by a newer upload")
        return io.BytesIO(version.body[start:end])

    def describe(self, bucket: str, key: str) -> tuple[dict[str, str], str, str, int]:
        version = self._version(key)
        return dict(version.metadata), version.uploaded_at, version.etag, len(version.body)

    def current_etag(self, bucket: str, key: str) -> str | None:
        found = self.objects.get(key)
        return found.etag if found else None

    def list_objects(self, bucket: str, prefix: str = "") -> Iterator[tuple[str, str, str, int]]:
        for key, stored in sorted(self.objects.items()):
            if key.startswith(prefix):
                yield key, stored.etag, stored.uploaded_at, len(stored.body)


def _clone(value: Any) -> Any:
    """A deep copy of plain data (what DynamoDB stores), several times faster than
    copy.deepcopy: every read and write of the fake table copies, as the wire would."""
    if isinstance(value, dict):
        return {name: _clone(inner) for name, inner in value.items()}
    if isinstance(value, list):
        return [_clone(inner) for inner in value]
    return value


@dataclass
class Budget:
    reserve_ms: int = 10_000


class CrashingWrites(Exception):
    """A batch write that fails the way a crash or lasting throttling does."""


class MemoryTable:
    """The lineup table as a dict of items keyed by (pk, sk)."""

    def __init__(self, clock: Callable[[], str] | None = None) -> None:
        self.items: dict[tuple[str, str], dict[str, Any]] = {}
        self.clock = clock or (lambda: "2025-07-01T00:00:00.000+00:00")
        self.budget = Budget()
        self.write_requests = 0
        # A test sets this to make every batch whose rows it matches fail.
        self.fail_batches_with: str | None = None

    def _key(self, key: dict[str, str]) -> tuple[str, str]:
        return key["pk"], key["sk"]

    def _get(self, key: dict[str, str]) -> dict[str, Any] | None:
        item = self.items.get(self._key(key))
        return _clone(item) if item is not None else None

    def _put(self, item: dict[str, Any]) -> None:
        self.write_requests += 1
        self.items[self._key(item)] = _clone(item)

    # performances
    def put_items(self, items: list[dict[str, Any]]) -> None:
        if self.fail_batches_with and any(
            self.fail_batches_with in str(item.get("performer")) for item in items
        ):
            raise CrashingWrites(f"a batch with {self.fail_batches_with!r} failed")
        for item in items:
            self._put(item)

    def drain(self) -> None:
        pass

    def settle(self) -> None:
        pass

    def longest_set_minutes(self) -> int:
        found = self._get(schema.LONGEST_SET_KEY)
        return int(found["minutes"]) if found else 0

    def raise_longest_set(self, minutes: int) -> None:
        if minutes > self.longest_set_minutes():
            self._put({**schema.LONGEST_SET_KEY, "minutes": minutes})

    def version_keys(self, source_key: str, version: str, limit: int) -> list[dict[str, str]]:
        partitions = {
            *schema.file_partitions(source_key, version),
            schema.load_partition(source_key, version),
        }
        found = [{"pk": pk, "sk": sk} for pk, sk in sorted(self.items) if pk in partitions]
        return found[:limit]

    def version_rows(
        self, source_key: str, version: str, attributes: Sequence[str] = ROW_ATTRIBUTES
    ) -> Iterator[dict[str, Any]]:
        partitions = set(schema.file_partitions(source_key, version))
        found = [_clone(item) for (pk, _), item in sorted(self.items.items()) if pk in partitions]
        for item in found:
            yield {name: item[name] for name in attributes if name in item}

    def put_change_chunks(
        self, source_key: str, version: str, chunks: list[bytes], expires_at: int | None
    ) -> None:
        for number, chunk in enumerate(chunks):
            self._put(
                {
                    **schema.change_chunk_key(source_key, version, number),
                    "data": bytes(chunk),
                    "chunks": len(chunks),
                    **schema.expiry(expires_at),
                }
            )

    def change_chunks(self, source_key: str, version: str) -> list[bytes]:
        """What a test reads back: the chunks of a version's change list, in order."""
        partition = schema.changes_partition(source_key, version)
        return [
            bytes(item["data"]) for (pk, _), item in sorted(self.items.items()) if pk == partition
        ]

    def delete_keys(self, keys: Iterable[dict[str, str]]) -> int:
        deleted = 0
        for key in list(keys):
            self.write_requests += 1
            self.items.pop(self._key(key), None)
            deleted += 1
        return deleted

    # records
    def record(self, key: dict[str, str]) -> dict[str, Any] | None:
        return self._get(key)

    def create_record(self, record: dict[str, Any]) -> bool:
        if self._key(record) in self.items:
            return False
        self._put(record)
        return True

    def update_record(
        self,
        key: ports.RecordKey,
        sets: ports.Fields,
        expect: ports.Fields,
        *,
        add: ports.Additions | None = None,
    ) -> ports.Fields | None:
        record = self._get(key)
        if record is None or any(record.get(name) != value for name, value in expect.items()):
            return None
        record.update(_clone(sets))
        for name, amount in (add or {}).items():
            record[name] = int(record.get(name, 0)) + amount
        self._put(record)
        return _clone(record)

    def records(self) -> Iterator[dict[str, Any]]:
        for (pk, _), item in sorted(self.items.items()):
            if pk == schema.UPLOADS_PARTITION:
                yield _clone(item)

    # parts
    def commit_part(
        self, task: PartTask, progress: Progress, ending: PartEnding = PART_DONE
    ) -> dict[str, Any] | None:
        failure = ending.failure
        entries = ending.entries(task, progress)
        part_item = part_done_item(task, progress, entries[task.part])
        if not (failure and self._get(part_item) is not None):
            self._put(part_item)
        record = self._get(schema.upload_record_key(task.key, task.version))
        if record is None or record.get("status") != Status.LOADING.value:
            return None
        parts = record.setdefault("parts", {})
        for part, value in entries.items():
            if not (failure and f"{part:06d}" in parts):
                parts[f"{part:06d}"] = dict(value)
        record["updated_at"] = self.clock()
        self._put(record)
        return _clone(record)

    def committed_parts(self, task: PartTask) -> Iterator[dict[str, Any]]:
        partition = schema.load_partition(task.key, task.version)
        for (pk, sk), item in sorted(self.items.items()):
            if pk == partition and sk.startswith(schema.PART_DONE_PREFIX):
                yield _clone(item)

    def was_queued(self, task: PartTask) -> bool:
        key = schema.part_queued_key(task.key, task.version, task.part)
        return self._key(key) in self.items

    def mark_queued(self, task: PartTask) -> None:
        self._put(schema.part_queued_key(task.key, task.version, task.part))

    # heads
    def head(self, source_key: str) -> dict[str, Any] | None:
        return self._get(schema.head_key(source_key))

    def heads(self) -> Iterator[dict[str, Any]]:
        for (pk, _), item in sorted(self.items.items()):
            if pk == schema.HEADS_PARTITION:
                yield _clone(item)

    def _advance_head(
        self, source_key: str, sequence: str, kind: str
    ) -> tuple[dict[str, Any], dict[str, Any]] | None:
        head = self._get(schema.head_key(source_key)) or dict(schema.head_key(source_key))
        if str(head.get("latest", "")) > sequence:
            return None
        old = _clone(head)
        head.update({"latest": sequence, "latest_kind": kind, "file": source_key})
        head.pop("expires_at", None)
        return head, old

    def note_upload(self, source_key: str, sequence: str) -> bool:
        advanced = self._advance_head(source_key, sequence, "upload")
        if advanced is not None:
            self._put(advanced[0])
        return advanced is not None

    def make_current(
        self, source_key: str, sequence: str, etag: str, zone: str = ""
    ) -> tuple[bool, dict[str, Any] | None]:
        advanced = self._advance_head(source_key, sequence, "upload")
        if advanced is None:
            return False, None
        head, old = advanced
        head.update({"current": sequence, "current_etag": etag, "zone": zone or "UTC"})
        head.pop("missing_since", None)
        self._put(head)
        return True, old

    def remove_current(
        self, source_key: str, sequence: str, expected: str | None, expires_at: int
    ) -> bool:
        advanced = self._advance_head(source_key, sequence, "delete")
        if advanced is None or advanced[1].get("current") != expected:
            return False
        head = advanced[0]
        head["expires_at"] = expires_at
        for name in ("current", "current_etag", "missing_since"):
            head.pop(name, None)
        self._put(head)
        return True

    # sketches
    def put_sketch(self, item: dict[str, Any]) -> None:
        self._put(item)

    def sketches(self) -> Iterator[dict[str, Any]]:
        for (pk, _), item in sorted(self.items.items()):
            if pk == schema.SKETCHES_PARTITION:
                yield _clone(item)

    # what tests look at
    def performances(self) -> list[dict[str, Any]]:
        return [
            item for (_, sk), item in self.items.items() if sk.startswith(schema.PERFORMANCE_PREFIX)
        ]


@dataclass
class Message:
    task: PartTask | CollectTask
    message_id: str
    receive_count: int = 0
    visible: bool = True
    delay_s: int = 0


class MemoryQueue:
    """The parts queue: messages wait until delivered; a failed one comes back."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.failure_queue: list[PartTask | CollectTask] = []
        self._received_and_deleted: set[int] = set()
        self.delays: list[int] = []
        self._sent = 0

    def send(self, task: PartTask | CollectTask, delay_s: int = 0) -> None:
        self._sent += 1
        self.delays.append(delay_s)
        copied = task_from_message(task.to_message())
        self.messages.append(Message(copied, f"m{self._sent}", delay_s=delay_s))

    def retry_delay_s(self, attempt: int) -> int:
        return 0 if attempt <= 0 else 30 * 2 ** (attempt - 1)

    def retry_later(self, receipt_handle: str, attempt: int) -> None:
        for message in self.messages:
            if message.message_id == receipt_handle:
                message.visible = True

    def next_batch(self, max_receives: int) -> dict | None:
        """The next message as the event source mapping delivers it (None when empty);
        one received ``max_receives`` times without success goes to the failure queue."""
        for message in list(self.messages):
            if message.receive_count >= max_receives:
                self.messages.remove(message)
                self.failure_queue.append(message.task)
        if not self.messages:
            return None
        message = self.messages[0]
        message.receive_count += 1
        return {
            "Records": [
                {
                    "eventSource": "aws:sqs",
                    "messageId": message.message_id,
                    "receiptHandle": message.message_id,
                    "body": message.task.to_message(),
                    "attributes": {"ApproximateReceiveCount": str(message.receive_count)},
                }
            ]
        }

    def acknowledge(self, message_id: str) -> None:
        self.messages = [m for m in self.messages if m.message_id != message_id]

    # the failure queue, as the sweep reads it: a message's receipt is its place in the list
    def receive(self, limit: int) -> list[tuple[str, str]]:
        waiting = [
            (str(n), task.to_message())
            for n, task in enumerate(self.failure_queue)
            if n not in self._received_and_deleted
        ]
        return waiting[:limit]

    def delete(self, receipt: str) -> None:
        self._received_and_deleted.add(int(receipt))
        if len(self._received_and_deleted) >= len(self.failure_queue):
            self.failure_queue.clear()
            self._received_and_deleted.clear()


class MemoryMail:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def publish(self, subject: str, message: str) -> None:
        self.sent.append((subject, message))
