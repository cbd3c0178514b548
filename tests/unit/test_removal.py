"""Removals, the pure parts: decoding removal events, and what a removal decides to do
(against in-memory fakes of the bucket and the table)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from lineup_ingest import schema
from lineup_ingest.adapters import ObjectGoneError
from lineup_ingest.events import EventError, RemovedObject, UploadedObject, object_events
from lineup_ingest.removal import Removal
from lineup_ingest.report import RemovalReport, removal_body, removal_subject
from lineup_ingest.retry import RetryBudget


def s3_record(event_name: str, key: str = "uploads/My+Lineup.csv", **extra) -> dict:
    return {
        "eventName": event_name,
        "eventTime": "2025-07-12T20:00:05.250Z",
        "userIdentity": {"principalId": "AWS:AIDAEXAMPLE"},
        "requestParameters": {"sourceIPAddress": "203.0.113.7"},
        "s3": {"bucket": {"name": "b"}, "object": {"key": key, **extra}},
    }


def test_a_delete_event_names_the_key_the_time_and_who_removed_it():
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
    # In the form of S3's LastModified, to the second: an upload at 20:00:05 is no later.
    assert removed.uploaded_no_later_than == "2025-07-12T20:00:05+00:00"


def test_an_expiry_by_the_lifecycle_rule_is_a_removal_too():
    (removed,) = object_events({"Records": [s3_record("LifecycleExpiration:Delete")]})
    assert isinstance(removed, RemovedObject) and removed.by_lifecycle


def test_an_upload_event_keeps_who_uploaded_and_from_where():
    (upload,) = object_events({"Records": [s3_record("ObjectCreated:Put", eTag='"abc"', size=12)]})
    assert upload == UploadedObject(
        "b",
        "uploads/My Lineup.csv",
        "abc",
        12,
        uploaded_by="AWS:AIDAEXAMPLE",
        source_ip="203.0.113.7",
    )


def test_the_removal_id_is_the_same_for_a_duplicate_and_differs_for_another_removal():
    def removal_id(**changes) -> str:
        record = {**s3_record("ObjectRemoved:Delete", sequencer="0A"), **changes}
        (removed,) = object_events({"Records": [record]})
        assert isinstance(removed, RemovedObject)
        return removed.removal_id

    assert removal_id() == removal_id()
    # LocalStack sends one sequencer for every event: the time tells removals apart.
    assert removal_id(eventTime="2025-07-12T20:00:06.000Z") != removal_id()
    assert len(removal_id()) == 32


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


def test_the_removal_email_escapes_a_key_that_would_add_a_line():
    report = RemovalReport(
        bucket="b",
        key="uploads/x.csv\nStatus: OK",
        started_at="t",
        event_name="ObjectRemoved:Delete",
        removed_at="t",
        rows_removed=1,
    )
    text = removal_body(report)
    assert not any(line.startswith("Status: OK") for line in text.split("\n"))
    assert text.startswith("s3://b/uploads/x.csv\\nStatus: OK was deleted: 1 row removed.\n")
    assert removal_subject(report) == "festival-lineup REMOVED: x.csv\\nStatus: OK"


# --- the decisions, against fakes ----------------------------------------------------------


@dataclass
class FakeBucket:
    """The key's upload now (ETag, upload time), or None when it is gone."""

    current: tuple[str, str] | None = None

    def describe(self, bucket: str, key: str):
        if self.current is None:
            raise ObjectGoneError(f"s3://{bucket}/{key} no longer exists")
        return {}, self.current[1], self.current[0], 10


@dataclass
class FakeTable:
    """Rows as key -> upload time; records by sort key."""

    rows: dict[str, str] = field(default_factory=dict)
    records: dict[str, dict] = field(default_factory=dict)
    budget: RetryBudget = field(default_factory=lambda: RetryBudget(lambda: 60_000, 1_000))
    crash_on_delete: bool = False

    def record(self, key):
        found = self.records.get(key["sk"])
        return dict(found) if found else None

    def claim_removal(self, record):
        held = self.records.get(record["sk"])
        if held and not (held["status"] == "REMOVING" and held["finisher"] == record["finisher"]):
            return False
        self.records[record["sk"]] = dict(record)
        return True

    def keys_uploaded_no_later(self, source_key, uploaded_at):
        return [
            {"pk": "FILE#uploads/a.csv#00", "sk": sk}
            for sk, at in self.rows.items()
            if at <= uploaded_at
        ]

    def delete_uploaded_no_later(self, keys, uploaded_at):
        if self.crash_on_delete:
            raise RuntimeError("crash")
        deleted = [k["sk"] for k in keys if self.rows.get(k["sk"], "~") <= uploaded_at]
        for sk in deleted:
            del self.rows[sk]
        return len(deleted)

    def count_removed(self, key, rows, who):
        record = self.records[key["sk"]]
        record["rows_removed"] = record.get("rows_removed", 0) + rows
        return record["rows_removed"]

    def finish_removal(self, record):
        if self.records[record["sk"]]["finisher"] == record["finisher"]:
            self.records[record["sk"]] = dict(record)


def removed_at_20h(**changes) -> RemovedObject:
    return RemovedObject(
        **{
            "bucket": "b",
            "key": "uploads/a.csv",
            "event_name": "ObjectRemoved:Delete",
            "removed_at": "2025-07-12T20:00:05.250+00:00",
            **changes,
        }
    )


def removal_with(bucket: FakeBucket, table: FakeTable) -> tuple[Removal, list[RemovalReport]]:
    sent: list[RemovalReport] = []
    # The fakes hold only what a removal uses of the ports.
    return Removal(bucket, table, sent.append, clock=lambda: "now"), sent  # type: ignore[arg-type]


def test_a_gone_file_loses_the_rows_of_versions_uploaded_no_later_than_the_removal():
    table = FakeTable(
        rows={
            "PERF#old": "2025-07-12T19:00:00+00:00",
            "PERF#same-second": "2025-07-12T20:00:05+00:00",
            "PERF#newer": "2025-07-12T20:00:06+00:00",
        }
    )
    removal, sent = removal_with(FakeBucket(current=None), table)

    assert removal.remove(removed_at_20h(), "request-1") == "REMOVED"

    assert list(table.rows) == ["PERF#newer"]
    (report,) = sent
    assert report.rows_removed == 2


def test_a_file_uploaded_again_since_keeps_every_row_and_says_so():
    table = FakeTable(rows={"PERF#old": "2025-07-12T19:00:00+00:00"})
    removal, sent = removal_with(FakeBucket(current=("etag2", "2025-07-12T20:00:09+00:00")), table)

    assert removal.remove(removed_at_20h(), "request-1") == "REPLACED"

    assert list(table.rows) == ["PERF#old"]  # the newer upload's load replaces it
    assert sent[0].replaced_by == ("etag2", "2025-07-12T20:00:09+00:00")


def test_another_delivery_of_the_event_does_nothing_while_or_after_it_is_removed():
    table = FakeTable(rows={"PERF#old": "2025-07-12T19:00:00+00:00"})
    removal, sent = removal_with(FakeBucket(), table)
    removal.remove(removed_at_20h(), "request-1")
    table.rows["PERF#again"] = "2025-07-12T19:00:00+00:00"  # would be removed if it ran

    assert removal.remove(removed_at_20h(), "request-2") == "REMOVED"
    assert len(sent) == 1 and "PERF#again" in table.rows


def test_a_delivery_while_another_holds_the_removal_leaves_it_to_that_one():
    table = FakeTable()
    sk = schema.removal_record_key("uploads/a.csv", removed_at_20h().removal_id)["sk"]
    table.records[sk] = {
        "sk": sk,
        "status": "REMOVING",
        "finisher": "request-1",
        "started_at": "t",
        "rows_removed": 0,
    }
    removal, sent = removal_with(FakeBucket(), table)

    assert removal.remove(removed_at_20h(), "request-2") == "REMOVING"
    assert sent == []


def test_a_retry_holding_the_claim_goes_on_from_the_count_so_far():
    table = FakeTable(rows={"PERF#left": "2025-07-12T19:00:00+00:00"})
    sk = schema.removal_record_key("uploads/a.csv", removed_at_20h().removal_id)["sk"]
    table.records[sk] = {
        "sk": sk,
        "status": "REMOVING",
        "finisher": "request-1",
        "started_at": "t",
        "rows_removed": 40,
    }
    removal, sent = removal_with(FakeBucket(), table)

    assert removal.remove(removed_at_20h(), "request-1") == "REMOVED"
    assert sent[0].rows_removed == 41
    assert table.records[sk]["rows_removed"] == 41


def test_an_error_while_removing_ends_failed_with_one_email_never_none():
    table = FakeTable(rows={"PERF#old": "2025-07-12T19:00:00+00:00"}, crash_on_delete=True)
    removal, sent = removal_with(FakeBucket(), table)

    assert removal.remove(removed_at_20h(), "request-1") == "FAILED"
    (report,) = sent
    assert report.failure == "RuntimeError: crash"
    assert "its rows were NOT all removed" in removal_body(report)


def test_a_removal_short_of_time_stops_and_says_so():
    table = FakeTable(rows={"PERF#old": "2025-07-12T19:00:00+00:00"})
    removal, sent = removal_with(FakeBucket(), table)

    status = removal.remove(removed_at_20h(), "request-1", remaining_ms=lambda: 500)

    assert status == "FAILED" and "PERF#old" in table.rows
    assert "ran short of time" in sent[0].failure
