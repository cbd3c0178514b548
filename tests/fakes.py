"""In-memory stand-ins for the ports (lambda/lineup_ingest/ports.py): the service's use
case tested in milliseconds, with no AWS API at all.

They keep the semantics the loading logic relies on (conditional writes, the record's
``parts`` map, a version's ETag); tests/functional/test_store_contract.py runs the same
checks against them and against the real adapters over moto, so the two cannot drift.
"""

from __future__ import annotations

import copy
import hashlib
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from lineup_ingest import schema
from lineup_ingest.parts import PartTask, Progress, part_counts, part_done_item
from lineup_ingest.ports import ObjectGoneError, ObjectReplacedError


@dataclass
class StoredObject:
    body: bytes
    etag: str
    uploaded_at: str
    metadata: dict[str, str] = field(default_factory=dict)


class MemoryBucket:
    """S3 with one version per key; `put` returns the event S3 would send."""

    def __init__(self, name: str = "uploads-bucket") -> None:
        self.name = name
        self.objects: dict[str, StoredObject] = {}
        self._uploads = 0

    def put(self, key: str, body: bytes, metadata: dict[str, str] | None = None) -> dict:
        self._uploads += 1
        etag = hashlib.md5(body).hexdigest()  # noqa: S324 (S3's ETag of a single-part upload)
        uploaded_at = f"2025-07-01T00:00:{self._uploads:02d}+00:00"  # each upload a second later
        self.objects[key] = StoredObject(body, etag, uploaded_at, dict(metadata or {}))
        return {
            "Records": [
                {
                    "eventSource": "aws:s3",
                    "eventName": "ObjectCreated:Put",
                    "s3": {
                        "bucket": {"name": self.name},
                        "object": {"key": key, "eTag": etag, "size": len(body)},
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
                    "eventTime": f"2025-07-01T00:00:{self._uploads:02d}.000Z",
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


@dataclass
class Budget:
    reserve_ms: int = 10_000


class CrashingWrites(Exception):
    """A batch write that fails the way a crash or lasting throttling does."""


class MemoryTable:
    """The lineup table as a dict of items keyed by (pk, sk)."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], dict[str, Any]] = {}
        self.budget = Budget()
        self.write_requests = 0
        # A test sets this to make every batch whose rows it matches fail.
        self.fail_batches_with: str | None = None

    def _key(self, key: dict[str, str]) -> tuple[str, str]:
        return key["pk"], key["sk"]

    def _get(self, key: dict[str, str]) -> dict[str, Any] | None:
        item = self.items.get(self._key(key))
        return copy.deepcopy(item) if item is not None else None

    def _put(self, item: dict[str, Any]) -> None:
        self.write_requests += 1
        self.items[self._key(item)] = copy.deepcopy(item)

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

    def other_versions_loaded(self, source_key: str, etag: str) -> bool:
        prefix = schema.upload_record_key(source_key, "")["sk"]
        current = schema.upload_record_key(source_key, etag)["sk"]
        return any(
            pk == schema.UPLOADS_PARTITION and sk.startswith(prefix) and sk != current
            for pk, sk in self.items
        )

    def stale_keys(self, source_key: str, etag: str, uploaded_at: str) -> Iterator[dict[str, str]]:
        partitions = set(schema.file_partitions(source_key))
        for (pk, sk), item in list(self.items.items()):
            if (
                pk in partitions
                and sk.startswith("PERF#")
                and item["load_id"] != etag
                and item["uploaded_at"] <= uploaded_at
            ):
                yield {"pk": pk, "sk": sk}

    def delete_keys(self, keys: Iterable[dict[str, str]]) -> int:
        deleted = 0
        for key in list(keys):
            self.write_requests += 1
            self.items.pop(self._key(key), None)
            deleted += 1
        return deleted

    # the upload's record
    def upload_record(self, source_key: str, etag: str) -> dict[str, Any] | None:
        return self._get(schema.upload_record_key(source_key, etag))

    def begin_load(self, record: dict[str, Any]) -> bool:
        existing = self._get(record)
        if existing is not None and existing.get("uploaded_at") == record["uploaded_at"]:
            return False
        self._put(record)
        return True

    def set_facts(self, source_key: str, etag: str, facts: dict[str, Any]) -> None:
        key = schema.upload_record_key(source_key, etag)
        self._put({**(self._get(key) or key), **facts})

    def commit_part(
        self,
        task: PartTask,
        progress: Progress,
        failure: str | None,
        *,
        started_at: str = "",
        finished_at: str = "",
    ) -> dict[str, Any] | None:
        counts = part_counts(progress, failure, started_at, finished_at)
        part_item = part_done_item(task, progress, counts)
        if not (failure and self._get(part_item) is not None):
            self._put(part_item)
        return self._set_parts(task, {task.part: counts}, keep_existing=bool(failure))

    def commit_unreached(self, task: PartTask, reason: str) -> dict[str, Any] | None:
        counts = {"rows_read": 0, "rows_loaded": 0, "rows_rejected": 0, "failure": reason}
        later = {part: counts for part in range(task.part + 1, task.parts)}
        return self._set_parts(task, later, keep_existing=True)

    def _set_parts(
        self, task: PartTask, entries: dict[int, dict], *, keep_existing: bool
    ) -> dict[str, Any] | None:
        record = self.upload_record(task.key, task.etag)
        if record is None or record.get("uploaded_at") != task.uploaded_at:
            return None
        parts = record.setdefault("parts", {})
        for part, counts in entries.items():
            if not (keep_existing and f"{part:06d}" in parts):
                parts[f"{part:06d}"] = dict(counts)
        self._put(record)
        return copy.deepcopy(record)

    def committed_parts(self, task: PartTask) -> Iterator[dict[str, Any]]:
        partition = schema.load_partition(task.key, task.etag, task.uploaded_at)
        for (pk, sk), item in sorted(self.items.items()):
            if pk == partition and sk.startswith("PART#"):
                yield copy.deepcopy(item)

    def claim_finish(self, source_key: str, etag: str, uploaded_at: str, who: str) -> bool:
        record = self.upload_record(source_key, etag)
        if (
            record is None
            or record.get("status") != "LOADING"
            or record.get("uploaded_at") != uploaded_at
            or record.get("finisher", who) != who
        ):
            return False
        record["finisher"] = who
        self._put(record)
        return True

    def put_final_record(self, record: dict[str, Any]) -> None:
        existing = self._get(record)
        if (
            existing is not None
            and existing.get("finisher") == record["finisher"]
            and existing.get("uploaded_at") == record["uploaded_at"]
        ):
            self._put(record)

    def was_queued(self, task: PartTask) -> bool:
        key = schema.part_queued_key(task.key, task.etag, task.uploaded_at, task.part)
        return self._key(key) in self.items

    def mark_queued(self, task: PartTask) -> None:
        self._put(schema.part_queued_key(task.key, task.etag, task.uploaded_at, task.part))

    # a file deleted or expired
    def record(self, key: dict[str, str]) -> dict[str, Any] | None:
        return self._get(key)

    def keys_uploaded_no_later(self, source_key: str, uploaded_at: str) -> Iterator[dict[str, str]]:
        partitions = set(schema.file_partitions(source_key))
        for (pk, sk), item in list(self.items.items()):
            if pk in partitions and sk.startswith("PERF#") and item["uploaded_at"] <= uploaded_at:
                yield {"pk": pk, "sk": sk}

    def delete_uploaded_no_later(self, keys: Iterable[dict[str, str]], uploaded_at: str) -> int:
        deleted = 0
        for key in list(keys):
            item = self.items.get(self._key(key))
            self.write_requests += 1
            if item is not None and item.get("uploaded_at", "") <= uploaded_at:
                del self.items[self._key(key)]
                deleted += 1
        return deleted

    def claim_removal(self, record: dict[str, Any]) -> bool:
        existing = self._get(record)
        if existing is not None and not (
            existing.get("status") == "REMOVING" and existing.get("finisher") == record["finisher"]
        ):
            return False
        self._put(record)
        return True

    def count_removed(self, key: dict[str, str], rows: int, who: str) -> int:
        record = self._get(key)
        if record is None or record.get("finisher") != who:
            raise CrashingWrites("the removal is held by another delivery")
        record["rows_removed"] = int(record.get("rows_removed", 0)) + rows
        self._put(record)
        return int(record["rows_removed"])

    def finish_removal(self, record: dict[str, Any]) -> None:
        existing = self._get(record)
        if existing is not None and existing.get("finisher") == record["finisher"]:
            self._put(record)

    # what tests look at
    def performances(self) -> list[dict[str, Any]]:
        return [item for (_, sk), item in self.items.items() if sk.startswith("PERF#")]


@dataclass
class Message:
    task: PartTask
    message_id: str
    receive_count: int = 0
    visible: bool = True


class MemoryQueue:
    """The parts queue: messages wait until delivered; a failed one comes back."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.failure_queue: list[PartTask] = []
        self.delays: list[int] = []
        self._sent = 0

    def send(self, task: PartTask, delay_s: int = 0) -> None:
        self._sent += 1
        self.delays.append(delay_s)
        self.messages.append(Message(PartTask.from_message(task.to_message()), f"m{self._sent}"))

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


class MemoryMail:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def publish(self, subject: str, message: str) -> None:
        self.sent.append((subject, message))
