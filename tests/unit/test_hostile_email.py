"""Text from outside (an S3 key, cells quoted in row errors) cannot add lines to the email,
nor drive a terminal or reorder what is shown: its display controls are shown as escapes."""

from __future__ import annotations

import pytest

from lineup_ingest.parsing import RowError
from lineup_ingest.report import IngestReport, body, subject
from lineup_ingest.text import DISPLAY_CONTROLS, visible


def report_about(key: str) -> IngestReport:
    report = IngestReport(
        bucket="b", key=key, etag="e", size=1, started_at="t", rows_loaded=1, failure="boom"
    )
    report.rejected.add(RowError(7, "Start '20:00\x1b[2J' is not a time\nStatus: OK"))
    return report


def test_a_key_with_a_line_break_adds_no_line_to_the_email():
    text = body(report_about("uploads/x.csv\nStatus: OK"))
    lines = text.split("\n")
    assert not any(line.startswith("Status: OK") for line in lines)
    assert "s3://b/uploads/x.csv\\nStatus: OK was NOT loaded." in lines
    assert text.splitlines() == lines[:-1]  # no other line separator either
    assert "  line 7: Start '20:00\\x1b[2J' is not a time\\nStatus: OK" in lines


@pytest.mark.parametrize("char", ["\r", "\n", "\x1b", "\u202e", "\u2028", "\x85", "\x0b"])
def test_control_characters_of_a_key_are_shown_as_escapes_in_body_and_subject(char):
    report = report_about(f"uploads/a{char}b.csv")
    escaped = char.encode("unicode_escape").decode("ascii")
    assert f"s3://b/uploads/a{escaped}b.csv" in body(report)
    assert not DISPLAY_CONTROLS.search(body(report).replace("\n", ""))
    title = subject(report)
    assert title == f"festival-lineup FAILED: a{escaped}b.csv"
    assert title.isascii() and title.isprintable()


def test_visible_leaves_ordinary_text_alone():
    assert visible("Sigur Rós\tlive 坂本 👩\u200d🎤") == "Sigur Rós\tlive 坂本 👩\u200d🎤"
