"""The seven interleavings that broke the old lifecycle (issue 19), each as a short scripted
schedule on the simulator (tests/simulation.py): duplicate, late and concurrent deliveries,
re-uploads and deletes mid-load. Each ends with the simulator's invariants: one email per
upload and removal, nothing left loading, the table exactly the current versions' rows."""

from __future__ import annotations

import pytest

from lineup_ingest import schema
from tests.simulation import World

pytestmark = pytest.mark.timeout(60)

KEY = "uploads/a.csv"


def sets(tag: str, count: int) -> list[list[str]]:
    return [
        [f"Act {tag} {n}", "Main", f"{12 + n % 12}:00", "1:00", "2025-07-12"] for n in range(count)
    ]


def version(event: dict) -> str:
    return schema.sequence_key(event["Records"][0]["s3"]["object"]["sequencer"])


def test_two_deliveries_of_the_last_part_at_once_send_one_email():
    world = World.scripted(part_bytes=256)
    world.finish(world.deliver(world.upload(KEY, sets("x", 12))))
    assert len(world.messages) == 1  # the second and last part, queued

    first = world.until(world.deliver_part(0), "committed_parts")  # counted; about to finish
    second = world.finish(world.deliver_part(0))  # SQS delivers the same message twice
    world.finish(first)
    world.quiet()

    assert second.error is None and first.error is None
    assert world.emails("upload", KEY) == ["OK"]
    world.check()
    world.check()


def test_a_late_duplicate_event_after_a_delete_sends_nothing_more():
    world = World.scripted()
    uploaded = world.upload(KEY, sets("x", 5))
    world.finish(world.deliver(uploaded))
    world.finish(world.deliver(world.delete(KEY)))
    world.quiet()

    world.finish(world.deliver(uploaded))  # S3 delivers the upload's event again, late
    world.quiet()

    assert world.emails("upload", KEY) == ["OK"]
    world.check()
    assert world.emails("removal", KEY) == ["REMOVED"]
    assert world.table.record(schema.upload_record_key(KEY, version(uploaded)))["status"] == "OK"
    world.check()


def test_a_late_duplicate_event_after_a_same_bytes_reupload_leaves_the_newer_load_alone():
    world = World.scripted()
    rows = sets("x", 5)
    first = world.upload(KEY, rows)
    world.finish(world.deliver(first))
    again = world.upload(KEY, rows)  # the same bytes, a new upload
    world.finish(world.deliver(again))
    world.finish(world.deliver(first))
    world.quiet()

    assert world.emails("upload", KEY) == ["OK", "OK"]
    assert world.table.head(KEY)["current"] == version(again)
    world.check()


def test_a_stalled_event_of_an_older_upload_does_not_take_over_a_newer_one():
    world = World.scripted()
    rows = sets("x", 5)
    older = world.upload(KEY, rows)
    newer = world.upload(KEY, rows)  # the same bytes again
    world.finish(world.deliver(newer))
    world.finish(world.deliver(older))  # the older upload's event arrives last
    world.quiet()

    assert sorted(world.emails("upload", KEY)) == ["FAILED", "OK"]
    assert world.table.head(KEY)["current"] == version(newer)
    assert world.table.record(schema.upload_record_key(KEY, version(older)))["status"] == "FAILED"
    world.check()


def test_a_part_that_fails_every_delivery_and_cannot_be_counted_still_ends_with_an_email():
    world = World.scripted(part_bytes=256)
    world.finish(world.deliver(world.upload(KEY, sets("x", 12))))
    message = world.messages[0]
    for _ in range(3):  # every delivery dies before it counts anything
        world.kill(world.until(world.deliver_part(0), "put_items"))
    world._deliver(message)  # the redrive policy moves it to the failure queue
    assert world.failure_queue and world.emails("upload", KEY) == []

    world.quiet()  # the sweep finds it there

    assert world.emails("upload", KEY) == ["FAILED"]
    world.check()


def test_an_older_finisher_never_deletes_a_newer_versions_rows():
    world = World.scripted()
    v1 = world.upload(KEY, sets("one", 8))
    v2_rows = sets("two", 8)[:4] + sets("one", 8)[4:]  # half the keys shared with v1
    v2 = world.upload(KEY, v2_rows)
    older = world.until(world.deliver(v1), "make_current")
    world.finish(world.deliver(v2))
    world.finish(older)
    world.quiet()

    assert world.stored() == world.rows_of(KEY, v2_rows, version(v2))
    assert sorted(world.emails("upload", KEY)) == ["FAILED", "OK"]
    world.check()


def test_an_older_versions_part_still_writing_never_touches_the_newer_versions_rows():
    world = World.scripted(part_bytes=256)
    rows = sets("one", 12)
    v1 = world.upload(KEY, rows)
    world.finish(world.deliver(v1))
    streaming = world.until(world.deliver_part(0), "put_items")  # v1's part 2, mid-write
    v2 = world.upload(KEY, rows)  # the same keys, a newer version
    world.finish(world.deliver(v2))
    world.quiet_except(streaming)
    world.finish(streaming)
    world.quiet()

    assert world.stored() == world.rows_of(KEY, rows, version(v2))
    assert world.table.head(KEY)["current"] == version(v2)
    world.check()


def test_a_part_delivered_twice_that_writes_after_the_delete_leaves_no_row():
    world = World.scripted(part_bytes=256)
    world.finish(world.deliver(world.upload(KEY, sets("x", 12))))
    late = world.until(world.deliver_part(0), "put_items")  # one delivery of the last part
    world.finish(world.deliver_part(0))  # another one ends the load: OK, current
    world.finish(world.deliver(world.delete(KEY)))  # the removal collects the rows
    world.quiet_except(late)
    world.finish(late)  # the stalled delivery's rows land after the removal ran
    world.quiet()

    assert world.stored() == set()
    assert world.emails("upload", KEY) == ["OK"]
    world.check()
    assert world.emails("removal", KEY) == ["REMOVED"]
    world.check()


def test_a_delete_whose_event_never_arrives_is_applied_by_the_sweep():
    world = World.scripted()
    world.finish(world.deliver(world.upload(KEY, sets("x", 5))))
    world.lose(world.delete(KEY))  # S3 never delivers its event
    world.quiet()

    assert world.stored() == set()
    assert world.emails("removal", KEY) == ["REMOVED"]
    assert "current" not in world.table.head(KEY)
    world.check()


def test_an_upload_whose_event_never_arrives_is_loaded_by_the_sweep():
    world = World.scripted()
    rows = sets("x", 5)
    world.lose(world.upload(KEY, rows))  # S3 never delivers its event
    world.quiet()

    current = world.table.head(KEY)["current"]
    assert world.stored() == world.rows_of(KEY, rows, current)
    assert world.emails("upload", KEY) == ["OK"]
    world.check()
