"""A re-upload's change report on the real path: S3 upload -> notification -> Lambda ->
DynamoDB -> SNS -> MailDev. Version 1, then version 2 with one set added, one removed and
one moved: one email listing exactly those three; `festival changes` gives the same list
after the first version's rows are collected."""

from __future__ import annotations

import json

import pytest

from tests.e2e.conftest import Pipeline, wait_for
from tests.e2e.test_cli import festival
from tests.lineups import lineup_csv

pytestmark = pytest.mark.e2e

DAY, NEXT = "2299-07-12", "2299-07-13"  # no other test's sets fall on these days


def test_a_reupload_emails_the_one_added_removed_and_moved_set(pipeline: Pipeline):
    key = pipeline.unique_key("changes.csv")
    tag = key.rsplit("-", 1)[-1].split(".")[0]
    stays, gone, moves, comes = (f"{name} {tag}" for name in ("Stays", "Gone", "Moves", "Comes"))
    stays_row = [stays, "Main Stage", "20:00", "21:00", DAY]
    version_1 = [
        stays_row,
        [gone, "Tent", "21:00", "22:00", DAY],
        [moves, "Main Stage", "23:30", "0:30", DAY],
    ]
    version_2 = [
        stays_row,
        [moves, "Tent", "0:30", "1:30", NEXT],
        [comes, "Main Stage", "22:00", "23:00", DAY],
    ]
    pipeline.upload(key, lineup_csv(version_1))
    first = pipeline.wait_for_email(key)
    assert "New file: no earlier upload of this key." in first["text"]
    pipeline.upload(key, lineup_csv(version_2))
    emails = wait_for("the re-upload's email", lambda: _two(pipeline.emails_about(key)))
    assert len(emails) == 2  # one email per upload
    [second] = [email for email in emails if "Changes since" in email["text"]]
    text = second["text"]
    assert ": 1 added, 1 removed, 1 moved" in text
    section = text[text.index("Changes since") : text.index("Details:")]
    assert [line for line in section.splitlines() if line.startswith("  ")] == [
        f"  {comes}: Main Stage, {DAY} 22:00-23:00",
        f"  {gone}: Tent, {DAY} 21:00-22:00",
        f"  {moves}: Main Stage, {DAY} 23:30-00:30 (ends {NEXT}) -> Tent, {NEXT} 00:30-01:30",
    ]
    first_version, _ = pipeline.versions(key)
    wait_for(
        "the first version's rows collected",
        lambda: not pipeline.version_left(key, first_version),
    )
    result = festival("--local", "--json", "changes", key)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["counts"] == {"added": 1, "removed": 1, "moved": 1}
    assert [s["performer"] for s in found["added"]] == [comes]
    assert [s["performer"] for s in found["removed"]] == [gone]
    assert found["moved"][0]["to"] == {
        "stage": "Tent",
        "start": f"{NEXT}T00:30",
        "end": f"{NEXT}T01:30",
    }


def _two(emails: list[dict]) -> list[dict] | None:
    return emails if len(emails) >= 2 else None
