"""What the system is asked to do, with every assumption that is not measured."""

from __future__ import annotations

from dataclasses import dataclass

from festival.cost.prices import PERFORMANCE, RECOMMENDED_MEMORY_MB, RETENTION_DAYS


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
    # of the same file (a re-upload writes every row again but does not grow the table).
    new_record_share: float = 1.0
    rejected_row_share: float = 0.0  # rows the parser rejects: read and logged, not written
    upload_retention_days: int | None = RETENTION_DAYS  # S3 lifecycle expiry; None: keep
    # Fixed time per invocation, the same at any memory size: the cold start (INIT is billed
    # since 2025-08-01; one file a day always starts cold), the S3 GET, the GetItem, the
    # ingest record and the SNS publish.
    invocation_overhead_ms: float = 500.0
    lambda_memory_mb: int = RECOMMENDED_MEMORY_MB
    # How long DynamoDB takes to answer one BatchWriteItem (assumed: see PERFORMANCE).
    batch_write_item_ms: float = PERFORMANCE["dynamodb"]["batch_write_item_ms"]
    lambda_timeout_s: int = 300  # the template's Timeout
    writes_per_file: float = 2.0  # the ingest record put and (about) one longest-set update
    ingest_record_bytes: int = 1_024
    log_bytes_per_invocation: int = 2_048
    log_bytes_per_rejected_row: int = 120
    log_retention_days: int = 30

    def __post_init__(self) -> None:
        if self.records_per_day < 0 or self.files_per_day < 1:
            raise ValueError("records_per_day must be >= 0 and files_per_day >= 1")
        if not 0 <= self.new_record_share <= 1 or not 0 <= self.rejected_row_share < 1:
            raise ValueError("new_record_share must be in [0, 1], rejected_row_share in [0, 1)")

    @property
    def rows_per_file(self) -> float:
        return self.records_per_day / self.files_per_day
