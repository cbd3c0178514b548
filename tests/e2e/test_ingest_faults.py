"""Bad rows, duplicate events, re-uploads and DynamoDB faults, through the local stack."""

from __future__ import annotations

import json

import pytest
import requests

from festival.local import stack
from festival.settings import LOCAL_ENDPOINT
from tests.e2e.conftest import wait_for
from tests.lineups import lineup_csv, lineup_rows

pytestmark = pytest.mark.e2e
FAULTS_URL = f"{LOCAL_ENDPOINT}/_festival/dynamodb/faults"
STATS_URL = f"{LOCAL_ENDPOINT}/_festival/dynamodb/stats"


def rows_for(key: str, count: int) -> list[list[str]]:
    """Rows whose performers are unique to this test's file."""
    tag = key.rsplit("-", 1)[-1].split(".")[0]
    return [[f"{row[0]} {tag}", *row[1:]] for row in lineup_rows(count)]


def performers(pipeline, key: str) -> list[str]:
    return sorted(item["performer"]["S"] for item in pipeline.items_of(key))


def test_partly_bad_file_loads_the_good_rows_and_the_email_lists_the_bad_lines(pipeline):
    key = pipeline.unique_key("partly-bad.csv")
    body = (
        b"performer , STAGE,start,end,date,notes\r\n"
        b"Good One,Main Stage,20:00,21:00,2025-07-12,headliner\r\n"
        b"Bad Time,Main Stage,7:60,9:00,2025-07-12,\r\n"
        b"\r\n"
        b'"Good, Two",Side Stage,8:00 PM,9:30 PM,2025-07-12,\r\n'
        b"Too,Few,Fields\r\n"
    )
    pipeline.upload(key, body)

    email = pipeline.wait_for_email(key)

    assert performers(pipeline, key) == ["Good One", "Good, Two"]
    assert email["subject"].startswith("festival-lineup PARTIAL: partly-bad")
    assert "  line 3: " in email["text"] and "  line 6: " in email["text"]
    assert "Rows rejected: 2" in email["text"]


def test_one_event_delivered_twice_leaves_every_row_once(pipeline):
    key = pipeline.unique_key("twice.csv")
    rows = rows_for(key, 80)
    pipeline.upload(key, lineup_csv(rows))
    pipeline.wait_for_email(key)
    head = pipeline.s3.head_object(Bucket=pipeline.bucket, Key=key)
    # The same event: S3 named its version by the event's sequencer, which the record keeps.
    (loaded,) = pipeline.upload_records(key)
    event = {
        "Records": [
            {
                "eventSource": "aws:s3",
                "s3": {
                    "bucket": {"name": pipeline.bucket},
                    "object": {
                        "key": key,
                        "eTag": head["ETag"].strip('"'),
                        "size": head["ContentLength"],
                        "sequencer": loaded["version"]["S"],
                    },
                },
            }
        ]
    }
    before = sorted((i["pk"]["S"], i["sk"]["S"]) for i in pipeline.items_of(key))

    lambda_client = stack.local_client("lambda")
    response = lambda_client.invoke(FunctionName=pipeline.function, Payload=json.dumps(event))

    assert "FunctionError" not in response
    assert sorted((i["pk"]["S"], i["sk"]["S"]) for i in pipeline.items_of(key)) == before
    assert len(before) == 80
    assert len(pipeline.upload_records(key, loading=True)) == 1
    assert len(pipeline.emails_about(key)) == 1


def test_reupload_under_the_same_key_replaces_the_lineup(pipeline):
    key = pipeline.unique_key("versions.csv")
    rows = rows_for(key, 30)
    pipeline.upload(key, lineup_csv(rows))
    pipeline.wait_for_email(key)

    kept = rows[5:25]
    pipeline.upload(key, lineup_csv(kept))
    wait_for("the second email", lambda: len(pipeline.emails_about(key)) == 2)

    assert performers(pipeline, key) == sorted(row[0] for row in kept)
    # The new version's email counts the previous version's rows as removed (collected in
    # the background): every one of the 30, kept or not, since versions share no rows.
    assert any("Rows removed:  30 " in email["text"] for email in pipeline.emails_about(key))
    wait_for(
        "the first version's rows collected",
        lambda: (
            sorted(i["performer"]["S"] for i in pipeline.items_of_every_version(key))
            == sorted(row[0] for row in kept)
        ),
    )


@pytest.fixture
def dynamodb_faults():
    """Inject throttling and unprocessed items at the emulator, and always turn them off."""
    requests.delete(STATS_URL, timeout=5)

    def inject(**rates: float) -> None:
        requests.put(FAULTS_URL, json=rates, timeout=5).raise_for_status()

    yield inject
    requests.delete(FAULTS_URL, timeout=5)


def test_throttling_and_unprocessed_items_at_the_emulator_lose_and_duplicate_no_row(
    pipeline, dynamodb_faults
):
    key = pipeline.unique_key("faulty.csv")
    rows = rows_for(key, 500)
    dynamodb_faults(throttle_rate=0.3, unprocessed_rate=0.3, seed=7)

    pipeline.upload(key, lineup_csv(rows))
    email = pipeline.wait_for_email(key)

    assert email["subject"].startswith("festival-lineup OK: faulty")
    items = pipeline.items_of(key)
    assert sorted(i["performer"]["S"] for i in items) == sorted(row[0] for row in rows)
    injected = requests.get(STATS_URL, timeout=5).json()["injected"]
    assert injected["throttled_requests"] > 0 and injected["unprocessed_items"] > 0
