"""The model's figures as Markdown, and the generated blocks of a document.

A document (docs/cost-and-scalability.md) holds blocks between
``<!-- BEGIN generated:NAME -->`` and ``<!-- END generated:NAME -->``: :func:`render_doc`
rewrites each from the model, and a test fails when a committed block differs.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, replace
from typing import Any

from festival.cost.comparisons import (
    compare_architectures,
    compare_gsis,
    compare_retention,
    import_from_s3,
    provisioned_vs_on_demand,
)
from festival.cost.duration import write_bound_latency_ms
from festival.cost.limits import power_tuning, scalability
from festival.cost.measurements import Measurements, MeasurementsError
from festival.cost.model import (
    CostBreakdown,
    coexisting_versions,
    monthly_cost,
    monthly_cost_keeping_everything,
    reconcile_sweep,
)
from festival.cost.prices import (
    ARCHITECTURES,
    DAYS_PER_MONTH,
    FUNCTION_TIMEOUT_S,
    NEW_ON_DEMAND_TABLE_WRU_PER_S,
    PART_BYTES,
    PERFORMANCE,
    RECOMMENDED_MEMORY_MB,
    REPORT_RESERVE_S,
    RETENTION_DAYS,
    SERVICES,
    WRITES_IN_FLIGHT,
)
from festival.cost.workload import Workload

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
    *,
    keep_everything: bool = False,
    **options: Any,
) -> list[dict[str, Any]]:
    """One row per daily volume: month-12 cost by service, and the totals of months 1, 12.
    The template's retention unless ``keep_everything`` (``UploadRetentionDays`` 0)."""
    price = monthly_cost_keeping_everything if keep_everything else monthly_cost
    rows = []
    for records in records_per_day:
        load = replace(workload or Workload(records_per_day=0), records_per_day=records)
        breakdown = price(load, measurements, **{**options, "month": 12})
        first = price(load, measurements, **{**options, "month": 1})
        rows.append(
            {
                "records_per_day": records,
                "csv_mb_per_day": records * load.bytes_per_record / 1e6,
                **breakdown.by_service(),
                "month_1_usd": first.monthly_total_usd,
                "month_12_usd": breakdown.monthly_total_usd,
            }
        )
    return rows


# --- Numbers as the tables write them ----------------------------------------------------------


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


# --- The monthly cost --------------------------------------------------------------------------


def markdown_cost_table(measurements: Measurements, **options: Any) -> str:
    rows = cost_table(measurements, **options)
    header = [
        "Records/day",
        "CSV/day",
        *(SERVICE_TITLES[s] for s in SERVICES),
        "Month 1",
        "**Month 12**",
    ]
    body = [
        [
            f"{row['records_per_day']:,}",
            f"{row['csv_mb_per_day'] * 1000:,.0f} kB",
            *(_usd(row[s]) for s in SERVICES),
            _usd(row["month_1_usd"]),
            f"**{_usd(row['month_12_usd'])}**",
        ]
        for row in rows
    ]
    return _markdown(header, body)


def markdown_lines(breakdown: CostBreakdown) -> str:
    header = ["Service", "Item", "Quantity / month", "Unit price", "Cost / month"]
    body = [
        [
            SERVICE_TITLES[line.service],
            line.item,
            _per(line.quantity, line.unit),
            f"{_price(line.unit_price_usd)} / {line.unit}",
            _usd(line.monthly_usd),
        ]
        for line in breakdown.lines
    ]
    body.append(["**Total**", "", "", "", f"**{_usd(breakdown.monthly_total_usd)}**"])
    return _markdown(header, body, "lllrr")


# --- The comparisons ---------------------------------------------------------------------------


def _records_table(
    title: str,
    header: Sequence[str],
    rows_of: Callable[[int], list[list[str]]],
    align: str = "",
) -> list[str]:
    """A titled table with rows for each of the documents' daily volumes."""
    body = [row for records in DOC_RECORDS for row in rows_of(records)]
    return [title, "", _markdown(header, body, align), ""]


def _capacity_rows(measurements: Measurements, records: int) -> list[list[str]]:
    c = provisioned_vs_on_demand(Workload(records_per_day=records), measurements)
    modes = ("on_demand", "provisioned_always_on", "provisioned_scheduled", "provisioned_smoothed")
    return [[f"{records:,}", *(_usd(c[f"{mode}_usd"]) for mode in modes), c["cheaper"]]]


def _architecture_and_gsis_rows(measurements: Measurements, records: int) -> list[list[str]]:
    load = Workload(records_per_day=records)
    arch = compare_architectures(load, measurements)
    gsis = compare_gsis(load, measurements)
    return [
        [
            f"{records:,}",
            *(f"${arch[f'lambda_{name}_usd']:.4f}" for name in ARCHITECTURES),
            *(_usd(gsis[n]["monthly_total_usd"]) for n in (1, 2, 3)),
        ]
    ]


def _retention_rows(measurements: Measurements, records: int) -> list[list[str]]:
    choices = compare_retention(Workload(records_per_day=records), measurements)
    periods = ("month_1_usd", "month_12_usd", "first_12_months_usd")
    return [
        [f"{records:,}", name, *(_usd(r[period]) for period in periods)]
        for name, r in choices.items()
    ]


def _import_rows(measurements: Measurements, records: int) -> list[list[str]]:
    i = import_from_s3(Workload(records_per_day=records), measurements)
    ways = ("row_writes_usd", "import_new_rows_usd", "import_full_reload_daily_usd")
    return [[f"{records:,}", *(_usd(i[way]) for way in ways)]]


def markdown_comparisons(measurements: Measurements) -> str:
    m = measurements
    days = RETENTION_DAYS
    tables = [
        _records_table(
            "**Capacity mode** (DynamoDB throughput only, month 12; storage is the same):",
            ["Records/day", "On-demand", "Provisioned, always on", "Provisioned, 1 h/day"]
            + ["Provisioned, smoothed (queue)", "Cheaper for this design"],
            lambda records: _capacity_rows(m, records),
            "lrrrrl",
        ),
        _records_table(
            "**Lambda architecture** (the Lambda lines alone, the sweep's included) "
            "**and number of GSIs** (total), month 12:",
            ["Records/day", "Lambda, arm64", "Lambda, x86_64"]
            + ["Total, 1 GSI", "2 GSIs", "3 GSIs (design)"],
            lambda records: _architecture_and_gsis_rows(m, records),
        ),
        _records_table(
            f"**Expiring or keeping old uploads and rows** (total; the template's {days} days "
            "first):",
            ["Records/day", "Choice", "Month 1", "Month 12", "First 12 months"],
            lambda records: _retention_rows(m, records),
            "llrrr",
        ),
        _records_table(
            "**DynamoDB Import from S3** ($0.15/GB) against row writes, month 12:",
            ["Records/day", "Row writes (design)", "Import: new rows only"]
            + ["Import: whole table daily"],
            lambda records: _import_rows(m, records),
        ),
    ]
    return "\n".join(line for table in tables for line in table).rstrip("\n")


# --- Scalability and memory size ---------------------------------------------------------------


def _scalability_facts(s: dict[str, Any]) -> list[str]:
    ceilings = ", ".join(
        f"{name}: {rows:,.0f} rows/s" for name, rows in s["partition_ceilings_rows_per_s"].items()
    )
    throttled = (
        " One invocation alone already writes faster than that: DynamoDB throttles it "
        "(the Lambda retries) until the table and indexes have grown."
        if s["one_invocation_above_binding_ceiling"]
        else ""
    )
    return [
        f"- One invocation ({s['memory_mb']:,} MB) loads {s['rows_per_second_per_invocation']:,.0f}"
        f" rows/s ({s['wru_per_second_per_invocation']:,.0f} WRU/s across the table and its "
        "GSIs).",
        f"- Largest file for one invocation: {s['max_rows_template_timeout']:,} rows "
        f"within the template's {FUNCTION_TIMEOUT_S} s timeout; {s['max_rows_15_minutes']:,} "
        f"rows ({s['max_file_mb_15_minutes']:,.0f} MB) within Lambda's 15-minute maximum.",
        f"- A part (`PartBytes`, {PART_BYTES / 2**20:g} MiB): {s['part_rows']:,} rows, loaded in "
        f"{s['part_seconds']:,.0f} s by one invocation; `PartConcurrency` "
        f"({s['part_concurrency']}) parts of a file load at once.",
        f"- Write ceilings for one file (1,000 WCU/s per partition): {ceilings}. The binding "
        f"one is {s['binding_ceiling']}, so at most {s['max_parallel_parts']} "
        f"{'part' if s['max_parallel_parts'] == 1 else 'parts'} of one file should load at "
        "once into a new table." + throttled,
        f"- Reserved concurrency {s['reserved_concurrency']} caps writes at "
        f"{s['reserved_concurrency_max_wru_per_s']:,.0f} WRU/s, i.e. at most "
        f"{_usd(s['reserved_concurrency_max_usd_per_hour'])} of DynamoDB writes an hour.",
    ]


def markdown_scalability(measurements: Measurements) -> str:
    s = scalability(measurements)
    header = [
        "Load",
        "CSV",
        "In one invocation",
        f"Fits {FUNCTION_TIMEOUT_S} s / 15 min",
        "Parts (at once)",
        "Wall clock",
        "Write cost per file",
        "Month 1",
        "Month 12",
        "Month 12, all kept",
    ]
    body = [
        [
            c["label"],
            f"{c['file_mb']:,.0f} MB",
            f"{c['one_invocation_s']:,.0f} s",
            f"{'yes' if c['fits_template_timeout'] else 'no'} / "
            f"{'yes' if c['fits_15_minutes'] else 'no'}",
            f"{c['parts']} ({c['parallel_parts']})",
            f"{c['wall_clock_s'] / 60:,.1f} min",
            *(_usd(c[key]) for key in ("write_usd_per_file", "month_1_usd", "month_12_usd")),
            _usd(c["month_12_kept_usd"]),
        ]
        for c in s["cases"]
    ]
    return _markdown(header, body, "lrrlrrrrrr") + "\n\n" + "\n".join(_scalability_facts(s))


def _power_tuning_row(row: dict[str, Any]) -> list[str]:
    memory = f"{row['memory_mb']:,} MB"
    if row["memory_mb"] == RECOMMENDED_MEMORY_MB:
        memory = f"**{memory}** (chosen)"
    cells = [memory, f"{row['cpu_share']:.2f}", row["bound_by"], f"{row['rows_per_second']:,.0f}"]
    for f in row["files"]:
        late = "" if f["fits_timeout"] else " ✗"
        cells += [f"{f['seconds']:,.0f} s{late}", f"${f['lambda_usd']:.5f}"]
    cells.append(f"{row['max_rows_timeout']:,} rows")
    return cells


def _power_tuning_notes(measurements: Measurements, base: Workload) -> list[str]:
    ms = PERFORMANCE["dynamodb"]["batch_write_item_ms"]
    return [
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


def markdown_power_tuning(measurements: Measurements) -> str:
    base = Workload(records_per_day=0)
    table = power_tuning(measurements, workload=base)
    sizes = [f"{f['rows']:,} rows" for f in table[0]["files"]]
    header = [
        "Memory",
        "vCPU share",
        "Pace set by",
        "Rows/s",
        *(f"{size}: {what}" for size in sizes for what in ("time", "Lambda cost")),
        f"Largest file in {base.lambda_timeout_s} s",
    ]
    body = [_power_tuning_row(row) for row in table]
    notes = _power_tuning_notes(measurements, base)
    return _markdown(header, body, "lrlrrrrrr") + "\n\n" + "\n".join(notes)


# --- What the file lifecycle adds ------------------------------------------------------------


def _lifecycle_usd(breakdown: CostBreakdown) -> dict[str, float]:
    """The month's lifecycle lines by kind: heads, deletes of expired rows, the sweep."""

    def usd(starts: str) -> float:
        return sum(line.monthly_usd for line in breakdown.lines if line.item.startswith(starts))

    return {
        "heads": usd("reads: file heads"),
        "expired": usd("writes: deleting the rows of expired"),
        "replaced": usd("writes: deleting a re-upload"),
        "sweep": usd("reconcile sweep"),
        "per_file": usd("writes: upload record") + usd("reads: upload record"),
    }


def _lifecycle_rows(measurements: Measurements, records: int) -> list[list[str]]:
    load = Workload(records_per_day=records)
    expiring = monthly_cost(load, measurements)  # the template's retention
    kept = monthly_cost_keeping_everything(load, measurements)
    first = monthly_cost(load, measurements, month=1)
    heads = [
        line.quantity / (load.queries_per_day * DAYS_PER_MONTH) * 1e6
        for breakdown in (first, expiring, kept)
        for line in breakdown.lines
        if line.item.startswith("reads: file heads")
    ]
    e, k = _lifecycle_usd(expiring), _lifecycle_usd(kept)
    return [
        [
            f"{records:,}",
            f"{heads[0]:g} → {heads[1]:g} RRU (all kept: {heads[2]:g})",
            *map(_usd, (e["heads"], k["heads"], e["expired"], e["sweep"])),
            *map(_usd, (sum(e.values()), sum(k.values()))),
        ]
    ]


def _sweep_rows(measurements: Measurements, records: int) -> list[list[str]]:
    load = Workload(records_per_day=records)
    choices = (
        (f"{RETENTION_DAYS} days", load, RETENTION_DAYS),
        ("all", replace(load, upload_retention_days=None), None),
    )
    rows = []
    for kept, workload, expire in choices:
        sweep = reconcile_sweep(workload, measurements, expire_after_days=expire)
        by = sweep["by_service"]
        rows.append(
            [
                f"{records:,}",
                kept,
                f"{sweep['read_units_per_run']:g} RRU",
                *(_usd(by[service]) for service in ("dynamodb", "lambda", "s3", "cloudwatch_logs")),
                f"**{_usd(sweep['monthly_usd'])}**",
                f"(${sweep['sqs_receives_usd']:.4f})",
            ]
        )
    return rows


def _lifecycle_tables(measurements: Measurements) -> list[str]:
    m, days = measurements, f"{RETENTION_DAYS}-day expiry"
    runs = reconcile_sweep(Workload(records_per_day=0), m)["runs"]
    return [
        *_records_table(
            "**What the file lifecycle adds** (month 12, one new file a day; in the totals "
            f"above; with the template's {days}, a file is removed when its upload expires and "
            "its head a week later):",
            ["Records/day", "Heads read per question (month 1 → 12)", f"Heads reads, {days}"]
            + ["Heads reads, all kept", "Deleting expired rows", "Reconcile sweep"]
            + [f"Added, {days}", "Added, all kept"],
            lambda records: _lifecycle_rows(m, records),
        ),
        *_records_table(
            f"**The reconcile sweep** ({runs:,.0f} runs a month; month 12, the template's "
            f"{days} or every upload and row kept; SQS's receives are within its free million "
            "a month):",
            ["Records/day", "Rows kept", "Read units a run", "DynamoDB", "Lambda", "S3 LIST"]
            + ["CloudWatch Logs", "**Sweep a month**", "SQS receives (free tier)"],
            lambda records: _sweep_rows(m, records),
            "llrrrrrrr",
        ),
    ]


def markdown_lifecycle(measurements: Measurements) -> str:
    overlap = coexisting_versions(Workload(records_per_day=100_000), measurements)
    note = (
        f"Two versions of a file coexist only while the new one loads and the old one is "
        f"collected: at 100,000 records a day the old version is {overlap['gb']:.2f} GB "
        f"(4 copies); for {overlap['minutes_a_day']:g} minutes a day that is "
        f"{overlap['gb_month']:.4f} GB-month, {_usd(overlap['monthly_usd'])} a month: "
        "left out."
    )
    return "\n".join([*_lifecycle_tables(measurements), note])


def markdown_measurements(measurements: Measurements) -> str:
    return "```json\n" + json.dumps(asdict(measurements), indent=2) + "\n```"


# --- Generated blocks of a document ------------------------------------------------------------


def doc_blocks(measurements: Measurements) -> dict[str, str]:
    """The generated parts of docs/cost-and-scalability.md, by marker name."""
    example = monthly_cost(Workload(records_per_day=100_000), measurements)
    return {
        "measurements": markdown_measurements(measurements),
        "table": markdown_cost_table(measurements),
        "table-free-tier": markdown_cost_table(measurements, free_tier=True),
        "table-kept": markdown_cost_table(measurements, keep_everything=True),
        "lines-100k": markdown_lines(example),
        "lifecycle": markdown_lifecycle(measurements),
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
