"""Calendars and the same lineup under two names, through the real path on the local
stack: S3 upload (with the `timezone` metadata) -> notification -> Lambda -> DynamoDB ->
SNS -> mail sink, then `festival export` as a user runs it, read back with `icalendar`."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
import uuid
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from tests.e2e.conftest import Pipeline

pytestmark = pytest.mark.e2e

FESTIVAL = Path(sys.executable).with_name("festival")
AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def festival(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(FESTIVAL), "--local", *arguments], capture_output=True, timeout=120, check=False
    )


def lineup_of(tag: str) -> bytes:
    return (
        "Performer,Stage,Start,End,Date\n"
        f"Night Owl {tag},Stage {tag},23:30,1:00,2025-08-01\n"
        f"Night Owl {tag},Tent {tag},6:00 PM,7:00 PM,2025-08-02\n"
        f"Early Bird {tag},Stage {tag},20:00,21:00,2025-08-01\n"
    ).encode()


def test_a_performers_calendar_has_their_sets_in_the_uploads_time_zone(pipeline: Pipeline):
    tag = uuid.uuid4().hex[:8]
    key = pipeline.unique_key("calendar.csv")
    pipeline.s3.put_object(
        Bucket=pipeline.bucket,
        Key=key,
        Body=lineup_of(tag),
        Metadata={"timezone": "Europe/Amsterdam"},
    )
    email = pipeline.wait_for_email(key)
    assert "Time zone:     Europe/Amsterdam (the upload's timezone metadata)" in email["text"]

    result = festival("export", "--performer", f"night owl {tag.upper()}")

    assert result.returncode == 0, result.stderr
    calendar = Calendar.from_ical(result.stdout)
    found = [
        (
            str(event["summary"]),
            str(event["location"]),
            event.decoded("dtstart"),
            event.decoded("dtend"),
            event["dtstart"].params["TZID"],
        )
        for event in calendar.walk("VEVENT")
    ]
    assert sorted(found, key=lambda event: event[2]) == [
        (
            f"Night Owl {tag}",
            f"Stage {tag}",
            datetime(2025, 8, 1, 23, 30, tzinfo=AMSTERDAM),
            datetime(2025, 8, 2, 1, 0, tzinfo=AMSTERDAM),
            "Europe/Amsterdam",
        ),
        (
            f"Night Owl {tag}",
            f"Tent {tag}",
            datetime(2025, 8, 2, 18, 0, tzinfo=AMSTERDAM),
            datetime(2025, 8, 2, 19, 0, tzinfo=AMSTERDAM),
            "Europe/Amsterdam",
        ),
    ]
    assert [str(zone["tzid"]) for zone in calendar.walk("VTIMEZONE")] == ["Europe/Amsterdam"]

    exported = festival("export", "--format", "csv", "--stage", f"Stage {tag}")
    rows = list(csv.DictReader(io.StringIO(exported.stdout.decode())))
    assert [(row["performer"], row["start"], row["zone"]) for row in rows] == [
        (f"Early Bird {tag}", "2025-08-01T20:00", "Europe/Amsterdam"),
        (f"Night Owl {tag}", "2025-08-01T23:30", "Europe/Amsterdam"),
    ]


def test_the_same_lineup_under_a_second_name_says_so_in_its_email(pipeline: Pipeline):
    tag = uuid.uuid4().hex[:8]
    first, second = pipeline.unique_key("lineup.csv"), pipeline.unique_key("lineup-v2.csv")
    pipeline.upload(first, lineup_of(tag))
    assert "Same lineup" not in pipeline.wait_for_email(first)["text"]

    pipeline.upload(second, lineup_of(tag))

    text = pipeline.wait_for_email(second)["text"]
    other = f"s3://{pipeline.bucket}/{first}"
    assert f"Same lineup:   most of these sets (100%) are already in {other}," in text
    assert f"To replace it, delete it (aws s3 rm {other})" in text
    record = next(item for item in pipeline.upload_records(second) if item["status"]["S"] == "OK")
    assert record["same_lineup_file"]["S"] == first
