"""The reconcile sweep: a scheduled pass that brings the table back to what the bucket
holds, whatever was lost on the way (pure; the AWS calls are the ports').

Event handling is the fast path; this is the safety net. In bounded steps, it:

1. ends loads stuck in LOADING (no part counted for ``stuck_after_s``) with a FAILED email,
   and finishes records left REPORTING by a crash (their email, then their status);
2. has the rows of every version that is neither current nor collected collected;
3. resumes removals left REMOVING;
4. compares the heads with a listing of the bucket: a file whose object is gone gets the
   removal S3 never delivered, an object whose upload was never seen is loaded;
5. ends each part found in the failure queue as failed (its file's email), and re-queues
   a collection step found there.

Its reads per run: one Query of the records and one of the heads, one LIST per 1,000
objects, one receive of the failure queue (docs/cost-and-scalability.md).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass
from datetime import datetime, timedelta
from typing import Any

from lineup_ingest import schema
from lineup_ingest.config import Config
from lineup_ingest.events import RemovedObject, UploadedObject
from lineup_ingest.filenames import is_folder_marker, is_lineup_name
from lineup_ingest.ingest import Ingestion
from lineup_ingest.lifecycle import FINAL, Collection, Status
from lineup_ingest.parts import CollectTask, PartTask, task_from_message
from lineup_ingest.ports import FailureQueue, PartQueue, SweepStore, UploadLister
from lineup_ingest.removal import Removal

LOG = logging.getLogger("lineup_ingest")
FAILED_PART = "failed every delivery (the reconcile sweep found it in the failure queue)"
FAILURE_QUEUE_BATCH = 10  # SQS ReceiveMessage's maximum


@dataclass(frozen=True)
class SweepSettings:
    fence_s: int = Config.fence_s  # the function's timeout: no invocation outlives it
    stuck_after_s: int = Config.stuck_after_s
    prefix: str = ""  # where uploads go (the notification's filter)


@dataclass(eq=False)
class Sweep:
    table: SweepStore
    bucket: UploadLister
    queue: PartQueue
    failures: FailureQueue
    ingestion: Ingestion
    removal: Removal
    settings: SweepSettings
    bucket_name: str
    _: KW_ONLY
    redrive: Callable[[dict, str], object]
    clock: Callable[[], str]

    def run(self, request_id: str = "", remaining_ms: Callable[[], int] | None = None) -> dict:
        """One pass; what it did, by kind."""
        done: dict[str, int] = {
            "ended_stuck": 0,
            "reported": 0,
            "collecting": 0,
            "removals_resumed": 0,
            "missing": 0,
            "lost_removals": 0,
            "lost_uploads": 0,
            "failed_parts": 0,
            "redriven_events": 0,
            "unreadable": 0,
        }
        heads = {str(head["file"]): head for head in self.table.heads()}
        records = list(self.table.records())
        for record in records:
            self._converge_record(record, heads, done)
        self._compare_with_bucket(heads, records, request_id, done, remaining_ms)
        self._drain_failures(request_id, done)
        return done

    def _older_than(self, moment: object, seconds: int) -> bool:
        if not moment:
            return True
        try:
            then = datetime.fromisoformat(str(moment))
            now = datetime.fromisoformat(self.clock())
        except ValueError:
            return True
        return now - then >= timedelta(seconds=seconds)

    def _converge_record(
        self, record: dict[str, Any], heads: dict[str, dict], done: dict[str, int]
    ) -> None:
        status, fence = str(record.get("status", "")), self.settings.fence_s
        if record.get("kind") == "removal":
            if status == Status.REMOVING.value and self._older_than(
                record.get("started_at"), fence
            ):
                if (claimed := self._take_over(record, "started_at")) is not None:
                    self.removal.advance(claimed)
                    done["removals_resumed"] += 1
            elif status == Status.REPORTING.value and self._older_than(
                record.get("reporting_at"), fence
            ):
                if (claimed := self._take_over(record, "reporting_at")) is not None:
                    self.removal.publish(claimed)
                    done["reported"] += 1
            return
        if status == Status.LOADING.value:
            if self._older_than(record.get("updated_at"), self.settings.stuck_after_s):
                minutes = self.settings.stuck_after_s // 60
                self.ingestion.outcome.end_stuck(
                    record,
                    f"The load stopped: no part of it was counted for {minutes} minutes, and the"
                    " reconcile sweep ended it.",
                )
                done["ended_stuck"] += 1
            return
        if status == Status.REPORTING.value:
            if self._older_than(record.get("reporting_at"), fence):
                if (claimed := self._take_over(record, "reporting_at")) is not None:
                    self.ingestion.outcome.publish(claimed)
                    done["reported"] += 1
            return
        version = str(record.get("version", ""))
        current = (heads.get(str(record["file"])) or {}).get("current")
        if (
            status in {final.value for final in FINAL}
            and record.get("gc") != Collection.COLLECTED.value
            and version != current
            and self._older_than(record.get("gc_at"), 2 * fence)
        ):
            key = {"pk": str(record["pk"]), "sk": str(record["sk"])}
            self.table.update_record(key, {"gc_at": self.clock()}, {})
            self.queue.send(
                CollectTask(
                    bucket=str(record.get("bucket", "")), key=str(record["file"]), version=version
                )
            )
            done["collecting"] += 1

    def _take_over(self, record: dict[str, Any], moment: str) -> dict[str, Any] | None:
        """Claim a record left behind, in one conditional write: of two sweeps at once (the
        schedule may deliver its event twice), one goes on."""
        key = {"pk": str(record["pk"]), "sk": str(record["sk"])}
        expect = {"status": record["status"], moment: record.get(moment)}
        return self.table.update_record(key, {moment: self.clock()}, expect)

    def _compare_with_bucket(
        self,
        heads: dict[str, dict],
        records: list[dict[str, Any]],
        request_id: str,
        done: dict[str, int],
        remaining_ms: Callable[[], int] | None = None,
    ) -> None:
        newest: dict[str, dict[str, Any]] = {}
        for record in records:
            if record.get("kind") != "removal":
                file = str(record["file"])
                if str(record.get("version", "")) > str(newest.get(file, {}).get("version", "")):
                    newest[file] = record
        listed = set()
        for key, etag, uploaded_at, size in self.bucket.list_objects(
            self.bucket_name, self.settings.prefix
        ):
            listed.add(key)
            if is_folder_marker(key, size) or not is_lineup_name(key):
                continue
            if not self._older_than(uploaded_at, self.settings.fence_s):
                continue  # its event may still be on its way
            seen = newest.get(key)
            if (
                seen
                and seen.get("etag") == etag
                and str(seen.get("uploaded_at", "")) >= uploaded_at
            ):
                continue
            latest = str((heads.get(key) or {}).get("latest", ""))
            after = max(latest, str((seen or {}).get("version", "")))
            self.ingestion.start(
                UploadedObject(
                    bucket=self.bucket_name,
                    key=key,
                    etag=etag,
                    size=size,
                    # Before any real sequencer when nothing was seen: the event may yet come.
                    sequencer=schema.sequence_after(after or schema.sequence_key("0")),
                ),
                request_id=request_id,
                remaining_ms=remaining_ms,
            )
            done["lost_uploads"] += 1
        for file, head in heads.items():
            if file in listed and head.get("missing_since"):
                # Back (uploaded again): a later disappearance counts from scratch.
                self.table.update_record(schema.head_key(file), {"missing_since": ""}, {})
            if not head.get("current") or file in listed:
                continue
            # Its delete's event may still be on its way: act on the next sweep after the
            # fence if the file is still missing (and nothing removed it meanwhile).
            if not head.get("missing_since"):
                self.table.update_record(schema.head_key(file), {"missing_since": self.clock()}, {})
                done["missing"] += 1
                continue
            if self._older_than(head["missing_since"], self.settings.fence_s):
                self.removal.remove(
                    RemovedObject(
                        bucket=self.bucket_name,
                        key=file,
                        event_name="ObjectRemoved:Delete",
                        removed_at=self.clock(),
                        sequencer=schema.sequence_after(str(head.get("latest", ""))),
                    ),
                    request_id=request_id,
                )
                done["lost_removals"] += 1

    def _drain_failures(self, request_id: str, done: dict[str, int]) -> None:
        """The failure queue holds parts that failed every delivery (the parts queue's
        redrive policy) and S3 events that failed every attempt (the function's on-failure
        destination): each is ended or handled again, then deleted."""
        for receipt, body in self.failures.receive(FAILURE_QUEUE_BATCH):
            try:
                message = json.loads(body)
            except ValueError:
                message = None
            if isinstance(message, dict) and isinstance(message.get("requestPayload"), dict):
                self.redrive(message["requestPayload"], request_id)
                done["redriven_events"] += 1
            elif isinstance(message, dict) and ("kind" in message or "header" in message):
                task = task_from_message(body)
                if isinstance(task, PartTask):
                    self.ingestion.give_up(task, FAILED_PART, request_id=request_id)
                    done["failed_parts"] += 1
                else:
                    self.queue.send(task)
            else:
                LOG.warning("left a message the sweep cannot read in the failure queue")
                done["unreadable"] += 1
                continue
            self.failures.delete(receipt)
