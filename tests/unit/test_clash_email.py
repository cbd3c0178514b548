"""The email's clash line (issue 20) against in-memory fakes: counted once from the loaded
version's rows, kept on the record before the email, and said again by the sweep's email."""

from __future__ import annotations

from lineup_ingest import schema
from tests.lineups import CLASH_LINE, CLASHING
from tests.unit.test_changes import die_after_the_next_email, drain, upload
from tests.unit.test_service import Pipeline

KEY = "uploads/clashing.csv"


def test_the_clash_counts_are_kept_on_the_record_and_the_sweeps_email_says_them_again():
    pipeline = Pipeline()
    die_after_the_next_email(pipeline)
    version = upload(pipeline, CLASHING, KEY)
    record = pipeline.table.record(schema.upload_record_key(KEY, version))
    assert record["status"] == "REPORTING"
    assert record["clashes"]["stage_overlaps"] == 1

    reads: list[str] = []
    pipeline.table.version_rows = lambda *args, **kw: reads.append("read") or iter(())  # type: ignore[method-assign]
    pipeline.clock.advance(3600)
    pipeline.sweep()

    assert reads == []  # the sweep's email says what the record kept, without reading
    (_, once), (_, again) = pipeline.mail.sent
    assert CLASH_LINE in once.splitlines() and CLASH_LINE in again.splitlines()


def test_a_reupload_counts_the_clashes_of_the_new_version_only():
    pipeline = Pipeline()
    upload(pipeline, CLASHING, KEY)
    drain(pipeline)
    fixed = [row for row in CLASHING if row[0] != "B"]
    upload(pipeline, fixed, KEY)
    body = pipeline.mail.sent[-1][1]
    assert (
        "Clashes:       0 stage overlaps, 1 double booking, 1 changeover under 15 min"
        " (festival clashes lists them)"
    ) in body.splitlines()


def test_a_lineup_without_clashes_says_none():
    pipeline = Pipeline()
    upload(pipeline, [["A", "Main", "20:00", "21:00", "2025-07-12"]], KEY)
    assert (
        "Clashes:       none (no stage overlap, no double booking, no changeover under 15 min)"
        in pipeline.mail.sent[-1][1].splitlines()
    )
