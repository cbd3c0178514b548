"""The change report between two versions of a file (lineup_ingest/changes.py), and what the
end of a load does with it: computed before the new version becomes current, kept on the
record and in chunk items, written into the one email (also when the sweep sends it again)."""

from __future__ import annotations

import gzip
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from lineup_ingest import changes, outcome, schema
from lineup_ingest.changes import Changes, Move, Set
from tests.lineups import lineup_csv
from tests.unit.test_service import Pipeline

KEY = "uploads/lineup.csv"


def a_set(performer: str, stage: str = "Main Stage", start: str = "2025-07-12T20:00") -> Set:
    hour = int(start[11:13])
    return Set(performer, stage, start, f"{start[:11]}{(hour + 1) % 24:02d}:00")


# --- the comparison ----------------------------------------------------------------------------


def test_a_set_only_in_the_new_version_is_added_and_one_only_in_the_old_is_removed():
    kept, gone, came = a_set("Bonobo"), a_set("Kraftwerk"), a_set("Peggy Gou")
    found = changes.compare([kept, gone], [kept, came])
    assert found == Changes(added=[came], removed=[gone], moved=[])


def test_a_performer_on_another_stage_or_time_is_moved_not_added_and_removed():
    old = a_set("Kraftwerk", "Main Stage", "2025-07-12T23:00")
    new = a_set("Kraftwerk", "Dance Tent", "2025-07-13T01:00")
    found = changes.compare([old], [new])
    assert found.moved == [Move(old, new)]
    assert found.added == found.removed == []


def test_moves_pair_the_nearest_starts_first_one_to_one():
    early, late = (
        a_set("Bonobo", start="2025-07-12T14:00"),
        a_set("Bonobo", start="2025-07-12T22:00"),
    )
    to_late = a_set("Bonobo", start="2025-07-12T21:00")
    found = changes.compare([early, late], [to_late])
    assert found.moved == [Move(late, to_late)]
    assert found.removed == [early]
    assert found.added == []


def test_a_changed_end_is_a_move_and_the_same_sets_are_no_change():
    old = Set("Bonobo", "Outdoor Stage", "2025-07-12T22:00", "2025-07-13T02:00")
    new = old._replace(end="2025-07-13T01:00")
    assert changes.compare([old], [new]).moved == [Move(old, new)]
    assert changes.compare([old, new], [new, old]) == Changes()


def test_another_spelling_of_a_performer_is_not_the_same_performer():
    old, new = a_set("Kraftwerk"), a_set("KRAFTWERK", start="2025-07-12T21:00")
    found = changes.compare([old], [new])
    assert (found.added, found.removed, found.moved) == ([new], [old], [])


def test_a_performer_with_thousands_of_sets_is_paired_quickly():
    old = [
        a_set("Resident DJ", f"Stage {n}", f"2025-07-{12 + n // 1000}T{n % 24:02d}:00")
        for n in range(5000)
    ]
    new = [one._replace(stage=one.stage + " B") for one in old]
    found = changes.compare(old, new)
    assert len(found.moved) == 5000
    assert all(move.old.start == move.new.start for move in found.moved)


sets = st.builds(
    Set,
    performer=st.sampled_from(["A", "B", "C", "Sigur Rós"]),
    stage=st.sampled_from(["Main", "Tent"]),
    start=st.sampled_from([f"2025-07-12T{hour:02d}:00" for hour in (14, 18, 20, 23)]),
    end=st.sampled_from(["2025-07-12T23:30", "2025-07-13T01:00"]),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(sets, max_size=12), st.lists(sets, max_size=12))
def test_applying_the_report_to_the_old_version_gives_the_new_one(old, new):
    found = changes.compare(old, new)
    assert found.applied_to(old) == set(new)


@settings(max_examples=300, deadline=None)
@given(st.lists(sets, max_size=12), st.lists(sets, max_size=12))
def test_every_change_is_counted_once_and_moves_keep_their_performer(old, new):
    found = changes.compare(old, new)
    olds = found.removed + [move.old for move in found.moved]
    news = found.added + [move.new for move in found.moved]
    assert sorted(olds) == sorted(set(old) - set(new))
    assert sorted(news) == sorted(set(new) - set(old))
    assert all(move.old.performer == move.new.performer for move in found.moved)
    # no performer is left both added and removed: such a pair would have been a move
    assert not {s.performer for s in found.added} & {s.performer for s in found.removed}


@settings(max_examples=200, deadline=None)
@given(st.lists(sets, max_size=12), st.lists(sets, max_size=12))
def test_the_whole_list_survives_its_chunks(old, new):
    found = changes.compare(old, new)
    chunks = changes.to_chunks(found, chunk_bytes=7)
    assert all(len(chunk) <= 7 for chunk in chunks)
    assert changes.from_chunks(chunks) == found


def test_a_large_list_is_cut_in_chunks_under_the_item_limit():
    old = [a_set(f"Performer {n:06d}", start=f"2025-07-12T{n % 24:02d}:00") for n in range(40000)]
    new = [a_set(f"Artist {n:06d}", start=f"2025-07-13T{n % 24:02d}:00") for n in range(40000)]
    found = changes.compare(old, new)
    chunks = changes.to_chunks(found)
    assert len(chunks) >= 1
    assert all(len(chunk) <= changes.CHUNK_BYTES < 400_000 - 1000 for chunk in chunks)
    assert changes.from_chunks(chunks) == found


# --- the email's section --------------------------------------------------------------------


def test_the_email_lists_counts_and_the_first_twenty_of_each_with_old_and_new_times():
    old = [a_set(f"Gone {n:02d}", start="2025-07-12T14:00") for n in range(25)]
    moved_old = Set("Kraftwerk", "Main Stage", "2025-07-12T23:59", "2025-07-13T01:15")
    moved_new = Set("Kraftwerk", "Dance Tent", "2025-07-13T00:30", "2025-07-13T01:30")
    found = changes.compare([*old, moved_old], [a_set("New One"), moved_new])
    previous = {"version": "V1", "uploaded_at": "2025-07-01T10:00:00+00:00", "etag": "e"}
    lines = changes.email_lines(changes.summary(found, previous, 1), KEY)
    assert lines[0] == (
        "Changes since the previous upload (version V1, uploaded 2025-07-01 10:00:00+00:00):"
        " 1 added, 25 removed, 1 moved"
    )
    assert "Added (1):" in lines
    assert "  New One: Main Stage, 2025-07-12 20:00-21:00" in lines
    assert "Removed (first 20 of 25):" in lines
    assert sum(line.startswith("  Gone ") for line in lines) == 20
    assert (
        "  Kraftwerk: Main Stage, 2025-07-12 23:59-01:15 (ends 2025-07-13)"
        " -> Dance Tent, 2025-07-13 00:30-01:30" in lines
    )
    assert lines[-1] == f"The whole list: `festival changes {KEY}`."


def test_the_email_says_a_first_upload_is_new_and_a_large_one_was_not_compared():
    assert changes.email_lines(changes.new_file(), KEY) == [
        "New file: no earlier upload of this key."
    ]
    lines = changes.email_lines(changes.skipped(150_000, 90_000, {"version": "V1"}, 100_000), KEY)
    assert "not compared" in lines[0] and "150,000 rows" in lines[0] and "100,000" in lines[0]
    assert "festival changes --files OLD.csv NEW.csv" in lines[1]
    assert changes.email_lines(None, KEY) == []


# --- at the end of a load (the service over the in-memory fakes) ------------------------------


ROWS_V1 = [
    ["Bonobo", "Outdoor Stage", "22:00", "2:00", "2025-07-12"],
    ["Kraftwerk", "Main Stage", "23:59", "1:15", "2025-07-12"],
    ["Peggy Gou", "Dance Tent", "22:00", "0:00", "2025-07-12"],
]
ROWS_V2 = [
    ["Bonobo", "Outdoor Stage", "22:00", "2:00", "2025-07-12"],
    ["Kraftwerk", "Dance Tent", "0:30", "1:30", "2025-07-13"],  # moved
    ["Fred again..", "Dance Tent", "2:00", "4:00", "2025-07-13"],  # added; Peggy Gou removed
]


def upload(pipeline: Pipeline, rows: list[list[str]], key: str = KEY) -> str:
    """Upload the rows and hand the function the upload's event; the version it is."""
    event = pipeline.bucket.put(key, lineup_csv(rows))
    pipeline.invoke(event)
    return schema.sequence_key(event["Records"][0]["s3"]["object"]["sequencer"])


def test_a_first_upload_says_it_is_new_and_a_reupload_lists_exactly_what_changed():
    pipeline = Pipeline()
    first = upload(pipeline, ROWS_V1)
    assert "New file: no earlier upload of this key." in pipeline.mail.sent[-1][1]
    second = upload(pipeline, ROWS_V2)
    body = pipeline.mail.sent[-1][1]
    assert (
        f"(version {first}, uploaded 2025-07-01 00:00:01+00:00): 1 added, 1 removed, 1 moved"
        in body
    )
    assert "Added (1):\n  Fred again..: Dance Tent, 2025-07-13 02:00-04:00\n" in body
    assert (
        "Removed (1):\n  Peggy Gou: Dance Tent, 2025-07-12 22:00-00:00 (ends 2025-07-13)\n" in body
    )
    assert (
        "Moved (1):\n  Kraftwerk: Main Stage, 2025-07-12 23:59-01:15 (ends 2025-07-13)"
        " -> Dance Tent, 2025-07-13 00:30-01:30\n" in body
    )
    record = pipeline.table.record(schema.upload_record_key(KEY, second))
    assert record["changes"]["state"] == "compared"
    assert (record["changes"]["added"], record["changes"]["moved"]) == (1, 1)
    whole = changes.from_chunks(pipeline.table.change_chunks(KEY, second))
    assert [move.new.performer for move in whole.moved] == ["Kraftwerk"]
    # the old version's rows are gone, the change list stays
    drain(pipeline)
    assert not list(pipeline.table.version_rows(KEY, first))
    assert changes.from_chunks(pipeline.table.change_chunks(KEY, second)) == whole


def test_the_same_file_again_says_nothing_changed():
    pipeline = Pipeline()
    upload(pipeline, ROWS_V1)
    upload(pipeline, ROWS_V1)
    assert ": 0 added, 0 removed, 0 moved (the same sets)." in pipeline.mail.sent[-1][1]


def test_a_version_above_the_limit_is_not_compared_and_nothing_is_read():
    pipeline = Pipeline()
    upload(pipeline, ROWS_V1)
    reads: list[str] = []
    pipeline.table.version_rows = lambda *args, **kw: reads.append("read") or iter(())  # type: ignore[method-assign]
    with_outcome(pipeline, change_rows_limit=2, clash_rows_limit=2)  # nor clashes counted
    second = upload(pipeline, ROWS_V2)
    assert "not compared. This version has 3 rows and the previous 3" in pipeline.mail.sent[-1][1]
    assert reads == []
    assert not pipeline.table.change_chunks(KEY, second)


def test_rows_that_cannot_be_read_back_in_time_end_in_one_email_saying_so_not_a_stuck_record():
    pipeline = Pipeline()
    upload(pipeline, ROWS_V1)
    # Reading rows back takes the invocation down to the time kept for the rest of the end
    # of the load (a large version on a slow table): the report says what it could not read.
    left = iter([60_000, outcome.REPORT_RESERVE_MS - 1])
    with_outcome(pipeline, remaining_ms=lambda: next(left, 1_000))
    second = upload(pipeline, ROWS_V2)
    subject, body = pipeline.mail.sent[-1]
    assert subject.startswith("festival-lineup OK") and len(pipeline.mail.sent) == 2
    assert "not compared. This version has 3 rows and the previous 3; reading both" in body
    assert "Clashes:       not counted (3 rows, not read back within the function's time)" in body
    record = pipeline.table.record(schema.upload_record_key(KEY, second))
    assert record["status"] == "OK" and record["changes"]["out_of_time"] is True
    assert pipeline.table.head(KEY)["current"] == second


def test_a_failed_upload_says_nothing_of_changes():
    pipeline = Pipeline()
    upload(pipeline, ROWS_V1)
    upload(pipeline, [["Bonobo", "Outdoor Stage", "25:00", "2:00", "2025-07-12"]])
    subject, body = pipeline.mail.sent[-1]
    assert "FAILED" in subject
    assert "Changes since" not in body and "New file" not in body


def test_the_sweeps_second_email_says_what_the_first_said_though_the_old_rows_are_gone():
    pipeline = Pipeline()
    first = upload(pipeline, ROWS_V1)
    die_after_the_next_email(pipeline)
    second = upload(pipeline, ROWS_V2)  # the invocation fails; its record stays REPORTING
    assert pipeline.table.record(schema.upload_record_key(KEY, second))["status"] == "REPORTING"
    drain(pipeline)  # the replaced version is collected before the sweep comes
    assert not list(pipeline.table.version_rows(KEY, first))
    pipeline.clock.advance(3600)
    pipeline.sweep()
    assert len(pipeline.mail.sent) == 3
    once, again = pipeline.mail.sent[-2][1], pipeline.mail.sent[-1][1]
    assert "1 added, 1 removed, 1 moved" in again
    assert _section(once) == _section(again)


def _section(body: str) -> str:
    return body[body.index("Changes since") : body.index("Details:")]


def die_after_the_next_email(pipeline: Pipeline) -> None:
    """The invocation that sends the next email dies right after sending it (once)."""
    publish = pipeline.mail.publish

    def dies_after_sending(subject: str, message: str) -> None:
        publish(subject, message)
        pipeline.mail.publish = publish  # type: ignore[method-assign]
        raise RuntimeError("the invocation died after its email")

    pipeline.mail.publish = dies_after_sending  # type: ignore[method-assign]


def drain(pipeline: Pipeline) -> None:
    """Deliver every queued message (collection steps) until the queue is empty."""
    while (batch := pipeline.queue.next_batch(3)) is not None:
        pipeline.invoke(batch)
        pipeline.queue.acknowledge(batch["Records"][0]["messageId"])


def with_outcome(pipeline: Pipeline, **settings: object) -> None:
    """Set attributes of the end-of-load step of every invocation from now on."""
    build = pipeline.service.steps_for

    def steps_for(invocation):
        steps = build(invocation)
        for name, value in settings.items():
            setattr(steps.ingestion.outcome, name, value)
        return steps

    pipeline.service.steps_for = steps_for


def test_the_record_keeps_the_summary_gzip_json_round_trips():
    found = changes.compare([a_set("A")], [a_set("B")])
    packed = b"".join(changes.to_chunks(found))
    assert json.loads(gzip.decompress(packed))["added"] == [list(a_set("B"))]


def test_a_summary_read_back_from_dynamodb_is_plain_json():
    from decimal import Decimal

    read_back = {"state": "compared", "added": Decimal(3), "first": {"added": [["A", "B"]]}}
    assert json.dumps(changes.plain(read_back)) == (
        '{"state": "compared", "added": 3, "first": {"added": [["A", "B"]]}}'
    )
