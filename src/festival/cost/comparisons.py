"""The design's choices priced against their alternatives: capacity mode, architecture,
number of GSIs, keeping or expiring rows, and DynamoDB's Import from S3."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from festival.cost.duration import load_seconds
from festival.cost.measurements import Measurements
from festival.cost.model import (
    CostBreakdown,
    average_days_kept,
    month_days,
    monthly_cost,
    monthly_series,
    provisioned_capacity,
)
from festival.cost.prices import (
    DAYS_PER_MONTH,
    GB,
    HOURS_PER_MONTH,
    LAMBDA_MAX_TIMEOUT_S,
    PRICES,
    PROVISIONED_BREAK_EVEN_UTILIZATION,
    REPORT_RESERVE_S,
    RETENTION_DAYS,
    SECONDS_PER_DAY,
)
from festival.cost.workload import Workload


def _throughput_usd(breakdown: CostBreakdown) -> float:
    """DynamoDB's lines apart from storage."""
    return sum(
        line.monthly_usd
        for line in breakdown.lines
        if line.service == "dynamodb" and not line.item.startswith("storage")
    )


def _scheduled_wcu_hours(
    workload: Workload, measurements: Measurements, units: dict[str, int], copies: int
) -> float:
    """The load's capacity for the hours a day the load takes, 1 WCU the rest of the day."""
    w = workload
    load_hours = (
        math.ceil(max(load_seconds(w, measurements), w.lambda_timeout_s - REPORT_RESERVE_S) / 3600)
        * w.files_per_day
    )
    return (
        copies * (units["table_wcu"] * load_hours + 1 * (24 - min(load_hours, 24))) * DAYS_PER_MONTH
    )


def _smoothed_wcu(workload: Workload, measurements: Measurements) -> int:
    """The WCU that drain a day's writes evenly over the day at 70% utilization."""
    w = workload
    wru_per_s = (
        w.records_per_day
        * (1 - w.rejected_row_share)
        * measurements.write_units_per_row
        / SECONDS_PER_DAY
    )
    return max(1, math.ceil(wru_per_s / 0.7))


def _flat_break_even_wru_per_s() -> float:
    """Flat traffic against the 1-WCU minimum per table and GSI: on-demand costs w x seconds
    in a month x price; one WCU all month costs 730 x $0.00065."""
    ddb = PRICES["dynamodb"]
    one_wcu_month = HOURS_PER_MONTH * ddb["wcu_hour"]
    od_per_wru = ddb["write_request_units_per_million"] / 1e6
    return one_wcu_month / (SECONDS_PER_DAY * DAYS_PER_MONTH * od_per_wru)


def _capacity_method(flat_break_even_wru_per_s: float, busy_fraction: float) -> str:
    ddb = PRICES["dynamodb"]
    return (
        "Provisioned capacity is paid per hour, used or not: one WCU-hour costs "
        f"${ddb['wcu_hour']} for up to 3,600 writes that on-demand bills at "
        f"${ddb['write_request_units_per_million']}/million, so provisioned is cheaper "
        f"only above {PROVISIONED_BREAK_EVEN_UTILIZATION:.1%} average utilization, i.e. "
        f"when writes keep the capacity busy {PROVISIONED_BREAK_EVEN_UTILIZATION * 24:.1f} "
        "h a day. For flat traffic with the 1-WCU minimum per table and index, on-demand "
        f"is cheaper below {flat_break_even_wru_per_s:.3f} WRU/s per table or index "
        f"(about {flat_break_even_wru_per_s * SECONDS_PER_DAY:,.0f} rows a day, if the "
        "writes were spread evenly over the day). Loads by one invocation per file keep "
        f"the capacity busy {busy_fraction:.1%} of the day here, and at most "
        f"{LAMBDA_MAX_TIMEOUT_S / SECONDS_PER_DAY:.1%} per daily file (15 minutes)."
    )


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
    on_demand = _throughput_usd(monthly_cost(w, m, gsis=gsis, month=month))
    always_on = _throughput_usd(monthly_cost(w, m, gsis=gsis, month=month, capacity="provisioned"))
    units = provisioned_capacity(w, m, gsis)
    rcu_month = (units["table_rcu"] + units["gsi_rcu"] * gsis) * HOURS_PER_MONTH * ddb["rcu_hour"]
    scheduled = _scheduled_wcu_hours(w, m, units, copies) * ddb["wcu_hour"] + rcu_month
    smoothed = copies * _smoothed_wcu(w, m) * HOURS_PER_MONTH * ddb["wcu_hour"] + rcu_month
    flat_break_even = _flat_break_even_wru_per_s()
    busy_fraction = min(load_seconds(w, m), w.lambda_timeout_s) * w.files_per_day / SECONDS_PER_DAY
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
            "sustained_wru_per_s_per_table_or_index": flat_break_even,
            "records_per_day_if_smoothed": flat_break_even
            * SECONDS_PER_DAY
            / m.write_units_per_row,
            "busy_fraction_of_the_day_now": busy_fraction,
        },
        "method": _capacity_method(flat_break_even, busy_fraction),
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
        "lambda_saving_share": 1
        - PRICES["lambda"]["gb_second"]["arm64"] / PRICES["lambda"]["gb_second"]["x86_64"],
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


def _retention_summary(series: list[CostBreakdown], months: int) -> dict[str, float]:
    last = series[-1]
    return {
        "month_1_usd": series[0].monthly_total_usd,
        f"month_{months}_usd": last.monthly_total_usd,
        f"first_{months}_months_usd": sum(b.monthly_total_usd for b in series),
        f"dynamodb_storage_month_{months}_usd": sum(
            line.monthly_usd
            for line in last.lines
            if line.item.startswith("storage") and line.service == "dynamodb"
        ),
    }


def compare_retention(
    workload: Workload,
    measurements: Measurements,
    *,
    keep_days: int = RETENTION_DAYS,
    months: int = 12,
    **options: Any,
) -> dict[str, dict[str, float]]:
    """Expiring uploads and their rows (the template's ``UploadRetentionDays``, by default
    the template's days) against keeping everything (``UploadRetentionDays`` 0), and against
    expiring the rows only, with the uploaded CSVs kept in S3 as the archive (a row is 50
    bytes of CSV in S3 against 4 x ~620 bytes in DynamoDB; restoring is re-uploading)."""
    options = {key: value for key, value in options.items() if key != "expire_after_days"}
    choices = {
        f"TTL after {keep_days} days": (
            replace(workload, upload_retention_days=keep_days),
            keep_days,
        ),
        "keep everything": (replace(workload, upload_retention_days=None), None),
        f"TTL after {keep_days} days, CSVs kept in S3 as the archive": (
            replace(workload, upload_retention_days=None),
            keep_days,
        ),
    }
    return {
        name: _retention_summary(
            monthly_series(choice, measurements, months, expire_after_days=expire, **options),
            months,
        )
        for name, (choice, expire) in choices.items()
    }


IMPORT_FROM_S3_DOES_NOT_FIT = (
    "Import from S3 always creates a NEW table; it cannot load into an existing one. "
    "Daily files would each need a new table (readers switching table names, old "
    "tables dropped) or a daily re-import of everything; the CSV would first have to "
    "be rewritten with the computed keys (shards, GSI keys); and an import takes "
    "minutes, with no per-row report for the email. It suits a one-off bulk "
    "load or a rebuild, not daily uploads into the live table."
)


def import_from_s3(
    workload: Workload, measurements: Measurements, *, gsis: int = 3, month: int = 12
) -> dict[str, Any]:
    """DynamoDB's Import from S3 ($0.15/GB of source data, no write units) against writes."""
    w = workload
    price = PRICES["dynamodb"]["import_from_s3_gb"]
    start, end = month_days(month)
    daily_gb = w.records_per_day * w.bytes_per_record / GB
    new_rows_gb = daily_gb * DAYS_PER_MONTH
    # A table holding everything so far would have to be re-imported whole every day.
    full_reload_gb = daily_gb * average_days_kept(start, end, None) * DAYS_PER_MONTH
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
        "why": IMPORT_FROM_S3_DOES_NOT_FIT,
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
