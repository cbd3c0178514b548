"""Issue 20 through the handler on in-memory AWS (moto): an upload's email counts its clashes
from its rows read back at the finish, and names in wrapped cells load in any number of parts
and across hand-overs, the email counting them."""

from __future__ import annotations

import pytest

from lineup_ingest import outcome
from tests.functional.test_handler import upload
from tests.functional.test_parts import PART_BYTES, RunningOut
from tests.lineups import CLASH_LINE, CLASHING, lineup_csv, wrapped_names_csv


@pytest.fixture
def aws_parts(aws, monkeypatch):
    monkeypatch.setenv("PART_BYTES", str(PART_BYTES))
    aws.rewire()
    return aws


def test_the_email_counts_the_clashes_of_the_file_and_its_record_keeps_them(aws):
    aws.invoke(upload(aws, "uploads/clashing.csv", lineup_csv(CLASHING)))

    (email,) = aws.emails()
    assert "festival-lineup OK" in email["subject"]  # clashes are a report, not errors
    assert CLASH_LINE in email["body"].splitlines()
    (record,) = aws.upload_records()
    counts = {name: int(value["N"]) for name, value in record["clashes"]["M"].items()}
    assert counts == {
        "stage_overlaps": 1,
        "double_bookings": 1,
        "short_changeovers": 1,
        "changeover_minutes": 15,
    }


def test_clashes_across_parts_are_counted_once_the_whole_file_is_in(aws_parts):
    # A and B, which overlap, are more than a part apart: no part alone sees their clash.
    filler = [[f"Filler {n}", f"Stage {n}", "10:00", "11:00", "2025-07-20"] for n in range(60)]
    assert len(lineup_csv(filler)) > PART_BYTES
    rows = [CLASHING[0], *filler, *CLASHING[1:]]
    aws_parts.invoke(upload(aws_parts, "uploads/split.csv", lineup_csv(rows)))
    aws_parts.deliver_parts()

    (email,) = aws_parts.emails()
    assert "Loaded in:" in email["body"]
    assert CLASH_LINE in email["body"].splitlines()


def test_a_version_over_the_limit_says_its_clashes_were_not_counted(aws, monkeypatch):
    monkeypatch.setattr(outcome.clashes, "MAX_ROWS", 3)
    aws.invoke(upload(aws, "uploads/big.csv", lineup_csv(CLASHING)))

    (email,) = aws.emails()
    assert (
        "Clashes:       not counted (5 rows, more than the 3 counted as a file loads):"
        " run festival clashes"
    ) in email["body"].splitlines()


def test_a_failed_upload_says_nothing_of_clashes(aws):
    aws.invoke(upload(aws, "uploads/bad.csv", lineup_csv([["A", "Main", "25:00", "1:00", "x"]])))
    (email,) = aws.emails()
    assert "FAILED" in email["subject"] and "Clashes:" not in email["body"]


def test_names_in_wrapped_cells_load_in_many_parts_and_are_counted_once(aws_parts):
    aws_parts.invoke(upload(aws_parts, "uploads/wrapped.csv", wrapped_names_csv(500)))
    aws_parts.deliver_parts()

    (email,) = aws_parts.emails()
    body = email["body"]
    assert "festival-lineup OK" in email["subject"]
    assert "Rows loaded:   500" in body and "Rows rejected: 0" in body
    assert "Wrapped names: 10 held line breaks (wrapped cells), each read as one line" in body
    names = {item["performer"]["S"] for item in aws_parts.performances()}
    assert "Act 0000049 and Friends, Live" in names


def test_names_in_wrapped_cells_are_counted_once_across_hand_overs(aws):
    aws.invoke(upload(aws, "uploads/handed.csv", wrapped_names_csv(400)), RunningOut(checks=5))
    assert aws.emails() == []  # handed on
    while aws.deliver_parts(RunningOut(checks=5)):
        pass

    (email,) = aws.emails()
    assert "Rows loaded:   400" in email["body"]
    assert "Wrapped names: 8 held line breaks" in email["body"]
