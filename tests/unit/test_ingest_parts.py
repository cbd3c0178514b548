"""The Lambda's pure parts: S3 events, retry budget, reports, keys, configuration."""

from __future__ import annotations

import json

import pytest

from lineup_ingest import schema
from lineup_ingest.config import Config, ConfigError
from lineup_ingest.events import EventError, UploadedObject, object_events
from lineup_ingest.parsing import Performance, RowError
from lineup_ingest.parts import CollectTask, task_from_message
from lineup_ingest.report import IngestReport, Status, body, subject
from lineup_ingest.retry import BudgetExhaustedError, RetryBudget


def uploaded_objects(event: dict) -> list[UploadedObject]:
    """The objects an S3 notification announces as uploaded."""
    return [found for found in object_events(event) if isinstance(found, UploadedObject)]


def event_for(key: str) -> dict:
    return {
        "Records": [
            {"s3": {"bucket": {"name": "b"}, "object": {"key": key, "eTag": '"abc"', "size": 12}}}
        ]
    }


@pytest.mark.parametrize(
    "encoded", ["uploads/My+Lineup+%C3%A9t%C3%A9.csv", "uploads/My%20Lineup%20%C3%A9t%C3%A9.csv"]
)
def test_event_keys_are_decoded_whether_aws_or_localstack_encoded_the_space(encoded):
    (upload,) = uploaded_objects(event_for(encoded))
    assert upload.key == "uploads/My Lineup été.csv"
    assert upload.etag == "abc" and upload.size == 12


def test_an_event_that_is_not_from_s3_is_refused_clearly():
    with pytest.raises(EventError, match="not an S3 event"):
        uploaded_objects({"detail": {}})


def test_retry_budget_sleeps_with_growing_jittered_delays():
    slept = []
    budget = RetryBudget(lambda: 60_000, reserve_ms=1_000, sleep=slept.append, random=lambda: 1.0)
    for attempt in range(4):
        budget.wait(attempt, "a batch")
    assert slept == [0.05, 0.1, 0.2, 0.4]


def test_retry_budget_gives_up_before_eating_the_time_kept_for_reporting():
    budget = RetryBudget(
        lambda: 10_100, reserve_ms=10_000, sleep=lambda _: None, random=lambda: 1.0
    )
    budget.wait(0, "a batch")  # 50 ms fits in the 100 ms to spare
    with pytest.raises(BudgetExhaustedError, match="gave up retrying a batch after 2 retries"):
        budget.wait(2, "a batch")  # 200 ms does not


def report(**counts) -> IngestReport:
    return IngestReport(
        bucket="b", key="uploads/lineup.csv", etag="e", size=1, started_at="t", **counts
    )


def test_status_is_ok_partial_or_failed_from_the_counts():
    assert report(rows_loaded=3).status is Status.OK
    partial = report(rows_loaded=3)
    partial.rejected.add(RowError(4, "bad"))
    assert partial.status is Status.PARTIAL
    nothing = report()
    nothing.rejected.add(RowError(2, "bad"))
    assert nothing.status is Status.FAILED
    assert report(rows_loaded=3, failure="boom").status is Status.FAILED


def test_subject_is_short_printable_ascii_even_for_long_non_ascii_names():
    long_name = report()
    long_name.key = "uploads/" + "Ünïcödé-" * 20 + "坂本.csv"
    text = subject(long_name)
    assert text.isascii() and text.isprintable() and len(text) < 100
    assert text.startswith("festival-lineup OK: Unicode-")


def test_body_says_where_the_details_are_and_which_parts_failed():
    failed = report(
        failure="1 of 8 parts could not be loaded",
        parts=8,
        failed_parts=["part 4: RuntimeError: boom"],
        request_id="r-1",
        log_group="/aws/lambda/f",
    )
    text = body(failed)
    assert "was NOT loaded" in text and "Loaded in:     8 parts" in text
    assert "Reason: 1 of 8 parts could not be loaded\n  part 4: RuntimeError: boom" in text
    assert "/aws/lambda/f" in text and "r-1" in text


def performance(
    performer="Björk", stage="Side Stage", start="2025-07-12T23:00", end="2025-07-13T01:00"
) -> Performance:
    return Performance(
        performer=performer,
        stage=stage,
        date=start[:10],
        start=start,
        end=end,
        raw_start=start[11:],
        raw_end=end[11:],
        line=2,
    )


def test_names_match_regardless_of_case_and_spacing():
    assert schema.name_key("  olivia   RODRIGO ") == schema.name_key("Olivia Rodrigo")
    assert schema.name_key("Bjo\u0308rk") == schema.name_key("Björk")  # composed or not


def test_same_row_gets_the_same_key_and_a_set_past_midnight_keeps_its_start_day():
    item = schema.performance_item(
        performance(), source_key="uploads/a.csv", load_id="e", uploaded_at="u"
    )
    again = schema.performance_item(
        performance(performer=" björk "), source_key="uploads/a.csv", load_id="e", uploaded_at="u"
    )
    assert (item["pk"], item["sk"]) == (again["pk"], again["sk"])
    assert item["gsi3pk"].startswith("DAY#2025-07-12#")
    assert item["minutes"] == 120
    assert item["pk"] in schema.file_partitions("uploads/a.csv")


def test_configuration_names_the_missing_variable():
    with pytest.raises(ConfigError, match="TOPIC_ARN"):
        Config.from_environment({"TABLE_NAME": "t", "PARTS_QUEUE_URL": "q"})
    complete = {"TABLE_NAME": "t", "TOPIC_ARN": "a", "PARTS_QUEUE_URL": "q"}
    assert Config.from_environment(complete).table_name == "t"
    assert Config.from_environment({**complete, "PART_BYTES": "4096"}).part_bytes == 4096
    with pytest.raises(ConfigError, match="PART_BYTES must be a whole number"):
        Config.from_environment({**complete, "PART_BYTES": "16MB"})


def test_a_collection_step_is_told_from_a_part_whatever_the_json_spacing():
    step = CollectTask(bucket="b", key="uploads/a.csv", version="0001", removal="0002")
    spaced = json.dumps(json.loads(step.to_message()), indent=1)  # as LocalStack re-encodes it

    assert task_from_message(spaced) == step
    assert task_from_message(step.to_message()) == step
