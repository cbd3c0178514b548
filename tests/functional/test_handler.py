"""The handler with sample S3 events against in-memory AWS, including injected faults."""

from __future__ import annotations

from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from tests.functional.conftest import BUCKET, LambdaContext, _sequencers, s3_event
from tests.lineups import lineup_csv, lineup_rows

pytestmark = pytest.mark.functional


class FlakyDynamoDB:
    """A DynamoDB client that throttles, leaves items unprocessed, or crashes, on cue."""

    def __init__(
        self, client, *, throttle_every=0, unprocessed_every=0, crash_at=None, always_throttle=False
    ):
        self.client = client
        self.throttle_every = throttle_every
        self.unprocessed_every = unprocessed_every
        self.crash_at = crash_at
        self.always_throttle = always_throttle
        self.batch_calls = 0

    def __getattr__(self, name):
        return getattr(self.client, name)

    def batch_write_item(self, RequestItems, **kwargs):  # noqa: N803 (boto3's name)
        self.batch_calls += 1
        if self.crash_at == self.batch_calls:
            raise RuntimeError("simulated crash in the middle of the file")
        if self.always_throttle or (
            self.throttle_every and self.batch_calls % self.throttle_every == 0
        ):
            raise ClientError(
                {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow"}},
                "BatchWriteItem",
            )
        if self.unprocessed_every and self.batch_calls % self.unprocessed_every == 0:
            ((table, writes),) = RequestItems.items()
            half = len(writes) // 2
            if half:
                self.client.batch_write_item(RequestItems={table: writes[:half]})
            return {"UnprocessedItems": {table: writes[half:]}}
        return self.client.batch_write_item(RequestItems=RequestItems, **kwargs)


def upload(aws, key: str, body: bytes) -> dict:
    """Put the object; the event S3 sends for it, with its sequencer: later than that of
    every event made before (removal_event's included), as S3 orders a key's events."""
    event = aws.upload(key, body)
    event["Records"][0]["s3"]["object"]["sequencer"] = f"{next(_sequencers):X}"
    return event


def performer_names(aws) -> list[str]:
    return sorted(item["performer"]["S"] for item in aws.performances())


def the_failed_email(aws, file_name: str) -> str:
    """The body of the one email of a file that FAILED; no row of it is in the table."""
    assert aws.performances() == []
    (email,) = aws.emails()
    assert email["subject"] == f"festival-lineup FAILED: {file_name}"
    return email["body"]


def without_timestamps(items: list[dict]) -> list[dict]:
    volatile = {"started_at", "finished_at", "duration_ms", "request_id"}
    return sorted(
        ({k: v for k, v in item.items() if k not in volatile} for item in items),
        key=lambda item: (item["pk"]["S"], item["sk"]["S"]),
    )


def test_handler_loads_every_row_and_emails_ok(aws):
    rows = lineup_rows(60)
    event = aws.upload("uploads/lineup.csv", lineup_csv(rows))

    result = aws.invoke(event)

    assert result == {"files": [{"file": "uploads/lineup.csv", "status": "OK"}]}
    assert performer_names(aws) == sorted(row[0] for row in rows)
    (email,) = aws.emails()
    assert email["subject"] == "festival-lineup OK: lineup.csv"
    assert "Rows loaded:   60" in email["body"]


def test_url_encoded_key_with_spaces_and_accents_is_decoded(aws):
    key = "uploads/Summer Lineup (été) v2.csv"
    aws.upload(key, lineup_csv(lineup_rows(3)))

    aws.invoke(s3_event(key))

    assert len(aws.performances()) == 3
    (email,) = aws.emails()
    assert email["subject"] == "festival-lineup OK: Summer Lineup (ete) v2.csv"
    assert email["subject"].isascii()


def test_partly_bad_file_loads_good_rows_and_names_each_bad_line(aws):
    body = (
        b"Performer,Stage,Start,End,Date\n"
        b"Good One,Main Stage,20:00,21:00,2025-07-12\n"
        b"Bad Time,Main Stage,25:00,26:00,2025-07-12\n"
        b"Good Two,Side Stage,8:00 PM,9:30 PM,2025-07-12\n"
        b",Side Stage,20:00,21:00,2025-07-12\n"
        b"Bad Date,Side Stage,20:00,21:00,2025-02-30\n"
    )

    aws.invoke(aws.upload("uploads/partly-bad.csv", body))

    assert performer_names(aws) == ["Good One", "Good Two"]
    (email,) = aws.emails()
    assert email["subject"] == "festival-lineup PARTIAL: partly-bad.csv"
    assert "Rows rejected: 3" in email["body"]
    for line in (3, 5, 6):
        assert f"  line {line}: " in email["body"]
    (record,) = aws.upload_records()
    assert record["status"]["S"] == "PARTIAL"
    assert [int(row["M"]["line"]["N"]) for row in record["rejected_rows"]["L"]] == [3, 5, 6]


def test_file_without_usable_header_fails_clearly_and_writes_no_row(aws):
    aws.invoke(aws.upload("uploads/junk.csv", b"\x00\x01\x02binary junk\xff\xfe"))

    body = the_failed_email(aws, "junk.csv")
    assert "was NOT loaded" in body
    assert "Reason: " in body


def test_rejected_rows_beyond_fifty_are_counted_not_listed(aws):
    bad = "".join(f"Act {n},Main Stage,99:00,10:00,2025-07-12\n" for n in range(70))
    body = "Performer,Stage,Start,End,Date\nFine,Main Stage,10:00,11:00,2025-07-12\n" + bad

    aws.invoke(aws.upload("uploads/many-bad.csv", body.encode()))

    (email,) = aws.emails()
    assert "Rejected rows (first 50 of 70):" in email["body"]
    assert email["body"].count("  line ") == 50


def test_duplicate_event_leaves_the_table_as_after_one_delivery(aws):
    event = aws.upload("uploads/lineup.csv", lineup_csv(lineup_rows(40)))
    aws.invoke(event)
    after_one = without_timestamps(aws.dynamodb.scan(TableName="lineup")["Items"])

    aws.invoke(event)

    assert without_timestamps(aws.dynamodb.scan(TableName="lineup")["Items"]) == after_one


def test_reupload_replaces_the_files_lineup_and_removes_missing_rows(aws):
    rows = lineup_rows(30)
    aws.invoke(upload(aws, "uploads/lineup.csv", lineup_csv(rows)))
    aws.emails()

    corrected = rows[:20] + [["Late Addition", "Main Stage", "12:00", "13:00", "2025-07-14"]]
    aws.invoke(upload(aws, "uploads/lineup.csv", lineup_csv(corrected)))
    aws.deliver_parts()  # the older version's rows are collected in steps

    assert performer_names(aws) == sorted(row[0] for row in corrected)
    (email,) = aws.emails()
    # The whole older version is removed: its rows the new one keeps are the new one's.
    assert "Rows removed:  30" in email["body"]


def test_another_files_lineup_is_left_alone_by_a_reupload(aws):
    aws.invoke(upload(aws, "uploads/day1.csv", lineup_csv(lineup_rows(5))))
    other = [["Only Day Two", "Main Stage", "12:00", "13:00", "2025-07-13"]]
    aws.invoke(upload(aws, "uploads/day2.csv", lineup_csv(other)))

    aws.invoke(upload(aws, "uploads/day2.csv", lineup_csv(other)))
    aws.deliver_parts()

    assert len(aws.performances()) == 6


def test_throttling_and_unprocessed_items_are_retried_until_every_row_lands_once(aws, monkeypatch):
    flaky = FlakyDynamoDB(aws.clients.dynamodb, throttle_every=3, unprocessed_every=2)
    aws.rewire(dynamodb=flaky)
    rows = lineup_rows(200)

    result = aws.invoke(aws.upload("uploads/big.csv", lineup_csv(rows)))

    assert result["files"][0]["status"] == "OK"
    assert performer_names(aws) == sorted(row[0] for row in rows)
    assert flaky.batch_calls > 200 // 25  # the faults really happened


def test_throttling_past_the_time_budget_is_retried_through_the_queue_with_one_email(
    aws, monkeypatch
):
    aws.rewire(dynamodb=FlakyDynamoDB(aws.clients.dynamodb, always_throttle=True))
    event = aws.upload("uploads/lineup.csv", lineup_csv(lineup_rows(50)))

    result = aws.invoke(event, LambdaContext(remaining_ms=10_500))

    assert result == {"files": [{"file": "uploads/lineup.csv", "status": "LOADING"}]}
    assert aws.emails() == []
    aws.rewire()
    assert aws.deliver_parts() == 1  # the retry, once DynamoDB keeps up again
    assert len(aws.performances()) == 50
    (email,) = aws.emails()
    assert email["subject"] == "festival-lineup OK: lineup.csv"


def test_crash_in_the_middle_of_a_file_then_retry_loses_and_duplicates_nothing(aws, monkeypatch):
    aws.rewire(dynamodb=FlakyDynamoDB(aws.clients.dynamodb, crash_at=3))
    rows = lineup_rows(120)
    event = aws.upload("uploads/lineup.csv", lineup_csv(rows))

    aws.invoke(event)
    assert 0 < len(aws.performances()) < 120

    aws.rewire()
    aws.deliver_parts()
    assert performer_names(aws) == sorted(row[0] for row in rows)
    (email,) = aws.emails()
    assert "Rows loaded:   120" in email["body"]


def test_object_deleted_before_the_event_is_handled_reports_failure(aws):
    aws.invoke(s3_event("uploads/gone.csv"))

    assert "no longer exists" in the_failed_email(aws, "gone.csv")


def test_an_event_that_names_no_object_is_ignored_without_a_retry_or_an_email(aws):
    result = aws.invoke({"warmup": True})

    assert result == {"files": [], "ignored": "not an S3 event notification: no Records"}
    assert aws.emails() == []


def test_rows_of_a_version_that_crashed_are_removed_when_another_version_loads(aws, monkeypatch):
    aws.rewire(dynamodb=FlakyDynamoDB(aws.clients.dynamodb, crash_at=3))
    aws.invoke(upload(aws, "uploads/lineup.csv", lineup_csv(lineup_rows(120))))
    aws.rewire()

    replacement = [["Only Act", "Main Stage", "12:00", "13:00", "2025-07-14"]]
    aws.invoke(upload(aws, "uploads/lineup.csv", lineup_csv(replacement)))
    # The first version's retry finds the file replaced; then its rows are collected.
    aws.deliver_parts()

    assert performer_names(aws) == ["Only Act"]
    subjects = sorted(email["subject"] for email in aws.emails())
    assert subjects == ["festival-lineup FAILED: lineup.csv", "festival-lineup OK: lineup.csv"]


CLIENT_EXAMPLE = Path(__file__).resolve().parents[2] / "seed" / "music-festival-example-data.csv"


def sets(aws) -> dict[tuple[str, str], tuple[str, str]]:
    return {
        (i["performer"]["S"], i["date"]["S"]): (i["start"]["S"], i["end"]["S"])
        for i in aws.performances()
    }


def test_times_without_am_pm_and_no_hour_after_12_are_read_as_afternoon_and_evening(aws):
    aws.invoke(aws.upload("uploads/client.csv", CLIENT_EXAMPLE.read_bytes()))

    assert sets(aws)[("Olivia Rodrigo", "2025-07-12")] == ("2025-07-12T19:00", "2025-07-12T21:00")
    (email,) = aws.emails()
    assert (
        "Times:         times have no AM/PM and no hour after 12: read as afternoon/evening"
        in email["body"]
    )
    (record,) = aws.upload_records()
    assert record["clock"]["S"] == "pm"


def test_an_upload_may_say_its_clock_in_its_metadata(aws):
    body = CLIENT_EXAMPLE.read_bytes()
    aws.s3.put_object(
        Bucket=BUCKET, Key="uploads/mornings.csv", Body=body, Metadata={"clock": "24h"}
    )

    aws.invoke(s3_event("uploads/mornings.csv"))

    assert sets(aws)[("Olivia Rodrigo", "2025-07-12")] == ("2025-07-12T07:00", "2025-07-12T09:00")
    (email,) = aws.emails()
    assert "as the upload's clock metadata says" in email["body"]


def test_a_bad_clock_in_the_metadata_fails_clearly_and_writes_nothing(aws):
    aws.s3.put_object(
        Bucket=BUCKET,
        Key="uploads/odd.csv",
        Body=CLIENT_EXAMPLE.read_bytes(),
        Metadata={"clock": "12h"},
    )

    aws.invoke(s3_event("uploads/odd.csv"))

    body = the_failed_email(aws, "odd.csv")
    assert "'12h' is not a clock for times without AM/PM" in body
    assert "(from the upload's clock metadata): nothing was loaded." in body


def test_the_same_content_uploaded_again_is_loaded_and_reported_again(aws):
    body = lineup_csv(lineup_rows(5))
    event = upload(aws, "uploads/again.csv", body)
    aws.invoke(event)
    aws.invoke(event)  # a duplicate delivery: no second load, no second email
    assert len(aws.emails()) == 1

    aws.invoke(upload(aws, "uploads/again.csv", body))  # a new upload: a new sequencer
    aws.deliver_parts()

    (email,) = aws.emails()
    assert email["subject"] == "festival-lineup OK: again.csv"
    assert len(aws.performances()) == 5
