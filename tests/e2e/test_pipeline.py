"""The real path: S3 upload -> notification -> Lambda -> DynamoDB -> SNS -> MailDev."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tests.e2e.conftest import wait_for

pytestmark = pytest.mark.e2e
SEED = Path(__file__).resolve().parents[2] / "seed"


def seed_rows(name: str) -> list[dict]:
    with open(SEED / name, encoding="utf-8", newline="") as seed:
        return list(csv.DictReader(seed))


def test_seed_lineup_upload_loads_every_row_and_sends_one_email(pipeline):
    key = pipeline.unique_key("lineup.csv")
    pipeline.upload(key, (SEED / "lineup.csv").read_bytes())

    expected = seed_rows("lineup.csv")
    items = wait_for(
        f"{len(expected)} rows of {key}",
        lambda: (found := pipeline.items_of(key)) and len(found) == len(expected) and found,
    )
    email = pipeline.wait_for_email(key)

    stored = sorted((i["performer"]["S"], i["stage"]["S"], i["date"]["S"]) for i in items)
    assert stored == sorted((r["Performer"], r["Stage"], r["Date"]) for r in expected)
    assert email["subject"] == f"festival-lineup OK: {key.rsplit('/', 1)[-1]}"
    assert f"Rows loaded:   {len(expected)}" in email["text"]
    assert [e["address"] for e in email["to"]] == ["festival-ops@example.com"]
    assert len(pipeline.emails_about(key)) == 1


def stored_times(pipeline, key: str, count: int) -> dict[str, tuple[str, str]]:
    items = wait_for(
        f"{count} rows of {key}",
        lambda: len(pipeline.items_of(key)) == count and pipeline.items_of(key),
    )
    return {i["performer"]["S"]: (i["start"]["S"], i["end"]["S"]) for i in items}


def test_brief_example_written_without_am_pm_is_read_as_afternoon_and_evening(pipeline):
    key = pipeline.unique_key("brief-example.csv")
    pipeline.upload(key, (SEED / "brief-example.csv").read_bytes())

    assert stored_times(pipeline, key, 3) == {
        "Megan Thee Stallion": ("2025-07-12T20:00", "2025-07-12T22:00"),
        "Olivia Rodrigo": ("2025-07-12T19:00", "2025-07-12T21:00"),
        "Rene Rapp": ("2025-07-13T16:30", "2025-07-13T17:30"),
    }
    email = pipeline.wait_for_email(key)
    assert "read as afternoon/evening, e.g. 8:00 -> 20:00" in email["text"]


def test_seed_lineup_on_a_24_hour_clock_is_read_as_written(pipeline):
    key = pipeline.unique_key("lineup.csv")
    pipeline.upload(key, (SEED / "lineup.csv").read_bytes())

    times = stored_times(pipeline, key, len(seed_rows("lineup.csv")))

    assert times["Kraftwerk"] == ("2025-07-12T23:59", "2025-07-13T01:15")
    email = pipeline.wait_for_email(key)
    assert "read on a 24-hour clock" in email["text"]


def test_an_upload_with_clock_metadata_is_read_on_that_clock(pipeline):
    key = pipeline.unique_key("mornings.csv")
    pipeline.s3.put_object(
        Bucket=pipeline.bucket,
        Key=key,
        Metadata={"clock": "24h"},
        Body=(SEED / "brief-example.csv").read_bytes(),
    )

    assert stored_times(pipeline, key, 3)["Olivia Rodrigo"] == (
        "2025-07-12T07:00",
        "2025-07-12T09:00",
    )
    assert "as the upload's clock metadata says" in pipeline.wait_for_email(key)["text"]


def test_lambda_runs_on_a_real_python_3_10(pipeline):
    key = pipeline.unique_key("lineup.csv")
    pipeline.upload(key, (SEED / "brief-example.csv").read_bytes())
    pipeline.wait_for_email(key)

    def report_line():
        for message in pipeline.log_messages():
            if message.startswith("{") and json.loads(message).get("file") == key:
                return json.loads(message)
        return None

    line = wait_for(f"the JSON log line about {key}", report_line)
    assert line["python"].startswith("3.10.")
    assert line["status"] == "OK"
    assert line["level"] == "INFO"


def test_a_csv_outside_the_prefix_and_a_folder_marker_trigger_nothing(pipeline):
    # Another file under the prefix gets a FAILED email (tests/e2e/test_encodings.py).
    outside_key = pipeline.unique_key("lineup.csv", prefix="elsewhere/")
    folder_key = pipeline.unique_key("folder.csv").removesuffix(".csv") + "/"
    sentinel_key = pipeline.unique_key("sentinel.csv")
    body = (SEED / "brief-example.csv").read_bytes()
    pipeline.upload(outside_key, body)
    pipeline.upload(folder_key, b"")
    # Notifications are asynchronous: a later upload that does arrive shows that the
    # earlier ones had their chance.
    pipeline.upload(sentinel_key, body)
    pipeline.wait_for_email(sentinel_key)

    for ignored in (outside_key, folder_key):
        assert pipeline.items_of(ignored) == []
        assert pipeline.upload_records(ignored) == []
        assert pipeline.emails_about(ignored) == []
