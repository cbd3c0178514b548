"""The cost model against examples worked out by hand, one service at a time.

Every example: 100,000 records a day in one file, measurements given explicitly (200 ms of
CPU and 40 BatchWriteItem requests per 1,000 rows, 1,000 write request units per 1,000 rows,
400-byte items), a Lambda of 1,769 MB (one vCPU) unless said, BatchWriteItem answering in
10 ms, a month of 30.4167 days, GB = 2**30 bytes.
"""

from __future__ import annotations

import json
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


def test_dynamodb_storage_grows_each_month_without_expiry():
    # (400 + 100) B x 4 copies x 100,000 rows + one 1,124-B ingest record = 200,001,124 B/day.
    # Month 12 holds on average 11.5 months of rows: 349.792 days -> 65.15 GB x $0.25 = $16.29
    month_12 = line(cost.monthly_cost(DAY_100K, MEASURED, month=12), "dynamodb", "storage")
    assert month_12.quantity == pytest.approx(200_001_124 * 11.5 * D / 2**30)
    assert month_12.monthly_usd == pytest.approx(16.2883, rel=1e-4)
    # Month 1 holds half a month on average: 15.2 days -> 2.83 GB -> $0.71
    month_1 = line(cost.monthly_cost(DAY_100K, MEASURED, month=1), "dynamodb", "storage")
    assert month_1.monthly_usd == pytest.approx(0.70819, rel=1e-4)


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
    assert ttl < archive < keep
    # The archive is a year of CSVs in S3: at most 365 x 5 MB x $0.023/GB
    assert archive - ttl < 365 * 5_000_000 / 2**30 * 0.023


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
