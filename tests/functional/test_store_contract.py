"""The in-memory table of tests/fakes.py keeps the promises of the real adapter: each check
runs against both, the adapter over moto's DynamoDB. If the fake drifts from the adapter,
the fast service tests would prove nothing: this file fails first."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from lineup_ingest import schema
from lineup_ingest.adapters import LineupTable
from lineup_ingest.parsing import Header
from lineup_ingest.parts import PartTask, Progress
from lineup_ingest.retry import RetryBudget
from tests.cfn import table_definition
from tests.fakes import MemoryTable

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


def task(
    part: int = 0,
    parts: int = 3,
    uploaded_at: str = "2025-07-01T00:00:01+00:00",
    etag: str = "etag-1",
) -> PartTask:
    return PartTask(
        bucket="b",
        key="uploads/day.csv",
        etag=etag,
        size=100,
        uploaded_at=uploaded_at,
        started_at="s",
        part=part,
        parts=parts,
        part_bytes=10,
        start=0,
        line=2,
        header=Header(5, 5, {"performer": 0, "stage": 1, "start": 2, "end": 3, "date": 4}),
    )


def record(etag: str = "etag-1", uploaded_at: str = "2025-07-01T00:00:01+00:00") -> dict:
    return {
        **schema.upload_record_key("uploads/day.csv", etag),
        "file": "uploads/day.csv",
        "etag": etag,
        "uploaded_at": uploaded_at,
        "status": "LOADING",
        "parts": {},
    }


def test_a_load_begins_once_per_upload_and_again_for_a_new_upload(store):
    assert store.begin_load(record()) is True
    assert store.begin_load(record()) is False
    assert store.begin_load(record(uploaded_at="2025-07-01T00:00:09+00:00")) is True


def test_a_part_is_counted_once_and_a_failure_never_overwrites_a_success(store):
    store.begin_load(record())
    done = Progress(rows_read=5, rows_loaded=4, rows_rejected=1, rejected=((3, "bad"),))
    store.commit_part(task(1), done, None)
    after = store.commit_part(task(1), done, None)
    after = store.commit_part(task(1), Progress(), "crashed")

    assert list(after["parts"]) == ["000001"]
    assert int(after["parts"]["000001"]["rows_loaded"]) == 4
    assert "failure" not in after["parts"]["000001"]
    (part,) = store.committed_parts(task(1))
    assert [list(pair) for pair in part["rejected"]] == [[3, "bad"]]


def test_unreached_parts_are_counted_failed_where_nothing_is_counted(store):
    store.begin_load(record())
    store.commit_part(task(2), Progress(rows_read=1, rows_loaded=1), None)

    after = store.commit_unreached(task(0), "part 1 failed")

    assert sorted(after["parts"]) == ["000001", "000002"]
    assert after["parts"]["000001"]["failure"] == "part 1 failed"
    assert "failure" not in after["parts"]["000002"]


def test_a_part_of_an_upload_that_was_replaced_is_not_counted(store):
    store.begin_load(record())
    store.begin_load(record(uploaded_at="2025-07-01T00:00:09+00:00"))

    assert store.commit_part(task(0), Progress(), None) is None


def test_only_one_finisher_may_finish_and_write_the_final_record(store):
    store.begin_load(record())
    uploaded = record()["uploaded_at"]

    assert store.claim_finish("uploads/day.csv", "etag-1", uploaded, "a") is True
    assert store.claim_finish("uploads/day.csv", "etag-1", uploaded, "b") is False
    assert store.claim_finish("uploads/day.csv", "etag-1", uploaded, "a") is True  # its retry
    store.put_final_record({**record(), "status": "OK", "finisher": "b"})
    assert store.upload_record("uploads/day.csv", "etag-1")["status"] == "LOADING"
    store.put_final_record({**record(), "status": "OK", "finisher": "a"})
    assert store.upload_record("uploads/day.csv", "etag-1")["status"] == "OK"
    assert store.claim_finish("uploads/day.csv", "etag-1", uploaded, "a") is False


def test_a_part_is_queued_once(store):
    assert store.was_queued(task(1)) is False
    store.mark_queued(task(1))
    assert store.was_queued(task(1)) is True
    assert store.was_queued(task(2)) is False


def test_stale_rows_are_other_versions_uploaded_no_later(store):
    older, mine, newer = (
        ("etag-0", "2025-07-01T00:00:00+00:00"),
        ("etag-1", "2025-07-01T00:00:01+00:00"),
        ("etag-2", "2025-07-01T00:00:02+00:00"),
    )
    for n, (etag, uploaded_at) in enumerate([older, mine, newer]):
        store.put_items(
            [
                {
                    "pk": schema.file_partition("uploads/day.csv", n),
                    "sk": f"PERF#{n}",
                    "load_id": etag,
                    "uploaded_at": uploaded_at,
                    "performer": f"Act {n}",
                }
            ]
        )
    store.drain()
    store.begin_load(record(*older))
    store.begin_load(record(*mine))

    stale = list(store.stale_keys("uploads/day.csv", mine[0], mine[1]))

    assert stale == [{"pk": schema.file_partition("uploads/day.csv", 0), "sk": "PERF#0"}]
    assert store.other_versions_loaded("uploads/day.csv", "etag-1") is True
    assert store.other_versions_loaded("uploads/day.csv", "etag-0") is True
    assert store.delete_keys(stale) == 1
    assert list(store.stale_keys("uploads/day.csv", mine[0], mine[1])) == []


def test_the_longest_set_only_grows(store):
    assert store.longest_set_minutes() == 0
    store.raise_longest_set(90)
    store.raise_longest_set(60)
    assert store.longest_set_minutes() == 90


def test_a_removal_is_claimed_once_counts_on_and_spares_newer_rows(store):
    older, newer = "2025-07-01T00:00:01+00:00", "2025-07-01T00:00:09+00:00"
    store.put_items(
        [
            {
                "pk": schema.file_partition("uploads/day.csv", 0),
                "sk": "PERF#old",
                "load_id": "e1",
                "uploaded_at": older,
                "performer": "Old",
            },
            {
                "pk": schema.file_partition("uploads/day.csv", 1),
                "sk": "PERF#new",
                "load_id": "e2",
                "uploaded_at": newer,
                "performer": "New",
            },
        ]
    )
    store.drain()
    key = schema.removal_record_key("uploads/day.csv", "r1")
    removing = {**key, "status": "REMOVING", "finisher": "a"}

    assert store.claim_removal(removing) is True
    assert store.claim_removal({**removing, "finisher": "b"}) is False
    assert store.claim_removal(removing) is True  # the same delivery's retry
    found = list(store.keys_uploaded_no_later("uploads/day.csv", "2025-07-01T00:00:05+00:00"))
    assert found == [{"pk": schema.file_partition("uploads/day.csv", 0), "sk": "PERF#old"}]
    everything = [
        {"pk": schema.file_partition("uploads/day.csv", n), "sk": sk}
        for n, sk in ((0, "PERF#old"), (1, "PERF#new"))
    ]
    assert store.delete_uploaded_no_later(everything, "2025-07-01T00:00:05+00:00") == 1
    assert store.count_removed(key, 1, "a") == 1
    assert store.count_removed(key, 2, "a") == 3
    store.finish_removal({**key, "status": "REMOVED", "finisher": "b"})
    assert store.record(key)["status"] == "REMOVING"
    store.finish_removal({**key, "status": "REMOVED", "finisher": "a", "rows_removed": 3})
    assert store.record(key)["status"] == "REMOVED"
    assert store.claim_removal(removing) is False  # over
