"""The memory size to choose, and where the limits bite as files and volumes grow."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from festival.cost.duration import (
    cpu_share,
    load_seconds,
    max_rows_per_invocation,
    row_time,
)
from festival.cost.measurements import Measurements
from festival.cost.model import (
    lambda_usd_per_file,
    monthly_cost,
    monthly_cost_keeping_everything,
)
from festival.cost.prices import (
    FILE_SHARDS,
    LAMBDA_MAX_TIMEOUT_S,
    NEW_ON_DEMAND_TABLE_WRU_PER_S,
    PART_BYTES,
    PART_CONCURRENCY,
    PARTITION_WCU_PER_S,
    POWER_TUNING_MEMORY_MB,
    PRICES,
    REPORT_RESERVE_S,
    SNS_EMAIL_DELIVERIES_PER_S,
    TIME_SHARDS,
)
from festival.cost.workload import Workload

# --- Memory size -------------------------------------------------------------------------------


def _one_file(
    workload: Workload, measurements: Measurements, rows: int, architecture: str
) -> dict[str, Any]:
    load = replace(workload, records_per_day=rows, files_per_day=1)
    seconds = load_seconds(load, measurements)
    return {
        "rows": rows,
        "seconds": seconds,
        "fits_timeout": seconds <= workload.lambda_timeout_s - REPORT_RESERVE_S,
        "lambda_usd": lambda_usd_per_file(load, measurements, architecture),
    }


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
        pace = row_time(w, measurements)
        rows.append(
            {
                "memory_mb": memory,
                "cpu_share": cpu_share(memory),
                "bound_by": pace.bound_by,
                "rows_per_second": 1 / pace.seconds,
                "files": [_one_file(w, measurements, count, architecture) for count in file_rows],
                "max_rows_timeout": max_rows_per_invocation(w, measurements),
            }
        )
    return rows


# --- Scalability -------------------------------------------------------------------------------


def partition_ceilings(
    measurements: Measurements, *, stages: int = 10, festival_days: int = 3
) -> dict[str, float]:
    """Rows a second that one file can take before some partition passes 1,000 WCU/s."""
    wru_row = measurements.write_units_per_row
    by_time = f"ByTime ({TIME_SHARDS} shards x {festival_days} days)"
    new_table = "a new on-demand table or GSI (4,000 WRU/s each until it grows)"
    return {
        "table (16 file shards)": FILE_SHARDS * PARTITION_WCU_PER_S / wru_row,
        by_time: TIME_SHARDS * festival_days * PARTITION_WCU_PER_S / wru_row,
        f"ByStage ({stages} stages)": stages * PARTITION_WCU_PER_S / wru_row,
        new_table: NEW_ON_DEMAND_TABLE_WRU_PER_S / wru_row,
    }


def _scaling_case(
    workload: Workload, measurements: Measurements, rows: int, label: str, gsis: int
) -> dict[str, Any]:
    """One daily file of ``rows`` rows: in one invocation, in parts, and what it costs."""
    w, m = workload, measurements
    wru_row = m.write_units_per_row
    rows_per_s = 1 / row_time(w, m).seconds
    overhead_s = w.invocation_overhead_ms / 1000
    part_rows = PART_BYTES // w.bytes_per_record
    seconds = overhead_s + rows / rows_per_s
    parts = max(1, math.ceil(rows / part_rows))
    parallel = min(parts, PART_CONCURRENCY)
    wall_s = math.ceil(parts / parallel) * (overhead_s + min(rows, part_rows) / rows_per_s)
    load = replace(w, records_per_day=rows, files_per_day=1)

    def month_usd(month: int, price: Any = monthly_cost) -> float:
        return price(load, m, gsis=gsis, month=month).monthly_total_usd

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
        "write_usd_per_file": rows
        * wru_row
        * (1 + gsis)
        * PRICES["dynamodb"]["write_request_units_per_million"]
        / 1e6,
        "month_1_usd": month_usd(1),
        "month_12_usd": month_usd(12),
        "month_12_kept_usd": month_usd(12, monthly_cost_keeping_everything),
    }


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
    w, m = workload or Workload(records_per_day=0), measurements
    wru_row = m.write_units_per_row
    rows_per_s = 1 / row_time(w, m).seconds
    ceilings = partition_ceilings(m, stages=stages, festival_days=festival_days)
    binding = min(ceilings, key=ceilings.__getitem__)
    max_parallel = max(1, int(ceilings[binding] // rows_per_s))
    per_invocation_rows = max_rows_per_invocation(w, m, LAMBDA_MAX_TIMEOUT_S)
    part_rows = PART_BYTES // w.bytes_per_record
    cases = [_scaling_case(w, m, rows, f"{rows:,} records/day", gsis) for rows in records_per_day]
    big_rows = big_file_bytes // w.bytes_per_record
    cases.append(_scaling_case(w, m, big_rows, f"one {big_file_bytes / 1e9:g} GB file", gsis))
    if reserved_concurrency is None:  # as many invocations as the binding ceiling allows
        reserved_concurrency = max_parallel
    guard_wru_per_s = reserved_concurrency * rows_per_s * wru_row * (1 + gsis)
    return {
        "memory_mb": w.lambda_memory_mb,
        "rows_per_second_per_invocation": rows_per_s,
        "one_invocation_above_binding_ceiling": rows_per_s > ceilings[binding],
        "wru_per_second_per_invocation": rows_per_s * wru_row * (1 + gsis),
        "max_rows_template_timeout": max_rows_per_invocation(w, m, w.lambda_timeout_s),
        "max_rows_15_minutes": per_invocation_rows,
        "max_file_mb_15_minutes": per_invocation_rows * w.bytes_per_record / 1e6,
        "part_rows": part_rows,
        "part_mb": part_rows * w.bytes_per_record / 1e6,
        "part_seconds": w.invocation_overhead_ms / 1000 + part_rows / rows_per_s,
        "part_concurrency": PART_CONCURRENCY,
        "partition_ceilings_rows_per_s": ceilings,
        "binding_ceiling": binding,
        "max_parallel_parts": max_parallel,
        "reserved_concurrency": reserved_concurrency,
        "reserved_concurrency_max_wru_per_s": guard_wru_per_s,
        "reserved_concurrency_max_usd_per_hour": guard_wru_per_s
        * 3600
        * PRICES["dynamodb"]["write_request_units_per_million"]
        / 1e6,
        "sns_email_deliveries_per_s": SNS_EMAIL_DELIVERIES_PER_S,
        "cases": cases,
    }
