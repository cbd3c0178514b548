"""What the system is asked to do, with every assumption that is not measured."""

from __future__ import annotations

from dataclasses import dataclass

from festival.cost.prices import (
    FUNCTION_TIMEOUT_S,
    LOG_RETENTION_DAYS,
    PERFORMANCE,
    RECOMMENDED_MEMORY_MB,
    RECONCILE_MINUTES,
    RETENTION_DAYS,
)


@dataclass(frozen=True)
class Workload:
    """What the system is asked to do, and the assumptions that are not measured."""

    records_per_day: int
    files_per_day: int = 1
    queries_per_day: int = 10_000
    # A query reads this many bytes of items on average (about 8 performances of ~500
    # bytes): one 4 KB read unit, and GSI queries are eventually consistent, so 0.5 RRU.
    bytes_per_query: int = 4_096
    # Queries arrive unevenly: the busiest hour has this multiple of the average rate
    # (only matters for provisioned capacity).
    query_peak_to_average: float = 10.0
    bytes_per_record: int = 50  # the brief: 100 lines of CSV are about 5 kB
    # Share of a day's rows that are new items; the rest replace rows of an earlier version
    # of the same file (a re-upload writes every row again, under keys of its own, and the
    # replaced version's rows are then deleted: the table does not grow). New rows come in
    # new files: new files a day = files_per_day x this share (each gets a head item).
    new_record_share: float = 1.0
    rejected_row_share: float = 0.0  # rows the parser rejects: read and logged, not written
    # The template's UploadRetentionDays: the bucket's lifecycle rule deletes an upload this
    # many days after it (and the rows expire with it, `monthly_cost`'s expire_after_days).
    # None keeps every upload (UploadRetentionDays 0).
    upload_retention_days: int | None = RETENTION_DAYS or None
    # Fixed time per invocation, the same at any memory size: the cold start (INIT is billed
    # since 2025-08-01; one file a day always starts cold), the S3 GET, the GetItem, the
    # ingest record and the SNS publish.
    invocation_overhead_ms: float = 500.0
    lambda_memory_mb: int = RECOMMENDED_MEMORY_MB
    # How long DynamoDB takes to answer one BatchWriteItem (assumed: see PERFORMANCE).
    batch_write_item_ms: float = PERFORMANCE["dynamodb"]["batch_write_item_ms"]
    lambda_timeout_s: int = FUNCTION_TIMEOUT_S  # the template's FunctionTimeout
    writes_per_file: float = 2.0  # the ingest record put and (about) one longest-set update
    ingest_record_bytes: int = 1_024
    # The file lifecycle (docs/ingest.md), counted from lambda/lineup_ingest: each upload's
    # record moves LOADING -> REPORTING -> OK in conditional writes of a ~1.5 KB item (2 WRU
    # each: the facts, a part's lease taken and given back, the part counted, REPORTING, the
    # final status), plus the part's item and two head updates (1 WRU each), and its later
    # collection or removal marks: about 20 WRU a file, rounded up.
    lifecycle_writes_per_file: float = 20.0
    # The record's and the head's consistent GetItems and the part bookkeeping's reads
    # (1 RRU each, items under 4 KB): about 8 RRU a file.
    lifecycle_reads_per_file: float = 8.0
    head_bytes: int = 200  # a file's head item (pk HEADS): about 20 fit in one 4 KB read
    upload_record_bytes: int = 1_536  # an upload's record as the sweep reads it back
    removal_record_bytes: int = 512  # a removal's record (expires retention days after it)
    # The reconcile sweep (the template's ReconcileSchedule): one run of about 1 s at the
    # function's memory, and one log line besides Lambda's START/END/REPORT lines.
    sweep_every_minutes: int = RECONCILE_MINUTES
    sweep_seconds: float = 1.0
    sweep_log_bytes: int = 1_024
    log_bytes_per_invocation: int = 2_048
    log_bytes_per_rejected_row: int = 120
    log_retention_days: int = LOG_RETENTION_DAYS  # the template's LogRetentionDays

    def __post_init__(self) -> None:
        if self.records_per_day < 0 or self.files_per_day < 1:
            raise ValueError("records_per_day must be >= 0 and files_per_day >= 1")
        if not 0 <= self.new_record_share <= 1 or not 0 <= self.rejected_row_share < 1:
            raise ValueError("new_record_share must be in [0, 1], rejected_row_share in [0, 1)")
        if self.sweep_every_minutes < 1:
            raise ValueError("sweep_every_minutes must be >= 1")

    @property
    def rows_per_file(self) -> float:
        return self.records_per_day / self.files_per_day

    @property
    def new_files_per_day(self) -> float:
        return self.files_per_day * self.new_record_share
