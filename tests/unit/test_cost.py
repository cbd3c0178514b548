"""The cost model against examples worked out by hand, one service at a time.

Every example: 100,000 records a day in one file, measurements given explicitly (200 ms of
CPU and 40 BatchWriteItem requests per 1,000 rows, 1,000 write request units per 1,000 rows,
400-byte items), a Lambda of 1,769 MB (one vCPU) unless said, BatchWriteItem answering in
10 ms, a month of 30.4167 days, GB = 2**30 bytes.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, replace
from pathlib import Path

import pytest

from festival import cost
from festival.cost import Measurements, MeasurementsError, Workload
from festival.cost import measurements as measurements_module

MEASURED = Measurements(
    lambda_cpu_ms_per_1000_rows=200.0,
    write_requests_per_1000_rows=40.0,
    table_write_units_per_1000_rows=1000.0,
    item_bytes=400,
    measured_at="2026-11-25T00:00:00Z",
)
DAY_100K = Workload(records_per_day=100_000, lambda_memory_mb=1769)  # one whole vCPU
D = 30.4167
# 0.5 s of overhead + 100,000 rows x 0.2 ms of CPU on one vCPU = 20.5 s per file, x 30.4167
# files x 1,769 / 1,024 GB = 1,077.19 GB-s
GB_S_100K = 20.5 * D * 1769 / 1024
DOC = Path(__file__).resolve().parents[2] / "docs" / "cost-and-scalability.md"


def line(breakdown: cost.CostBreakdown, service: str, starts: str) -> cost.CostLine:
    [found] = [
        item for item in breakdown.lines if item.service == service and item.item.startswith(starts)
    ]
    return found


def test_dynamodb_row_writes_cost_four_write_units_a_row():
    # 100,000 rows x (table + 3 GSIs) x 30.4167 days = 12,166,680 WRU x $0.625/M = $7.6042
    writes = line(cost.monthly_cost(DAY_100K, MEASURED), "dynamodb", "writes: rows")
    assert writes.quantity == pytest.approx(12.16668)
    assert writes.monthly_usd == pytest.approx(7.604175)


def test_dynamodb_per_file_writes_are_the_ingest_record_and_one_update():
    # 2 WRU x 30.4167 files = 60.83 WRU x $0.625/M = $0.000038
    per_file = line(cost.monthly_cost(DAY_100K, MEASURED), "dynamodb", "writes: ingest")
    assert per_file.monthly_usd == pytest.approx(60.8334 * 0.625e-6)


def test_dynamodb_queries_read_half_a_unit_each():
    # 10,000 queries x 4 KB, eventually consistent = 0.5 RRU: 152,083.5 RRU x $0.125/M
    queries = line(cost.monthly_cost(DAY_100K, MEASURED), "dynamodb", "reads: queries")
    assert queries.monthly_usd == pytest.approx(0.0190104, rel=1e-5)


def test_dynamodb_stale_row_check_reads_the_whole_file_back():
    # 100,000 / 16 = 6,250 rows x 400 B = 2,500,000 B per partition = 611 x 4 KB;
    # 16 x 611 x 0.5 = 4,888 RRU + 0.5 (GetItem) = 4,888.5 RRU x 30.4167 files x $0.125/M
    checks = line(cost.monthly_cost(DAY_100K, MEASURED), "dynamodb", "reads: longest")
    assert checks.quantity * 1e6 == pytest.approx(4888.5 * D)
    assert checks.monthly_usd == pytest.approx(0.0185863, rel=1e-4)


def test_a_loads_end_reads_its_rows_back_once_and_a_reuploads_three_times_up_to_its_bound():
    # A first upload: a consistent Query of each of 16 partitions of 6,250 rows x 400 B =
    # 2,500,000 B, 611 x 4 KB: 16 x 611 = 9,776 RRU a file, x 30.4167 files
    first = line(cost.monthly_cost(DAY_100K, MEASURED), "dynamodb", "reads: a load's rows")
    assert first.quantity * 1e6 == pytest.approx(16 * 611 * D)
    # Re-uploads: the new version for its clashes, then both versions for the changes.
    again = replace(DAY_100K, new_record_share=0.0)
    reread = line(cost.monthly_cost(again, MEASURED), "dynamodb", "reads: a load's rows")
    assert reread.quantity == pytest.approx(3 * first.quantity)
    # Past 100,000 rows a version, the email says to run `festival clashes` instead.
    bigger = replace(DAY_100K, records_per_day=100_001)
    assert (
        line(cost.monthly_cost(bigger, MEASURED), "dynamodb", "reads: a load's rows").quantity == 0
    )


def test_dynamodb_storage_grows_each_month_without_expiry():
    # (400 + 100) B x 4 copies x 100,000 rows + one 1,124-B ingest record = 200,001,124 B/day.
    # Month 12 holds on average 11.5 months of rows: 349.792 days -> 65.15 GB x $0.25 = $16.29
    kept = cost.monthly_cost_keeping_everything
    month_12 = line(kept(DAY_100K, MEASURED, month=12), "dynamodb", "storage")
    assert month_12.item == "storage: table and 3 GSI copies, no expiry"
    assert month_12.quantity == pytest.approx(200_001_124 * 11.5 * D / 2**30)
    assert month_12.monthly_usd == pytest.approx(16.2883, rel=1e-4)
    # Month 1 holds half a month on average: 15.2 days -> 2.83 GB -> $0.71
    month_1 = line(kept(DAY_100K, MEASURED, month=1), "dynamodb", "storage")
    assert month_1.monthly_usd == pytest.approx(0.70819, rel=1e-4)


def test_the_default_prices_the_templates_retention_and_keeping_everything_is_the_alternative():
    days = cost.TEMPLATE_DEFAULTS["UploadRetentionDays"]
    default = cost.monthly_cost(DAY_100K, MEASURED)
    assert default.assumptions["expire_after_days"] == days
    assert default.assumptions["workload"]["upload_retention_days"] == days
    assert (
        line(default, "dynamodb", "storage").item
        == f"storage: table and 3 GSI copies, TTL {days} days"
    )
    assert line(default, "s3", "storage").item == f"storage: uploads (expire after {days} days)"
    kept = cost.monthly_cost_keeping_everything(DAY_100K, MEASURED)
    assert kept.assumptions["expire_after_days"] is None
    assert kept.assumptions["workload"]["upload_retention_days"] is None
    assert line(kept, "s3", "storage").item == "storage: uploads (kept)"
    assert kept.monthly_total_usd > default.monthly_total_usd


def test_dynamodb_storage_levels_off_with_ttl():
    # TTL 90 days: from month 4 on, 90 days of rows: 200,001,124 x 90 / 2**30 GB x $0.25 = $4.19
    series = cost.monthly_series(DAY_100K, MEASURED, expire_after_days=90)
    storage = [line(b, "dynamodb", "storage").monthly_usd for b in series]
    assert storage[11] == pytest.approx(200_001_124 * 90 / 2**30 * 0.25)
    assert storage[3] == pytest.approx(storage[11])
    assert storage[0] < storage[1] < storage[2] < storage[3]


def test_lambda_runs_the_overhead_plus_the_cpu_time_on_one_vcpu():
    # Writes: 40 requests x 10 ms / 4 in flight = 100 ms per 1,000 rows, under the CPU's 200
    assert cost.load_seconds(DAY_100K, MEASURED) == pytest.approx(20.5)
    breakdown = cost.monthly_cost(DAY_100K, MEASURED)
    compute = line(breakdown, "lambda", "compute")
    assert compute.item == "compute (arm64, 1769 MB)"
    assert compute.quantity == pytest.approx(GB_S_100K, rel=1e-6)
    assert compute.monthly_usd == pytest.approx(GB_S_100K * 0.0000133334, rel=1e-6)  # $0.0144
    requests = line(breakdown, "lambda", "requests")
    assert requests.monthly_usd == pytest.approx(D / 1e6 * 0.20)


def test_below_one_vcpu_the_cpu_time_stretches_by_the_share_of_a_vcpu():
    # 256 MB = 256 / 1,769 = 0.1447 vCPU: 200 ms / 0.1447 = 1,382 ms per 1,000 rows
    small = replace(DAY_100K, lambda_memory_mb=256)
    assert cost.cpu_share(256) == pytest.approx(0.144714, rel=1e-5)
    assert cost.load_seconds(small, MEASURED) == pytest.approx(0.5 + 100 * 200 * 1769 / 256 / 1000)
    # ...so the rows' GB-seconds are the same at any size up to one vCPU: 20 s x 1,769 MB
    rows_gb_s = (cost.load_seconds(small, MEASURED) - 0.5) * 256 / 1024
    assert rows_gb_s == pytest.approx(20 * 1769 / 1024)


def test_above_one_vcpu_memory_buys_no_speed_for_a_single_threaded_load():
    big = replace(DAY_100K, lambda_memory_mb=3008)
    assert cost.cpu_share(3008) == 1.0
    assert cost.load_seconds(big, MEASURED) == pytest.approx(cost.load_seconds(DAY_100K, MEASURED))


def test_writes_set_the_pace_when_dynamodb_answers_slower_than_the_cpu_works():
    # 30 ms a request: 40 x 30 / 4 = 300 ms per 1,000 rows, beyond the CPU's 200 ms
    slow = replace(DAY_100K, batch_write_item_ms=30.0)
    row = cost.row_seconds(MEASURED, 1769, 30.0)
    assert (row.cpu_s, row.writes_s, row.bound_by) == (
        pytest.approx(0.0002),
        pytest.approx(0.0003),
        "writes",
    )
    assert cost.load_seconds(slow, MEASURED) == pytest.approx(0.5 + 30)
    # The break-even: 200 ms / 40 requests = 5 ms of CPU a request, x 4 in flight = 20 ms
    assert cost.write_bound_latency_ms(MEASURED, 1769) == pytest.approx(20)


def test_power_tuning_gives_time_cost_and_largest_file_for_each_memory_size():
    table = cost.power_tuning(MEASURED)
    by_memory = {row["memory_mb"]: row for row in table}
    assert list(by_memory) == [256, 512, 1024, 1769, 3008]
    one_vcpu = by_memory[1769]
    small_file, big_file = one_vcpu["files"]
    assert small_file["seconds"] == pytest.approx(20.5)
    # $0.20 per million requests + 20.5 s x 1,769 / 1,024 GB x $0.0000133334
    assert small_file["lambda_usd"] == pytest.approx(0.2e-6 + 20.5 * 1769 / 1024 * 0.0000133334)
    assert big_file["seconds"] == pytest.approx(200.5) and big_file["fits_timeout"]
    assert one_vcpu["max_rows_timeout"] == pytest.approx(1_447_500, abs=1)  # 289.5 s / 0.2 ms
    # 256 MB: a million rows take 1,382.5 s, beyond 290 s; the cost is nearly the same
    assert not by_memory[256]["files"][1]["fits_timeout"]
    assert by_memory[256]["files"][1]["lambda_usd"] == pytest.approx(
        big_file["lambda_usd"], rel=0.01
    )
    # 3,008 MB is no faster, so it costs 3,008 / 1,769 as much
    assert by_memory[3008]["files"][1]["seconds"] == pytest.approx(200.5)
    assert by_memory[3008]["files"][1]["lambda_usd"] > 1.6 * big_file["lambda_usd"]


def test_the_cost_command_takes_a_memory_size(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from festival.cli import main

    results = tmp_path / "results.json"
    results.write_text(json.dumps({**asdict(MEASURED)}))
    monkeypatch.setattr(measurements_module, "DEFAULT_RESULTS", results)
    runner = CliRunner()
    args = ["cost", "--records-per-day", "100000", "--json"]
    default = json.loads(runner.invoke(main, args).output)
    small = json.loads(runner.invoke(main, [*args, "--memory", "256"]).output)
    assert default["assumptions"]["workload"]["lambda_memory_mb"] == cost.RECOMMENDED_MEMORY_MB
    assert small["assumptions"]["workload"]["lambda_memory_mb"] == 256
    compute = small["services"]["lambda"]["lines"][1]
    assert compute["item"] == "compute (arm64, 256 MB)"


def test_x86_costs_a_quarter_more_per_gb_second_than_arm64():
    arm = cost.monthly_cost(DAY_100K, MEASURED, architecture="arm64")
    x86 = cost.monthly_cost(DAY_100K, MEASURED, architecture="x86")
    assert line(x86, "lambda", "compute").monthly_usd == pytest.approx(GB_S_100K * 0.0000166667)
    comparison = cost.compare_architectures(DAY_100K, MEASURED)
    assert comparison["saving_usd"] == pytest.approx(x86.monthly_total_usd - arm.monthly_total_usd)
    assert comparison["lambda_saving_share"] == pytest.approx(0.2, abs=1e-4)


def test_s3_prices_one_put_and_one_get_per_file_and_90_days_of_uploads():
    breakdown = cost.monthly_cost(DAY_100K, MEASURED, month=12)
    assert line(breakdown, "s3", "PUT").monthly_usd == pytest.approx(D / 1000 * 0.005)
    assert line(breakdown, "s3", "GET").monthly_usd == pytest.approx(D / 1000 * 0.0004)
    # 100,000 x 50 B = 5 MB a day, 90 days kept: 0.4191 GB x $0.023 = $0.00964
    assert line(breakdown, "s3", "storage").monthly_usd == pytest.approx(
        5_000_000 * 90 / 2**30 * 0.023
    )


def test_sns_publishes_and_emails_once_per_file():
    breakdown = cost.monthly_cost(DAY_100K, MEASURED)
    assert line(breakdown, "sns", "publishes").monthly_usd == pytest.approx(D / 1e6 * 0.50)
    # $2.00 per 100,000 emails: 30.4167 emails = $0.000608
    assert line(breakdown, "sns", "email").monthly_usd == pytest.approx(0.000608334)


def test_cloudwatch_logs_count_the_first_50_rejected_rows_of_a_file():
    # 1% of 100,000 rows rejected, only the first 50 are logged: 2,048 + 50 x 120 = 8,048 B/day
    workload = Workload(records_per_day=100_000, rejected_row_share=0.01)
    breakdown = cost.monthly_cost(workload, MEASURED, month=12)
    ingestion = line(breakdown, "cloudwatch_logs", "ingestion")
    assert ingestion.quantity == pytest.approx(8_048 * D / 2**30)
    assert ingestion.monthly_usd == pytest.approx(8_048 * D / 2**30 * 0.50)
    storage = line(breakdown, "cloudwatch_logs", "storage")  # 30 days retained
    assert storage.monthly_usd == pytest.approx(8_048 * 30 / 2**30 * 0.03)
    # Rejected rows are read but not written: 99,000 rows x 4 WRU
    writes = line(breakdown, "dynamodb", "writes: rows")
    assert writes.quantity == pytest.approx(99_000 * 4 * D / 1e6)


def test_free_tier_is_off_unless_asked_and_covers_the_first_1000_emails():
    busy = Workload(records_per_day=100_000, files_per_day=100)
    paid = cost.monthly_cost(busy, MEASURED)
    free = cost.monthly_cost(busy, MEASURED, free_tier=True)
    # 3,041.67 emails: $0.0608 without the free tier, (3,041.67 - 1,000) x $0.00002 with it
    assert line(paid, "sns", "email").monthly_usd == pytest.approx(0.0608334)
    assert line(free, "sns", "email").monthly_usd == pytest.approx(0.0408334)
    assert line(free, "lambda", "compute").monthly_usd == 0  # within 400,000 GB-s
    assert free.monthly_total_usd < paid.monthly_total_usd
    assert free.to_json()["assumptions"]["free_tier"] is True


def test_to_json_total_is_the_sum_of_its_services():
    data = cost.monthly_cost(DAY_100K, MEASURED).to_json()
    services = data["services"]
    assert set(services) == {"dynamodb", "lambda", "s3", "sns", "cloudwatch_logs"}
    assert data["monthly_total_usd"] == pytest.approx(
        sum(service["monthly_usd"] for service in services.values())
    )
    for service in services.values():
        assert service["monthly_usd"] == pytest.approx(
            sum(item["monthly_usd"] for item in service["lines"])
        )
    assert data["assumptions"]["days_per_month"] == 30.4167
    assert data["assumptions"]["measurements"]["measured_at"] == MEASURED.measured_at
    json.dumps(data)  # plain data


def test_each_gsi_adds_a_write_unit_per_row_and_a_copy_of_the_row():
    by_count = cost.compare_gsis(DAY_100K, MEASURED, month=1)
    # One GSI less: 100,000 x 30.4167 WRU x $0.625/M = $1.90 of writes, and 500 B a row stored
    stored_gb = 100_000 * 500 * D / 2 / 2**30
    expected = 100_000 * D * 0.625e-6 + stored_gb * 0.25
    assert by_count[3]["dynamodb_usd"] - by_count[2]["dynamodb_usd"] == pytest.approx(
        expected, rel=1e-4
    )


def test_provisioned_capacity_loads_the_file_within_the_timeout_all_month():
    # 100,000 rows in 300 - 10 s = 345 WCU on the table and on each GSI, 730 h x $0.00065
    breakdown = cost.monthly_cost(DAY_100K, MEASURED, capacity="provisioned")
    table = line(breakdown, "dynamodb", "write capacity: table")
    gsis = line(breakdown, "dynamodb", "write capacity: 3 GSIs")
    assert table.monthly_usd + gsis.monthly_usd == pytest.approx(345 * 4 * 730 * 0.00065)
    # Reads: 4,888.5 RRU of stale-row check in 290 s = 17 RCU on the table, 1 on each GSI
    reads = sum(x.monthly_usd for x in breakdown.lines if x.item.startswith("read capacity"))
    assert reads == pytest.approx((17 + 3) * 730 * 0.00013)


def test_provisioned_breaks_even_at_29_percent_utilization():
    comparison = cost.provisioned_vs_on_demand(DAY_100K, MEASURED)
    # $0.00065 a WCU-hour / (3,600 x $0.625 per million) = 0.2889
    assert comparison["break_even"]["utilization"] == pytest.approx(0.28889, rel=1e-4)
    # One WCU all month ($0.4745) buys the on-demand writes of 0.2889 WRU/s
    assert comparison["break_even"]["sustained_wru_per_s_per_table_or_index"] == pytest.approx(
        0.28889, rel=1e-4
    )
    assert comparison["cheaper"] == "on-demand"
    assert comparison["on_demand_usd"] < comparison["provisioned_always_on_usd"]
    assert "28.9%" in comparison["method"]


def test_import_from_s3_prices_the_source_bytes_and_does_not_fit_daily_loads():
    result = cost.import_from_s3(DAY_100K, MEASURED)
    # 5,000,000 B a day x 30.4167 days = 0.1416 GB x $0.15 = $0.0212
    assert result["import_new_rows_usd"] == pytest.approx(5_000_000 * D / 2**30 * 0.15)
    assert result["row_writes_usd"] == pytest.approx(7.604175)
    assert result["fits_daily_loads"] is False
    assert "NEW table" in result["why"]


def test_retention_choices_cost_less_than_keeping_everything_by_month_12():
    choices = cost.compare_retention(DAY_100K, MEASURED, keep_days=90)
    keep = choices["keep everything"]["month_12_usd"]
    ttl = choices["TTL after 90 days"]["month_12_usd"]
    archive = choices["TTL after 90 days, CSVs kept in S3 as the archive"]["month_12_usd"]
    # With the CSVs expiring, each expired file's rows are collected by paid deletes (priced
    # as if TTL never came first): 100,000 rows x 4 WRU x 30.4167 days x $0.625/M = $7.60.
    # The archive keeps the CSVs, so only the free TTL deletes rows; it pays for a year of
    # CSVs in S3 instead (at most 365 x 5 MB x $0.023/GB), and as no file is removed every
    # file's head stays: 9 RRU a question against 2.5 (97 heads), 6.5 x 10,000 x 30.4167 x
    # $0.125/M = $0.2471 more (the sweep's reads differ by 1 RRU a run: $0.0004)
    assert archive < ttl < keep
    deletes = 100_000 * 4 * D * 0.625e-6
    csvs = 365 * 5_000_000 / 2**30 * 0.023
    heads = 6.5 * 10_000 * D * 0.125e-6
    assert deletes - heads - csvs < ttl - archive < deletes - heads + 0.001


# --- The file lifecycle: heads, versions collected, the reconcile sweep ------------------------


def test_each_question_reads_the_heads_first_half_a_unit_for_up_to_20_files():
    # Month 1 holds on average 15.2 days of files, one a day: 15.2 heads x 200 B = 3,042 B,
    # one 4 KB read, eventually consistent: +0.5 RRU a question, 10,000 x 30.4167 x 0.5
    month_1 = line(cost.monthly_cost(DAY_100K, MEASURED, month=1), "dynamodb", "reads: file heads")
    assert month_1.quantity * 1e6 == pytest.approx(10_000 * D * 0.5)
    assert month_1.monthly_usd == pytest.approx(0.0190104, rel=1e-5)


def test_with_every_row_kept_no_file_is_removed_so_the_heads_grow_with_the_files():
    # Month 12: 11.5 x 30.4167 = 349.8 heads x 200 B = 69,958 B = 17.08 -> 18 x 4 KB x 0.5
    # = 9 RRU a question: 10,000 x 30.4167 x 9 = 2,737,503 RRU x $0.125/M = $0.3422
    kept = cost.monthly_cost_keeping_everything(DAY_100K, MEASURED)
    heads = line(kept, "dynamodb", "reads: file heads")
    assert "(350 heads: 9 RRU)" in heads.item
    assert heads.quantity * 1e6 == pytest.approx(10_000 * D * 9)
    assert heads.monthly_usd == pytest.approx(0.342188, rel=1e-5)
    # The same with the CSVs kept and a TTL on rows: the file is never removed, its head stays
    archive = replace(DAY_100K, upload_retention_days=None)
    kept = line(cost.monthly_cost(archive, MEASURED, expire_after_days=90), "dynamodb", "reads: f")
    assert "(350 heads: 9 RRU)" in kept.item


def test_a_removed_files_head_expires_a_week_after_the_removal():
    # A 90-day expiry removes each file 90 days after its upload, and its head goes 7 days
    # later (HEAD_KEPT_AFTER_REMOVAL_S): from day 97 on, 97 heads (90 files + 7 removed).
    assert cost.HEAD_KEPT_AFTER_REMOVAL_DAYS == 7
    series = cost.monthly_series(DAY_100K, MEASURED, expire_after_days=90)
    heads = [line(b, "dynamodb", "reads: file heads") for b in series]
    # Month 12: 97 x 200 B = 19,400 B = 4.74 -> 5 x 4 KB x 0.5 = 2.5 RRU a question:
    # 10,000 x 30.4167 x 2.5 = 760,417.5 RRU x $0.125/M = $0.0951
    assert "(97 heads: 2.5 RRU)" in heads[11].item
    assert heads[11].monthly_usd == pytest.approx(10_000 * D * 2.5 * 0.125e-6)
    # Month 4 (days 91.25 to 121.67): min(t, 97) averages (97^2/2 - 91.25^2/2 + 97 x 24.67)
    # / 30.4167 = 96.46 heads, 2.5 RRU too; month 3 (days 60.83 to 91.25) is as if kept, 76
    assert "(96 heads: 2.5 RRU)" in heads[3].item
    kept = cost.monthly_cost_keeping_everything(DAY_100K, MEASURED, month=3)
    assert heads[2].item == line(kept, "dynamodb", "reads: file heads").item
    assert "(76 heads: 2 RRU)" in heads[2].item


def test_a_reupload_deletes_every_row_of_the_version_it_replaces():
    # Every day the same file again (no row new): 100,000 rows written under new keys, and the
    # previous version's 100,000 deleted, 1 WRU on the table + 1 on each of the 3 GSIs:
    # 100,000 x 4 x 30.4167 = 12,166,680 WRU x $0.625/M = $7.6042, as much as the writes
    same = replace(DAY_100K, new_record_share=0.0)
    breakdown = cost.monthly_cost(same, MEASURED)
    deletes = line(breakdown, "dynamodb", "writes: deleting a re-upload")
    assert deletes.quantity == pytest.approx(12.16668)
    assert deletes.monthly_usd == pytest.approx(7.604175)
    assert line(breakdown, "dynamodb", "writes: rows").monthly_usd == pytest.approx(7.604175)
    # One file: one head, one 4 KB read
    assert "(1 heads: 0.5 RRU)" in line(breakdown, "dynamodb", "reads: file heads").item
    # A fifth of the rows new: the other 80,000 replace rows of the previous version
    some = cost.monthly_cost(replace(DAY_100K, new_record_share=0.2), MEASURED)
    assert line(some, "dynamodb", "writes: deleting a re-upload").quantity == pytest.approx(
        80_000 * 4 * D / 1e6
    )
    # Every row new (the documents' tables): nothing replaced
    assert (
        line(cost.monthly_cost(DAY_100K, MEASURED), "dynamodb", "writes: deleting a re").quantity
        == 0
    )


def test_rows_of_expired_uploads_are_priced_as_paid_deletes():
    # Month 12 with a 90-day expiry: a whole month of rows expires, each collected when its
    # upload expires (TTL's free delete assumed to come later): 100,000 x 4 x 30.4167 WRU
    expiring = cost.monthly_series(DAY_100K, MEASURED, expire_after_days=90)
    deletes = [line(b, "dynamodb", "writes: deleting the rows of expired") for b in expiring]
    assert deletes[11].quantity == pytest.approx(12.16668)
    assert deletes[11].monthly_usd == pytest.approx(7.604175)
    # Month 3 ends on day 91.25: the rows of its first 1.25 days expire, 100,000 x 1.2501 x 4
    assert deletes[2].quantity * 1e6 == pytest.approx(100_000 * (3 * D - 90) * 4)
    assert deletes[1].quantity == 0  # nothing is 90 days old in month 2
    # Rows kept, or the CSVs kept (no expiry event: only the free TTL deletes rows)
    kept = cost.monthly_cost_keeping_everything(DAY_100K, MEASURED)
    archive = cost.monthly_cost(
        replace(DAY_100K, upload_retention_days=None), MEASURED, expire_after_days=90
    )
    for breakdown in (kept, archive):
        assert line(breakdown, "dynamodb", "writes: deleting the rows of expired").quantity == 0


def test_each_file_adds_its_records_steps_and_heads():
    # About 20 WRU and 8 RRU a file: 20 x 30.4167 = 608.33 WRU x $0.625/M = $0.00038
    breakdown = cost.monthly_cost(DAY_100K, MEASURED)
    writes = line(breakdown, "dynamodb", "writes: upload record")
    assert writes.quantity * 1e6 == pytest.approx(20 * D)
    assert writes.monthly_usd == pytest.approx(608.334 * 0.625e-6)
    reads = line(breakdown, "dynamodb", "reads: upload record")
    assert reads.monthly_usd == pytest.approx(8 * D * 0.125e-6)


def test_the_reconcile_sweep_runs_every_15_minutes_at_the_functions_memory():
    # 30.4167 days x 96 runs a day = 2,920.0 runs; 1 s each at 1,769 MB:
    # 2,920 x 1,769 / 1,024 = 5,044.5 GB-s x $0.0000133334 = $0.06726; 2,920 x $0.20/M
    sweep = cost.reconcile_sweep(DAY_100K, MEASURED)
    assert sweep["runs"] == pytest.approx(2_920.0, abs=0.01)
    breakdown = cost.monthly_cost(DAY_100K, MEASURED)
    compute = line(breakdown, "lambda", "reconcile sweep: compute")
    assert compute.quantity == pytest.approx(2_920.0032 * 1769 / 1024)
    assert compute.monthly_usd == pytest.approx(0.067262, rel=1e-4)
    requests = line(breakdown, "lambda", "reconcile sweep: requests")
    assert requests.monthly_usd == pytest.approx(2_920.0032 * 0.2e-6)
    # One LIST a run: 90 objects under the prefix (uploads expire after 90 days), up to
    # 1,000 a request: 2,920 x $0.005 / 1,000 = $0.0146
    assert sweep["list_requests_per_run"] == 1
    assert line(breakdown, "s3", "reconcile sweep").monthly_usd == pytest.approx(0.0146, rel=1e-5)
    # 1 KB of log a run: 2,920 KB x $0.50/GB
    logs = line(breakdown, "cloudwatch_logs", "reconcile sweep: log ingestion")
    assert logs.monthly_usd == pytest.approx(2_920.0032 * 1024 / 2**30 * 0.50)
    # SQS: one receive a run, 2,920 x $0.40/M = $0.0012, within the free million: not billed
    assert sweep["sqs_receives_usd"] == pytest.approx(0.001168, rel=1e-5)
    assert sweep["monthly_with_sqs_usd"] - sweep["monthly_usd"] == pytest.approx(0.001168, rel=1e-5)


def test_the_sweep_reads_every_record_and_every_head_each_run():
    # Month 12, rows kept: 349.8 upload records x 1,536 B = 537,285 B = 131.2 -> 132 x 4 KB
    # = 66 RRU, and the heads' 9 RRU: 75 RRU x 2,920 runs = 219,000 RRU x $0.125/M = $0.0274
    archive = replace(DAY_100K, upload_retention_days=None)
    sweep = cost.reconcile_sweep(archive, MEASURED, expire_after_days=None)
    assert sweep["read_units_per_run"] == 75
    kept = cost.monthly_cost_keeping_everything(DAY_100K, MEASURED)
    reads = line(kept, "dynamodb", "reconcile sweep")
    assert reads.monthly_usd == pytest.approx(75 * 2_920.0032 * 0.125e-6)
    # A 90-day expiry: 90 upload records x 1,536 B = 138,240 B, plus a removal record of
    # 512 B for each file removed in the last 90 days (a removal record expires 90 days
    # after the removal; from month 7 on, 90 of them) = 46,080 B: 184,320 B = 45 x 4 KB =
    # 22.5 RRU, + 2.5 for the 97 heads = 25 RRU
    expiring = cost.reconcile_sweep(DAY_100K, MEASURED, expire_after_days=90)
    assert expiring["read_units_per_run"] == 25
    # Month 5 (days 121.67 to 152.08): removals from day 90, each gone 90 days later, so
    # still piling up: 137 - 90 = 46.875 removal records on average x 512 B = 24,000 B,
    # + 138,240 B = 162,240 B = 39.6 -> 40 x 4 KB = 20 RRU, + 2.5 for the heads
    month_5 = cost.reconcile_sweep(DAY_100K, MEASURED, month=5, expire_after_days=90)
    assert month_5["read_units_per_run"] == 22.5


def test_the_sweep_lists_1000_objects_a_request():
    # 20 files a day kept 90 days: 1,800 objects = 2 LIST requests a run
    busy = replace(DAY_100K, files_per_day=20)
    assert cost.reconcile_sweep(busy, MEASURED)["list_requests_per_run"] == 2
    assert line(cost.monthly_cost(busy, MEASURED), "s3", "reconcile sweep").monthly_usd == (
        pytest.approx(2 * 0.0146, rel=1e-5)
    )


def test_the_sweep_shares_the_free_tier_with_the_ingest():
    free = cost.monthly_cost(DAY_100K, MEASURED, free_tier=True)
    # 30 + 2,920 requests and 1,077 + 5,045 GB-s: within 1 million and 400,000
    assert line(free, "lambda", "reconcile sweep: requests").monthly_usd == 0
    assert line(free, "lambda", "reconcile sweep: compute").monthly_usd == 0
    # Past the allowance, the ingest takes it first: 100 files a day of 1,000,000 rows,
    # 3,041.67 files x 200.5 s x 1,769 / 1,024 GB = 1,053,5xx GB-s, beyond 400,000
    busy = replace(DAY_100K, records_per_day=100_000_000, files_per_day=100)
    sweep = line(cost.monthly_cost(busy, MEASURED, free_tier=True), "lambda", "reconcile sweep: c")
    assert sweep.free_quantity == 0 and sweep.monthly_usd > 0


def test_two_versions_side_by_side_cost_a_fraction_of_a_cent():
    # The old version's 100,000 rows x (400 + 100) B x 4 copies = 200,000,000 B = 0.1863 GB,
    # for 10 minutes a day: 0.1863 x 10 / 1,440 = 0.001294 GB-month x $0.25 = $0.00032
    overlap = cost.coexisting_versions(DAY_100K, MEASURED)
    assert overlap["gb"] == pytest.approx(200_000_000 / 2**30)
    assert overlap["gb_month"] == pytest.approx(200_000_000 / 2**30 * 10 / 1440)
    assert overlap["monthly_usd"] == pytest.approx(0.00032335, rel=1e-4)


def test_the_sweeps_schedule_is_the_templates():
    template = (DOC.parents[1] / "cloudformation.yaml").read_text(encoding="utf-8")
    schedule = re.search(r"ReconcileSchedule:.*?Default: rate\((\d+) minutes\)", template, re.S)
    assert schedule is not None
    assert int(schedule.group(1)) == cost.RECONCILE_MINUTES == Workload(0).sweep_every_minutes


def test_compare_gathers_every_comparison():
    result = cost.compare(DAY_100K, MEASURED)
    assert set(result) == {"architecture", "gsis", "capacity", "retention", "import_from_s3"}


def test_largest_file_for_one_invocation_follows_the_modeled_speed():
    limits = cost.scalability(MEASURED, workload=DAY_100K)  # on one vCPU
    # 0.2 ms a row = 5,000 rows/s; 900 s - 10 s kept for reporting - 0.5 s overhead = 889.5 s
    assert limits["rows_per_second_per_invocation"] == pytest.approx(5_000)
    assert limits["max_rows_15_minutes"] == pytest.approx(4_447_500, abs=1)
    assert limits["max_rows_template_timeout"] == pytest.approx(1_447_500, abs=1)
    # A new on-demand table or GSI takes 4,000 WRU/s: one invocation is already above it
    assert limits["max_parallel_parts"] == 1
    assert limits["one_invocation_above_binding_ceiling"]
    one_gb = limits["cases"][-1]
    assert one_gb["rows"] == 20_000_000
    assert one_gb["write_usd_per_file"] == pytest.approx(20_000_000 * 4 * 0.625e-6)  # $50
    assert not one_gb["fits_15_minutes"]


def test_load_measurements_reads_the_benchmark_file(tmp_path):
    path = tmp_path / "results.json"
    path.write_text(
        json.dumps(
            {
                "lambda_cpu_ms_per_1000_rows": 150.5,
                "write_requests_per_1000_rows": 40.03,
                "table_write_units_per_1000_rows": 1000,
                "item_bytes": 512,
                "measured_at": "2026-11-25T10:00:00Z",
                "lambda_ms_per_1000_rows": 336.2,
            }
        )
    )
    assert cost.load_measurements(path) == Measurements(
        150.5, 40.03, 1000.0, 512, "2026-11-25T10:00:00Z"
    )


def test_load_measurements_fails_clearly_without_the_file(tmp_path):
    with pytest.raises(MeasurementsError, match="make bench"):
        cost.load_measurements(tmp_path / "results.json")


def test_load_measurements_names_missing_keys(tmp_path):
    path = tmp_path / "results.json"
    path.write_text(json.dumps({"lambda_ms_per_1000_rows": 1.0, "item_bytes": 500}))
    with pytest.raises(MeasurementsError, match="lambda_cpu_ms_per_1000_rows"):
        cost.load_measurements(path)


def test_fewer_write_units_than_rows_is_refused():
    with pytest.raises(MeasurementsError, match="at least one write unit"):
        Measurements(200.0, 40.0, 40.0, 400, "x")


def test_fewer_write_requests_than_25_rows_each_is_refused():
    with pytest.raises(MeasurementsError, match="at most 25 items"):
        Measurements(200.0, 4.0, 1000.0, 400, "x")


def test_unknown_options_are_refused():
    with pytest.raises(ValueError, match="architecture"):
        cost.monthly_cost(DAY_100K, MEASURED, architecture="sparc")
    with pytest.raises(ValueError, match="capacity"):
        cost.monthly_cost(DAY_100K, MEASURED, capacity="reserved")


def test_prices_are_dated_and_sourced():
    assert cost.PRICES["region"] == "us-east-1"
    assert cost.PRICES["as_of"]
    for service in ("dynamodb", "lambda", "s3", "sns", "cloudwatch_logs"):
        assert cost.PRICES[service]["source"].startswith("https://aws.amazon.com/")


def test_the_documents_tables_are_what_the_model_prints_for_the_benchmark():
    text = DOC.read_text(encoding="utf-8")
    measurements = cost.read_doc_measurements(text)
    assert measurements == cost.load_measurements(), (
        f"{DOC.name} was generated from other measurements than benchmarks/results.json"
    )
    assert cost.render_doc(text, measurements) == text, (
        f"{DOC.name} is stale: run `.venv/bin/python -m festival.cost --doc docs/{DOC.name}`"
    )


def test_the_document_has_every_generated_block():
    text = DOC.read_text(encoding="utf-8")
    names = {match["name"] for match in cost.BLOCK.finditer(text)}
    assert names == set(cost.doc_blocks(cost.load_measurements()))


def test_the_readmes_cost_figures_are_the_models():
    readme = (DOC.parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## What it costs", 1)[1].split("\n## ", 1)[0]
    measurements = cost.load_measurements()
    for keep_everything in (False, True):  # the template's retention, then the alternative
        for row in cost.cost_table(measurements, keep_everything=keep_everything):
            assert f"${row['month_12_usd']:,.2f}" in section, (row, keep_everything)
