"""A file deleted (or expired) from the bucket: queries stop seeing it at once, its rows
are collected (the first step at once, the rest through the parts queue), it is recorded,
and one email says so."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from festival import cli
from festival.queries import LineupQueries
from lineup_ingest import collect
from tests.functional.conftest import TABLE, LambdaContext, removal_event
from tests.functional.test_handler import FlakyDynamoDB, performer_names, upload
from tests.lineups import lineup_csv, lineup_rows

pytestmark = pytest.mark.functional


def uploads(aws) -> list[dict]:
    """What `festival uploads --json` shows."""
    return LineupQueries(aws.dynamodb, TABLE).uploads()


def removals(aws) -> list[dict]:
    return [record for record in uploads(aws) if record.get("kind") == "removal"]


def the_removal_email(aws, status: str, file_name: str, *, rows_removed: int) -> str:
    """The body of the one email of a removal that ended ``status``, whose record says so
    and counts ``rows_removed``."""
    (email,) = aws.emails()
    assert email["subject"] == f"festival-lineup {status}: {file_name}"
    (removal,) = removals(aws)
    assert (removal["status"], removal["rows_removed"]) == (status, rows_removed)
    return email["body"]


def with_requester(event: dict, principal: str, source_ip: str) -> dict:
    """The event as S3 sends it for a request by ``principal`` from ``source_ip``."""
    (record,) = event["Records"]
    record["userIdentity"] = {"principalId": principal}
    record["requestParameters"] = {"sourceIPAddress": source_ip}
    return event


def test_a_deleted_file_loses_exactly_its_rows_is_recorded_and_emailed_once(aws):
    day1 = lineup_rows(30)
    day2 = [[f"Day Two {name}", *rest] for name, *rest in lineup_rows(7)]
    aws.invoke(upload(aws, "uploads/day1.csv", lineup_csv(day1)))
    aws.invoke(upload(aws, "uploads/day2.csv", lineup_csv(day2)))
    aws.emails()

    aws.invoke(aws.delete("uploads/day1.csv"))
    aws.deliver_parts()

    assert performer_names(aws) == sorted(row[0] for row in day2)  # the other file stays
    (email,) = aws.emails()
    assert email["subject"] == "festival-lineup REMOVED: day1.csv"
    assert email["body"].startswith(
        "s3://festival-uploads/uploads/day1.csv was deleted: 30 rows removed.\n"
    )
    assert "Removed by:    AWS:AIDAREMOVER from 198.51.100.9" in email["body"]
    (removal,) = removals(aws)
    assert (removal["file"], removal["status"], removal["rows_removed"]) == (
        "uploads/day1.csv",
        "REMOVED",
        30,
    )
    assert (removal["removed_by"], removal["source_ip"]) == ("AWS:AIDAREMOVER", "198.51.100.9")
    assert removal["event"] == "ObjectRemoved:Delete"
    # The loads' records stay: what was loaded, and when.
    assert sorted(r["file"] for r in uploads(aws) if r.get("kind") != "removal") == [
        "uploads/day1.csv",
        "uploads/day2.csv",
    ]


def test_a_duplicate_delivery_of_the_delete_event_removes_and_emails_nothing_more(aws):
    aws.invoke(upload(aws, "uploads/lineup.csv", lineup_csv(lineup_rows(12))))
    aws.emails()
    event = aws.delete("uploads/lineup.csv")
    aws.invoke(event)
    aws.deliver_parts()
    (first,) = aws.emails()
    # A new version uploaded, then the first delete's event delivered again: it must not
    # take the new upload's rows, nor send a second email.
    aws.invoke(upload(aws, "uploads/lineup.csv", lineup_csv(lineup_rows(13)[1:])))
    aws.emails()

    again = aws.invoke(event, LambdaContext(aws_request_id="request-2"))
    aws.deliver_parts()

    assert again == {"files": [{"file": "uploads/lineup.csv", "status": "REMOVED"}]}
    assert aws.emails() == []
    assert len(aws.performances()) == 12
    (removal,) = removals(aws)
    assert removal["rows_removed"] == 12
    assert "12 rows removed" in first["body"]


def test_a_late_delete_event_after_a_newer_upload_removes_nothing_of_it(aws):
    old = lineup_rows(20)
    aws.invoke(upload(aws, "uploads/lineup.csv", lineup_csv(old)))
    event = aws.delete("uploads/lineup.csv")
    newer = old[:5] + [["Newcomer", "Main Stage", "12:00", "13:00", "2025-07-14"]]
    aws.invoke(upload(aws, "uploads/lineup.csv", lineup_csv(newer)))
    aws.deliver_parts()
    aws.emails()

    result = aws.invoke(event)  # S3 delivered the delete's event after the upload's
    aws.deliver_parts()

    assert result["files"][0]["status"] == "REPLACED"
    assert performer_names(aws) == sorted(row[0] for row in newer)
    body = the_removal_email(aws, "REPLACED", "lineup.csv", rows_removed=0)
    assert "nothing removed: it was uploaded again since." in body


def test_queries_stop_seeing_a_deleted_file_before_its_rows_are_collected(aws, monkeypatch):
    monkeypatch.setattr(collect, "STEP_KEYS", 10)  # the first step leaves most rows
    monkeypatch.setattr(collect, "PAGE_KEYS", 5)
    rows = lineup_rows(60)
    aws.invoke(upload(aws, "uploads/lineup.csv", lineup_csv(rows)))
    queries = LineupQueries(aws.dynamodb, TABLE)
    assert len(queries.by_performer(rows[0][0])) == 1
    aws.emails()

    aws.invoke(aws.delete("uploads/lineup.csv"))

    assert len(aws.performances()) > 0  # still in the table...
    assert queries.by_performer(rows[0][0]) == []  # ...but no query answers from them
    assert queries.current_versions() == {}
    assert aws.emails() == []  # the email waits for the rows to be gone
    assert removals(aws)[0]["status"] == "REMOVING"

    assert aws.deliver_parts() >= 5

    assert aws.performances() == []
    (email,) = aws.emails()
    assert "60 rows removed" in email["body"]
    assert removals(aws)[0]["status"] == "REMOVED"


def test_deleting_a_key_never_loaded_still_sends_one_email_saying_nothing_to_remove(aws):
    result = aws.invoke(removal_event("uploads/never-loaded.csv"))

    assert result["files"][0]["status"] == "REMOVED"
    (email,) = aws.emails()
    assert email["subject"] == "festival-lineup REMOVED: never-loaded.csv"
    assert "was deleted: nothing to remove (no version of it was loaded;" in email["body"]
    assert removals(aws)[0]["rows_removed"] == 0


def test_expiry_by_the_lifecycle_rule_removes_the_rows_and_says_so(aws):
    aws.invoke(upload(aws, "uploads/old.csv", lineup_csv(lineup_rows(4))))
    aws.emails()
    aws.s3.delete_object(Bucket="festival-uploads", Key="uploads/old.csv")

    aws.invoke(
        removal_event(
            "uploads/old.csv",
            event_name="LifecycleExpiration:Delete",
            principal="s3.amazonaws.com",
            source_ip="s3.amazonaws.com",
        )
    )

    assert aws.performances() == []
    (email,) = aws.emails()
    assert (
        "uploads/old.csv expired (the bucket's lifecycle rule): 4 rows removed." in (email["body"])
    )


def test_lambdas_retry_after_a_crash_mid_removal_goes_on_and_counts_every_row_once(aws):
    aws.invoke(upload(aws, "uploads/lineup.csv", lineup_csv(lineup_rows(30))))
    aws.emails()
    event = aws.delete("uploads/lineup.csv")
    aws.rewire(dynamodb=FlakyDynamoDB(aws.clients.dynamodb, crash_at=1))

    with pytest.raises(RuntimeError, match="simulated crash"):
        aws.invoke(event, LambdaContext(aws_request_id="request-1"))
    aws.rewire()
    assert aws.emails() == []
    # S3 delivering the event again leaves the removal to Lambda's retry...
    duplicate = aws.invoke(event, LambdaContext(aws_request_id="request-2"))
    assert duplicate["files"][0]["status"] == "REMOVING"

    aws.invoke(event, LambdaContext(aws_request_id="request-1"))  # ...which keeps the id
    aws.deliver_parts()

    assert aws.performances() == []
    assert "30 rows removed" in the_removal_email(aws, "REMOVED", "lineup.csv", rows_removed=30)


def test_who_uploaded_is_recorded_emailed_and_shown_by_festival_uploads(aws, monkeypatch):
    event = with_requester(
        upload(aws, "uploads/lineup.csv", lineup_csv(lineup_rows(3))),
        "AWS:AIDAUPLOADER",
        "203.0.113.7",
    )

    aws.invoke(event)

    (email,) = aws.emails()
    assert "Uploaded by:   AWS:AIDAUPLOADER from 203.0.113.7" in email["body"]
    (record,) = aws.upload_records()
    assert (record["uploaded_by"]["S"], record["source_ip"]["S"]) == (
        "AWS:AIDAUPLOADER",
        "203.0.113.7",
    )
    (shown,) = uploads(aws)
    assert (shown["uploaded_by"], shown["source_ip"]) == ("AWS:AIDAUPLOADER", "203.0.113.7")

    aws.invoke(aws.delete("uploads/lineup.csv"))
    monkeypatch.setattr(cli, "_queries", lambda ctx: LineupQueries(aws.dynamodb, TABLE))
    table = CliRunner().invoke(cli.main, ["uploads"])

    assert table.exit_code == 0, table.output
    header, _rule, *lines = table.output.splitlines()
    assert header.split() == (
        "file status parts loaded rejected removed by from finished (UTC) same lineup as".split()
    )
    removed, loaded = lines
    assert removed.split()[:5] == [
        "uploads/lineup.csv",
        "REMOVED",
        "3",
        "AWS:AIDAREMOVER",
        "198.51.100.9",
    ]
    assert loaded.split()[:8] == [
        "uploads/lineup.csv",
        "OK",
        "1/1",
        "3",
        "0",
        "0",
        "AWS:AIDAUPLOADER",
        "203.0.113.7",
    ]


def test_a_file_deleted_while_its_parts_load_ends_failed_with_no_row_left(aws, monkeypatch):
    monkeypatch.setenv("PART_BYTES", "2048")
    aws.rewire()
    aws.invoke(upload(aws, "uploads/big.csv", lineup_csv(lineup_rows(300))))
    assert aws.performances()  # the first part is in; the others are queued
    event = aws.delete("uploads/big.csv")

    aws.invoke(event)  # removes the first part's rows
    aws.deliver_parts()  # the other parts find the file gone

    assert aws.performances() == []
    emails = {email["subject"]: email["body"] for email in aws.emails()}
    assert set(emails) == {"festival-lineup REMOVED: big.csv", "festival-lineup FAILED: big.csv"}
    assert "no longer exists" in emails["festival-lineup FAILED: big.csv"]
    statuses = sorted(record["status"] for record in uploads(aws))
    assert statuses == ["FAILED", "REMOVED"]


class DeleteAfterTheRows(FlakyDynamoDB):
    """A DynamoDB client after whose first write of rows the file is deleted and its event
    handled: the file is deleted after its rows were written, before its load ended."""

    def __init__(self, client, aws, key: str):
        super().__init__(client)
        self.aws = aws
        self.key = key
        self.deleted = False

    def batch_write_item(self, RequestItems, **kwargs):  # noqa: N803 (boto3's name)
        response = self.client.batch_write_item(RequestItems=RequestItems, **kwargs)
        if not self.deleted:
            self.deleted = True
            self.aws.invoke(self.aws.delete(self.key), LambdaContext(aws_request_id="delete"))
        return response


def test_a_load_that_ends_after_its_file_was_deleted_removes_what_it_wrote(aws):
    aws.rewire(dynamodb=DeleteAfterTheRows(aws.clients.dynamodb, aws, "uploads/lineup.csv"))

    result = aws.invoke(upload(aws, "uploads/lineup.csv", lineup_csv(lineup_rows(25))))
    aws.deliver_parts()

    assert result["files"][0]["status"] == "FAILED"
    assert aws.performances() == []
    emails = {email["subject"]: email["body"] for email in aws.emails()}
    assert set(emails) == {
        "festival-lineup REMOVED: lineup.csv",
        "festival-lineup FAILED: lineup.csv",
    }
    failed = emails["festival-lineup FAILED: lineup.csv"]
    assert "Rows removed:  25 (the file was deleted before its load ended)" in failed
    assert "Reason: The file was deleted before its load ended" in failed
