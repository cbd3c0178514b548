"""A file deleted from the bucket, on the real path: S3 delete -> notification -> Lambda ->
rows removed, a removal record, one email in MailDev; and who uploaded, shown."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from tests.e2e.conftest import wait_for
from tests.e2e.test_cli import festival, festival_json

pytestmark = pytest.mark.e2e
SEED = Path(__file__).resolve().parents[2] / "seed"


@pytest.fixture
def notified_of_removals(pipeline):
    """The deployed bucket announces removals. LocalStack 4.14 cannot update a bucket (its
    CloudFormation keeps the old one), so a stack deployed before removals existed must be
    deleted and deployed again."""
    configuration = pipeline.s3.get_bucket_notification_configuration(Bucket=pipeline.bucket)
    events = {
        event
        for found in configuration.get("LambdaFunctionConfigurations", [])
        for event in found["Events"]
    }
    assert "s3:ObjectRemoved:*" in events, (
        f"the bucket {pipeline.bucket} is not notified of removals (events: {sorted(events)}):"
        " it predates them; delete the stack and deploy it again"
    )
    return pipeline


def emails_with_subject(pipeline, key: str, subject: str) -> list[dict]:
    return [email for email in pipeline.emails_about(key) if email["subject"] == subject]


def test_an_uploaded_then_deleted_file_loses_its_rows_with_one_removal_email(
    notified_of_removals,
):
    pipeline = notified_of_removals
    key = pipeline.unique_key("deleted.csv")
    name = key.rsplit("/", 1)[-1]
    pipeline.upload(key, (SEED / "brief-example.csv").read_bytes())
    wait_for(f"3 rows of {key}", lambda: len(pipeline.items_of(key)) == 3)
    pipeline.wait_for_email(key)

    pipeline.s3.delete_object(Bucket=pipeline.bucket, Key=key)

    (email,) = wait_for(
        f"the removal email about {key}",
        lambda: emails_with_subject(pipeline, key, f"festival-lineup REMOVED: {name}"),
    )
    # The email comes once the rows are gone: queries stopped answering from the file at
    # once, and no row of any version is left.
    assert pipeline.items_of(key) == []
    assert pipeline.items_of_every_version(key) == []
    assert f"/{key} was deleted: 3 rows removed." in email["text"]
    removed = wait_for(
        f"`festival uploads` to show {key} removed",
        lambda: [
            r for r in festival_json("uploads") if r["file"] == key and r["status"] == "REMOVED"
        ],
    )
    assert [(r["rows_removed"], r["event"]) for r in removed] == [(3, "ObjectRemoved:Delete")]
    loaded = [r for r in festival_json("uploads") if r["file"] == key and r["status"] == "OK"]
    assert [r["rows_loaded"] for r in loaded] == [3]  # the load's record stays
    # One email for the load, one for the removal: nothing else about the file.
    assert sorted(e["subject"] for e in pipeline.emails_about(key)) == [
        f"festival-lineup OK: {name}",
        f"festival-lineup REMOVED: {name}",
    ]


def test_who_uploaded_is_in_the_email_the_record_and_festival_uploads(pipeline):
    key = pipeline.unique_key("who.csv")
    pipeline.upload(key, (SEED / "brief-example.csv").read_bytes())
    email = pipeline.wait_for_email(key)

    (shown,) = wait_for(
        f"`festival uploads` to list {key}",
        lambda: [r for r in festival_json("uploads") if r["file"] == key],
    )
    principal, source_ip = shown["uploaded_by"], shown["source_ip"]
    # What S3 put in the event (LocalStack 4.14 sends a fixed example principal).
    assert principal and ipaddress.ip_address(source_ip)
    assert f"Uploaded by:   {principal} from {source_ip}" in email["text"]
    table = festival("--local", "uploads")
    assert table.returncode == 0, table.stderr
    (line,) = [line for line in table.stdout.splitlines() if line.startswith(key + " ")]
    assert line.split()[6:8] == [principal, source_ip]
