"""Large files in parts: every row once, one email, progress, retries, hand-overs, limits."""

from __future__ import annotations

import json

import pytest

from festival.queries import LineupQueries
from lineup_ingest.adapters import LineupTable, PartsQueue, UploadBucket
from lineup_ingest.ingest import Ingestion
from lineup_ingest.parts import PartTask
from lineup_ingest.retry import RetryBudget
from tests.functional.conftest import TABLE, LambdaContext
from tests.functional.test_handler import FlakyDynamoDB, performer_names, upload
from tests.lineups import lineup_csv, lineup_rows, tricky_csv, tricky_rows

pytestmark = pytest.mark.functional
PART_BYTES = 2048


@pytest.fixture
def aws_parts(aws, monkeypatch):
    """The fake with parts of 2 KiB, so that a few hundred rows make many parts."""
    monkeypatch.setenv("PART_BYTES", str(PART_BYTES))
    aws.rewire()
    return aws


def record_of(aws) -> dict:
    (record,) = aws.upload_records()
    return record


def copy_of_the_next_part(aws) -> dict:
    """The parts queue's next message, received and made visible again at once: the next
    delivery loads that part, and the test holds a copy to send late."""
    (message,) = aws.sqs.receive_message(QueueUrl=aws.parts_url)["Messages"]
    aws.sqs.change_message_visibility(
        QueueUrl=aws.parts_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
    )
    return message


def parts_done(record: dict) -> dict[str, dict]:
    """The record's parts done so far: part number -> its counts."""
    return record["parts"]["M"]


class CrashOn(FlakyDynamoDB):
    """Crashes every batch write that holds the named performer (one part's rows)."""

    def __init__(self, client, performer: str, times: int | None = None):
        super().__init__(client)
        self.performer = performer
        self.times = times

    def batch_write_item(self, RequestItems, **kwargs):  # noqa: N803 (boto3's name)
        (writes,) = RequestItems.values()
        names = {w["PutRequest"]["Item"]["performer"]["S"] for w in writes if "PutRequest" in w}
        if self.performer in names and (self.times is None or self.times > 0):
            if self.times is not None:
                self.times -= 1
            raise RuntimeError(f"simulated crash writing {self.performer}")
        return self.client.batch_write_item(RequestItems=RequestItems, **kwargs)


def test_a_file_in_many_parts_loads_every_row_once_and_sends_one_email(aws_parts):
    rows = tricky_rows(300)
    body = tricky_csv(rows)
    aws_parts.invoke(aws_parts.upload("uploads/big.csv", body))

    # The first part is loaded by the invocation S3 triggered; the rest are queued.
    loading = record_of(aws_parts)
    parts = int(loading["parts_total"]["N"])
    assert parts == -(-len(body) // PART_BYTES) >= 6
    assert loading["status"]["S"] == "LOADING"
    (first,) = parts_done(loading).values()
    assert 0 < int(first["M"]["rows_loaded"]["N"]) < 300
    assert aws_parts.emails() == []
    (shown,) = LineupQueries(aws_parts.dynamodb, TABLE).uploads()  # what `festival uploads` shows
    assert (shown["status"], shown["parts_done"], shown["parts_total"]) == ("LOADING", 1, parts)
    assert shown["rows_loaded"] == int(first["M"]["rows_loaded"]["N"])

    assert aws_parts.deliver_parts() == parts - 1

    assert performer_names(aws_parts) == sorted(row[0] for row in rows)
    (email,) = aws_parts.emails()
    assert email["subject"] == "festival-lineup OK: big.csv"
    assert "Rows loaded:   300" in email["body"]
    assert f"Loaded in:     {parts} parts" in email["body"]
    final = record_of(aws_parts)
    assert final["status"]["S"] == "OK"
    assert int(final["parts_done"]["N"]) == len(parts_done(final)) == parts


def test_rows_keep_the_files_own_line_numbers_in_every_part(aws_parts):
    rows = tricky_rows(200)
    for number in (10, 90, 170):
        rows[number][2] = "25:00"
    aws_parts.invoke(aws_parts.upload("uploads/lines.csv", tricky_csv(rows)))
    aws_parts.deliver_parts()

    # Every third row spans three physical lines; the header is line 1.
    def line_of(number: int) -> int:
        return 2 + sum(3 if n % 3 == 0 else 1 for n in range(number))

    (email,) = aws_parts.emails()
    assert "Rows rejected: 3" in email["body"]
    for number in (10, 90, 170):
        assert f"  line {line_of(number)}: Start '25:00' is not a time" in email["body"]
    lines = {
        item["performer"]["S"]: int(item["source_line"]["N"]) for item in aws_parts.performances()
    }
    assert lines[rows[150][0]] == line_of(150)


def test_a_part_delivered_twice_is_counted_once(aws_parts):
    rows = lineup_rows(150)
    aws_parts.invoke(aws_parts.upload("uploads/twice.csv", lineup_csv(rows)))
    message = copy_of_the_next_part(aws_parts)
    aws_parts.deliver_parts()

    aws_parts.sqs.send_message(QueueUrl=aws_parts.parts_url, MessageBody=message["Body"])
    aws_parts.deliver_parts()

    assert performer_names(aws_parts) == sorted(row[0] for row in rows)
    (email,) = aws_parts.emails()
    assert "Rows loaded:   150" in email["body"]
    assert int(record_of(aws_parts)["rows_loaded"]["N"]) == 150


def test_a_part_that_crashes_once_is_retried_alone_and_the_result_is_exact(aws_parts, monkeypatch):
    rows = lineup_rows(200)
    victim = rows[120][0]
    crashing = CrashOn(aws_parts.clients.dynamodb, victim, times=1)
    aws_parts.rewire(dynamodb=crashing)
    aws_parts.invoke(aws_parts.upload("uploads/crash.csv", lineup_csv(rows)))
    parts = int(record_of(aws_parts)["parts_total"]["N"])

    deliveries = aws_parts.deliver_parts()

    assert deliveries == parts  # the parts after the first, and one retry
    assert performer_names(aws_parts) == sorted(row[0] for row in rows)
    (email,) = aws_parts.emails()
    assert email["subject"] == "festival-lineup OK: crash.csv"
    assert "Rows loaded:   200" in email["body"]


def test_a_part_that_keeps_failing_ends_the_file_failed_and_reaches_the_failure_queue(
    aws_parts, monkeypatch
):
    rows = lineup_rows(200)
    victim = rows[120][0]
    aws_parts.rewire(dynamodb=CrashOn(aws_parts.clients.dynamodb, victim))
    aws_parts.invoke(aws_parts.upload("uploads/doomed.csv", lineup_csv(rows)))

    aws_parts.deliver_parts()

    (email,) = aws_parts.emails()
    assert email["subject"] == "festival-lineup FAILED: doomed.csv"
    assert "1 of " in email["body"] and "parts could not be loaded" in email["body"]
    assert f"simulated crash writing {victim}" in email["body"]
    assert record_of(aws_parts)["status"]["S"] == "FAILED"
    failures_url = aws_parts.sqs.get_queue_url(QueueName="failures")["QueueUrl"]
    (failed,) = aws_parts.sqs.receive_message(QueueUrl=failures_url)["Messages"]
    assert json.loads(failed["Body"])["key"] == "uploads/doomed.csv"


class RunningOut(LambdaContext):
    """An invocation whose time runs short after a number of checks."""

    def __init__(self, checks: int):
        super().__init__()
        self.checks = checks

    def get_remaining_time_in_millis(self) -> int:
        self.checks -= 1
        return 300_000 if self.checks > 0 else 25_000


def test_a_part_short_of_time_hands_the_rest_on_and_nothing_is_lost(aws):
    rows = tricky_rows(400)
    aws.invoke(aws.upload("uploads/long.csv", tricky_csv(rows)), RunningOut(checks=5))

    assert aws.emails() == []  # one part, handed on
    while aws.deliver_parts(RunningOut(checks=5)):
        pass

    assert performer_names(aws) == sorted(row[0] for row in rows)
    (email,) = aws.emails()
    assert "Rows loaded:   400" in email["body"]
    assert "Rows read:     400" in email["body"]


def test_a_file_over_the_size_limit_is_refused_with_the_limit_and_writes_nothing(aws, monkeypatch):
    monkeypatch.setenv("MAX_FILE_BYTES", "1000")
    aws.rewire()

    aws.invoke(aws.upload("uploads/huge.csv", lineup_csv(lineup_rows(100))))

    assert aws.performances() == []
    (email,) = aws.emails()
    assert email["subject"] == "festival-lineup FAILED: huge.csv"
    assert "more than the 1,000 bytes this stack accepts" in email["body"]


def test_a_file_replaced_while_its_parts_load_ends_failed_with_one_email(aws_parts):
    rows = lineup_rows(300)
    aws_parts.invoke(upload(aws_parts, "uploads/moving.csv", tricky_csv(tricky_rows(300))))
    parts = int(record_of(aws_parts)["parts_total"]["N"])
    assert parts >= 3  # parts after the next one are queued by parts that never run

    newer = upload(aws_parts, "uploads/moving.csv", lineup_csv(rows[:50]))
    aws_parts.deliver_parts()  # the first version's next part finds the file replaced
    aws_parts.invoke(newer)
    aws_parts.deliver_parts()

    subjects = sorted(email["subject"] for email in aws_parts.emails())
    assert subjects == ["festival-lineup FAILED: moving.csv", "festival-lineup OK: moving.csv"]
    assert performer_names(aws_parts) == sorted(row[0] for row in rows[:50])
    assert {r["status"]["S"] for r in aws_parts.upload_records()} == {"FAILED", "OK"}


def test_giving_up_on_a_part_that_succeeded_changes_nothing(aws_parts):
    aws_parts.invoke(aws_parts.upload("uploads/late.csv", lineup_csv(lineup_rows(150))))
    message = copy_of_the_next_part(aws_parts)
    aws_parts.deliver_parts()
    before = record_of(aws_parts)

    # A late copy of a part that was loaded fails its last attempt: nothing changes.
    clients = aws_parts.clients
    table = LineupTable(clients.dynamodb, TABLE, RetryBudget(lambda: 300_000))
    sent: list = []
    ingestion = Ingestion(UploadBucket(clients.s3), table, PartsQueue(None, ""), sent.append)
    ingestion.give_up(PartTask.from_message(message["Body"]), "RuntimeError: late")

    assert record_of(aws_parts) == before
    assert sent == [] and len(aws_parts.emails()) == 1
