"""The in-memory table of tests/fakes.py keeps the promises of the real adapter: each check
runs against both, the adapter over moto's DynamoDB. If the fake drifts from the adapter,
the fast service tests would prove nothing: this file fails first."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from lineup_ingest import schema
from lineup_ingest.adapters import LineupTable
from lineup_ingest.codec import from_attributes
from lineup_ingest.parts import PartTask, Progress
from lineup_ingest.ports import PartEnding
from lineup_ingest.retry import RetryBudget
from tests.cfn import table_definition
from tests.fakes import MemoryTable
from tests.pipeline import part_task

pytestmark = pytest.mark.functional


@pytest.fixture(params=["memory", "dynamodb"])
def store(request, monkeypatch):
    if request.param == "memory":
        yield MemoryTable()
        return
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        client = boto3.client("dynamodb")
        client.create_table(TableName="lineup", **table_definition())
        yield LineupTable(client, "lineup", RetryBudget(lambda: 300_000), concurrency=1)


VERSION = schema.sequence_key("0055AED6DCD90281E5")
NEWER = schema.sequence_key("0055AED6DCD90281E6")


def task(part: int = 0, parts: int = 3, version: str = VERSION) -> PartTask:
    return part_task(part=part, parts=parts, version=version)


def record(version: str = VERSION) -> dict:
    return {
        **schema.upload_record_key("uploads/day.csv", version),
        "kind": "upload",
        "file": "uploads/day.csv",
        "version": version,
        "status": "LOADING",
        "parts": {},
        "active": 0,
    }


def key(version: str = VERSION) -> dict[str, str]:
    return schema.upload_record_key("uploads/day.csv", version)


def test_a_record_is_created_once(store):
    assert store.create_record(record()) is True
    assert store.create_record(record()) is False
    assert store.create_record(record(NEWER)) is True


def test_a_transition_happens_only_from_the_expected_state_and_returns_the_record(store):
    store.create_record(record())

    moved = store.update_record(
        key(), {"status": "REPORTING", "outcome": "OK"}, {"status": "LOADING"}
    )
    again = store.update_record(key(), {"status": "REPORTING"}, {"status": "LOADING"})

    assert moved is not None and moved["status"] == "REPORTING" and moved["outcome"] == "OK"
    assert again is None
    assert store.update_record(key(NEWER), {"status": "OK"}, {}) is None  # no such record


def test_leases_add_up_and_can_only_be_taken_while_loading(store):
    store.create_record(record())
    store.update_record(key(), {}, {"status": "LOADING"}, add={"active": 1})
    store.update_record(key(), {}, {"status": "LOADING"}, add={"active": 1})
    store.update_record(key(), {}, {}, add={"active": -1})
    store.update_record(key(), {"status": "FAILED"}, {"status": "LOADING"})

    assert store.update_record(key(), {}, {"status": "LOADING"}, add={"active": 1}) is None
    assert store.record(key())["active"] == 1


def test_a_part_is_counted_once_and_a_failure_never_overwrites_a_success(store):
    store.create_record(record())
    done = Progress(rows_read=10, rows_loaded=9, rows_rejected=1, rejected=((4, "bad"),))

    first = store.commit_part(task(0), done)
    late_failure = store.commit_part(task(0), Progress(), PartEnding("throttled"))

    assert first is not None and late_failure is not None
    assert late_failure["parts"]["000000"]["rows_loaded"] == 9
    assert "failure" not in late_failure["parts"]["000000"]
    (part,) = store.committed_parts(task(0, parts=1))
    assert part["rejected"] == [[4, "bad"]]


def test_a_failed_part_and_the_parts_after_it_are_counted_in_one_write(store):
    store.create_record(record())
    store.commit_part(task(2), Progress(rows_read=3, rows_loaded=3))

    counted = store.commit_part(task(0), Progress(), PartEnding("gone", unreached="not loaded"))

    assert counted is not None
    assert counted["parts"]["000000"]["failure"] == "gone"
    assert counted["parts"]["000001"]["failure"] == "not loaded"
    assert counted["parts"]["000002"]["rows_loaded"] == 3  # counted before: kept


def test_a_part_of_a_load_that_has_ended_is_not_counted(store):
    store.create_record(record())
    store.update_record(key(), {"status": "FAILED"}, {"status": "LOADING"})

    assert store.commit_part(task(0), Progress(rows_read=1, rows_loaded=1)) is None
    assert store.record(key())["parts"] == {}


def test_a_part_is_queued_once(store):
    assert store.was_queued(task(1)) is False
    store.mark_queued(task(1))
    assert store.was_queued(task(1)) is True
    assert store.was_queued(task(1, version=NEWER)) is False


def test_the_head_follows_the_order_of_the_files_events(store):
    file = "uploads/day.csv"
    assert store.note_upload(file, VERSION) is True
    assert store.note_upload(file, VERSION) is True  # the same upload again: no change

    assert store.make_current(file, VERSION, "etag-1")[0] is True
    assert store.head(file)["current"] == VERSION
    assert store.note_upload(file, NEWER) is True
    assert store.make_current(file, VERSION, "etag-1")[0] is False  # a newer upload started
    assert store.remove_current(file, VERSION, VERSION, 1) is False  # an older delete
    made, before = store.make_current(file, NEWER, "etag-2")
    assert made and before["current"] == VERSION
    assert store.remove_current(file, NEWER + "R", VERSION, 1) is False  # not current any more
    assert store.remove_current(file, NEWER + "R", NEWER, 1_900_000_000) is True
    head = store.head(file)
    assert "current" not in head and head["latest_kind"] == "delete"
    assert head["expires_at"] == 1_900_000_000  # a removed file's head goes, by TTL
    assert store.note_upload(file, NEWER + "RR") is True
    assert "expires_at" not in store.head(file)  # uploaded again: kept
    store.remove_current(file, NEWER + "RRR", None, 1_900_000_000)
    assert store.make_current(file, NEWER + "RRRR", "etag-3")[0] is True
    assert "expires_at" not in store.head(file)
    assert [h["file"] for h in store.heads()] == [file]


def test_a_versions_keys_are_its_rows_and_its_bookkeeping_only(store):
    def row(version: str, performer: str) -> dict:
        return {
            "pk": schema.file_partition("uploads/day.csv", 3, version),
            "sk": f"PERF#2025-07-12T20:00#main#{performer}",
            "performer": performer,
            "version": version,
        }

    store.put_items([row(VERSION, "a"), row(VERSION, "b"), row(NEWER, "a")])
    store.drain()
    store.mark_queued(task(1))

    keys = store.version_keys("uploads/day.csv", VERSION, 10)

    assert len(keys) == 3 and all(VERSION in k["pk"] for k in keys)
    assert len(store.version_keys("uploads/day.csv", VERSION, 2)) == 2
    assert store.delete_keys(keys) == 3
    assert store.version_keys("uploads/day.csv", VERSION, 10) == []
    assert len(store.version_keys("uploads/day.csv", NEWER, 10)) == 1


def test_records_lists_every_upload_and_removal(store):
    store.create_record(record())
    store.create_record({**schema.removal_record_key("uploads/day.csv", NEWER), "kind": "removal"})

    assert sorted(r.get("kind") for r in store.records()) == ["removal", "upload"]


def test_the_longest_set_only_grows(store):
    assert store.longest_set_minutes() == 0
    store.raise_longest_set(90)
    store.raise_longest_set(60)
    assert store.longest_set_minutes() == 90


def test_a_versions_rows_read_back_whole_with_only_the_attributes_asked(store):
    def row(version: str, shard: int, performer: str) -> dict:
        return {
            "pk": schema.file_partition("uploads/day.csv", shard, version),
            "sk": f"PERF#2025-07-12T20:00#main#{performer}",
            "performer": performer.title(),
            "stage": "Main",
            "start": "2025-07-12T20:00",
            "end": "2025-07-12T21:00",
            "end_note": "not asked",
            "version": version,
        }

    store.put_items([row(VERSION, 0, "a"), row(VERSION, 15, "b"), row(NEWER, 3, "c")])
    store.drain()
    store.mark_queued(task(1))  # bookkeeping of the version: not a row

    rows = sorted(store.version_rows("uploads/day.csv", VERSION), key=lambda r: r["performer"])

    assert rows == [
        {"performer": p, "stage": "Main", "start": "2025-07-12T20:00", "end": "2025-07-12T21:00"}
        for p in ("A", "B")
    ]
    newer = store.version_rows("uploads/day.csv", NEWER, ["performer"])
    assert [r["performer"] for r in newer] == ["C"]
    assert list(store.version_rows("uploads/other.csv", VERSION)) == []


def test_a_change_list_is_written_in_chunks_that_the_versions_collection_leaves(store):
    chunks = [b"\x1f\x8b first", b"second \x00"]
    store.put_change_chunks("uploads/day.csv", VERSION, chunks, 1_800_000_000)
    store.put_change_chunks("uploads/day.csv", VERSION, chunks, 1_800_000_000)  # the same again

    assert store.version_keys("uploads/day.csv", VERSION, 10) == []
    partition = schema.changes_partition("uploads/day.csv", VERSION)
    if isinstance(store, MemoryTable):
        stored = [item for (pk, _), item in sorted(store.items.items()) if pk == partition]
    else:
        stored = [
            from_attributes(item)
            for item in store.client.query(
                TableName="lineup",
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": {"S": partition}},
            )["Items"]
        ]
    assert [bytes(getattr(i["data"], "value", i["data"])) for i in stored] == chunks
    assert [int(i["expires_at"]) for i in stored] == [1_800_000_000] * 2


def test_making_a_version_current_keeps_its_time_zone_on_the_head(store):
    file = "uploads/day.csv"
    store.note_upload(file, VERSION)

    assert store.make_current(file, VERSION, "etag-1", "Europe/Amsterdam")[0] is True
    assert store.head(file)["zone"] == "Europe/Amsterdam"
    assert store.make_current(file, NEWER, "etag-2")[0] is True
    assert store.head(file)["zone"] == "UTC"  # none given: the default


def test_sketches_are_read_back_whole_from_their_partition_and_deleted_by_key(store):
    first = {
        **schema.sketch_key("uploads/day.csv", VERSION),
        "file": "uploads/day.csv",
        "version": VERSION,
        "sketch": "00000000000000ff" * 3,
        "expires_at": 1_900_000_000,
    }
    second = {**first, **schema.sketch_key("uploads/b.csv", NEWER), "file": "uploads/b.csv"}
    store.put_sketch(first)
    store.put_sketch(second)
    store.create_record(record())  # another partition: not a sketch

    assert sorted(store.sketches(), key=lambda item: item["sk"]) == sorted(
        [first, second], key=lambda item: item["sk"]
    )
    assert store.delete_keys([schema.sketch_key("uploads/day.csv", VERSION)]) == 1
    assert [item["file"] for item in store.sketches()] == ["uploads/b.csv"]


def test_a_parts_sketch_is_kept_on_its_part_item(store):
    store.create_record(record())
    progress = Progress(rows_read=2, rows_loaded=2, sketch="0000000000000001" * 2)

    store.commit_part(task(0), progress)

    [part] = store.committed_parts(task(0))
    assert part["sketch"] == progress.sketch
