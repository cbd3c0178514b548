"""The function's use case: what to do with the event it was given.

An S3 event starts loading each file it announces, or removes each file it says was deleted
or expired; a parts-queue batch loads each part (or collects a step of a version's rows),
and says which to retry; the schedule's event runs the reconcile sweep. Logging and the
clients are the caller's: `bootstrap` wires the adapters, `handler` only hands events over.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lineup_ingest.collect import Collector
from lineup_ingest.events import EventError, RemovedObject, object_events
from lineup_ingest.filenames import is_lineup_name
from lineup_ingest.ingest import Ingestion, LoadSettings, PartFailedError
from lineup_ingest.lifecycle import utc_now
from lineup_ingest.parts import CollectTask, task_from_message
from lineup_ingest.ports import FailureQueue, LineupStore, PartQueue, RemainingMs
from lineup_ingest.reconcile import Sweep, SweepSettings
from lineup_ingest.removal import Removal
from lineup_ingest.report import IngestReport, RemovalReport

LOG = logging.getLogger("lineup_ingest")


@dataclass(frozen=True)
class Invocation:
    """What the service needs of one Lambda invocation."""

    request_id: str
    remaining_ms: RemainingMs
    log_group: str = ""


@dataclass(frozen=True)
class Steps:
    """The use case's steps, wired for one invocation."""

    ingestion: Ingestion
    removal: Removal
    collector: Collector
    sweep: Sweep


def wire_steps(
    *,
    bucket: Any,
    table: LineupStore,
    queue: PartQueue,
    failures: FailureQueue,
    notify: Callable[[IngestReport], None],
    notify_removal: Callable[[RemovalReport], None],
    settings: LoadSettings,
    sweep_settings: SweepSettings,
    bucket_name: str,
    remaining_ms: RemainingMs | None = None,
    clock: Callable[[], str] = utc_now,
) -> Steps:
    """The steps of one invocation over the given ports: the one wiring, for the handler
    (bootstrap) and the tests' fakes alike."""
    ingestion = Ingestion(
        bucket, table, queue, notify, settings, clock=clock, remaining_ms=remaining_ms
    )
    collector = Collector(
        table, queue, sweep_settings.fence_s, lambda key: removal.report(key), clock=clock
    )
    removal = Removal(
        bucket,
        table,
        notify_removal,
        lambda task: collector.step(task, remaining_ms),
        clock=clock,
        retention_days=settings.retention_days,
    )
    sweep = Sweep(
        table,
        bucket,
        queue,
        failures,
        ingestion,
        removal,
        sweep_settings,
        bucket_name,
        redrive=lambda event, request_id: start_files(steps, event, request_id),
        clock=clock,
    )
    steps = Steps(ingestion, removal, collector, sweep)
    return steps


class IngestService:
    def __init__(
        self,
        steps_for: Callable[[Invocation], Steps],
        queue: PartQueue,
        part_attempts: int,
    ) -> None:
        # The table retries within the invocation's time left, so each invocation gets
        # steps of its own.
        self.steps_for = steps_for
        self.queue = queue
        self.part_attempts = part_attempts

    def handle(self, event: dict, invocation: Invocation) -> dict:
        steps = self.steps_for(invocation)
        if is_sweep_event(event):
            return {"reconciled": steps.sweep.run(invocation.request_id, invocation.remaining_ms)}
        if is_parts_batch(event):
            return self.load_parts(steps, event["Records"], invocation)
        return self.start_files(steps, event, invocation)

    def start_files(self, steps: Steps, event: dict, invocation: Invocation) -> dict:
        """Start loading each uploaded file; remove each deleted one."""
        return start_files(
            steps, event, invocation.request_id, invocation.log_group, invocation.remaining_ms
        )

    def load_parts(self, steps: Steps, records: list, invocation: Invocation) -> dict:
        """Load each part; report those to retry, which come back after the retry delay.

        On its last delivery a failing part is counted as failed, so that its file still
        ends with one email, and is reported failed once more, so that the queue moves it
        to the failure queue.
        """
        failures = []
        ingestion = steps.ingestion
        for record in records:
            task = task_from_message(record["body"])
            if isinstance(task, CollectTask):
                try:
                    steps.collector.step(task, invocation.remaining_ms)
                except Exception:  # retried by the queue; the sweep re-queues it if need be
                    LOG.exception("collecting version %s of %s failed", task.version, task.key)
                    failures.append({"itemIdentifier": record["messageId"]})
                continue
            attempt = int(record.get("attributes", {}).get("ApproximateReceiveCount", "1"))
            try:
                ingestion.run_part(
                    task,
                    request_id=invocation.request_id,
                    remaining_ms=invocation.remaining_ms,
                )
            except PartFailedError as error:
                LOG.warning(
                    "part %d of %s failed (attempt %d): %s", task.part + 1, task.key, attempt, error
                )
                if attempt >= self.part_attempts:
                    try:
                        ingestion.give_up(task, str(error), request_id=invocation.request_id)
                    except Exception:  # the message still goes to the failure queue
                        LOG.exception(
                            "part %d of %s could not be counted as failed", task.part + 1, task.key
                        )
                    self.queue.retry_later(record["receiptHandle"], 0)  # to the failure queue
                else:
                    self.queue.retry_later(record["receiptHandle"], attempt)
                failures.append({"itemIdentifier": record["messageId"]})
        return {"batchItemFailures": failures}


def start_files(
    steps: Steps,
    event: dict,
    request_id: str,
    log_group: str = "",
    remaining_ms: RemainingMs | None = None,
) -> dict:
    """What an S3 event says: start loading each uploaded file, remove each deleted one
    (also what the sweep does with an event that failed every attempt)."""
    try:
        announced = object_events(event)
    except EventError as error:
        # Retrying cannot help an event that names no object: say so and succeed.
        LOG.warning("ignored an event: %s", error)
        return {"files": [], "ignored": str(error)}
    files = []
    for found in announced:
        if isinstance(found, RemovedObject) and not is_lineup_name(found.key):
            status = "IGNORED"  # never loaded (its upload got a FAILED email): no rows
        elif isinstance(found, RemovedObject):
            status = steps.removal.remove(found, request_id, log_group)
        else:
            status = steps.ingestion.start(found, request_id, log_group, remaining_ms)
        files.append({"file": found.key, "status": status})
    return {"files": files}


def is_parts_batch(event: object) -> bool:
    records = event.get("Records") if isinstance(event, dict) else None
    return bool(
        records and isinstance(records[0], dict) and records[0].get("eventSource") == "aws:sqs"
    )


def is_sweep_event(event: object) -> bool:
    """The schedule's event (EventBridge), or `festival reconcile`'s."""
    return isinstance(event, dict) and (
        event.get("source") in ("aws.events", "aws.scheduler") or event.get("reconcile") is True
    )
