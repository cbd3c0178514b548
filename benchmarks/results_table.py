"""The figures of `make bench` (benchmarks/results.json) as the table of docs/benchmarks.md.

bench.py writes the table after a run; tests/unit/test_docs.py fails when the committed
table is not what results.json gives.
"""

from __future__ import annotations

import re
from pathlib import Path

BLOCK = re.compile(r"(<!-- BEGIN bench -->\n).*?(<!-- END bench -->)", re.S)


def _large_file_rows(results: dict) -> list[str]:
    large = results.get("large_file")
    if not large:
        return []
    when = large.get("measured_at", results["measured_at"])
    dated = "" if when == results["measured_at"] else f" (measured {when[:10]})"
    return [
        f"| {large['rows']:,} rows ({large['bytes'] / 1e6:.0f} MB) end to end, in parts{dated} "
        f"| {large['status']} in {large['seconds']:.0f} s, {large['rows_per_second']:,} rows/s, "
        f"{large['parts']} parts, {large['invocations']} invocations, peak memory ≤ "
        f"{large['peak_memory_mb_max']} MB of {large['memory_size_mb']} MB | every row, one "
        f"email |",
        f"| the same file in one invocation (at the pace of the {results['pipeline_rows']:,}"
        f"-row run) | would need {large['single_invocation_seconds']:,} s: times out after "
        f"about {large['single_invocation_max_rows']:,} rows ({large['timeout_s']} s) | — |",
    ]


def _local_cpu_rows(results: dict) -> list[str]:
    local = results.get("lambda_cpu_local")
    if not local:
        return []
    return [
        f"| the same, the handler against the local stack: {local['rows']:,} rows end to end "
        f"(S3 reads, writes, the rows read back for the report, SNS) "
        f"| **{local['ms_per_1000_rows']:.1f} ms**: each 1,000 rows "
        f"{local['marginal_ms_per_1000_rows']:.1f} ms, each file {local['fixed_ms_per_file']:.0f}"
        f" ms; a cold start's import {local['import_ms']:.0f} ms | — |",
    ]


def bench_table(results: dict) -> str:
    """The measured figures against their goals, and where they were measured."""
    naive_rows = (
        f"Both loaders wrote all {results['pipeline_rows']:,} rows."
        if results["naive_rows_measured"] == results["pipeline_rows"]
        else f"The naive loader wrote {results['naive_rows_measured']:,} rows; its time is "
        f"scaled to {results['pipeline_rows']:,}."
    )
    split = results["lambda_cpu_split_ms_per_1000_rows"]
    return "\n".join(
        [
            f"Measured {results['measured_at']} on a shared 2-core machine (Python "
            f"{results['python']}; the Lambda on Python 3.10 in the local stack):",
            "",
            "| figure | measured | goal |",
            "| --- | ---: | ---: |",
            f"| parse + normalize throughput ÷ bare `csv.reader` (200,000 rows) "
            f"| {results['parse_ratio_to_csv_reader']:.2f} | ≥ 0.5 |",
            f"| DynamoDB write requests per 1,000 rows (counted by the emulator) "
            f"| {results['write_requests_per_1000_rows']:.2f} | ≤ 41 |",
            f"| peak memory, 10,000 rows → 1,000,000 rows "
            f"| {results['peak_memory_mb_10k_rows']} MB → {results['peak_memory_mb_1m_rows']} MB "
            f"| growth < 20 MB |",
            f"| {results['pipeline_rows']:,} rows end to end (upload → ingest record) vs a naive "
            f"one-`put_item`-per-row loader on the same stack "
            f"| {results['pipeline_seconds']:.0f} s vs {results['naive_seconds']:.0f} s: "
            f"**{results['speedup_vs_naive']:.1f}×** | ≥ 10× |",
            f"| the Lambda's CPU per 1,000 rows on Python 3.10, against an instant DynamoDB "
            f"stand-in (parse / items / requests) "
            f"| **{results['lambda_cpu_ms_per_1000_rows']:.1f} ms** "
            f"({split['parse']:.1f} / {split['items']:.1f} / {split['requests']:.1f}) | ≤ 50 ms |",
            *_local_cpu_rows(results),
            *_large_file_rows(results),
            "",
            f"{naive_rows} The Lambda took {results['lambda_ms_per_1000_rows']:.0f} ms per "
            "1,000 rows in the emulator (not Lambda's duration on AWS: the cost model uses its "
            "CPU time).",
        ]
    )


def render(text: str, results: dict) -> str:
    """``text`` with its bench block replaced by the table of ``results``."""
    return BLOCK.sub(
        lambda match: f"{match.group(1)}{bench_table(results)}\n{match.group(2)}", text
    )


def record(document: Path, results: dict) -> None:
    document.write_text(render(document.read_text(encoding="utf-8"), results), encoding="utf-8")
