"""Names in any case, gzip uploads, other files under the prefix, and when rows expire."""

from __future__ import annotations

import gzip
import time
import zlib

import pytest

from lineup_ingest import schema
from tests.functional.conftest import BUCKET, TABLE, s3_event
from tests.lineups import lineup_csv, lineup_rows, tricky_csv, tricky_rows
from tests.stored import as_seen

pytestmark = pytest.mark.functional
DAY_S = 24 * 60 * 60


def configured(aws, monkeypatch, **environment):
    """The fake with the handler cold-started again under these settings."""
    for name, value in environment.items():
        monkeypatch.setenv(name, str(value))
    aws.rewire()
    return aws


def loaded_rows(aws, key: str) -> list[tuple]:
    """What a person sees of the file's rows: names, times and line numbers."""
    return as_seen(i for i in aws.performances() if i["source_key"]["S"] == key)


def every_item(aws) -> list[dict]:
    pages = aws.dynamodb.get_paginator("scan").paginate(TableName=TABLE)
    return [item for page in pages for item in page["Items"]]


def test_a_file_named_in_capitals_is_loaded(aws):
    rows = lineup_rows(20)

    result = aws.invoke(aws.upload("uploads/LINEUP.CSV", lineup_csv(rows)))

    assert result == {"files": [{"file": "uploads/LINEUP.CSV", "status": "OK"}]}
    assert len(aws.performances()) == 20
    (email,) = aws.emails()
    assert email["subject"] == "festival-lineup OK: LINEUP.CSV"


def test_a_gzip_csv_loads_exactly_the_rows_of_the_plain_file(aws):
    body = tricky_csv(tricky_rows(120))
    aws.invoke(aws.upload("uploads/plain.csv", body))
    aws.emails()

    result = aws.invoke(aws.upload("uploads/lineup.CSV.GZ", gzip.compress(body)))

    assert result["files"][0]["status"] == "OK"
    assert loaded_rows(aws, "uploads/lineup.CSV.GZ") == loaded_rows(aws, "uploads/plain.csv")
    assert len(loaded_rows(aws, "uploads/plain.csv")) == 120
    (email,) = aws.emails()
    assert email["subject"] == "festival-lineup OK: lineup.CSV.GZ"
    assert "Rows loaded:   120" in email["body"]


def test_a_gzip_csv_in_many_parts_loads_every_row_once_with_the_right_line_of_a_bad_row(
    aws, monkeypatch
):
    configured(aws, monkeypatch, PART_BYTES=2048)
    rows = tricky_rows(300)
    rows[200][2] = "25:00"
    body = tricky_csv(rows)
    compressed = gzip.compress(body)
    aws.invoke(aws.upload("uploads/plain.csv", body))
    aws.deliver_parts()
    (plain_email,) = aws.emails()

    aws.invoke(aws.upload("uploads/big.csv.gz", compressed))
    aws.deliver_parts()

    (record,) = [r for r in aws.upload_records() if r["file"]["S"] == "uploads/big.csv.gz"]
    # The parts are of the decompressed bytes.
    assert int(record["parts_total"]["N"]) == -(-len(body) // 2048) > -(-len(compressed) // 2048)
    assert loaded_rows(aws, "uploads/big.csv.gz") == loaded_rows(aws, "uploads/plain.csv")
    assert len(loaded_rows(aws, "uploads/big.csv.gz")) == 299
    (email,) = aws.emails()
    assert email["subject"] == "festival-lineup PARTIAL: big.csv.gz"
    (bad_line,) = [line for line in plain_email["body"].splitlines() if "'25:00'" in line]
    assert bad_line in email["body"].splitlines()
    assert "Rows loaded:   299" in email["body"] and "Rows rejected: 1" in email["body"]
    assert f"{len(compressed)} bytes" in email["body"]  # the file as stored


def test_a_gzip_file_replaced_while_its_parts_load_ends_failed_and_the_newer_loads(
    aws, monkeypatch
):
    configured(aws, monkeypatch, PART_BYTES=2048)
    rows = lineup_rows(300)
    aws.invoke(aws.upload("uploads/moving.csv.gz", gzip.compress(tricky_csv(tricky_rows(300)))))

    time.sleep(1.1)  # S3 keeps upload times to the second: the next upload is a later one
    newer = aws.upload("uploads/moving.csv.gz", gzip.compress(lineup_csv(rows[:50])))
    aws.deliver_parts()  # every GET names the first version (If-Match): it is replaced
    aws.invoke(newer)
    aws.deliver_parts()

    subjects = sorted(email["subject"] for email in aws.emails())
    assert subjects == [
        "festival-lineup FAILED: moving.csv.gz",
        "festival-lineup OK: moving.csv.gz",
    ]
    assert sorted(i["performer"]["S"] for i in aws.performances()) == [r[0] for r in rows[:50]]


def test_a_csv_stored_gzip_compressed_with_content_encoding_gzip_loads(aws):
    rows = lineup_rows(40)
    response = aws.s3.put_object(
        Bucket=BUCKET,
        Key="uploads/encoded.csv",
        Body=gzip.compress(lineup_csv(rows)),
        ContentEncoding="gzip",
        ContentType="text/csv",
    )

    aws.invoke(s3_event("uploads/encoded.csv", response["ETag"].strip('"')))

    assert sorted(i["performer"]["S"] for i in aws.performances()) == [r[0] for r in rows]
    (email,) = aws.emails()
    assert email["subject"] == "festival-lineup OK: encoded.csv"


def test_a_decompression_bomb_is_refused_with_one_email_and_writes_nothing(aws, monkeypatch):
    configured(aws, monkeypatch, MAX_FILE_BYTES=1024 * 1024)
    deflate = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    bomb = deflate.compress(b"Performer,Stage,Date,Start,End\n")
    bomb += b"".join(deflate.compress(bytes(1024 * 1024)) for _ in range(256))  # 256 MiB
    bomb += deflate.flush()
    assert len(bomb) < 1024 * 1024 // 4  # the file itself is well within the limit

    event = aws.upload("uploads/bomb.csv.gz", bomb)
    aws.invoke(event)
    aws.invoke(event)  # a duplicate delivery

    assert aws.performances() == []
    (email,) = aws.emails()
    assert email["subject"] == "festival-lineup FAILED: bomb.csv.gz"
    assert "more than the 1,048,576 bytes this stack accepts" in email["body"]
    assert "counts decompressed bytes" in email["body"]
    (record,) = aws.upload_records()
    assert record["status"]["S"] == "FAILED"


def test_a_gzip_file_cut_short_fails_clearly_and_writes_nothing(aws):
    compressed = gzip.compress(lineup_csv(lineup_rows(500)))

    aws.invoke(aws.upload("uploads/cut.csv.gz", compressed[: len(compressed) // 2]))

    assert aws.performances() == []
    (email,) = aws.emails()
    assert email["subject"] == "festival-lineup FAILED: cut.csv.gz"
    assert "Reason: The file starts as gzip, but the gzip data ends early" in email["body"]


@pytest.mark.parametrize("key", ["uploads/lineup.xlsx", "uploads/notes.txt"])
def test_another_file_under_the_prefix_gets_one_failed_email_naming_the_rule(aws, key):
    event = aws.upload(key, lineup_csv(lineup_rows(3)))

    aws.invoke(event)
    aws.invoke(event)  # a duplicate delivery

    assert aws.performances() == []
    (email,) = aws.emails()
    assert email["subject"] == f"festival-lineup FAILED: {key.rsplit('/', 1)[1]}"
    assert "The file name must end in .csv, or .csv.gz" in email["body"]
    assert "nothing was loaded" in email["body"]


def test_a_folder_marker_is_ignored_without_an_email(aws):
    result = aws.invoke(aws.upload("uploads/2025/", b""))

    assert result == {"files": [{"file": "uploads/2025/", "status": "IGNORED"}]}
    assert aws.emails() == [] and aws.upload_records() == []


def test_rows_and_records_expire_the_retention_days_after_the_upload(aws, monkeypatch):
    configured(aws, monkeypatch, UPLOAD_RETENTION_DAYS=30, PART_BYTES=2048)
    aws.invoke(aws.upload("uploads/lineup.csv", lineup_csv(lineup_rows(200))))
    aws.deliver_parts()
    aws.invoke(aws.upload("uploads/notes.txt", b"not a lineup"))

    expected = {}
    for key in ("uploads/lineup.csv", "uploads/notes.txt"):
        uploaded = aws.s3.head_object(Bucket=BUCKET, Key=key)["LastModified"]
        expected[key] = int(uploaded.timestamp()) + 30 * DAY_S
    items = every_item(aws)
    performances = [i for i in items if i["sk"]["S"].startswith("PERF#")]
    records = [i for i in items if i["pk"]["S"] == "UPLOADS"]
    bookkeeping = [i for i in items if i["pk"]["S"].startswith("LOAD#")]
    assert len(performances) == 200 and len(records) == 2 and len(bookkeeping) > 2
    for item in performances + bookkeeping:
        assert int(item["expires_at"]["N"]) == expected["uploads/lineup.csv"]
    for record in records:
        assert int(record["expires_at"]["N"]) == expected[record["file"]["S"]]
    # Only the longest set, shared by every file, and the loaded file's head stay: the head
    # says which version of the file is current and orders its events (it expires a week
    # after the file is removed); a file refused by its name gets none.
    kept = sorted((i["pk"]["S"], i["sk"]["S"]) for i in items if "expires_at" not in i)
    assert kept == [
        ("HEADS", schema.head_key("uploads/lineup.csv")["sk"]),
        (schema.LONGEST_SET_KEY["pk"], schema.LONGEST_SET_KEY["sk"]),
    ]


def test_with_zero_retention_days_nothing_expires(aws, monkeypatch):
    configured(aws, monkeypatch, UPLOAD_RETENTION_DAYS=0)
    aws.invoke(aws.upload("uploads/lineup.csv", lineup_csv(lineup_rows(30))))

    items = every_item(aws)
    assert len(items) > 30
    assert [item for item in items if "expires_at" in item] == []
