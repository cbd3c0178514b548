"""Removing the rows of a file deleted from the bucket, or expired by its lifecycle rule:
the steps, without the AWS details.

S3 names no version in a removal event, only the key and the time. So a removal takes the
rows of every version of the file uploaded no later than that time, and only if the key is
gone now: if it was uploaded again since, the newer upload's own load replaces the rows
of earlier versions. Each row is deleted on condition that it is still of such a version,
so a newer upload that rewrites it meanwhile keeps it. docs/ingest.md has the whole design.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator
from itertools import islice

from lineup_ingest import schema
from lineup_ingest.events import RemovedObject
from lineup_ingest.ingest import utc_now
from lineup_ingest.ports import LineupStore, ObjectGoneError, ObjectStore
from lineup_ingest.report import RemovalReport, RemovalStatus

# Rows deleted between two updates of the removal's count: a crash in between leaves at
# most this many uncounted.
COUNT_EVERY = 500


class Removal:
    def __init__(
        self,
        bucket: ObjectStore,
        table: LineupStore,
        notify: Callable[[RemovalReport], None],
        *,
        clock: Callable[[], str] = utc_now,
    ) -> None:
        self.bucket = bucket
        self.table = table
        self.notify = notify
        self.clock = clock

    def remove(
        self,
        removed: RemovedObject,
        request_id: str = "",
        log_group: str = "",
        remaining_ms: Callable[[], int] | None = None,
    ) -> str:
        """Remove the rows the file loaded, record it and send one email; the status.

        A duplicate delivery of the event finds the removal's record and does nothing more.
        Lambda keeps the request id across its retries of an event, so a retry after a crash
        holds the claim and goes on from the count so far.
        """
        record_key = schema.removal_record_key(removed.key, removed.removal_id)
        record = self.table.record(record_key)
        if record is not None and record.get("status") != RemovalStatus.REMOVING.value:
            return str(record["status"])  # a duplicate delivery of a removal that is over
        claim = request_id or uuid.uuid4().hex
        report = RemovalReport(
            bucket=removed.bucket,
            key=removed.key,
            event_name=removed.event_name,
            removed_at=removed.removed_at,
            removed_by=removed.removed_by,
            source_ip=removed.source_ip,
            started_at=str(record["started_at"]) if record else self.clock(),
            rows_removed=int(record.get("rows_removed", 0)) if record else 0,
            request_id=request_id,
            log_group=log_group,
        )
        if not self.table.claim_removal(
            {
                **record_key,
                **_record_facts(report),
                "status": RemovalStatus.REMOVING.value,
                "finisher": claim,
            }
        ):
            return RemovalStatus.REMOVING.value  # another delivery of the event is at it
        try:
            self._remove_rows(removed, report, record_key, claim, remaining_ms)
        except Exception as error:  # never end without an email
            report.failure = f"{type(error).__name__}: {error}"
        report.finished_at = self.clock()
        # The email first: if the record's write fails, a retry holding the claim sends it
        # again rather than never.
        self.notify(report)
        self.table.finish_removal({**record_key, **_record_facts(report), "finisher": claim})
        return report.status.value

    def _remove_rows(
        self,
        removed: RemovedObject,
        report: RemovalReport,
        record_key: dict,
        claim: str,
        remaining_ms: Callable[[], int] | None,
    ) -> None:
        try:
            _metadata, uploaded_at, etag, _size = self.bucket.describe(removed.bucket, removed.key)
        except ObjectGoneError:
            pass
        else:
            report.replaced_by = (etag, uploaded_at)
            return
        no_later = removed.uploaded_no_later_than
        keys = self.table.keys_uploaded_no_later(removed.key, no_later)
        for chunk in _chunks(keys, COUNT_EVERY):
            if remaining_ms is not None and remaining_ms() < self.table.budget.reserve_ms:
                report.failure = (
                    "ran short of time: the rows left stay until the key is uploaded and"
                    " removed again"
                )
                return
            deleted = self.table.delete_uploaded_no_later(chunk, no_later)
            report.rows_removed = self.table.count_removed(record_key, deleted, claim)


def _chunks(keys: Iterable[dict[str, str]], size: int) -> Iterator[list[dict[str, str]]]:
    iterator = iter(keys)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _record_facts(report: RemovalReport) -> dict:
    return {name: value for name, value in report.facts().items() if value is not None}
