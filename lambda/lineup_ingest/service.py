"""The function's use case: what to do with the event it was given.

An S3 event starts loading each file it announces, or removes the rows of each file it
says was deleted or expired; a parts-queue batch loads each part, and says which parts to
retry. Logging and the clients are the caller's: `bootstrap` wires the adapters, `handler`
only hands events over.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from lineup_ingest.events import EventError, RemovedObject, object_events
from lineup_ingest.filenames import is_lineup_name
from lineup_ingest.ingest import Ingestion, PartFailedError
from lineup_ingest.parts import PartTask
from lineup_ingest.ports import PartQueue, RemainingMs
from lineup_ingest.removal import Removal

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
        if is_parts_batch(event):
            return self.load_parts(steps.ingestion, event["Records"], invocation)
        return self.start_files(steps, event, invocation)

    def start_files(self, steps: Steps, event: dict, invocation: Invocation) -> dict:
        """Start loading each uploaded file; remove the rows of each deleted one."""
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
                status = steps.removal.remove(
                    found, invocation.request_id, invocation.log_group, invocation.remaining_ms
                )
            else:
                status = steps.ingestion.start(
                    found, invocation.request_id, invocation.log_group, invocation.remaining_ms
                )
            files.append({"file": found.key, "status": status})
        return {"files": files}

    def load_parts(self, ingestion: Ingestion, records: list, invocation: Invocation) -> dict:
        """Load each part; report those to retry, which come back after the retry delay.

        On its last delivery a failing part is counted as failed, so that its file still
        ends with one email, and is reported failed once more, so that the queue moves it
        to the failure queue.
        """
        failures = []
        for record in records:
            task = PartTask.from_message(record["body"])
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


def is_parts_batch(event: object) -> bool:
    records = event.get("Records") if isinstance(event, dict) else None
    return bool(
        records and isinstance(records[0], dict) and records[0].get("eventSource") == "aws:sqs"
    )
