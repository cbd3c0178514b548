"""The bill of one month: a line per service and item, each a quantity times a list price.

Quantities in a :class:`CostLine` are in the unit the price is quoted in. Storage grows
month over month from an empty table, so the month matters unless the data expires.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from festival.cost.duration import load_seconds
from festival.cost.measurements import Measurements
from festival.cost.prices import (
    ARCHITECTURES,
    CAPACITY_MODES,
    DAYS_PER_MONTH,
    EVENTUALLY_CONSISTENT,
    FILE_SHARDS,
    GB,
    HEAD_KEPT_AFTER_REMOVAL_DAYS,
    HOURS_PER_MONTH,
    ITEM_OVERHEAD_BYTES,
    LIST_KEYS_PER_REQUEST,
    PRICES,
    READ_UNIT_BYTES,
    REJECTED_ROWS_LOGGED,
    REPORT_RESERVE_S,
    RETENTION_DAYS,
    SECONDS_PER_DAY,
    SERVICES,
)
from festival.cost.workload import Workload

# The end of a load reads its version's rows back, for its clashes and, for a re-upload,
# its changes, each up to this many rows a version (the email says what to run past it).
from lineup_ingest.changes import MAX_ROWS as CHANGES_READ_MAX_ROWS
from lineup_ingest.clashes import MAX_ROWS as CLASHES_READ_MAX_ROWS


@dataclass(frozen=True)
class CostLine:
    service: str
    item: str
    quantity: float  # in `unit`, per month
    unit: str
    unit_price_usd: float
    monthly_usd: float
    free_quantity: float = 0.0  # the part of `quantity` the free tier covers (free_tier=True)


def _line(
    service: str, item: str, quantity: float, unit: str, price: float, free: float = 0.0
) -> CostLine:
    free = min(free, quantity)
    return CostLine(service, item, quantity, unit, price, (quantity - free) * price, free)


@dataclass
class CostBreakdown:
    lines: list[CostLine]
    assumptions: dict[str, Any] = field(default_factory=dict)

    def by_service(self) -> dict[str, float]:
        totals = {service: 0.0 for service in SERVICES}
        for line in self.lines:
            totals[line.service] = totals.get(line.service, 0.0) + line.monthly_usd
        return totals

    @property
    def monthly_total_usd(self) -> float:
        return sum(line.monthly_usd for line in self.lines)

    def to_json(self) -> dict[str, Any]:
        services: dict[str, Any] = {}
        for service, total in self.by_service().items():
            lines = [asdict(line) for line in self.lines if line.service == service]
            for line in lines:
                del line["service"]
            services[service] = {"monthly_usd": total, "lines": lines}
        return {
            "monthly_total_usd": self.monthly_total_usd,
            "services": services,
            "assumptions": self.assumptions,
        }


# --- Helpers the comparisons share -------------------------------------------------------------


def average_days_kept(start_day: float, end_day: float, keep_days: float | None) -> float:
    """Average over [start, end] of min(t, keep): days' worth of data held when data
    arrives at a steady rate from day 0 and each day's data is deleted after keep_days."""
    keep = math.inf if keep_days is None else keep_days

    def integral(t: float) -> float:  # of min(x, keep) dx from 0 to t
        return t * t / 2 if t <= keep else keep * keep / 2 + keep * (t - keep)

    return (integral(end_day) - integral(start_day)) / (end_day - start_day)


def month_days(month: int) -> tuple[float, float]:
    """The first and last day of month ``month`` (1 = the first month after launch)."""
    if month < 1:
        raise ValueError("month counts from 1")
    return (month - 1) * DAYS_PER_MONTH, month * DAYS_PER_MONTH


def normalize_architecture(architecture: str) -> str:
    architecture = {"x86": "x86_64", "amd64": "x86_64", "aarch64": "arm64"}.get(
        architecture, architecture
    )
    if architecture not in ARCHITECTURES:
        raise ValueError(f"architecture must be one of {ARCHITECTURES}, not {architecture!r}")
    return architecture


def query_read_units(workload: Workload) -> float:
    """Read request units per query: the bytes read, rounded up to 4 KB, halved."""
    return max(1, math.ceil(workload.bytes_per_query / READ_UNIT_BYTES)) * EVENTUALLY_CONSISTENT


def partition_read_units(item_bytes: float) -> float:
    """Read request units of one eventually consistent Query of a partition holding
    ``item_bytes`` of items: rounded up to 4 KB, halved, at least one 4 KB read."""
    return max(1, math.ceil(item_bytes / READ_UNIT_BYTES)) * EVENTUALLY_CONSISTENT


def heads_read_units(workload: Workload, heads: float) -> float:
    """Read request units of one Query of the ``HEADS`` partition: ~20 heads in 4 KB."""
    return partition_read_units(heads * workload.head_bytes)


def file_read_units(workload: Workload, measurements: Measurements) -> float:
    """Read request units the Lambda spends per file: the GetItem of the longest set, and
    the read of the version's keys when it is collected, a Query of its 16 partitions (a
    query is billed on the items it reads, whatever its filter and projection). Every
    version is counted as collected once, replaced, deleted or expired: an overcount for
    files kept for ever. (The stale-row check this replaces read the same items.)"""
    rows_per_partition = workload.rows_per_file * (1 - workload.rejected_row_share) / FILE_SHARDS
    bytes_per_partition = rows_per_partition * measurements.item_bytes
    per_partition = max(1, math.ceil(bytes_per_partition / READ_UNIT_BYTES))
    return EVENTUALLY_CONSISTENT + FILE_SHARDS * per_partition * EVENTUALLY_CONSISTENT


def read_back_units(month: _Month) -> float:
    """Read request units of the month's loads reading their rows back at their end: the new
    version once for its clashes and, for a re-upload, the version it replaces and the new
    one again for the change report. A version's read is a consistent Query of each of its
    16 partitions: one unit per 4 KB of items, whatever the projection, at least one a
    partition. Past CLASHES_READ_MAX_ROWS (CHANGES_READ_MAX_ROWS) rows a version, that read
    is not made: the email says to run `festival clashes` (`festival changes --files`)."""
    w, m = month.workload, month.measurements
    rows = w.rows_per_file * (1 - w.rejected_row_share)
    per_version = FILE_SHARDS * max(
        1, math.ceil(rows / FILE_SHARDS * m.item_bytes / READ_UNIT_BYTES)
    )
    reads_per_file = (1 if rows <= CLASHES_READ_MAX_ROWS else 0) + (
        2 * (1 - w.new_record_share) if rows <= CHANGES_READ_MAX_ROWS else 0
    )
    return month.files * reads_per_file * per_version


def provisioned_capacity(
    workload: Workload, measurements: Measurements, gsis: int
) -> dict[str, int]:
    """Capacity units that let the day's file load within one invocation of the configured
    timeout (uploads come at unknown times and auto scaling reacts in minutes, so the
    capacity is on all month); at least 1 unit each for the table and every GSI."""
    w = workload
    budget_s = w.lambda_timeout_s - REPORT_RESERVE_S
    seconds = max(budget_s, load_seconds(w, measurements))
    rows_per_s = w.rows_per_file * (1 - w.rejected_row_share) / seconds
    wcu = max(1, math.ceil(rows_per_s * measurements.write_units_per_row))
    table_rcu = max(1, math.ceil(file_read_units(w, measurements) / seconds))
    peak_query_rcu = (
        w.queries_per_day / SECONDS_PER_DAY * w.query_peak_to_average * query_read_units(w)
    )
    gsi_rcu = max(1, math.ceil(peak_query_rcu / max(gsis, 1)))
    if gsis == 0:
        table_rcu += math.ceil(peak_query_rcu)
    return {"table_wcu": wcu, "gsi_wcu": wcu, "table_rcu": table_rcu, "gsi_rcu": gsi_rcu}


# --- One month's lines, service by service -----------------------------------------------------


@dataclass(frozen=True)
class _Month:
    """One billed month of a workload: what every service's lines are computed from."""

    workload: Workload
    measurements: Measurements
    start_day: float
    end_day: float
    free: dict[str, Any]  # the free tier's allowances, or zeros

    @property
    def files(self) -> float:
        return self.workload.files_per_day * DAYS_PER_MONTH

    def days_kept(self, keep_days: float | None) -> float:
        return average_days_kept(self.start_day, self.end_day, keep_days)

    def days_expiring(self, keep_days: float | None) -> float:
        """Days' worth of data that reaches ``keep_days`` of age within the month."""
        if keep_days is None:
            return 0.0
        return max(0.0, self.end_day - keep_days) - max(0.0, self.start_day - keep_days)

    def heads(self, expire_after_days: int | None) -> float:
        """Head items on average: one per file that exists, and one per file removed in
        the last week (a removed file's head expires by TTL `HEAD_KEPT_AFTER_REMOVAL_DAYS`
        after the removal). Files are removed when their upload expires (`removal_days`);
        with nothing expiring, one head per file ever uploaded."""
        w = self.workload
        removed_after = removal_days(w, expire_after_days)
        kept = None if removed_after is None else removed_after + HEAD_KEPT_AFTER_REMOVAL_DAYS
        return max(w.files_per_day, w.new_files_per_day * self.days_kept(kept))


def removal_days(workload: Workload, expire_after_days: int | None) -> int | None:
    """Days after its upload that a new file is removed: when its upload expires, the bucket's
    lifecycle rule deleting the CSV and the rows expiring with it. Nothing is removed unless
    both expire (the template's one `UploadRetentionDays`); re-uploads are left out."""
    if expire_after_days is None or workload.upload_retention_days is None:
        return None
    return expire_after_days


def replaced_rows(month: _Month) -> float:
    """Rows of replaced versions collected in the month: a re-upload's previous version."""
    w = month.workload
    return (
        w.records_per_day * (1 - w.rejected_row_share) * (1 - w.new_record_share) * (DAYS_PER_MONTH)
    )


def expired_rows(month: _Month, expire_after_days: int | None) -> float:
    """Rows collected in the month because their file's upload expired. The bucket's
    lifecycle rule deletes the file and its event (or the sweep) has the current version
    collected by paid deletes, unless the rows' TTL, set to the same days, got there first
    (free): priced as if the collection always came first. Nothing expires without both."""
    w = month.workload
    removed_after = removal_days(w, expire_after_days)
    if removed_after is None:
        return 0.0
    new_rows_per_day = w.records_per_day * (1 - w.rejected_row_share) * w.new_record_share
    return new_rows_per_day * month.days_expiring(removed_after)


def sweep_runs(workload: Workload) -> float:
    """Runs of the reconcile sweep in a month: every 15 minutes, 2,920 (30.4167 days)."""
    return DAYS_PER_MONTH * 24 * 60 / workload.sweep_every_minutes


def sweep_read_units(month: _Month, expire_after_days: int | None) -> float:
    """Read request units of one sweep: a Query of the records and one of the heads.

    Upload records expire with the rows (TTL): ``files_per_day`` x the days kept. A
    removal record expires as long after the removal: one per file removed within that
    many days, from its upload's ``removal_days`` to twice that.
    """
    w = month.workload
    uploads = w.files_per_day * month.days_kept(expire_after_days)
    removals = 0.0
    removed_after = removal_days(w, expire_after_days)
    if removed_after is not None:
        removals = w.new_files_per_day * (
            month.days_kept(2 * removed_after) - month.days_kept(removed_after)
        )
    record_bytes = uploads * w.upload_record_bytes + removals * w.removal_record_bytes
    return partition_read_units(record_bytes) + heads_read_units(w, month.heads(expire_after_days))


def sweep_list_requests(month: _Month) -> float:
    """LIST requests of one sweep: one per 1,000 objects under the upload prefix."""
    w = month.workload
    objects = max(w.files_per_day, w.new_files_per_day * month.days_kept(w.upload_retention_days))
    return max(1, math.ceil(objects / LIST_KEYS_PER_REQUEST))


def _on_demand_lines(
    month: _Month, gsis: int, expire_after_days: int | None = None
) -> list[CostLine]:
    """Write and read request units: every row written to the table and each GSI, every
    row of a version no longer current deleted from them, and the lifecycle's items."""
    return [*_write_lines(month, gsis, expire_after_days), *_read_lines(month, expire_after_days)]


def _write_lines(month: _Month, gsis: int, expire_after_days: int | None) -> list[CostLine]:
    w, m = month.workload, month.measurements
    copies = 1 + gsis
    rows_written = w.records_per_day * DAYS_PER_MONTH * (1 - w.rejected_row_share)
    row_wru = rows_written * m.write_units_per_row * copies
    file_wru = month.files * w.writes_per_file
    expiry = "no expiry" if expire_after_days is None else f"expire after {expire_after_days} days"
    wru_price = PRICES["dynamodb"]["write_request_units_per_million"]
    return [
        _line(
            "dynamodb",
            f"writes: rows into the table and {gsis} GSIs ({copies} WRU/row)",
            row_wru / 1e6,
            "million WRU",
            wru_price,
        ),
        _line(
            "dynamodb",
            f"writes: deleting a re-upload's replaced version ({copies} WRU/row)",
            replaced_rows(month) * copies / 1e6,
            "million WRU",
            wru_price,
        ),
        _line(
            "dynamodb",
            f"writes: deleting the rows of expired uploads, {expiry} ({copies} WRU/row)",
            expired_rows(month, expire_after_days) * copies / 1e6,
            "million WRU",
            wru_price,
        ),
        _line(
            "dynamodb",
            "writes: ingest record and longest-set update, per file",
            file_wru / 1e6,
            "million WRU",
            wru_price,
        ),
        _line(
            "dynamodb",
            "writes: upload record's steps and the file's head, per file",
            month.files * w.lifecycle_writes_per_file / 1e6,
            "million WRU",
            wru_price,
        ),
    ]


def _read_lines(month: _Month, expire_after_days: int | None) -> list[CostLine]:
    w, m = month.workload, month.measurements
    queries = w.queries_per_day * DAYS_PER_MONTH
    query_rru = queries * query_read_units(w)
    heads = month.heads(expire_after_days)
    heads_rru = heads_read_units(w, heads)
    file_rru = month.files * file_read_units(w, m)
    rru_price = PRICES["dynamodb"]["read_request_units_per_million"]
    return [
        _line(
            "dynamodb",
            f"reads: queries ({query_read_units(w)} RRU each)",
            query_rru / 1e6,
            "million RRU",
            rru_price,
        ),
        _line(
            "dynamodb",
            f"reads: file heads before each query ({heads:,.0f} heads: {heads_rru:g} RRU)",
            queries * heads_rru / 1e6,
            "million RRU",
            rru_price,
        ),
        _line(
            "dynamodb",
            "reads: longest-set GetItem and a version's keys when collected, per file",
            file_rru / 1e6,
            "million RRU",
            rru_price,
        ),
        _line(
            "dynamodb",
            "reads: a load's rows read back at its end (clashes; a re-upload's changes)",
            read_back_units(month) / 1e6,
            "million RRU",
            rru_price,
        ),
        _line(
            "dynamodb",
            "reads: upload record and head, per file",
            month.files * w.lifecycle_reads_per_file / 1e6,
            "million RRU",
            rru_price,
        ),
        _line(
            "dynamodb",
            "reconcile sweep: Query of the records and of the heads",
            sweep_runs(w) * sweep_read_units(month, expire_after_days) / 1e6,
            "million RRU",
            rru_price,
        ),
    ]


def _provisioned_lines(
    month: _Month, gsis: int, expire_after_days: int | None = None
) -> list[CostLine]:
    """Capacity units kept all month; the free tier's units go to the table first. The
    lifecycle's deletes and reads are left to it: collection is background work that may
    take longer, and the heads' and the sweep's reads are a few units (on-demand prices
    them in full, so this favours provisioned, the mode not chosen)."""
    ddb = PRICES["dynamodb"]
    units = provisioned_capacity(month.workload, month.measurements, gsis)
    free_wcu_hours = month.free["dynamodb_provisioned_wcu"] * HOURS_PER_MONTH
    free_rcu_hours = month.free["dynamodb_provisioned_rcu"] * HOURS_PER_MONTH
    table_wcu_h = units["table_wcu"] * HOURS_PER_MONTH
    gsi_wcu_h = units["gsi_wcu"] * gsis * HOURS_PER_MONTH
    table_rcu_h = units["table_rcu"] * HOURS_PER_MONTH
    gsi_rcu_h = units["gsi_rcu"] * gsis * HOURS_PER_MONTH
    return [
        _line(
            "dynamodb",
            f"write capacity: table, {units['table_wcu']} WCU all month",
            table_wcu_h,
            "WCU-hour",
            ddb["wcu_hour"],
            free_wcu_hours,
        ),
        _line(
            "dynamodb",
            f"write capacity: {gsis} GSIs, {units['gsi_wcu']} WCU each",
            gsi_wcu_h,
            "WCU-hour",
            ddb["wcu_hour"],
            max(free_wcu_hours - table_wcu_h, 0),
        ),
        _line(
            "dynamodb",
            f"read capacity: table, {units['table_rcu']} RCU all month",
            table_rcu_h,
            "RCU-hour",
            ddb["rcu_hour"],
            free_rcu_hours,
        ),
        _line(
            "dynamodb",
            f"read capacity: {gsis} GSIs, {units['gsi_rcu']} RCU each",
            gsi_rcu_h,
            "RCU-hour",
            ddb["rcu_hour"],
            max(free_rcu_hours - table_rcu_h, 0),
        ),
    ]


def _dynamodb_storage_line(month: _Month, gsis: int, expire_after_days: int | None) -> CostLine:
    """New rows, stored once per copy, plus each file's ingest record."""
    w, m = month.workload, month.measurements
    row_bytes = (m.item_bytes + ITEM_OVERHEAD_BYTES) * (1 + gsis)
    daily_bytes = w.records_per_day * (
        1 - w.rejected_row_share
    ) * w.new_record_share * row_bytes + w.files_per_day * (
        w.ingest_record_bytes + ITEM_OVERHEAD_BYTES
    )
    ttl = "no expiry" if expire_after_days is None else f"TTL {expire_after_days} days"
    return _line(
        "dynamodb",
        f"storage: table and {gsis} GSI copies, {ttl}",
        daily_bytes * month.days_kept(expire_after_days) / GB,
        "GB-month",
        PRICES["dynamodb"]["storage_gb_month"],
        month.free["dynamodb_storage_gb"],
    )


def _lambda_lines(month: _Month, architecture: str, files: float) -> list[CostLine]:
    """One request per file, and the GB-seconds of its modeled duration."""
    lam, free = PRICES["lambda"], month.free
    memory_mb = month.workload.lambda_memory_mb
    gb_seconds = files * load_seconds(month.workload, month.measurements) * memory_mb / 1024
    return [
        _line(
            "lambda",
            "requests (one invocation per file)",
            files / 1e6,
            "million requests",
            lam["requests_per_million"],
            free["lambda_requests"] / 1e6,
        ),
        _line(
            "lambda",
            f"compute ({architecture}, {memory_mb} MB)",
            gb_seconds,
            "GB-second",
            lam["gb_second"][architecture],
            free["lambda_gb_seconds"],
        ),
    ]


def _sweep_lambda_lines(
    workload: Workload, architecture: str, ingest: list[CostLine], free: dict[str, Any]
) -> list[CostLine]:
    """The reconcile sweep's invocations, with what the ingest left of the free tier."""
    lam, w = PRICES["lambda"], workload
    runs = sweep_runs(w)
    gb_seconds = runs * w.sweep_seconds * w.lambda_memory_mb / 1024
    requests, compute = ingest
    return [
        _line(
            "lambda",
            f"reconcile sweep: requests (every {w.sweep_every_minutes} minutes)",
            runs / 1e6,
            "million requests",
            lam["requests_per_million"],
            max(free["lambda_requests"] / 1e6 - requests.quantity, 0),
        ),
        _line(
            "lambda",
            f"reconcile sweep: compute ({w.sweep_seconds:g} s a run, {w.lambda_memory_mb} MB)",
            gb_seconds,
            "GB-second",
            lam["gb_second"][architecture],
            max(free["lambda_gb_seconds"] - compute.quantity, 0),
        ),
    ]


def _s3_lines(month: _Month) -> list[CostLine]:
    """The upload, the Lambda's read of it, and the uploads kept until their expiry."""
    w, s3, files = month.workload, PRICES["s3"], month.files
    kept = (
        "kept"
        if w.upload_retention_days is None
        else f"expire after {w.upload_retention_days} days"
    )
    stored_gb = (
        w.records_per_day * w.bytes_per_record * month.days_kept(w.upload_retention_days) / GB
    )
    return [
        _line("s3", "PUT: uploads", files / 1000, "1,000 requests", s3["put_per_1000"]),
        _line(
            "s3",
            "GET: the Lambda reads each upload",
            files / 1000,
            "1,000 requests",
            s3["get_per_1000"],
        ),
        _line("s3", f"storage: uploads ({kept})", stored_gb, "GB-month", s3["storage_gb_month"]),
        _line(
            "s3",
            "reconcile sweep: LIST of the uploads (1 per 1,000 objects)",
            sweep_runs(w) * sweep_list_requests(month) / 1000,
            "1,000 requests",
            s3["list_per_1000"],
        ),
    ]


def _sns_lines(month: _Month) -> list[CostLine]:
    """One publish and one email per file."""
    sns, files, free = PRICES["sns"], month.files, month.free
    return [
        _line(
            "sns",
            "publishes (one per file)",
            files / 1e6,
            "million publishes",
            sns["publishes_per_million"],
            free["sns_publishes"] / 1e6,
        ),
        _line(
            "sns",
            "email deliveries (one subscriber)",
            files / 1e5,
            "100,000 emails",
            sns["email_per_100000"],
            free["sns_email_deliveries"] / 1e5,
        ),
    ]


def _logs_lines(month: _Month) -> list[CostLine]:
    """A few log lines per invocation, plus the rejected rows it lists."""
    w, logs = month.workload, PRICES["cloudwatch_logs"]
    rejected_logged = min(w.rows_per_file * w.rejected_row_share, REJECTED_ROWS_LOGGED)
    daily_log_bytes = w.files_per_day * (
        w.log_bytes_per_invocation + rejected_logged * w.log_bytes_per_rejected_row
    )
    ingested_gb = daily_log_bytes * DAYS_PER_MONTH / GB
    stored_gb = daily_log_bytes * month.days_kept(w.log_retention_days) / GB
    free_logs = month.free["cloudwatch_logs_gb"]
    sweep_daily_bytes = sweep_runs(w) / DAYS_PER_MONTH * w.sweep_log_bytes
    sweep_ingested_gb = sweep_daily_bytes * DAYS_PER_MONTH / GB
    sweep_stored_gb = sweep_daily_bytes * month.days_kept(w.log_retention_days) / GB
    free_left = max(free_logs - ingested_gb - stored_gb, 0)
    return [
        _line("cloudwatch_logs", "ingestion", ingested_gb, "GB", logs["ingestion_gb"], free_logs),
        _line(
            "cloudwatch_logs",
            f"storage ({w.log_retention_days}-day retention, uncompressed)",
            stored_gb,
            "GB-month",
            logs["storage_gb_month"],
            max(free_logs - ingested_gb, 0),
        ),
        _line(
            "cloudwatch_logs",
            f"reconcile sweep: log ingestion ({w.sweep_log_bytes / 1024:g} KB a run)",
            sweep_ingested_gb,
            "GB",
            logs["ingestion_gb"],
            free_left,
        ),
        _line(
            "cloudwatch_logs",
            "reconcile sweep: log storage",
            sweep_stored_gb,
            "GB-month",
            logs["storage_gb_month"],
            max(free_left - sweep_ingested_gb, 0),
        ),
    ]


def _free_allowances(free_tier: bool) -> dict[str, Any]:
    allowances = PRICES["free_tier"]
    return allowances if free_tier else dict.fromkeys(allowances, 0)


def monthly_cost(
    workload: Workload,
    measurements: Measurements,
    *,
    architecture: str = "arm64",
    capacity: str = "on-demand",
    gsis: int = 3,
    expire_after_days: int | None = RETENTION_DAYS or None,
    free_tier: bool = False,
    month: int = 12,
) -> CostBreakdown:
    """The cost of month ``month`` (1 = the first month after launch) of running ``workload``.

    Storage grows month over month from an empty table, so the month matters unless the
    data expires: ``expire_after_days`` is a DynamoDB TTL on the rows (TTL deletes are free),
    ``workload.upload_retention_days`` the S3 lifecycle expiry of the uploads. Both default
    to the template's ``UploadRetentionDays``, which sets both; None keeps the rows
    (:func:`monthly_cost_keeping_everything` prices ``UploadRetentionDays`` 0).
    ``capacity="provisioned"`` prices the capacity that loads the day's file within one
    invocation, kept all month (see :func:`provisioned_vs_on_demand`); ``free_tier=True``
    subtracts the always-free allowances (``CostLine.free_quantity``).
    """
    architecture = normalize_architecture(architecture)
    if capacity not in CAPACITY_MODES:
        raise ValueError(f"capacity must be one of {CAPACITY_MODES}, not {capacity!r}")
    if gsis < 0:
        raise ValueError("gsis must be >= 0")
    billed = _Month(workload, measurements, *month_days(month), _free_allowances(free_tier))
    throughput = _on_demand_lines if capacity == "on-demand" else _provisioned_lines
    ingest = _lambda_lines(billed, architecture, billed.files)
    lines = [
        *throughput(billed, gsis, expire_after_days),
        _dynamodb_storage_line(billed, gsis, expire_after_days),
        *ingest,
        *_sweep_lambda_lines(workload, architecture, ingest, billed.free),
        *_s3_lines(billed),
        *_sns_lines(billed),
        *_logs_lines(billed),
    ]
    assumptions = {
        "workload": asdict(workload),
        "measurements": asdict(measurements),
        "architecture": architecture,
        "capacity": capacity,
        "gsis": gsis,
        "expire_after_days": expire_after_days,
        "free_tier": free_tier,
        "month": month,
        "days_per_month": DAYS_PER_MONTH,
        "prices_as_of": PRICES["as_of"],
        "region": PRICES["region"],
    }
    return CostBreakdown(lines, assumptions)


def monthly_cost_keeping_everything(
    workload: Workload, measurements: Measurements, **options: Any
) -> CostBreakdown:
    """The alternative to the template's default retention: ``UploadRetentionDays`` 0, every
    upload kept in S3 and every row in the table."""
    kept = replace(workload, upload_retention_days=None)
    return monthly_cost(kept, measurements, **{**options, "expire_after_days": None})


def monthly_series(
    workload: Workload, measurements: Measurements, months: int = 12, **options: Any
) -> list[CostBreakdown]:
    """Months 1..months, to see storage grow (or level off once data expires)."""
    return [
        monthly_cost(workload, measurements, month=month, **options)
        for month in range(1, months + 1)
    ]


def lambda_usd_per_file(
    workload: Workload, measurements: Measurements, architecture: str = "arm64"
) -> float:
    """What Lambda bills for one file: the request and the GB-seconds (no free tier)."""
    architecture = normalize_architecture(architecture)
    month = _Month(workload, measurements, *month_days(1), _free_allowances(False))
    return sum(line.monthly_usd for line in _lambda_lines(month, architecture, files=1))


# --- What the file lifecycle adds, gathered for the documents ----------------------------------


def reconcile_sweep(
    workload: Workload,
    measurements: Measurements,
    *,
    month: int = 12,
    expire_after_days: int | None = RETENTION_DAYS or None,
    architecture: str = "arm64",
) -> dict[str, Any]:
    """The reconcile sweep's month: its lines of :func:`monthly_cost` (no free tier), and
    its SQS receives, which the monthly cost leaves out as it leaves out the parts queue's
    requests (SQS's first million requests a month are free: always-free tier)."""
    breakdown = monthly_cost(
        workload,
        measurements,
        month=month,
        expire_after_days=expire_after_days,
        architecture=architecture,
    )
    lines = [line for line in breakdown.lines if line.item.startswith("reconcile sweep")]
    by_service = {service: 0.0 for service in SERVICES}
    for line in lines:
        by_service[line.service] += line.monthly_usd
    runs = sweep_runs(workload)
    sqs_usd = runs / 1e6 * PRICES["sqs"]["requests_per_million"]
    billed = _Month(workload, measurements, *month_days(month), _free_allowances(False))
    return {
        "runs": runs,
        "read_units_per_run": sweep_read_units(billed, expire_after_days),
        "list_requests_per_run": sweep_list_requests(billed),
        "lines": lines,
        "by_service": by_service,
        "sqs_receives_usd": sqs_usd,
        "monthly_usd": sum(by_service.values()),
        "monthly_with_sqs_usd": sum(by_service.values()) + sqs_usd,
    }


def coexisting_versions(
    workload: Workload, measurements: Measurements, *, minutes_a_day: float = 10, gsis: int = 3
) -> dict[str, float]:
    """Storage of a file's two versions side by side while the new one loads and the old
    one is collected: the old version's rows, for ``minutes_a_day`` a day (left out of
    :func:`monthly_cost` as negligible; this says how negligible)."""
    w, m = workload, measurements
    rows = w.records_per_day * (1 - w.rejected_row_share)
    gb = rows * (m.item_bytes + ITEM_OVERHEAD_BYTES) * (1 + gsis) / GB
    gb_month = gb * minutes_a_day / (24 * 60)
    return {
        "gb": gb,
        "minutes_a_day": minutes_a_day,
        "gb_month": gb_month,
        "monthly_usd": gb_month * PRICES["dynamodb"]["storage_gb_month"],
    }
