"""The end of an upload version: its outcome decided once, applied, emailed (pure).

The delivery that counts the last part (or refuses the file, or the sweep that ends a load
that stopped) moves the record LOADING -> REPORTING with the outcome in one conditional
write; the winner, and only it, makes the version current if it loaded (one conditional
write on the file's head, ordered by sequence), has what is no longer current collected,
sends the one email, and writes the final status. docs/ingest.md has the whole machine.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from lineup_ingest import schema
from lineup_ingest.lifecycle import LOADED, Status, status_of
from lineup_ingest.parsing import RowError
from lineup_ingest.parts import CollectTask, PartTask
from lineup_ingest.ports import HeadStore, PartQueue, PartStore, RecordStore
from lineup_ingest.report import IngestReport, RejectedRows


class OutcomeStore(RecordStore, PartStore, HeadStore, Protocol):
    """What the end of a load needs of the table: records, parts' counts and heads."""


class Outcome:
    def __init__(
        self,
        table: OutcomeStore,
        queue: PartQueue,
        notify: Callable[[IngestReport], None],
        *,
        clock: Callable[[], str],
    ) -> None:
        self.table = table
        self.queue = queue
        self.notify = notify
        self.clock = clock

    def end_stuck(self, record: dict[str, Any], reason: str) -> str:
        """The sweep's end of a load that stopped moving: FAILED, with its one email, if no
        part was counted since the sweep read it."""
        report = report_of(record)
        report.failure = reason
        return self.decide(record, report, expect_updated_at=str(record.get("updated_at", "")))

    def decide(
        self, record: dict[str, Any], report: IngestReport, expect_updated_at: str | None = None
    ) -> str:
        """LOADING -> REPORTING with the outcome, in one conditional write: its winner, and
        only it, applies the outcome and sends the email."""
        report.finished_at = self.clock()
        report.duration_s = _seconds_between(report.started_at, report.finished_at)
        expect: dict[str, Any] = {"status": Status.LOADING.value}
        if expect_updated_at is not None:
            expect["updated_at"] = expect_updated_at
        claimed = self.table.update_record(
            _key(record),
            {**_facts(report), "status": Status.REPORTING.value, "reporting_at": self.clock()},
            expect,
        )
        if claimed is None:
            return status_of(self.table.record(_key(record)))
        return self.publish(claimed)

    def publish(self, record: dict[str, Any]) -> str:
        """REPORTING -> the outcome: make the version current if it loaded (unless a newer
        event came first), have what is no longer current collected, email, record.

        Resumable: the sweep calls it again for a record left REPORTING by a crash. A crash
        after the email and before the last write sends the email twice (docs/ingest.md).
        """
        report = IngestReport.from_facts(record)
        version = str(record.get("version", ""))
        if "applied" not in record:
            applied = False
            if report.status.value in LOADED:
                applied, old_head = self.table.make_current(report.key, version, report.etag)
                previous = str((old_head or {}).get("current") or "")
                if applied and previous and previous != version:
                    earlier = self.table.record(schema.upload_record_key(report.key, previous))
                    report.rows_removed = int((earlier or {}).get("rows_loaded", 0))
                    self.collect(report.bucket, report.key, previous)
                elif not applied:
                    self._superseded(report)
            if not applied and (record.get("leased") or record.get("parts")):
                self.collect(report.bucket, report.key, version)  # it may have written rows
            record = (
                self.table.update_record(
                    _key(record),
                    {**_facts(report), "applied": applied},
                    {"status": Status.REPORTING.value},
                )
                or record
            )
        self.notify(report)
        final: dict[str, Any] = {"status": report.status.value}
        if report.peak_memory_mb is not None:
            final["peak_memory_mb"] = report.peak_memory_mb
        self.table.update_record(_key(record), final, {"status": Status.REPORTING.value})
        return report.status.value

    def _superseded(self, report: IngestReport) -> None:
        head = self.table.head(report.key) or {}
        if head.get("latest_kind") == "delete":
            report.file_deleted = True
            report.rows_removed = report.rows_loaded
            report.failure = (
                "The file was deleted before its load ended: the rows it had loaded are"
                " removed again (the deletion has its own email)."
            )
        else:
            report.failure = (
                "A newer upload of this file came while this one loaded: the lineup is the"
                " newer upload's, and this version's rows are removed again."
            )

    def collect(self, bucket: str, key: str, version: str) -> None:
        """Have a version's rows collected, in bounded steps through the parts queue."""
        self.queue.send(CollectTask(bucket=bucket, key=key, version=version))

    def file_report(self, task: PartTask, record: dict) -> IngestReport:
        report = report_of(record)
        report.parts = task.parts
        rejected: list[RowError] = []
        for part in self.table.committed_parts(task):
            report.rows_read += int(part["rows_read"])
            report.rows_loaded += int(part["rows_loaded"])
            report.rejected.total += int(part["rows_rejected"])
            rejected += [RowError(int(line), reason) for line, reason in part["rejected"]]
        for number, counts in sorted(record.get("parts", {}).items()):
            if counts.get("failure"):
                report.failed_parts.append(f"part {int(number) + 1}: {counts['failure']}")
        rejected.sort(key=lambda error: error.line)
        report.rejected = RejectedRows(total=report.rejected.total)
        for error in rejected[: report.rejected.limit]:
            report.rejected.first.append(error)
        if report.failed_parts:
            report.failure = f"{len(report.failed_parts)} of {task.parts} parts could not be loaded"
        elif report.rows_read == 0:
            report.failure = (
                "The file has a header but no rows: add one row per set below the header."
            )
        return report


def report_of(record: dict[str, Any]) -> IngestReport:
    """An upload's report as far as its record tells it: a LOADING record holds no counts
    yet, a REPORTING one holds them all (`_facts`)."""
    return IngestReport.from_facts(record)


def _facts(report: IngestReport) -> dict:
    facts = report.facts()
    facts["duration_ms"] = int(report.duration_s * 1000)
    facts["file_deleted"] = report.file_deleted
    facts["outcome"] = facts.pop("status")  # the record's status moves by itself
    del facts["duration_s"]
    return {k: v for k, v in facts.items() if v is not None}


def _key(record: dict[str, Any]) -> dict[str, str]:
    return {"pk": str(record["pk"]), "sk": str(record["sk"])}


def _seconds_between(start: str, end: str) -> float:
    try:
        return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()
    except ValueError:
        return 0.0
