"""The function's service as the tests drive it: wired over in-memory fakes as the handler
wires it (``wire_steps``), each report sent as its email, the parts queue delivered one
message at a time, as the event source mapping does, and a part's task as it queues one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lineup_ingest import report as reports
from lineup_ingest.ingest import LoadSettings
from lineup_ingest.lifecycle import utc_now
from lineup_ingest.parsing import Header
from lineup_ingest.parts import PartTask
from lineup_ingest.reconcile import SweepSettings
from lineup_ingest.service import IngestService, wire_steps
from tests.fakes import MemoryBucket, MemoryMail, MemoryQueue, MemoryTable

PART_ATTEMPTS = 3  # the template's maxReceiveCount of the parts queue


@dataclass
class MemoryAWS:
    """The bucket, the table, the parts queue and the mail, in memory (tests/fakes.py)."""

    bucket: MemoryBucket = field(default_factory=MemoryBucket)
    table: MemoryTable = field(default_factory=MemoryTable)
    queue: MemoryQueue = field(default_factory=MemoryQueue)
    mail: MemoryMail = field(default_factory=MemoryMail)

    def ingest_service(
        self,
        settings: LoadSettings,
        sweep_settings: SweepSettings,
        clock: Callable[[], str] = utc_now,
    ) -> IngestService:
        """The function's service over these fakes (the parts queue is the failure queue
        too); its upload and removal reports are emailed to ``mail`` with the subject and
        body the function sends."""

        def notify(report: reports.IngestReport) -> None:
            self.mail.publish(reports.subject(report), reports.body(report))

        def notify_removal(report: reports.RemovalReport) -> None:
            self.mail.publish(reports.removal_subject(report), reports.removal_body(report))

        return IngestService(
            lambda invocation: wire_steps(
                bucket=self.bucket,
                table=self.table,
                queue=self.queue,
                failures=self.queue,
                notify=notify,
                notify_removal=notify_removal,
                settings=settings,
                sweep_settings=sweep_settings,
                bucket_name=self.bucket.name,
                clock=clock,
            ),
            self.queue,
            PART_ATTEMPTS,
        )


def memory_service(
    *,
    bucket: MemoryBucket,
    table: MemoryTable,
    queue: MemoryQueue,
    mail: MemoryMail,
    settings: LoadSettings,
    sweep_settings: SweepSettings,
    clock: Callable[[], str] = utc_now,
) -> IngestService:
    """``MemoryAWS.ingest_service`` for a test that holds its fakes itself."""
    return MemoryAWS(bucket, table, queue, mail).ingest_service(settings, sweep_settings, clock)


def deliver_queued(
    queue: MemoryQueue, invoke: Callable[[dict], dict], limit: int | None = None
) -> int:
    """Hand the queue's messages to ``invoke`` one at a time until it is empty, deleting
    each one the function did not report as failed. The number of deliveries; past
    ``limit`` of them, an error (a load that keeps queueing)."""
    delivered = 0
    while (batch := queue.next_batch(PART_ATTEMPTS)) is not None:
        if delivered == limit:
            raise AssertionError(f"the parts queue still had messages after {limit}")
        result = invoke(batch)
        delivered += 1
        if not result["batchItemFailures"]:
            queue.acknowledge(batch["Records"][0]["messageId"])
    return delivered


def part_task(**changes: Any) -> PartTask:
    """The first of three parts of a small file with the five columns in order, or of the
    file ``changes`` describe (any field of PartTask)."""
    task: dict[str, Any] = {
        "bucket": "b",
        "key": "uploads/day.csv",
        "etag": "etag-1",
        "size": 100,
        "uploaded_at": "2025-07-01T00:00:01+00:00",
        "started_at": "s",
        "part": 0,
        "parts": 3,
        "part_bytes": 10,
        "start": 0,
        "line": 2,
        "header": Header(5, 5, {"performer": 0, "stage": 1, "start": 2, "end": 3, "date": 4}),
    }
    return PartTask(**{**task, **changes})
