"""Removals: decoding removal events, their emails, and what a removal does to a file's
versions, against in-memory fakes of S3, DynamoDB, SQS and SNS (tests/fakes.py).

A removal is applied to the file's head at once (queries stop answering from the version
it removes); the version's rows are collected afterwards, in bounded steps through the
parts queue; the one REMOVED email comes when they are gone.
"""

from __future__ import annotations

import pytest

from lineup_ingest import collect, schema
from lineup_ingest.events import EventError, RemovedObject, UploadedObject, object_events
from lineup_ingest.parts import CollectTask
from lineup_ingest.report import RemovalReport, removal_body, removal_subject
from tests.fakes import MemoryTable
from tests.lineups import lineup_csv, lineup_rows
from tests.unit.test_service import PART_ATTEMPTS, Pipeline


def s3_record(event_name: str, key: str = "uploads/My+Lineup.csv", **extra) -> dict:
    return {
        "eventName": event_name,
        "eventTime": "2025-07-12T20:00:05.250Z",
        "userIdentity": {"principalId": "AWS:AIDAEXAMPLE"},
        "requestParameters": {"sourceIPAddress": "203.0.113.7"},
        "s3": {"bucket": {"name": "b"}, "object": {"key": key, **extra}},
    }


def test_a_delete_event_names_the_key_the_time_the_sequencer_and_who_removed_it():
    (removed,) = object_events(
        {"Records": [s3_record("ObjectRemoved:Delete", sequencer="0055AED6DCD90281E5")]}
    )

    assert removed == RemovedObject(
        bucket="b",
        key="uploads/My Lineup.csv",
        event_name="ObjectRemoved:Delete",
        removed_at="2025-07-12T20:00:05.250+00:00",
        sequencer="0055AED6DCD90281E5",
        removed_by="AWS:AIDAEXAMPLE",
        source_ip="203.0.113.7",
    )
    assert not removed.by_lifecycle


def test_an_expiry_by_the_lifecycle_rule_is_a_removal_too():
    (removed,) = object_events({"Records": [s3_record("LifecycleExpiration:Delete")]})
    assert isinstance(removed, RemovedObject) and removed.by_lifecycle


def test_an_upload_event_keeps_its_sequencer_and_who_uploaded_from_where():
    (upload,) = object_events(
        {"Records": [s3_record("ObjectCreated:Put", eTag='"abc"', size=12, sequencer="0A")]}
    )
    assert upload == UploadedObject(
        "b",
        "uploads/My Lineup.csv",
        "abc",
        12,
        uploaded_by="AWS:AIDAEXAMPLE",
        source_ip="203.0.113.7",
        sequencer="0A",
    )


def removed_with(**changes) -> RemovedObject:
    (removed,) = object_events({"Records": [{**s3_record("ObjectRemoved:Delete"), **changes}]})
    assert isinstance(removed, RemovedObject)
    return removed


def with_sequencer(sequencer: str, **changes) -> RemovedObject:
    record = s3_record("ObjectRemoved:Delete", sequencer=sequencer)
    return removed_with(**{**record, **changes})


def test_a_removal_is_identified_by_its_sequencer_so_a_duplicate_has_the_same_id():
    assert with_sequencer("0A").removal_id == with_sequencer("0A").removal_id
    assert with_sequencer("0A").removal_id != with_sequencer("0B").removal_id
    # Another delivery of the event may come later: its time does not change the id.
    later = with_sequencer("0A", eventTime="2025-07-12T20:09:00.000Z")
    assert later.removal_id == with_sequencer("0A").removal_id
    assert len(with_sequencer("0A").removal_id) == 32


def test_removals_order_as_their_sequencers_do_whatever_their_length():
    # S3 compares sequencers of different lengths right-padded with zeros.
    shorter, longer = with_sequencer("0055AED6DCD90281E5"), with_sequencer("0055AED6DCD90281E51")
    assert shorter.sequence < longer.sequence
    assert with_sequencer("9").sequence < with_sequencer("a").sequence  # any case


def test_a_removal_made_by_hand_without_a_sequencer_is_told_apart_by_its_time():
    earlier = removed_with()
    later = removed_with(eventTime="2025-07-12T20:00:06.000Z")

    assert earlier.sequence == ""  # ordered by what the bucket holds (removal.py)
    assert earlier.removal_id == schema.sequence_from_time(earlier.removed_at)
    assert earlier.removal_id != later.removal_id


@pytest.mark.parametrize(
    "record, reason",
    [
        ({**s3_record("ObjectRemoved:Delete"), "eventTime": "yesterday"}, "no usable eventTime"),
        (s3_record("ObjectTagging:Put"), "not an upload or a removal"),
    ],
)
def test_events_a_removal_cannot_use_are_refused_clearly(record, reason):
    with pytest.raises(EventError, match=reason):
        object_events({"Records": [record]})


def test_a_removal_record_key_fits_dynamodb_even_for_the_longest_s3_key():
    longest = "uploads/" + "é" * 508  # 1,024 bytes, S3's maximum
    key = schema.removal_record_key(longest, "f" * 32)
    assert len(key["sk"].encode()) <= schema.SORT_KEY_MAX_BYTES
    # Not found where a file's upload records are looked for.
    assert not key["sk"].startswith(schema.upload_record_key(longest, "")["sk"])


def removal_report(**changes) -> RemovalReport:
    return RemovalReport(
        **{
            "bucket": "b",
            "key": "uploads/x.csv",
            "started_at": "t",
            "event_name": "ObjectRemoved:Delete",
            "removed_at": "t",
            **changes,
        }
    )


def test_the_removal_email_escapes_a_key_that_would_add_a_line():
    report = removal_report(key="uploads/x.csv\nStatus: OK", rows_removed=1)

    text = removal_body(report)

    assert not any(line.startswith("Status: OK") for line in text.split("\n"))
    assert text.startswith("s3://b/uploads/x.csv\\nStatus: OK was deleted: 1 row removed.\n")
    assert removal_subject(report) == "festival-lineup REMOVED: x.csv\\nStatus: OK"


def test_the_emails_of_a_removal_say_what_it_removed_or_why_nothing():
    assert removal_body(removal_report(rows_removed=30)).startswith(
        "s3://b/uploads/x.csv was deleted: 30 rows removed.\n"
    )
    assert removal_body(removal_report()).startswith(
        "s3://b/uploads/x.csv was deleted: nothing to remove (no version of it was loaded; a"
        " load still under way ends FAILED and removes its own rows).\n"
    )
    replaced = removal_report(replaced_by=("", ""))
    assert removal_subject(replaced) == "festival-lineup REPLACED: x.csv"
    assert removal_body(replaced).startswith(
        "s3://b/uploads/x.csv was deleted: nothing removed: it was uploaded again since.\n"
    )
    expired = removal_report(event_name="LifecycleExpiration:Delete", rows_removed=4)
    assert removal_body(expired).startswith(
        "s3://b/uploads/x.csv expired (the bucket's lifecycle rule): 4 rows removed.\n"
    )


# --- what a removal does, against fakes -----------------------------------------------------

FILE = "uploads/day.csv"


class FailingDeletes(MemoryTable):
    """The table, whose next ``failures`` deletes of rows fail (a crash, lasting throttling)."""

    def __init__(self) -> None:
        super().__init__()
        self.failures = 0

    def delete_keys(self, keys):
        if self.failures:
            self.failures -= 1
            raise RuntimeError("simulated crash while deleting rows")
        return super().delete_keys(keys)


@pytest.fixture
def small_steps(monkeypatch):
    """Collection steps of at most 10 keys (5 a page), so a small file takes several."""
    monkeypatch.setattr(collect, "STEP_KEYS", 10)
    monkeypatch.setattr(collect, "PAGE_KEYS", 5)


def loaded(rows: int, table: MemoryTable | None = None) -> Pipeline:
    """A pipeline whose file FILE is loaded with ``rows`` rows; its emails read."""
    pipeline = Pipeline(table=table or MemoryTable())
    pipeline.invoke(pipeline.bucket.put(FILE, lineup_csv(lineup_rows(rows))))
    pipeline.mail.sent.clear()
    return pipeline


def current_version(pipeline: Pipeline) -> str | None:
    """The version queries answer from (src/festival/queries.py reads the heads)."""
    return (pipeline.table.head(FILE) or {}).get("current")


def version_items(pipeline: Pipeline, version: str) -> list[dict]:
    return pipeline.table.version_keys(FILE, version, 100_000)


def removal_record(pipeline: Pipeline) -> dict:
    (record,) = (r for r in pipeline.table.records() if r.get("kind") == "removal")
    return record


def test_a_delete_removes_the_current_version_its_rows_and_sends_one_email():
    pipeline = loaded(30)
    pipeline.invoke(pipeline.bucket.put("uploads/other.csv", lineup_csv(lineup_rows(4))))
    pipeline.mail.sent.clear()
    version = current_version(pipeline)
    assert version

    pipeline.invoke(pipeline.bucket.delete(FILE))
    pipeline.deliver_parts()

    assert current_version(pipeline) is None
    assert version_items(pipeline, version) == []
    assert len(pipeline.table.performances()) == 4  # other.csv's rows stay
    ((subject, body),) = pipeline.mail.sent
    assert subject == "festival-lineup REMOVED: day.csv"
    assert body.startswith("s3://uploads-bucket/uploads/day.csv was deleted: 30 rows removed.\n")
    assert removal_record(pipeline)["status"] == "REMOVED"


def test_a_duplicate_delivery_of_a_delete_removes_and_emails_nothing_more():
    pipeline = loaded(30)
    removed = pipeline.bucket.delete(FILE)
    pipeline.invoke(removed)
    pipeline.deliver_parts()
    writes = pipeline.table.write_requests

    assert pipeline.invoke(removed)["files"] == [{"file": FILE, "status": "REMOVED"}]
    assert pipeline.table.write_requests == writes
    assert len(pipeline.mail.sent) == 1


def test_a_late_duplicate_of_a_delete_leaves_a_newer_upload_alone():
    pipeline = loaded(30)
    removed = pipeline.bucket.delete(FILE)
    pipeline.invoke(removed)
    newer = [["Only Act", "Main Stage", "12:00", "13:00", "2025-07-14"]]
    pipeline.invoke(pipeline.bucket.put(FILE, lineup_csv(newer)))
    pipeline.deliver_parts()

    pipeline.invoke(removed)  # delivered again, after the newer upload
    pipeline.deliver_parts()

    assert pipeline.performers() == ["Only Act"]
    assert pipeline.subjects() == [
        "festival-lineup REMOVED: day.csv",
        "festival-lineup OK: day.csv",
    ]


def test_a_delete_older_than_the_latest_upload_is_replaced_and_removes_nothing():
    pipeline = Pipeline()
    pipeline.invoke(pipeline.bucket.put(FILE, lineup_csv(lineup_rows(30))))
    removed = pipeline.bucket.delete(FILE)
    newer = [["Only Act", "Main Stage", "12:00", "13:00", "2025-07-14"]]
    pipeline.invoke(pipeline.bucket.put(FILE, lineup_csv(newer)))
    pipeline.deliver_parts()
    newest = current_version(pipeline)
    pipeline.mail.sent.clear()

    result = pipeline.invoke(removed)  # S3 delivered the delete's event after the upload's
    pipeline.deliver_parts()

    assert result["files"] == [{"file": FILE, "status": "REPLACED"}]
    assert current_version(pipeline) == newest
    assert pipeline.performers() == ["Only Act"]
    ((subject, body),) = pipeline.mail.sent
    assert subject == "festival-lineup REPLACED: day.csv"
    assert "nothing removed: it was uploaded again since." in body
    assert "Rows removed:  0" in body
    assert removal_record(pipeline)["status"] == "REPLACED"


def test_deleting_a_file_never_loaded_says_there_was_nothing_to_remove():
    pipeline = Pipeline()
    pipeline.bucket.put(FILE, lineup_csv(lineup_rows(3)))  # its event never handled

    result = pipeline.invoke(pipeline.bucket.delete(FILE))

    assert result["files"] == [{"file": FILE, "status": "REMOVED"}]
    ((subject, body),) = pipeline.mail.sent
    assert subject == "festival-lineup REMOVED: day.csv"
    assert "nothing to remove (no version of it was loaded" in body


def test_a_big_version_is_collected_in_bounded_steps_after_queries_stop_seeing_it(
    small_steps,
):
    pipeline = loaded(60)
    version = current_version(pipeline)
    assert version

    pipeline.invoke(pipeline.bucket.delete(FILE))

    # Queries stop answering from the removed version at once; its rows wait for the steps.
    assert current_version(pipeline) is None
    assert len(pipeline.table.performances()) > 0
    assert pipeline.mail.sent == []
    assert removal_record(pipeline)["status"] == "REMOVING"

    deliveries = pipeline.deliver_parts()

    assert deliveries >= 5  # 60 rows and their bookkeeping, 10 keys a step
    assert version_items(pipeline, version) == []
    ((subject, body),) = pipeline.mail.sent
    assert subject == "festival-lineup REMOVED: day.csv"
    assert "60 rows removed" in body
    assert removal_record(pipeline)["status"] == "REMOVED"


def test_each_collection_step_deletes_no_more_than_its_bound(small_steps):
    pipeline = loaded(60)
    pipeline.invoke(pipeline.bucket.delete(FILE))
    deleted_by_step = []
    while (batch := pipeline.queue.next_batch(PART_ATTEMPTS)) is not None:
        before = len(pipeline.table.items)
        pipeline.invoke(batch)
        pipeline.queue.acknowledge(batch["Records"][0]["messageId"])
        deleted_by_step.append(before - len(pipeline.table.items))

    assert len(deleted_by_step) >= 5
    assert max(deleted_by_step) <= collect.STEP_KEYS


def test_a_duplicate_delivery_while_the_rows_are_collected_leaves_them_to_the_first(
    small_steps,
):
    pipeline = loaded(60)
    removed = pipeline.bucket.delete(FILE)
    pipeline.invoke(removed, request_id="request-a")
    writes = pipeline.table.write_requests

    again = pipeline.invoke(removed, request_id="request-b")

    assert again["files"] == [{"file": FILE, "status": "REMOVING"}]
    assert pipeline.table.write_requests == writes
    pipeline.deliver_parts()
    assert pipeline.subjects() == ["festival-lineup REMOVED: day.csv"]
    assert pipeline.table.performances() == []


def test_lambdas_retry_of_a_removal_that_crashed_goes_on_to_one_email():
    table = FailingDeletes()
    pipeline = loaded(30, table)
    removed = pipeline.bucket.delete(FILE)
    table.failures = 1

    with pytest.raises(RuntimeError, match="simulated crash"):
        pipeline.invoke(removed, request_id="request-a")
    assert current_version(pipeline) is None  # applied before the crash
    # S3 delivering the event again (another request id) leaves it to Lambda's retry...
    assert pipeline.invoke(removed, request_id="request-b")["files"][0]["status"] == "REMOVING"
    assert pipeline.mail.sent == []

    pipeline.invoke(removed, request_id="request-a")  # ...which keeps the request id
    pipeline.deliver_parts()

    assert pipeline.table.performances() == []
    ((subject, body),) = pipeline.mail.sent
    assert subject == "festival-lineup REMOVED: day.csv"
    assert "30 rows removed" in body


def test_a_removal_whose_every_invocation_crashed_is_finished_by_the_sweep_after_the_fence():
    table = FailingDeletes()
    pipeline = loaded(30, table)
    removed = pipeline.bucket.delete(FILE)
    table.failures = 3
    for _ in range(3):  # the invocation and Lambda's two retries
        with pytest.raises(RuntimeError):
            pipeline.invoke(removed, request_id="request-a")

    pipeline.sweep()  # within the fence: the removal may still be running
    assert pipeline.mail.sent == []
    pipeline.clock.advance(pipeline.sweep_settings.fence_s)
    pipeline.sweep()
    pipeline.deliver_parts()

    assert pipeline.table.performances() == []
    assert pipeline.subjects() == ["festival-lineup REMOVED: day.csv"]
    assert removal_record(pipeline)["status"] == "REMOVED"


def test_a_collection_step_that_fails_once_is_retried_by_the_queue(small_steps):
    table = FailingDeletes()
    pipeline = loaded(60, table)
    pipeline.invoke(pipeline.bucket.delete(FILE))
    table.failures = 1

    pipeline.deliver_parts()

    assert pipeline.table.performances() == []
    assert pipeline.subjects() == ["festival-lineup REMOVED: day.csv"]
    assert pipeline.queue.failure_queue == []


def test_a_collection_step_that_fails_every_delivery_is_queued_again_by_the_sweep(small_steps):
    table = FailingDeletes()
    pipeline = loaded(60, table)
    pipeline.invoke(pipeline.bucket.delete(FILE))
    table.failures = PART_ATTEMPTS

    pipeline.deliver_parts()

    (stranded,) = pipeline.queue.failure_queue
    assert isinstance(stranded, CollectTask)
    assert pipeline.table.performances() != [] and pipeline.mail.sent == []

    pipeline.sweep()
    pipeline.deliver_parts()

    assert pipeline.table.performances() == []
    assert pipeline.subjects() == ["festival-lineup REMOVED: day.csv"]
    assert pipeline.queue.failure_queue == []


def test_a_reupload_collects_the_older_versions_rows_and_counts_them_in_its_email(small_steps):
    pipeline = loaded(60)
    older = current_version(pipeline)
    assert older
    newer = [["Only Act", "Main Stage", "12:00", "13:00", "2025-07-14"]]

    pipeline.invoke(pipeline.bucket.put(FILE, lineup_csv(newer)))
    pipeline.deliver_parts()

    assert version_items(pipeline, older) == []
    assert pipeline.performers() == ["Only Act"]
    ((subject, body),) = pipeline.mail.sent
    assert subject == "festival-lineup OK: day.csv"
    assert "Rows removed:  60" in body


def test_a_removal_event_without_a_sequencer_removes_a_gone_file_with_one_email():
    pipeline = Pipeline()
    pipeline.invoke(pipeline.bucket.put("uploads/day1.csv", lineup_csv(lineup_rows(10))))
    removed = pipeline.bucket.delete("uploads/day1.csv")
    del removed["Records"][0]["s3"]["object"]["sequencer"]  # as an expiry may come

    pipeline.invoke(removed)
    pipeline.deliver_parts()

    assert pipeline.subjects() == [
        "festival-lineup OK: day1.csv",
        "festival-lineup REMOVED: day1.csv",
    ]
    assert pipeline.table.performances() == []


def test_a_removal_resumed_by_the_sweep_after_a_new_upload_still_says_removed():
    pipeline = Pipeline()
    pipeline.invoke(pipeline.bucket.put("uploads/day1.csv", lineup_csv(lineup_rows(10))))
    (record,) = pipeline.table.records()
    # A part's lease never given back (its invocation timed out): collection waits the fence.
    pipeline.table.update_record(
        {"pk": record["pk"], "sk": record["sk"]}, {}, {}, add={"active": 1}
    )
    pipeline.invoke(pipeline.bucket.delete("uploads/day1.csv"))
    pipeline.invoke(pipeline.bucket.put("uploads/day1.csv", lineup_csv(lineup_rows(5))))
    pipeline.clock.advance(301)  # past the fence: the sweep takes the removal over

    pipeline.sweep()
    pipeline.deliver_parts()

    removal = [s for s in pipeline.subjects() if "REMOVED" in s or "REPLACED" in s]
    assert removal == ["festival-lineup REMOVED: day1.csv"]


def test_sequencers_of_different_lengths_order_as_s3_says_right_padded():
    # S3's "Event message structure": right-pad the shorter with zeros, then compare.
    assert schema.sequence_key("0055AED6DCD90281E5") < schema.sequence_key("0055AED6DCD90281E6")
    assert schema.sequence_key("0055AED6DCD90281E5") < schema.sequence_key("0055AED6DCD902820")
    assert schema.sequence_key("1A") == schema.sequence_key("1A000")
    # An event made by hand (no sequencer) sorts before any real one of the key.
    assert schema.sequence_from_time("2025-07-12T20:00:00Z") < schema.sequence_key("01")
