"""Hostile uploads through the local stack: names too long for a key, control and bidi
characters, the longest S3 keys and keys with line breaks. Each ends with exactly one
email, and every good row is loaded."""

from __future__ import annotations

import uuid

import pytest
import requests

from festival.local.stack import MAIL_WEB_URL
from tests.e2e.conftest import wait_for
from tests.lineups import lineup_csv, lineup_rows

pytestmark = pytest.mark.e2e


def emails_containing(text: str) -> list[dict]:
    emails = requests.get(f"{MAIL_WEB_URL}/api/email", timeout=5).json()
    return [email for email in emails if text in email.get("text", "")]


def test_names_too_long_or_with_controls_are_row_errors_and_the_good_rows_load(pipeline):
    good = lineup_rows(10)
    hostile = [
        ["A" * 1100, "Main Stage", "20:00", "21:00", "2025-07-12"],  # over the key limit
        ["Evil\x1b[31mBand", "Main Stage", "21:00", "22:00", "2025-07-12"],
        ["Liar\u202eBand", "Main Stage", "22:00", "23:00", "2025-07-12"],
    ]
    key = pipeline.unique_key("hostile.csv")
    pipeline.upload(key, lineup_csv(good + hostile))

    email = pipeline.wait_for_email(key)
    items = wait_for(
        "the good rows", lambda: (found := pipeline.items_of(key)) and len(found) >= 10 and found
    )

    assert sorted(item["performer"]["S"] for item in items) == sorted(row[0] for row in good)
    text = email["text"]
    assert "Rows loaded:   10" in text
    assert "line 12: Performer is" in text and "line 13: Performer contains U+001B" in text
    assert "line 14: Performer contains U+202E" in text
    assert "\x1b" not in text and "\u202e" not in text
    assert len(pipeline.emails_about(key)) == 1


def test_the_longest_s3_key_gets_its_rows_and_its_email(pipeline):
    stem = f"{pipeline.prefix}long-{uuid.uuid4().hex}-"
    key = stem + "k" * (1024 - len(stem.encode()) - len(".csv")) + ".csv"
    assert len(key.encode()) == 1024  # S3's limit
    pipeline.upload(key, lineup_csv(lineup_rows(5)))

    email = pipeline.wait_for_email(key)

    assert email["subject"].startswith("festival-lineup OK: long-")
    assert len(wait_for("5 rows", lambda: (f := pipeline.items_of(key)) and len(f) == 5 and f))
    (record,) = wait_for("its record", lambda: pipeline.upload_records(key))
    assert record["status"]["S"] == "OK"


def test_a_key_with_a_line_break_is_escaped_in_its_email(pipeline):
    marker = uuid.uuid4().hex
    key = f"{pipeline.prefix}x-{marker}.csv\nStatus: OK.csv"
    pipeline.upload(key, lineup_csv(lineup_rows(3)))

    (email,) = wait_for("the email", lambda: emails_containing(marker))

    lines = email["text"].splitlines()
    assert not any(line.startswith("Status: OK") for line in lines)
    assert any(f"x-{marker}.csv\\nStatus: OK.csv" in line for line in lines)
    assert "\n" not in email["subject"] and "\\n" in email["subject"]
