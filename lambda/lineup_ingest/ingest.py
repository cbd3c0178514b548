"""Loading one uploaded file into the table: the steps, without the AWS details.

The steps are idempotent: every row has a deterministic key and carries the ETag of the
file version it came from (``load_id``), so a duplicate event or a retry rewrites the
same items, and rows that an earlier version had but this one lacks are removed at the
end. A retry after a crash therefore completes the file without duplicating a row.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone

from lineup_ingest import schema
from lineup_ingest.adapters import BATCH_LIMIT, LineupTable, ObjectGoneError, UploadBucket
from lineup_ingest.events import UploadedObject
from lineup_ingest.parsing import LineupFileError, Performance, RowError, read_lineup
from lineup_ingest.report import IngestReport
from lineup_ingest.retry import BudgetExhaustedError

FIRST_ERRORS_KEPT = 20  # in the ingest record; the email shows up to 50
# A file replaced while it was being loaded is loaded again, at most this many times.
MAX_LOADS = 3


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class Ingestion:
    def __init__(
        self,
        bucket: UploadBucket,
        table: LineupTable,
        *,
        clock: Callable[[], str] = utc_now,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self.bucket = bucket
        self.table = table
        self.clock = clock
        self.timer = timer

    def run(
        self, upload: UploadedObject, request_id: str = "", log_group: str = ""
    ) -> IngestReport:
        """Load one file and return its report; raise only when a retry could succeed."""
        started = self.timer()
        report = IngestReport(
            bucket=upload.bucket, key=upload.key, etag=upload.etag, size=upload.size,
            started_at=self.clock(), request_id=request_id, log_group=log_group,
        )
        try:
            for attempt in range(MAX_LOADS):
                if attempt:
                    report.reset_counts()
                self._load(upload, report)
                # Another version uploaded meanwhile may have interleaved its writes with
                # ours: whoever sees a newer ETag at the end loads the file again.
                if self.bucket.current_etag(upload.bucket, upload.key) in {report.etag, None}:
                    break
        except (LineupFileError, ObjectGoneError) as error:
            report.failure = str(error)
        except BudgetExhaustedError as error:
            report.failure = f"DynamoDB kept throttling: {error}"
            report.will_retry = True
        except Exception as error:
            report.failure = f"unexpected error: {type(error).__name__}: {error}"
            report.will_retry = True
        self.table.settle()
        report.finished_at = self.clock()
        report.duration_s = self.timer() - started
        self._record(report)
        return report

    def _load(self, upload: UploadedObject, report: IngestReport) -> None:
        body, etag, uploaded_at = self.bucket.open(upload.bucket, upload.key)
        report.etag = etag or report.etag
        self._record(report, status="LOADING")
        longest_known = self.table.longest_set_minutes()
        batch: dict[tuple[str, str], dict] = {}
        rows_in_batch = 0

        def flush() -> None:
            nonlocal longest_known, rows_in_batch
            longest = max(item["minutes"] for item in batch.values())
            if longest > longest_known:
                self.table.raise_longest_set(longest)
                longest_known = longest
            self.table.put_items(list(batch.values()))
            report.rows_loaded += rows_in_batch
            batch.clear()
            rows_in_batch = 0

        for performance in self._performances(body, report):
            item = schema.performance_item(
                performance, source_key=upload.key, load_id=report.etag, uploaded_at=uploaded_at
            )
            # The same performance twice in a file is one item; a batch may not repeat a key.
            batch[(item["pk"], item["sk"])] = item
            rows_in_batch += 1
            if len(batch) == BATCH_LIMIT:
                flush()
        if batch:
            flush()
        self.table.drain()
        # Rows of another version can only exist if one was loaded: every load leaves a
        # record, from its start. Skipping the search saves reading the whole file back.
        if report.rows_loaded and self.table.other_versions_loaded(upload.key, report.etag):
            report.rows_removed = self.table.delete_keys(
                self.table.stale_keys(upload.key, report.etag)
            )

    @staticmethod
    def _performances(body, report: IngestReport) -> Iterator[Performance]:
        for row in read_lineup(body):
            report.rows_read += 1
            if isinstance(row, RowError):
                report.rejected.add(row)
            else:
                yield row

    def _record(self, report: IngestReport, status: str | None = None) -> None:
        facts = report.facts()
        if status:
            facts["status"] = status
        facts["rejected_rows"] = facts["rejected_rows"][:FIRST_ERRORS_KEPT]
        facts["duration_ms"] = int(report.duration_s * 1000)
        del facts["duration_s"]
        record = {**schema.upload_record_key(report.key, report.etag or "unknown"), **facts}
        self.table.put_upload_record({k: v for k, v in record.items() if v is not None})
