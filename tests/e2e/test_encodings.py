"""Names in any case, gzip uploads and row expiry through the local stack."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from tests.e2e.conftest import PART_BYTES, wait_for
from tests.e2e.test_pipeline import seed_rows
from tests.lineups import lineup_csv, lineup_rows, tricky_csv, tricky_rows
from tests.stored import as_seen

pytestmark = pytest.mark.e2e
SEED = Path(__file__).resolve().parents[2] / "seed"
DAY_S = 24 * 60 * 60
RETENTION_DAYS = 90  # the template's UploadRetentionDays default, which the local stack uses


def rows_of(pipeline, key: str, count: int) -> list[dict]:
    return wait_for(
        f"{count} rows of {key}",
        lambda: (found := pipeline.items_of(key)) and len(found) == count and found,
    )


def test_a_file_named_in_capitals_loads_with_one_email(pipeline):
    key = pipeline.unique_key("LINEUP.CSV")
    pipeline.upload(key, lineup_csv(lineup_rows(25)))

    rows_of(pipeline, key, 25)
    email = pipeline.wait_for_email(key)

    assert email["subject"] == f"festival-lineup OK: {key.rsplit('/', 1)[-1]}"
    assert len(pipeline.emails_about(key)) == 1


def test_a_csv_gz_loads_the_rows_of_the_plain_file(pipeline):
    body = (SEED / "lineup.csv").read_bytes()
    plain_key = pipeline.unique_key("lineup.csv")
    gzip_key = pipeline.unique_key("lineup.csv") + ".gz"
    pipeline.upload(plain_key, body)
    pipeline.upload(gzip_key, gzip.compress(body))

    count = len(seed_rows("lineup.csv"))
    plain = rows_of(pipeline, plain_key, count)
    compressed = rows_of(pipeline, gzip_key, count)
    email = pipeline.wait_for_email(gzip_key)

    assert as_seen(compressed) == as_seen(plain)
    assert email["subject"] == f"festival-lineup OK: {gzip_key.rsplit('/', 1)[-1]}"
    assert len(pipeline.emails_about(gzip_key)) == 1


def test_a_csv_stored_with_content_encoding_gzip_loads(pipeline):
    key = pipeline.unique_key("encoded.csv")
    rows = lineup_rows(30)
    pipeline.s3.put_object(
        Bucket=pipeline.bucket,
        Key=key,
        ContentEncoding="gzip",
        ContentType="text/csv",
        Body=gzip.compress(lineup_csv(rows)),
    )

    items = rows_of(pipeline, key, 30)
    email = pipeline.wait_for_email(key)

    assert sorted(i["performer"]["S"] for i in items) == [row[0] for row in rows]
    assert email["subject"] == f"festival-lineup OK: {key.rsplit('/', 1)[-1]}"
    assert len(pipeline.emails_about(key)) == 1


def test_a_csv_gz_in_many_parts_loads_every_row_once_and_names_a_bad_rows_line(
    parts_pipeline,
):
    pipeline = parts_pipeline
    key = pipeline.unique_key("big.csv") + ".gz"
    rows = tricky_rows(10_000, key.rsplit("-", 1)[-1].split(".")[0])
    rows[7_500][2] = "25:00"
    body = tricky_csv(rows)
    bad_line = 2 + sum(3 if n % 3 == 0 else 1 for n in range(7_500))  # the header is line 1
    pipeline.upload(key, gzip.compress(body))

    email = wait_for(f"the email about {key}", lambda: pipeline.emails_about(key), 180)[0]

    parts = -(-len(body) // PART_BYTES)  # in decompressed bytes
    assert parts >= 2
    assert f"Loaded in:     {parts} parts" in email["text"]
    assert "Rows loaded:   9999" in email["text"] and "Rows rejected: 1" in email["text"]
    assert f"  line {bad_line}: Start '25:00' is not a time" in email["text"]
    items = pipeline.items_of(key)
    assert sorted(i["performer"]["S"] for i in items) == sorted(
        row[0] for n, row in enumerate(rows) if n != 7_500
    )
    assert len(pipeline.emails_about(key)) == 1


@pytest.mark.parametrize("name", ["lineup.xlsx", "notes.txt"])
def test_a_file_of_another_name_gets_one_failed_email_and_loads_nothing(pipeline, name):
    key = pipeline.unique_key(name)
    pipeline.upload(key, lineup_csv(lineup_rows(3)))

    email = pipeline.wait_for_email(key)

    assert email["subject"] == f"festival-lineup FAILED: {key.rsplit('/', 1)[-1]}"
    assert "The file name must end in .csv, or .csv.gz" in email["text"]
    assert pipeline.items_of(key) == []
    assert len(pipeline.emails_about(key)) == 1


def test_rows_and_the_record_expire_the_retention_days_after_the_upload(pipeline):
    key = pipeline.unique_key("lineup.csv")
    pipeline.upload(key, lineup_csv(lineup_rows(10)))

    items = rows_of(pipeline, key, 10)
    pipeline.wait_for_email(key)

    uploaded = pipeline.s3.head_object(Bucket=pipeline.bucket, Key=key)["LastModified"]
    expires = int(uploaded.timestamp()) + RETENTION_DAYS * DAY_S
    assert {int(item["expires_at"]["N"]) for item in items} == {expires}
    (record,) = pipeline.upload_records(key)
    assert int(record["expires_at"]["N"]) == expires
    ttl = pipeline.dynamodb.describe_time_to_live(TableName=pipeline.table)
    assert ttl["TimeToLiveDescription"]["AttributeName"] == "expires_at"
