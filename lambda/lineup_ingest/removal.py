"""A file deleted from the bucket, or expired by its lifecycle rule: the steps, without the
AWS details.

S3 names no version in a removal event, only the key and the event's sequencer. The
removal is applied to the file's head in one conditional write ordered by that sequencer:
if no newer upload came first, the current version stops being current at once (queries
stop answering from it), and its rows are collected in bounded steps (collect.py); the one
REMOVED email is sent when they are gone. If a newer upload came first, nothing is removed
(REPLACED). docs/ingest.md has the whole design.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from lineup_ingest import schema
from lineup_ingest.events import RemovedObject
from lineup_ingest.lifecycle import Status, status_of
from lineup_ingest.parts import CollectTask
from lineup_ingest.ports import ObjectGoneError, ObjectStore, RemovalStore
from lineup_ingest.report import RemovalReport, RemovalStatus

# Attempts to apply a removal to a head that other writers keep changing.
HEAD_ATTEMPTS = 5


class Removal:
    def __init__(
        self,
        bucket: ObjectStore,
        table: RemovalStore,
        notify: Callable[[RemovalReport], None],
        collect: Callable[[CollectTask], str],
        *,
        clock: Callable[[], str],
        retention_days: int = 0,
    ) -> None:
        self.retention_days = retention_days  # its record expires as an upload's does
        self.bucket = bucket
        self.table = table
        self.notify = notify
        self.collect = collect
        self.clock = clock

    def remove(self, removed: RemovedObject, request_id: str = "", log_group: str = "") -> str:
        """Claim the removal (its record), apply it to the head, collect; the status.

        Only the delivery that created the record (or Lambda's retry of it, with the same
        request id) goes on: a duplicate delivery of the event does nothing.
        """
        key = schema.removal_record_key(removed.key, removed.removal_id)
        record = self.table.record(key)
        if record is None:
            sequence = self._order(removed)
            record = {
                **key,
                "kind": "removal",
                "file": removed.key,
                "bucket": removed.bucket,
                "sequence": sequence or removed.removal_id,
                "removal_id": removed.removal_id,
                "event": removed.event_name,
                "removed_at": removed.removed_at,
                "removed_by": removed.removed_by or None,
                "source_ip": removed.source_ip or None,
                "status": Status.REMOVING.value,
                "starter": request_id or uuid.uuid4().hex,
                "started_at": self.clock(),
                "request_id": request_id,
                "log_group": log_group,
                "rows_removed": 0,
                **schema.expiry(schema.expires_at(self.clock(), self.retention_days)),
            }
            record = {name: value for name, value in record.items() if value is not None}
            if not self.table.create_record(record):
                return status_of(self.table.record(key))
            if sequence is None:  # the object is there again: a newer upload came first
                return self.report(key, replaced=True)
        elif record.get("status") != Status.REMOVING.value or record.get("starter") != request_id:
            return status_of(record)
        return self.advance(record)

    def _head_expiry(self) -> int:
        now = datetime.fromisoformat(self.clock())
        return int(now.timestamp()) + schema.HEAD_KEPT_AFTER_REMOVAL_S

    def _order(self, removed: RemovedObject) -> str | None:
        """Where the removal falls among the file's events: S3's sequencer. A removal event
        without one (an expiry may come so) is applied only if the object is gone now, just
        after the newest event seen; None if the key holds an object again."""
        if removed.sequencer:
            return removed.sequence
        try:
            self.bucket.describe(removed.bucket, removed.key)
        except ObjectGoneError:
            latest = str((self.table.head(removed.key) or {}).get("latest", ""))
            return schema.sequence_after(latest or schema.sequence_key("0"))
        return None

    def advance(self, record: dict[str, Any]) -> str:
        """Apply the removal to the head and collect what it made garbage. Resumable: the
        sweep calls it again for a removal left REMOVING."""
        key = {"pk": str(record["pk"]), "sk": str(record["sk"])}
        file, sequence = str(record["file"]), str(record["sequence"])
        for _ in range(HEAD_ATTEMPTS):
            if record.get("applied"):  # applied before (a crash, or the sweep resuming it)
                collects = str(record.get("collects", ""))
                break
            head = self.table.head(file) or {}
            latest = str(head.get("latest", ""))
            if latest > sequence:
                return self.report(key, replaced=True)
            if latest == sequence and "collects" in record:
                collects = str(record["collects"])  # applied before a crash
                break
            collects = str(head.get("current") or "")
            earlier = (
                self.table.record(schema.upload_record_key(file, collects)) if collects else None
            )
            updated = self.table.update_record(
                key,
                {"collects": collects, "rows_removed": int((earlier or {}).get("rows_loaded", 0))},
                {"status": Status.REMOVING.value},
            )
            if updated is None:
                return status_of(self.table.record(key))
            record = updated
            if self.table.remove_current(file, sequence, collects or None, self._head_expiry()):
                # Recorded, so that a later look at the head (a newer upload since) never
                # takes an applied removal for one overtaken.
                record = (
                    self.table.update_record(
                        key, {"applied": True}, {"status": Status.REMOVING.value}
                    )
                    or record
                )
                break
        else:
            raise RuntimeError(f"the head of {file!r} kept changing: the sweep tries again")
        if not collects:
            return self.report(key)
        removal_id = str(record.get("removal_id") or str(record["sk"]).rsplit("#REMOVED#", 1)[1])
        self.collect(
            CollectTask(
                bucket=str(record.get("bucket", "")), key=file, version=collects, removal=removal_id
            )
        )
        return status_of(self.table.record(key))  # REMOVED if the first step collected all

    def report(self, key: dict[str, str], *, replaced: bool = False) -> str:
        """REMOVING -> REPORTING in one conditional write; its winner sends the one email."""
        claimed = self.table.update_record(
            key,
            {
                "status": Status.REPORTING.value,
                "outcome": (RemovalStatus.REPLACED if replaced else RemovalStatus.REMOVED).value,
                "reporting_at": self.clock(),
                "finished_at": self.clock(),
            },
            {"status": Status.REMOVING.value},
        )
        if claimed is None:
            return status_of(self.table.record(key))
        return self.publish(claimed)

    def publish(self, record: dict[str, Any]) -> str:
        """REPORTING -> REMOVED or REPLACED: the email, then the record (resumable)."""
        report = _report_of(record)
        self.notify(report)
        key = {"pk": str(record["pk"]), "sk": str(record["sk"])}
        self.table.update_record(
            key, {"status": report.status.value}, {"status": Status.REPORTING.value}
        )
        return report.status.value


def _report_of(record: dict[str, Any]) -> RemovalReport:
    replaced = record.get("outcome") == RemovalStatus.REPLACED.value
    return RemovalReport(
        bucket=str(record.get("bucket", "")),
        key=str(record["file"]),
        event_name=str(record.get("event", "")),
        removed_at=str(record.get("removed_at", "")),
        started_at=str(record.get("started_at", "")),
        removed_by=str(record.get("removed_by") or ""),
        source_ip=str(record.get("source_ip") or ""),
        finished_at=str(record.get("finished_at", "")),
        rows_removed=0 if replaced else int(record.get("rows_removed", 0)),
        replaced_by=("", "") if replaced else None,
        request_id=str(record.get("request_id", "")),
        log_group=str(record.get("log_group", "")),
        sequence=str(record.get("sequence", "")),
    )
