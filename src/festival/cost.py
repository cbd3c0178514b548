"""What festival-lineup costs a month on AWS, and where its limits bite (pure, standard library).

The model prices one month of the deployed system (``cloudformation.yaml``) in us-east-1:
an upload to S3 invokes the ingest Lambda once per file, the Lambda reads the file, writes
every row to the DynamoDB table (which copies it into three GSIs), records the upload, and
publishes one SNS email. What depends on the code is *measured*: the CPU the Lambda's process
spends per 1,000 rows, the write requests per 1,000 rows and the item size come from
``benchmarks/results.json`` through :func:`load_measurements`. How long the Lambda runs on
AWS is *modeled* from them (:func:`row_seconds`): the CPU time stretched by the share of a
vCPU the memory size buys, unless the writes, at an assumed DynamoDB latency, take longer.
Everything else is a stated assumption in :class:`Workload`; every price is in
:data:`PRICES` and every performance fact or assumption about AWS in :data:`PERFORMANCE`,
dated tables with their sources.

Conventions: a month is 365 / 12 = 30.4167 days (730 hours); GB means 2**30 bytes, as AWS
bills storage; quantities in a :class:`CostLine` are in the unit the price is quoted in.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

DAYS_PER_MONTH = 30.4167  # 365 / 12
HOURS_PER_MONTH = 730.0  # 30.4167 x 24
SECONDS_PER_DAY = 86_400
GB = 2**30

# One table, one edit when prices change. us-east-1 list prices, without taxes or discounts.
PRICES: dict[str, Any] = {
    "as_of": "2025-12-01",
    "region": "us-east-1",
    "currency": "USD",
    "note": (
        "Public list prices as published on the source pages in 2025 (DynamoDB on-demand "
        "after the 2024-11-01 cut), assumed unchanged since; check the sources before quoting."
    ),
    "dynamodb": {
        "source": "https://aws.amazon.com/dynamodb/pricing/on-demand/",
        "provisioned_source": "https://aws.amazon.com/dynamodb/pricing/provisioned/",
        "write_request_units_per_million": 0.625,
        "read_request_units_per_million": 0.125,
        "storage_gb_month": 0.25,  # Standard table class
        "wcu_hour": 0.00065,  # provisioned
        "rcu_hour": 0.00013,  # provisioned
        "import_from_s3_gb": 0.15,  # uncompressed source data
    },
    "lambda": {
        "source": "https://aws.amazon.com/lambda/pricing/",
        "requests_per_million": 0.20,
        "gb_second": {"arm64": 0.0000133334, "x86_64": 0.0000166667},  # first pricing tier
    },
    "s3": {
        "source": "https://aws.amazon.com/s3/pricing/",
        "storage_gb_month": 0.023,  # S3 Standard, first 50 TB
        "put_per_1000": 0.005,
        "get_per_1000": 0.0004,
    },
    "sns": {
        "source": "https://aws.amazon.com/sns/pricing/",
        "publishes_per_million": 0.50,  # each 64 KB chunk of a message is one request
        "email_per_100000": 2.00,
    },
    "cloudwatch_logs": {
        "source": "https://aws.amazon.com/cloudwatch/pricing/",
        "ingestion_gb": 0.50,  # Standard class; Lambda logs' first tier (up to 10 TB)
        "storage_gb_month": 0.03,
    },
    # The always-free tier: per account and month, shared with everything else the account
    # runs. S3's allowance is left out: it is a 12-month offer, and accounts opened since
    # 2025-07-15 get credits instead.
    "free_tier": {
        "source": "https://aws.amazon.com/free/",
        "lambda_requests": 1_000_000,
        "lambda_gb_seconds": 400_000,
        "dynamodb_storage_gb": 25,
        "dynamodb_provisioned_wcu": 25,
        "dynamodb_provisioned_rcu": 25,
        "sns_publishes": 1_000_000,
        "sns_email_deliveries": 1_000,
        "cloudwatch_logs_gb": 5,  # ingestion and storage together
    },
}

# How fast AWS runs the function, in one dated table like PRICES. Not measured here (there is
# no AWS account): one documented fact and one assumption.
PERFORMANCE: dict[str, Any] = {
    "as_of": "2026-11-29",
    "lambda": {
        "source": "https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html",
        # "At 1,769 MB, a function has the equivalent of one vCPU (one vCPU-second of credits
        # per second)"; CPU is allocated in proportion to memory.
        "mb_per_vcpu": 1769,
        # More memory buys more vCPUs, but the ingest is one Python thread plus writer threads
        # that share the GIL: assume it uses at most one vCPU.
        "useful_vcpus": 1.0,
    },
    "dynamodb": {
        "source": "https://aws.amazon.com/dynamodb/",  # "single-digit millisecond performance"
        # ASSUMED, not measured: one 25-item BatchWriteItem from a Lambda in the same region,
        # HTTPS round trip included, at the top of the documented single-digit range.
        "batch_write_item_ms": 10.0,
    },
}

SERVICES = ("dynamodb", "lambda", "s3", "sns", "cloudwatch_logs")
ARCHITECTURES = ("arm64", "x86_64")
CAPACITY_MODES = ("on-demand", "provisioned")

# Facts of DynamoDB, Lambda and SNS, and of the design (lambda/lineup_ingest, the template).
ITEM_OVERHEAD_BYTES = 100  # DynamoDB adds 100 bytes per item (and per index copy) to storage
WRITE_UNIT_BYTES = 1024
READ_UNIT_BYTES = 4096
EVENTUALLY_CONSISTENT = 0.5  # read units per 4 KB read; GSIs only offer eventual consistency
PARTITION_WCU_PER_S = 1_000  # per partition (and so per partition-key value)
NEW_ON_DEMAND_TABLE_WRU_PER_S = 4_000  # what a new on-demand table serves before it grows
FILE_SHARDS = 16  # the table's partition key: FILE#<key>#<00-15>
TIME_SHARDS = 4  # ByTime's partition key: DAY#<date>#<0-3>
LAMBDA_MAX_TIMEOUT_S = 900
WRITES_IN_FLIGHT = 4  # BatchWriteItem requests the ingest keeps in flight (LineupTable)
RECOMMENDED_MEMORY_MB = 512  # the template's default; why: docs/cost-and-scalability.md
POWER_TUNING_MEMORY_MB = (256, 512, 1024, 1769, 3008)
REPORT_RESERVE_S = 10  # the handler keeps 10 s back to record and report the outcome
# The template's defaults for large files (tests/unit/test_template.py keeps them equal).
PART_BYTES = 16 * 1024 * 1024  # PartBytes: a file is loaded in parts of this size
PART_CONCURRENCY = 2  # PartConcurrency: parts of one file loading at once
RETENTION_DAYS = 90  # UploadRetentionDays: uploads and their rows (TTL) expire after it
REJECTED_ROWS_LOGGED = 50  # the report (and its log line) lists the first 50 rejected rows
SNS_EMAIL_DELIVERIES_PER_S = 10  # quota "Delivery rate for email messages", per account
PROVISIONED_BREAK_EVEN_UTILIZATION = (PRICES["dynamodb"]["wcu_hour"] / 3600) / (
    PRICES["dynamodb"]["write_request_units_per_million"] / 1e6
)
DEFAULT_RESULTS = Path(__file__).resolve().parents[2] / "benchmarks" / "results.json"


class MeasurementsError(ValueError):
    """The benchmark results are missing or do not say what the model needs."""


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


@dataclass(frozen=True)
class Measurements:
    """What the benchmarks measured on the ingest code (``benchmarks/results.json``).

    - ``lambda_cpu_ms_per_1000_rows``: CPU time of the Lambda's process (all its threads) per
      1,000 rows of one file, on Python 3.10 against a DynamoDB stand-in that answers at once:
      parsing, building items, and preparing, signing and sending the write requests.
    - ``write_requests_per_1000_rows``: BatchWriteItem calls per 1,000 rows (25 items each).
    - ``table_write_units_per_1000_rows``: write request units on the *table* per 1,000
      rows: each put of an item up to 1 KB is one, so about 1,000 (``make bench`` derives it
      from the measured item size).
    - ``item_bytes``: the DynamoDB size of one performance item (names plus values).

    The wall time of the Lambda in the local emulator is not among them: it measures the
    emulator's DynamoDB on a shared machine, not Lambda on AWS.
    """

    lambda_cpu_ms_per_1000_rows: float
    write_requests_per_1000_rows: float
    table_write_units_per_1000_rows: float
    item_bytes: int
    measured_at: str

    def __post_init__(self) -> None:
        if self.lambda_cpu_ms_per_1000_rows <= 0 or self.item_bytes <= 0:
            raise MeasurementsError(
                "lambda_cpu_ms_per_1000_rows and item_bytes must be positive"
            )
        if self.write_requests_per_1000_rows < 40:
            raise MeasurementsError(
                f"write_requests_per_1000_rows = {self.write_requests_per_1000_rows}: a request "
                "carries at most 25 items, so expected 40 or more"
            )
        if self.table_write_units_per_1000_rows < 1000:
            raise MeasurementsError(
                f"table_write_units_per_1000_rows = {self.table_write_units_per_1000_rows}: "
                "every row costs at least one write unit, so expected 1,000 or more"
            )

    @property
    def write_units_per_row(self) -> float:
        """Write request units per row on the table; each GSI copy costs the same."""
        return self.table_write_units_per_1000_rows / 1000


def load_measurements(path: Path | None = None) -> Measurements:
    """The measurements in ``path`` (default ``<repo>/benchmarks/results.json``)."""
    path = DEFAULT_RESULTS if path is None else Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise MeasurementsError(
            f"{path} does not exist: run `make bench` to measure the ingest code first"
        ) from error
    except json.JSONDecodeError as error:
        raise MeasurementsError(f"{path} is not valid JSON: {error}") from error
    keys = (
        "lambda_cpu_ms_per_1000_rows", "write_requests_per_1000_rows",
        "table_write_units_per_1000_rows", "item_bytes", "measured_at",
    )
    missing = [key for key in keys if key not in data]
    if missing:
        raise MeasurementsError(f"{path} lacks {', '.join(missing)}: run `make bench` again")
    return Measurements(
        lambda_cpu_ms_per_1000_rows=float(data["lambda_cpu_ms_per_1000_rows"]),
        write_requests_per_1000_rows=float(data["write_requests_per_1000_rows"]),
        table_write_units_per_1000_rows=float(data["table_write_units_per_1000_rows"]),
        item_bytes=int(data["item_bytes"]),
        measured_at=str(data["measured_at"]),
    )


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


# --- The model ---------------------------------------------------------------------------------


def _average_kept(start_day: float, end_day: float, keep_days: float | None) -> float:
    """Average over [start, end] of min(t, keep): days' worth of data held when data
    arrives at a steady rate from day 0 and each day's data is deleted after keep_days."""
    keep = math.inf if keep_days is None else keep_days

    def integral(t: float) -> float:  # of min(x, keep) dx from 0 to t
        return t * t / 2 if t <= keep else keep * keep / 2 + keep * (t - keep)

    return (integral(end_day) - integral(start_day)) / (end_day - start_day)


def _month_days(month: int) -> tuple[float, float]:
    if month < 1:
        raise ValueError("month counts from 1")
    return (month - 1) * DAYS_PER_MONTH, month * DAYS_PER_MONTH


def _normalize_architecture(architecture: str) -> str:
    architecture = {"x86": "x86_64", "amd64": "x86_64", "aarch64": "arm64"}.get(
        architecture, architecture
    )
    if architecture not in ARCHITECTURES:
        raise ValueError(f"architecture must be one of {ARCHITECTURES}, not {architecture!r}")
    return architecture


def _query_read_units(workload: Workload, measurements: Measurements) -> float:
    """Read request units per query: the bytes read, rounded up to 4 KB, halved."""
    return max(1, math.ceil(workload.bytes_per_query / READ_UNIT_BYTES)) * EVENTUALLY_CONSISTENT


def _file_read_units(workload: Workload, measurements: Measurements) -> float:
    """Read request units the Lambda spends per file: the GetItem of the longest set, and
    the stale-row check that queries the file's 16 partitions (a query is billed on the
    items it reads, whatever its filter and projection)."""
    rows_per_partition = workload.rows_per_file * (1 - workload.rejected_row_share) / FILE_SHARDS
    bytes_per_partition = rows_per_partition * measurements.item_bytes
    per_partition = max(1, math.ceil(bytes_per_partition / READ_UNIT_BYTES))
    return EVENTUALLY_CONSISTENT + FILE_SHARDS * per_partition * EVENTUALLY_CONSISTENT


def cpu_share(memory_mb: float) -> float:
    """The vCPUs a function of ``memory_mb`` gets that the ingest can use: memory / 1,769 MB,
    at most one (Python and its GIL keep the ingest on one vCPU)."""
    lam = PERFORMANCE["lambda"]
    return min(lam["useful_vcpus"], memory_mb / lam["mb_per_vcpu"])


@dataclass(frozen=True)
class RowTime:
    """Seconds per row of one invocation, and what sets the pace."""

    cpu_s: float  # the measured CPU time, stretched by the share of a vCPU
    writes_s: float  # the write requests one after another, WRITES_IN_FLIGHT at a time

    @property
    def seconds(self) -> float:
        """CPU time plus the waiting on DynamoDB beyond it: the CPU works while requests are
        in flight, so only the writes' time beyond the CPU's is waiting."""
        return self.cpu_s + max(0.0, self.writes_s - self.cpu_s)

    @property
    def bound_by(self) -> str:
        return "CPU" if self.cpu_s >= self.writes_s else "writes"


def row_seconds(
    measurements: Measurements, memory_mb: float, batch_write_item_ms: float | None = None
) -> RowTime:
    """How long one row takes a Lambda of ``memory_mb`` on AWS (modeled, see RowTime)."""
    if batch_write_item_ms is None:
        batch_write_item_ms = PERFORMANCE["dynamodb"]["batch_write_item_ms"]
    m = measurements
    cpu_s = m.lambda_cpu_ms_per_1000_rows / 1e6 / cpu_share(memory_mb)
    writes_s = m.write_requests_per_1000_rows / 1e6 * batch_write_item_ms / WRITES_IN_FLIGHT
    return RowTime(cpu_s, writes_s)


def _row_time(workload: Workload, measurements: Measurements) -> RowTime:
    return row_seconds(measurements, workload.lambda_memory_mb, workload.batch_write_item_ms)


def load_seconds(workload: Workload, measurements: Measurements) -> float:
    """How long one invocation runs for one file: the fixed overhead, then the rows."""
    rows_s = _row_time(workload, measurements).seconds * workload.rows_per_file
    return workload.invocation_overhead_ms / 1000 + rows_s


def max_rows_per_invocation(
    workload: Workload, measurements: Measurements, timeout_s: float | None = None
) -> int:
    """The largest file one invocation loads within ``timeout_s`` (default: the workload's),
    keeping REPORT_RESERVE_S to record and report the outcome."""
    timeout_s = workload.lambda_timeout_s if timeout_s is None else timeout_s
    budget_s = timeout_s - REPORT_RESERVE_S - workload.invocation_overhead_ms / 1000
    return max(0, int(budget_s / _row_time(workload, measurements).seconds))


def _provisioned_capacity(
    workload: Workload, measurements: Measurements, gsis: int
) -> dict[str, int]:
    """Capacity units that let the day's file load within one invocation of the configured
    timeout (uploads come at unknown times and auto scaling reacts in minutes, so the
    capacity is on all month); at least 1 unit each for the table and every GSI."""
    budget_s = workload.lambda_timeout_s - REPORT_RESERVE_S
    seconds = max(budget_s, load_seconds(workload, measurements))
    rows_per_s = workload.rows_per_file * (1 - workload.rejected_row_share) / seconds
    wcu = max(1, math.ceil(rows_per_s * measurements.write_units_per_row))
    table_rcu = max(1, math.ceil(_file_read_units(workload, measurements) / seconds))
    peak_query_rcu = (
        workload.queries_per_day / SECONDS_PER_DAY * workload.query_peak_to_average
        * _query_read_units(workload, measurements)
    )
    gsi_rcu = max(1, math.ceil(peak_query_rcu / max(gsis, 1)))
    if gsis == 0:
        table_rcu += math.ceil(peak_query_rcu)
    return {"table_wcu": wcu, "gsi_wcu": wcu, "table_rcu": table_rcu, "gsi_rcu": gsi_rcu}


def _lambda_lines(
    workload: Workload, measurements: Measurements, architecture: str, files: float,
    free: dict[str, Any],
) -> list[CostLine]:
    """One request per file, and the GB-seconds of its modeled duration."""
    lam = PRICES["lambda"]
    memory_mb = workload.lambda_memory_mb
    gb_seconds = files * load_seconds(workload, measurements) * memory_mb / 1024
    return [
        _line("lambda", "requests (one invocation per file)", files / 1e6, "million requests",
              lam["requests_per_million"], free["lambda_requests"] / 1e6),
        _line("lambda", f"compute ({architecture}, {memory_mb} MB)", gb_seconds,
              "GB-second", lam["gb_second"][architecture], free["lambda_gb_seconds"]),
    ]


def lambda_usd_per_file(
    workload: Workload, measurements: Measurements, architecture: str = "arm64"
) -> float:
    """What Lambda bills for one file: the request and the GB-seconds (no free tier)."""
    architecture = _normalize_architecture(architecture)
    no_free = dict.fromkeys(PRICES["free_tier"], 0)
    lines = _lambda_lines(workload, measurements, architecture, 1, no_free)
    return sum(line.monthly_usd for line in lines)


def monthly_cost(
    workload: Workload,
    measurements: Measurements,
    *,
    architecture: str = "arm64",
    capacity: str = "on-demand",
    gsis: int = 3,
    expire_after_days: int | None = None,
    free_tier: bool = False,
    month: int = 12,
) -> CostBreakdown:
    """The cost of month ``month`` (1 = the first month after launch) of running ``workload``.

    Storage grows month over month from an empty table, so the month matters unless the
    data expires: ``expire_after_days`` is a DynamoDB TTL on the rows (TTL deletes are free),
    ``workload.upload_retention_days`` the S3 lifecycle expiry of the uploads.
    ``capacity="provisioned"`` prices the capacity that loads the day's file within one
    invocation, kept all month (see :func:`provisioned_vs_on_demand`); ``free_tier=True``
    subtracts the always-free allowances (``CostLine.free_quantity``).
    """
    architecture = _normalize_architecture(architecture)
    if capacity not in CAPACITY_MODES:
        raise ValueError(f"capacity must be one of {CAPACITY_MODES}, not {capacity!r}")
    if gsis < 0:
        raise ValueError("gsis must be >= 0")
    start, end = _month_days(month)
    w, m, p = workload, measurements, PRICES
    free = p["free_tier"] if free_tier else dict.fromkeys(p["free_tier"], 0)
    files = w.files_per_day * DAYS_PER_MONTH
    rows_read = w.records_per_day * DAYS_PER_MONTH
    rows_written = rows_read * (1 - w.rejected_row_share)
    lines: list[CostLine] = []

    # DynamoDB
    ddb = p["dynamodb"]
    copies = 1 + gsis
    if capacity == "on-demand":
        row_wru = rows_written * m.write_units_per_row * copies
        file_wru = files * w.writes_per_file
        query_rru = w.queries_per_day * DAYS_PER_MONTH * _query_read_units(w, m)
        file_rru = files * _file_read_units(w, m)
        wru_price = ddb["write_request_units_per_million"]
        rru_price = ddb["read_request_units_per_million"]
        lines += [
            _line("dynamodb", f"writes: rows into the table and {gsis} GSIs ({copies} WRU/row)",
                  row_wru / 1e6, "million WRU", wru_price),
            _line("dynamodb", "writes: ingest record and longest-set update, per file",
                  file_wru / 1e6, "million WRU", wru_price),
            _line("dynamodb", f"reads: queries ({_query_read_units(w, m)} RRU each)",
                  query_rru / 1e6, "million RRU", rru_price),
            _line("dynamodb", "reads: longest-set GetItem and stale-row check, per file",
                  file_rru / 1e6, "million RRU", rru_price),
        ]
    else:
        units = _provisioned_capacity(w, m, gsis)
        free_wcu_hours = free["dynamodb_provisioned_wcu"] * HOURS_PER_MONTH
        free_rcu_hours = free["dynamodb_provisioned_rcu"] * HOURS_PER_MONTH
        table_wcu_h = units["table_wcu"] * HOURS_PER_MONTH
        gsi_wcu_h = units["gsi_wcu"] * gsis * HOURS_PER_MONTH
        table_rcu_h = units["table_rcu"] * HOURS_PER_MONTH
        gsi_rcu_h = units["gsi_rcu"] * gsis * HOURS_PER_MONTH
        lines += [
            _line("dynamodb", f"write capacity: table, {units['table_wcu']} WCU all month",
                  table_wcu_h, "WCU-hour", ddb["wcu_hour"], free_wcu_hours),
            _line("dynamodb", f"write capacity: {gsis} GSIs, {units['gsi_wcu']} WCU each",
                  gsi_wcu_h, "WCU-hour", ddb["wcu_hour"], max(free_wcu_hours - table_wcu_h, 0)),
            _line("dynamodb", f"read capacity: table, {units['table_rcu']} RCU all month",
                  table_rcu_h, "RCU-hour", ddb["rcu_hour"], free_rcu_hours),
            _line("dynamodb", f"read capacity: {gsis} GSIs, {units['gsi_rcu']} RCU each",
                  gsi_rcu_h, "RCU-hour", ddb["rcu_hour"], max(free_rcu_hours - table_rcu_h, 0)),
        ]
    kept_days = _average_kept(start, end, expire_after_days)
    row_bytes = (m.item_bytes + ITEM_OVERHEAD_BYTES) * copies
    daily_bytes = (
        w.records_per_day * (1 - w.rejected_row_share) * w.new_record_share * row_bytes
        + w.files_per_day * (w.ingest_record_bytes + ITEM_OVERHEAD_BYTES)
    )
    ttl = "no expiry" if expire_after_days is None else f"TTL {expire_after_days} days"
    lines.append(_line("dynamodb", f"storage: table and {gsis} GSI copies, {ttl}",
                       daily_bytes * kept_days / GB, "GB-month", ddb["storage_gb_month"],
                       free["dynamodb_storage_gb"]))

    lines += _lambda_lines(w, m, architecture, files, free)

    # S3
    s3 = p["s3"]
    upload_days = _average_kept(start, end, w.upload_retention_days)
    kept = (
        "kept" if w.upload_retention_days is None
        else f"expire after {w.upload_retention_days} days"
    )
    lines += [
        _line("s3", "PUT: uploads", files / 1000, "1,000 requests", s3["put_per_1000"]),
        _line("s3", "GET: the Lambda reads each upload", files / 1000, "1,000 requests",
              s3["get_per_1000"]),
        _line("s3", f"storage: uploads ({kept})",
              w.records_per_day * w.bytes_per_record * upload_days / GB, "GB-month",
              s3["storage_gb_month"]),
    ]

    # SNS
    sns = p["sns"]
    lines += [
        _line("sns", "publishes (one per file)", files / 1e6, "million publishes",
              sns["publishes_per_million"], free["sns_publishes"] / 1e6),
        _line("sns", "email deliveries (one subscriber)", files / 1e5, "100,000 emails",
              sns["email_per_100000"], free["sns_email_deliveries"] / 1e5),
    ]

    # CloudWatch Logs
    logs = p["cloudwatch_logs"]
    rejected_logged = min(w.rows_per_file * w.rejected_row_share, REJECTED_ROWS_LOGGED)
    daily_log_bytes = w.files_per_day * (
        w.log_bytes_per_invocation + rejected_logged * w.log_bytes_per_rejected_row
    )
    ingested_gb = daily_log_bytes * DAYS_PER_MONTH / GB
    stored_gb = daily_log_bytes * _average_kept(start, end, w.log_retention_days) / GB
    free_logs = free["cloudwatch_logs_gb"]
    lines += [
        _line("cloudwatch_logs", "ingestion", ingested_gb, "GB", logs["ingestion_gb"], free_logs),
        _line("cloudwatch_logs", f"storage ({w.log_retention_days}-day retention, uncompressed)",
              stored_gb, "GB-month", logs["storage_gb_month"], max(free_logs - ingested_gb, 0)),
    ]

    assumptions = {
        "workload": asdict(w),
        "measurements": asdict(m),
        "architecture": architecture,
        "capacity": capacity,
        "gsis": gsis,
        "expire_after_days": expire_after_days,
        "free_tier": free_tier,
        "month": month,
        "days_per_month": DAYS_PER_MONTH,
        "prices_as_of": p["as_of"],
        "region": p["region"],
    }
    return CostBreakdown(lines, assumptions)


def monthly_series(
    workload: Workload, measurements: Measurements, months: int = 12, **options: Any
) -> list[CostBreakdown]:
    """Months 1..months, to see storage grow (or level off once data expires)."""
    return [
        monthly_cost(workload, measurements, month=month, **options)
        for month in range(1, months + 1)
    ]


# --- Comparisons -------------------------------------------------------------------------------


def provisioned_vs_on_demand(
    workload: Workload, measurements: Measurements, *, gsis: int = 3, month: int = 12
) -> dict[str, Any]:
    """DynamoDB throughput (storage is the same in both modes) on-demand vs provisioned.

    Method: provisioned capacity is billed per hour whether used or not, so it is cheaper
    only while it is kept busy. One WCU-hour ($0.00065) buys 3,600 writes, which on-demand
    would bill $0.00225: provisioned wins above 28.9% average utilization. Three provisioned
    strategies are priced: ``always_on`` (what ``monthly_cost(capacity="provisioned")``
    uses: capacity that loads the day's file within one invocation, on all month because
    uploads come at unknown times), ``scheduled`` (that capacity only for one hour a day,
    if uploads came at a known hour) and ``smoothed`` (writes queued and drained evenly
    over the day at 70% target utilization: a design change, the lower bound).
    """
    w, m, ddb = workload, measurements, PRICES["dynamodb"]
    copies = 1 + gsis

    def throughput(breakdown: CostBreakdown) -> float:
        return sum(
            line.monthly_usd for line in breakdown.lines
            if line.service == "dynamodb" and not line.item.startswith("storage")
        )

    on_demand = throughput(monthly_cost(w, m, gsis=gsis, month=month))
    always_on = throughput(monthly_cost(w, m, gsis=gsis, month=month, capacity="provisioned"))
    units = _provisioned_capacity(w, m, gsis)
    rcu_month = (units["table_rcu"] + units["gsi_rcu"] * gsis) * HOURS_PER_MONTH * ddb["rcu_hour"]
    load_hours = math.ceil(
        max(load_seconds(w, m), w.lambda_timeout_s - REPORT_RESERVE_S) / 3600
    ) * w.files_per_day
    scheduled_wcu_hours = copies * (
        units["table_wcu"] * load_hours + 1 * (24 - min(load_hours, 24))
    ) * DAYS_PER_MONTH
    scheduled = scheduled_wcu_hours * ddb["wcu_hour"] + rcu_month
    wru_per_s = (
        w.records_per_day * (1 - w.rejected_row_share) * m.write_units_per_row / SECONDS_PER_DAY
    )
    smoothed_wcu = max(1, math.ceil(wru_per_s / 0.7))
    smoothed = copies * smoothed_wcu * HOURS_PER_MONTH * ddb["wcu_hour"] + rcu_month
    # Flat traffic against the 1-WCU minimum per table and GSI: on-demand costs w x seconds
    # in a month x price; one WCU all month costs 730 x $0.00065.
    one_wcu_month = HOURS_PER_MONTH * ddb["wcu_hour"]
    od_per_wru = ddb["write_request_units_per_million"] / 1e6
    flat_break_even_wru_per_s = one_wcu_month / (SECONDS_PER_DAY * DAYS_PER_MONTH * od_per_wru)
    busy_fraction_one_invocation = (
        min(load_seconds(w, m), w.lambda_timeout_s) * w.files_per_day / SECONDS_PER_DAY
    )
    return {
        "gsis": gsis,
        "month": month,
        "on_demand_usd": on_demand,
        "provisioned_always_on_usd": always_on,
        "provisioned_scheduled_usd": scheduled,
        "provisioned_smoothed_usd": smoothed,
        "provisioned_units": units,
        "cheaper": "on-demand" if on_demand <= always_on else "provisioned",
        "break_even": {
            "utilization": PROVISIONED_BREAK_EVEN_UTILIZATION,
            "busy_hours_per_day": PROVISIONED_BREAK_EVEN_UTILIZATION * 24,
            "sustained_wru_per_s_per_table_or_index": flat_break_even_wru_per_s,
            "records_per_day_if_smoothed": flat_break_even_wru_per_s * SECONDS_PER_DAY
            / m.write_units_per_row,
            "busy_fraction_of_the_day_now": busy_fraction_one_invocation,
        },
        "method": (
            "Provisioned capacity is paid per hour, used or not: one WCU-hour costs "
            f"${ddb['wcu_hour']} for up to 3,600 writes that on-demand bills at "
            f"${ddb['write_request_units_per_million']}/million, so provisioned is cheaper "
            f"only above {PROVISIONED_BREAK_EVEN_UTILIZATION:.1%} average utilization, i.e. "
            f"when writes keep the capacity busy {PROVISIONED_BREAK_EVEN_UTILIZATION * 24:.1f} "
            "h a day. For flat traffic with the 1-WCU minimum per table and index, on-demand "
            f"is cheaper below {flat_break_even_wru_per_s:.3f} WRU/s per table or index "
            f"(about {flat_break_even_wru_per_s * SECONDS_PER_DAY:,.0f} rows a day, if the "
            "writes were spread evenly over the day). Loads by one invocation per file keep "
            f"the capacity busy {busy_fraction_one_invocation:.1%} of the day here, and at most "
            f"{LAMBDA_MAX_TIMEOUT_S / SECONDS_PER_DAY:.1%} per daily file (15 minutes)."
        ),
    }


def compare_architectures(
    workload: Workload, measurements: Measurements, **options: Any
) -> dict[str, Any]:
    """arm64 (Graviton, the default) against x86_64: only the Lambda line changes."""
    arm = monthly_cost(workload, measurements, architecture="arm64", **options)
    x86 = monthly_cost(workload, measurements, architecture="x86_64", **options)
    return {
        "arm64_usd": arm.monthly_total_usd,
        "x86_64_usd": x86.monthly_total_usd,
        "lambda_arm64_usd": arm.by_service()["lambda"],
        "lambda_x86_64_usd": x86.by_service()["lambda"],
        "saving_usd": x86.monthly_total_usd - arm.monthly_total_usd,
        "lambda_saving_share": 1 - PRICES["lambda"]["gb_second"]["arm64"]
        / PRICES["lambda"]["gb_second"]["x86_64"],
    }


def compare_gsis(
    workload: Workload,
    measurements: Measurements,
    counts: Iterable[int] = (1, 2, 3),
    **options: Any,
) -> dict[int, dict[str, float]]:
    """The cost with fewer or more GSIs: each one is another write and another copy."""
    result = {}
    for count in counts:
        breakdown = monthly_cost(workload, measurements, gsis=count, **options)
        result[count] = {
            "monthly_total_usd": breakdown.monthly_total_usd,
            "dynamodb_usd": breakdown.by_service()["dynamodb"],
        }
    return result


def compare_retention(
    workload: Workload, measurements: Measurements, *, keep_days: int = 90, months: int = 12,
    **options: Any,
) -> dict[str, dict[str, float]]:
    """Keeping every row against expiring rows with TTL, with or without the uploaded CSVs
    kept in S3 as the archive (a row is 50 bytes of CSV in S3 against 4 x ~620 bytes in
    DynamoDB; restoring is re-uploading the file)."""
    options = {key: value for key, value in options.items() if key != "expire_after_days"}
    choices = {
        "keep everything": (workload, None),
        f"TTL after {keep_days} days": (workload, keep_days),
        f"TTL after {keep_days} days, CSVs kept in S3 as the archive": (
            replace(workload, upload_retention_days=None), keep_days,
        ),
    }
    result = {}
    for name, (choice_workload, expire) in choices.items():
        series = monthly_series(
            choice_workload, measurements, months, expire_after_days=expire, **options
        )
        result[name] = {
            "month_1_usd": series[0].monthly_total_usd,
            f"month_{months}_usd": series[-1].monthly_total_usd,
            f"first_{months}_months_usd": sum(b.monthly_total_usd for b in series),
            f"dynamodb_storage_month_{months}_usd": sum(
                line.monthly_usd for line in series[-1].lines if line.item.startswith("storage")
                and line.service == "dynamodb"
            ),
        }
    return result


def import_from_s3(
    workload: Workload, measurements: Measurements, *, gsis: int = 3, month: int = 12
) -> dict[str, Any]:
    """DynamoDB's Import from S3 ($0.15/GB of source data, no write units) against writes."""
    w = workload
    price = PRICES["dynamodb"]["import_from_s3_gb"]
    start, end = _month_days(month)
    daily_gb = w.records_per_day * w.bytes_per_record / GB
    new_rows_gb = daily_gb * DAYS_PER_MONTH
    # A table holding everything so far would have to be re-imported whole every day.
    full_reload_gb = daily_gb * _average_kept(start, end, None) * DAYS_PER_MONTH
    writes = sum(
        line.monthly_usd
        for line in monthly_cost(w, measurements, gsis=gsis, month=month).lines
        if line.item.startswith("writes: rows")
    )
    return {
        "price_per_gb": price,
        "import_new_rows_usd": new_rows_gb * price,
        "import_full_reload_daily_usd": full_reload_gb * price,
        "row_writes_usd": writes,
        "fits_daily_loads": False,
        "why": (
            "Import from S3 always creates a NEW table; it cannot load into an existing one. "
            "Daily files would each need a new table (readers switching table names, old "
            "tables dropped) or a daily re-import of everything; the CSV would first have to "
            "be rewritten with the computed keys (shards, GSI keys); and an import takes "
            "minutes, with no per-row report for the email. It suits a one-off bulk "
            "load or a rebuild, not daily uploads into the live table."
        ),
    }


def compare(workload: Workload, measurements: Measurements, **options: Any) -> dict[str, Any]:
    """Every comparison for one workload."""
    gsis = options.get("gsis", 3)
    month = options.get("month", 12)
    return {
        "architecture": compare_architectures(workload, measurements, **options),
        "gsis": compare_gsis(
            workload, measurements, **{k: v for k, v in options.items() if k != "gsis"}
        ),
        "capacity": provisioned_vs_on_demand(workload, measurements, gsis=gsis, month=month),
        "retention": compare_retention(
            workload, measurements, **{k: v for k, v in options.items() if k != "month"}
        ),
        "import_from_s3": import_from_s3(workload, measurements, gsis=gsis, month=month),
    }


# --- Memory size -------------------------------------------------------------------------------


def power_tuning(
    measurements: Measurements,
    *,
    memory_sizes: Sequence[int] = POWER_TUNING_MEMORY_MB,
    file_rows: Sequence[int] = (100_000, 1_000_000),
    workload: Workload | None = None,
    architecture: str = "arm64",
) -> list[dict[str, Any]]:
    """Like AWS Lambda Power Tuning, but modeled: for each memory size, the duration and
    Lambda cost of one file of each size in ``file_rows``, and the largest file one
    invocation loads within the workload's timeout."""
    base = workload or Workload(records_per_day=0)
    rows = []
    for memory in memory_sizes:
        w = replace(base, lambda_memory_mb=memory)
        row_time = _row_time(w, measurements)
        files = []
        for count in file_rows:
            load = replace(w, records_per_day=count, files_per_day=1)
            seconds = load_seconds(load, measurements)
            files.append({
                "rows": count,
                "seconds": seconds,
                "fits_timeout": seconds <= w.lambda_timeout_s - REPORT_RESERVE_S,
                "lambda_usd": lambda_usd_per_file(load, measurements, architecture),
            })
        rows.append({
            "memory_mb": memory,
            "cpu_share": cpu_share(memory),
            "bound_by": row_time.bound_by,
            "rows_per_second": 1 / row_time.seconds,
            "files": files,
            "max_rows_timeout": max_rows_per_invocation(w, measurements),
        })
    return rows


def write_bound_latency_ms(measurements: Measurements, memory_mb: float) -> float:
    """The BatchWriteItem latency above which the writes, not the CPU, set the pace."""
    cpu_ms_per_request = (
        measurements.lambda_cpu_ms_per_1000_rows / cpu_share(memory_mb)
        / measurements.write_requests_per_1000_rows
    )
    return cpu_ms_per_request * WRITES_IN_FLIGHT


# --- Scalability -------------------------------------------------------------------------------


def scalability(
    measurements: Measurements,
    *,
    records_per_day: Sequence[int] = (1_000_000, 10_000_000),
    big_file_bytes: int = 10**9,
    workload: Workload | None = None,
    gsis: int = 3,
    stages: int = 10,
    festival_days: int = 3,
    reserved_concurrency: int | None = None,
) -> dict[str, Any]:
    """Where the limits bite, at the modeled speed of one invocation (``workload``'s memory).

    Assumes one file a day of ``records_per_day`` rows, spread over ``stages`` stages and
    ``festival_days`` days (one ByStage partition per stage, four ByTime shards per day).
    ``reserved_concurrency`` defaults to the number of invocations that stay under the
    binding write ceiling.
    """
    w = workload or Workload(records_per_day=0)
    m = measurements
    wru_row = m.write_units_per_row
    rows_per_s = 1 / _row_time(w, m).seconds
    overhead_s = w.invocation_overhead_ms / 1000

    def max_rows(timeout_s: float) -> int:
        return max_rows_per_invocation(w, m, timeout_s)

    # Rows a second that one file can take before some partition passes 1,000 WCU/s.
    ceilings = {
        "table (16 file shards)": FILE_SHARDS * PARTITION_WCU_PER_S / wru_row,
        f"ByTime ({TIME_SHARDS} shards x {festival_days} days)":
            TIME_SHARDS * festival_days * PARTITION_WCU_PER_S / wru_row,
        f"ByStage ({stages} stages)": stages * PARTITION_WCU_PER_S / wru_row,
        "a new on-demand table or GSI (4,000 WRU/s each until it grows)":
            NEW_ON_DEMAND_TABLE_WRU_PER_S / wru_row,
    }
    binding = min(ceilings, key=ceilings.__getitem__)
    max_parallel = max(1, int(ceilings[binding] // rows_per_s))
    per_invocation_rows = max_rows(LAMBDA_MAX_TIMEOUT_S)
    part_rows = PART_BYTES // w.bytes_per_record

    def case(rows: int, label: str) -> dict[str, Any]:
        seconds = overhead_s + rows / rows_per_s
        parts = max(1, math.ceil(rows / part_rows))
        parallel = min(parts, PART_CONCURRENCY)
        wall_s = math.ceil(parts / parallel) * (overhead_s + min(rows, part_rows) / rows_per_s)
        load = replace(w, records_per_day=rows, files_per_day=1)
        return {
            "label": label,
            "rows": rows,
            "file_mb": rows * w.bytes_per_record / 1e6,
            "one_invocation_s": seconds,
            "fits_template_timeout": seconds <= w.lambda_timeout_s - REPORT_RESERVE_S,
            "fits_15_minutes": seconds <= LAMBDA_MAX_TIMEOUT_S - REPORT_RESERVE_S,
            "parts": parts,
            "parallel_parts": parallel,
            "wall_clock_s": wall_s,
            "write_wru_per_s": rows_per_s * parallel * wru_row * (1 + gsis),
            "write_usd_per_file": rows * wru_row * (1 + gsis)
            * PRICES["dynamodb"]["write_request_units_per_million"] / 1e6,
            "month_1_usd": monthly_cost(load, m, gsis=gsis, month=1).monthly_total_usd,
            "month_12_usd": monthly_cost(load, m, gsis=gsis, month=12).monthly_total_usd,
            "month_12_with_ttl_90_usd": monthly_cost(
                load, m, gsis=gsis, month=12, expire_after_days=90
            ).monthly_total_usd,
        }

    cases = [case(rows, f"{rows:,} records/day") for rows in records_per_day]
    big_rows = big_file_bytes // w.bytes_per_record
    cases.append(case(big_rows, f"one {big_file_bytes / 1e9:g} GB file"))
    if reserved_concurrency is None:  # as many invocations as the binding ceiling allows
        reserved_concurrency = max_parallel
    guard_wru_per_s = reserved_concurrency * rows_per_s * wru_row * (1 + gsis)
    return {
        "memory_mb": w.lambda_memory_mb,
        "rows_per_second_per_invocation": rows_per_s,
        "one_invocation_above_binding_ceiling": rows_per_s > ceilings[binding],
        "wru_per_second_per_invocation": rows_per_s * wru_row * (1 + gsis),
        "max_rows_template_timeout": max_rows(w.lambda_timeout_s),
        "max_rows_15_minutes": per_invocation_rows,
        "max_file_mb_15_minutes": per_invocation_rows * w.bytes_per_record / 1e6,
        "part_rows": part_rows,
        "part_mb": part_rows * w.bytes_per_record / 1e6,
        "part_seconds": overhead_s + part_rows / rows_per_s,
        "part_concurrency": PART_CONCURRENCY,
        "partition_ceilings_rows_per_s": ceilings,
        "binding_ceiling": binding,
        "max_parallel_parts": max_parallel,
        "reserved_concurrency": reserved_concurrency,
        "reserved_concurrency_max_wru_per_s": guard_wru_per_s,
        "reserved_concurrency_max_usd_per_hour": guard_wru_per_s * 3600
        * PRICES["dynamodb"]["write_request_units_per_million"] / 1e6,
        "sns_email_deliveries_per_s": SNS_EMAIL_DELIVERIES_PER_S,
        "cases": cases,
    }


# --- Tables for the document and the notebook --------------------------------------------------

DOC_RECORDS = (1_000, 10_000, 100_000)
SERVICE_TITLES = {
    "dynamodb": "DynamoDB",
    "lambda": "Lambda",
    "s3": "S3",
    "sns": "SNS",
    "cloudwatch_logs": "CloudWatch Logs",
}


def cost_table(
    measurements: Measurements,
    records_per_day: Iterable[int] = DOC_RECORDS,
    workload: Workload | None = None,
    **options: Any,
) -> list[dict[str, Any]]:
    """One row per daily volume: month-12 cost by service, and the totals of months 1, 12."""
    rows = []
    for records in records_per_day:
        load = replace(workload or Workload(records_per_day=0), records_per_day=records)
        options_12 = {**options, "month": 12}
        breakdown = monthly_cost(load, measurements, **options_12)
        first = monthly_cost(load, measurements, **{**options, "month": 1})
        rows.append({
            "records_per_day": records,
            "csv_mb_per_day": records * load.bytes_per_record / 1e6,
            **breakdown.by_service(),
            "month_1_usd": first.monthly_total_usd,
            "month_12_usd": breakdown.monthly_total_usd,
        })
    return rows


def _usd(value: float) -> str:
    if value == 0:
        return "$0"
    if value < 0.01:
        return "< $0.01"
    return f"${value:,.2f}"


def _quantity(value: float) -> str:
    """Four significant digits, without exponents."""
    if value == 0:
        return "0"
    decimals = min(8, max(0, 3 - math.floor(math.log10(abs(value)))))
    return f"{value:,.{decimals}f}"


def _price(value: float) -> str:
    """A unit price as listed, without exponents: $0.0000133334, $0.625."""
    return "$" + (f"{value:.10f}".rstrip("0").rstrip(".") if value < 1 else f"{value:g}")


def _per(quantity: float, unit: str) -> str:
    """'12.17 million WRU'; '0.03042 x 1,000 requests' when the unit starts with a number."""
    return f"{_quantity(quantity)} {'× ' if unit[0].isdigit() else ''}{unit}"


def _markdown(header: Sequence[str], rows: Iterable[Sequence[str]], align: str = "") -> str:
    align = align or "l" + "r" * (len(header) - 1)
    rule = ["---:" if a == "r" else "---" for a in align]
    lines = [header, rule, *rows]
    return "\n".join("| " + " | ".join(cells) + " |" for cells in lines)


def markdown_cost_table(measurements: Measurements, **options: Any) -> str:
    rows = cost_table(measurements, **options)
    header = ["Records/day", "CSV/day", *(SERVICE_TITLES[s] for s in SERVICES),
              "Month 1", "**Month 12**"]
    body = [
        [f"{row['records_per_day']:,}", f"{row['csv_mb_per_day'] * 1000:,.0f} kB",
         *(_usd(row[s]) for s in SERVICES), _usd(row["month_1_usd"]),
         f"**{_usd(row['month_12_usd'])}**"]
        for row in rows
    ]
    return _markdown(header, body)


def markdown_lines(breakdown: CostBreakdown) -> str:
    header = ["Service", "Item", "Quantity / month", "Unit price", "Cost / month"]
    body = [
        [SERVICE_TITLES[line.service], line.item, _per(line.quantity, line.unit),
         f"{_price(line.unit_price_usd)} / {line.unit}", _usd(line.monthly_usd)]
        for line in breakdown.lines
    ]
    body.append(["**Total**", "", "", "", f"**{_usd(breakdown.monthly_total_usd)}**"])
    return _markdown(header, body, "lllrr")


def markdown_comparisons(measurements: Measurements) -> str:
    out = []
    header = ["Records/day", "On-demand", "Provisioned, always on", "Provisioned, 1 h/day",
              "Provisioned, smoothed (queue)", "Cheaper for this design"]
    body = []
    for records in DOC_RECORDS:
        c = provisioned_vs_on_demand(Workload(records_per_day=records), measurements)
        body.append([f"{records:,}", _usd(c["on_demand_usd"]),
                     _usd(c["provisioned_always_on_usd"]), _usd(c["provisioned_scheduled_usd"]),
                     _usd(c["provisioned_smoothed_usd"]), c["cheaper"]])
    out += ["**Capacity mode** (DynamoDB throughput only, month 12; storage is the same):", "",
            _markdown(header, body, "lrrrrl"), ""]

    header = ["Records/day", "Lambda, arm64", "Lambda, x86_64", "Total, 1 GSI", "2 GSIs",
              "3 GSIs (design)"]
    body = []
    for records in DOC_RECORDS:
        load = Workload(records_per_day=records)
        arch = compare_architectures(load, measurements)
        gsis = compare_gsis(load, measurements)
        body.append([f"{records:,}", f"${arch['lambda_arm64_usd']:.4f}",
                     f"${arch['lambda_x86_64_usd']:.4f}",
                     *(_usd(gsis[n]["monthly_total_usd"]) for n in (1, 2, 3))])
    out += ["**Lambda architecture** (the Lambda line alone) **and number of GSIs** "
            "(total), month 12:", "", _markdown(header, body), ""]

    header = ["Records/day", "Choice", "Month 1", "Month 12", "First 12 months"]
    body = []
    for records in DOC_RECORDS:
        for name, r in compare_retention(Workload(records_per_day=records), measurements).items():
            body.append([f"{records:,}", name, _usd(r["month_1_usd"]), _usd(r["month_12_usd"]),
                         _usd(r["first_12_months_usd"])])
    out += ["**Keeping or expiring old rows** (total):", "", _markdown(header, body, "llrrr"), ""]

    header = ["Records/day", "Row writes (design)", "Import: new rows only",
              "Import: whole table daily"]
    body = []
    for records in DOC_RECORDS:
        i = import_from_s3(Workload(records_per_day=records), measurements)
        body.append([f"{records:,}", _usd(i["row_writes_usd"]), _usd(i["import_new_rows_usd"]),
                     _usd(i["import_full_reload_daily_usd"])])
    out += ["**DynamoDB Import from S3** ($0.15/GB) against row writes, month 12:", "",
            _markdown(header, body)]
    return "\n".join(out)


def markdown_scalability(measurements: Measurements) -> str:
    s = scalability(measurements)
    header = ["Load", "CSV", "In one invocation", "Fits 300 s / 15 min", "Parts (at once)",
              "Wall clock", "Write cost per file", "Month 1", "Month 12", "Month 12, TTL 90 d"]
    body = [
        [c["label"], f"{c['file_mb']:,.0f} MB", f"{c['one_invocation_s']:,.0f} s",
         f"{'yes' if c['fits_template_timeout'] else 'no'} / "
         f"{'yes' if c['fits_15_minutes'] else 'no'}",
         f"{c['parts']} ({c['parallel_parts']})", f"{c['wall_clock_s'] / 60:,.1f} min",
         _usd(c["write_usd_per_file"]), _usd(c["month_1_usd"]), _usd(c["month_12_usd"]),
         _usd(c["month_12_with_ttl_90_usd"])]
        for c in s["cases"]
    ]
    ceilings = ", ".join(
        f"{name}: {rows:,.0f} rows/s" for name, rows in s["partition_ceilings_rows_per_s"].items()
    )
    facts = [
        f"- One invocation ({s['memory_mb']:,} MB) loads {s['rows_per_second_per_invocation']:,.0f}"
        f" rows/s ({s['wru_per_second_per_invocation']:,.0f} WRU/s across the table and its "
        "GSIs).",
        f"- Largest file for one invocation: {s['max_rows_template_timeout']:,} rows "
        f"within the template's 300 s timeout; {s['max_rows_15_minutes']:,} rows "
        f"({s['max_file_mb_15_minutes']:,.0f} MB) within Lambda's 15-minute maximum.",
        f"- A part (`PartBytes`, 16 MiB): {s['part_rows']:,} rows, loaded in "
        f"{s['part_seconds']:,.0f} s by one invocation; `PartConcurrency` "
        f"({s['part_concurrency']}) parts of a file load at once.",
        f"- Write ceilings for one file (1,000 WCU/s per partition): {ceilings}. The binding "
        f"one is {s['binding_ceiling']}, so at most {s['max_parallel_parts']} "
        f"{'part' if s['max_parallel_parts'] == 1 else 'parts'} of one file should load at "
        "once into a new table." + (
            " One invocation alone already writes faster than that: DynamoDB throttles it "
            "(the Lambda retries) until the table and indexes have grown."
            if s["one_invocation_above_binding_ceiling"] else ""
        ),
        f"- Reserved concurrency {s['reserved_concurrency']} caps writes at "
        f"{s['reserved_concurrency_max_wru_per_s']:,.0f} WRU/s, i.e. at most "
        f"{_usd(s['reserved_concurrency_max_usd_per_hour'])} of DynamoDB writes an hour.",
    ]
    return _markdown(header, body, "lrrlrrrrrr") + "\n\n" + "\n".join(facts)


def markdown_power_tuning(measurements: Measurements) -> str:
    base = Workload(records_per_day=0)
    table = power_tuning(measurements, workload=base)
    sizes = [f"{f['rows']:,} rows" for f in table[0]["files"]]
    header = ["Memory", "vCPU share", "Pace set by", "Rows/s",
              *(f"{size}: {what}" for size in sizes for what in ("time", "Lambda cost")),
              f"Largest file in {base.lambda_timeout_s} s"]
    body = []
    for row in table:
        memory = f"{row['memory_mb']:,} MB"
        if row["memory_mb"] == RECOMMENDED_MEMORY_MB:
            memory = f"**{memory}** (chosen)"
        cells = [memory, f"{row['cpu_share']:.2f}", row["bound_by"],
                 f"{row['rows_per_second']:,.0f}"]
        for f in row["files"]:
            late = "" if f["fits_timeout"] else " ✗"
            cells += [f"{f['seconds']:,.0f} s{late}", f"${f['lambda_usd']:.5f}"]
        cells.append(f"{row['max_rows_timeout']:,} rows")
        body.append(cells)
    ms = PERFORMANCE["dynamodb"]["batch_write_item_ms"]
    notes = [
        f"✗: longer than the {base.lambda_timeout_s} s timeout less the {REPORT_RESERVE_S} s "
        "kept for reporting (the largest file keeps them too); such a file needs a longer "
        "timeout or parts. Costs are arm64 "
        f"GB-seconds plus the request, {base.invocation_overhead_ms:,.0f} ms of fixed "
        "overhead included, no free tier.",
        "",
        f"- Per 1,000 rows: {measurements.lambda_cpu_ms_per_1000_rows:,.0f} ms of CPU "
        "(measured) on a whole vCPU; "
        f"{measurements.write_requests_per_1000_rows:,.2f} BatchWriteItem requests at an "
        f"assumed {ms:g} ms each, {WRITES_IN_FLIGHT} in flight: "
        f"{measurements.write_requests_per_1000_rows * ms / WRITES_IN_FLIGHT:,.0f} ms.",
        f"- At {RECOMMENDED_MEMORY_MB:,} MB the writes would set the pace only if a "
        f"BatchWriteItem took more than "
        f"{write_bound_latency_ms(measurements, RECOMMENDED_MEMORY_MB):,.1f} ms; at 1,024 MB, "
        f"{write_bound_latency_ms(measurements, 1024):,.1f} ms.",
        "- Rows/s is also the write units a second on the table and on each GSI (one unit "
        f"a row): a new on-demand table or GSI serves {NEW_ON_DEMAND_TABLE_WRU_PER_S:,} at "
        "first and more once it has grown.",
    ]
    return _markdown(header, body, "lrlrrrrrr") + "\n\n" + "\n".join(notes)


def markdown_measurements(measurements: Measurements) -> str:
    return "```json\n" + json.dumps(asdict(measurements), indent=2) + "\n```"


def doc_blocks(measurements: Measurements) -> dict[str, str]:
    """The generated parts of docs/cost-and-scalability.md, by marker name."""
    example = monthly_cost(Workload(records_per_day=100_000), measurements)
    return {
        "measurements": markdown_measurements(measurements),
        "table": markdown_cost_table(measurements),
        "table-free-tier": markdown_cost_table(measurements, free_tier=True),
        "table-ttl": markdown_cost_table(measurements, expire_after_days=RETENTION_DAYS),
        "lines-100k": markdown_lines(example),
        "comparisons": markdown_comparisons(measurements),
        "scalability": markdown_scalability(measurements),
        "power-tuning": markdown_power_tuning(measurements),
    }


BLOCK = re.compile(
    r"(<!-- BEGIN generated:(?P<name>[\w-]+) -->\n)(?P<body>.*?)"
    r"(\n?<!-- END generated:(?P=name) -->)",
    re.DOTALL,
)


def read_doc_measurements(text: str) -> Measurements:
    """The measurements a document was generated from (its ``measurements`` block)."""
    for match in BLOCK.finditer(text):
        if match["name"] == "measurements":
            body = match["body"].strip().removeprefix("```json").removesuffix("```")
            data = json.loads(body)
            return Measurements(**data)
    raise MeasurementsError("the document has no generated measurements block")


def render_doc(text: str, measurements: Measurements) -> str:
    """``text`` with every generated block replaced by its current rendering."""
    blocks = doc_blocks(measurements)

    def fill(match: re.Match[str]) -> str:
        name = match["name"]
        if name not in blocks:
            raise KeyError(f"unknown generated block {name!r}")
        return match.group(1) + blocks[name] + "\n" + match.group(4).lstrip("\n")

    return BLOCK.sub(fill, text)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m festival.cost [--results FILE] [--doc FILE]``: print or regenerate."""
    parser = argparse.ArgumentParser(prog="python -m festival.cost", description=main.__doc__)
    parser.add_argument("--results", type=Path, default=None,
                        help="benchmark results (default: benchmarks/results.json)")
    parser.add_argument("--doc", type=Path, default=None,
                        help="rewrite the generated blocks of this Markdown file in place")
    args = parser.parse_args(argv)
    try:
        measurements = load_measurements(args.results)
    except MeasurementsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if args.doc:
        args.doc.write_text(render_doc(args.doc.read_text(encoding="utf-8"), measurements),
                            encoding="utf-8")
        print(f"updated {args.doc} from measurements of {measurements.measured_at}")
    else:
        print(markdown_cost_table(measurements))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
