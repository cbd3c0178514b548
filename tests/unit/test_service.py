"""The function's use case against in-memory fakes of S3, DynamoDB, SQS and SNS: an upload
loads and reports once, in one part or many, through duplicate events, crashes and parts
that keep failing. The same scenarios run through moto in tests/functional."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from lineup_ingest.config import Config
from lineup_ingest.ingest import LoadSettings
from lineup_ingest.reconcile import SweepSettings
from lineup_ingest.service import Invocation
from tests.fakes import MemoryBucket, MemoryMail, MemoryQueue, MemoryTable
from tests.lineups import lineup_csv, lineup_rows, tricky_csv, tricky_rows
from tests.pipeline import PART_ATTEMPTS, deliver_queued, memory_service


@dataclass
class Clock:
    """The function's clock, moved on by the test (the sweep acts on what is old enough)."""

    now: datetime = datetime(2025, 7, 1, 12, tzinfo=timezone.utc)

    def __call__(self) -> str:
        return self.now.isoformat(timespec="milliseconds")

    def advance(self, seconds: int) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class Pipeline:
    part_bytes: int = Config.part_bytes
    bucket: MemoryBucket = field(default_factory=MemoryBucket)
    table: MemoryTable = field(default_factory=MemoryTable)
    queue: MemoryQueue = field(default_factory=MemoryQueue)
    mail: MemoryMail = field(default_factory=MemoryMail)
    clock: Clock = field(default_factory=Clock)
    sweep_settings: SweepSettings = field(default_factory=SweepSettings)

    def __post_init__(self) -> None:
        self.service = memory_service(
            bucket=self.bucket,
            table=self.table,
            queue=self.queue,
            mail=self.mail,
            settings=LoadSettings(part_bytes=self.part_bytes),
            sweep_settings=self.sweep_settings,
            clock=self.clock,
        )
        self._invocations = 0

    def invoke(self, event: dict, request_id: str = "") -> dict:
        """Lambda's invocation; ``request_id`` for its retry of an event (the same id)."""
        self._invocations += 1
        return self.service.handle(
            event, Invocation(request_id or f"request-{self._invocations}", lambda: 300_000)
        )

    def sweep(self) -> dict:
        """The reconcile sweep, as the schedule starts it."""
        return self.invoke({"source": "aws.events"})["reconciled"]

    def deliver_parts(self) -> int:
        """Deliver queued parts one at a time, as the event source mapping does."""
        return deliver_queued(self.queue, self.invoke)

    def performers(self) -> list[str]:
        return sorted(item["performer"] for item in self.table.performances())

    def subjects(self) -> list[str]:
        return [subject for subject, _ in self.mail.sent]


def test_an_upload_loads_every_row_and_sends_one_ok_email():
    pipeline = Pipeline()
    rows = lineup_rows(60)

    result = pipeline.invoke(pipeline.bucket.put("uploads/day1.csv", lineup_csv(rows)))

    assert result == {"files": [{"file": "uploads/day1.csv", "status": "OK"}]}
    assert pipeline.performers() == sorted(row[0] for row in rows)
    assert pipeline.subjects() == ["festival-lineup OK: day1.csv"]


def test_a_duplicate_event_neither_loads_nor_emails_again():
    pipeline = Pipeline()
    event = pipeline.bucket.put("uploads/day1.csv", lineup_csv(lineup_rows(10)))
    pipeline.invoke(event)
    writes = pipeline.table.write_requests

    assert pipeline.invoke(event) == {"files": [{"file": "uploads/day1.csv", "status": "OK"}]}
    assert pipeline.table.write_requests == writes
    assert len(pipeline.mail.sent) == 1


def test_a_file_in_many_parts_loads_exactly_its_rows_with_one_email():
    pipeline = Pipeline(part_bytes=1024)
    rows = tricky_rows(200)  # quoted names with commas, notes with line breaks

    pipeline.invoke(pipeline.bucket.put("uploads/big.csv", tricky_csv(rows)))
    deliveries = pipeline.deliver_parts()

    assert deliveries >= 5
    assert pipeline.performers() == sorted(row[0] for row in rows)
    ((subject, body),) = pipeline.mail.sent
    assert subject == "festival-lineup OK: big.csv"
    assert "Rows loaded:   200" in body


def test_a_part_that_fails_once_is_retried_alone_and_nothing_is_lost():
    pipeline = Pipeline(part_bytes=1024)
    rows = lineup_rows(150)
    pipeline.table.fail_batches_with = rows[100][0]
    pipeline.invoke(pipeline.bucket.put("uploads/flaky.csv", lineup_csv(rows)))
    first = pipeline.queue.next_batch(PART_ATTEMPTS)
    while first is not None and pipeline.invoke(first)["batchItemFailures"] == []:
        pipeline.queue.acknowledge(first["Records"][0]["messageId"])
        first = pipeline.queue.next_batch(PART_ATTEMPTS)
    assert first is not None  # the part holding the victim failed

    pipeline.table.fail_batches_with = None
    pipeline.deliver_parts()

    assert pipeline.performers() == sorted(row[0] for row in rows)
    assert pipeline.subjects() == ["festival-lineup OK: flaky.csv"]
    assert pipeline.queue.failure_queue == []


def test_a_part_that_keeps_failing_ends_the_file_failed_once_and_reaches_the_failure_queue():
    pipeline = Pipeline(part_bytes=1024)
    rows = lineup_rows(150)
    pipeline.table.fail_batches_with = rows[100][0]

    pipeline.invoke(pipeline.bucket.put("uploads/doomed.csv", lineup_csv(rows)))
    pipeline.deliver_parts()

    ((subject, body),) = pipeline.mail.sent
    assert subject == "festival-lineup FAILED: doomed.csv"
    assert "could not be loaded" in body
    assert len(pipeline.queue.failure_queue) == 1


def test_an_event_that_names_no_object_is_ignored_without_an_email():
    pipeline = Pipeline()

    result = pipeline.invoke({"warmup": True})

    assert result["files"] == [] and "no Records" in result["ignored"]
    assert pipeline.mail.sent == []


def test_an_object_deleted_before_its_event_is_handled_gets_a_failed_email():
    pipeline = Pipeline()
    event = pipeline.bucket.put("uploads/gone.csv", lineup_csv(lineup_rows(3)))
    del pipeline.bucket.objects["uploads/gone.csv"]

    pipeline.invoke(event)

    ((subject, body),) = pipeline.mail.sent
    assert subject == "festival-lineup FAILED: gone.csv"
    assert "no longer exists" in body
    assert pipeline.table.performances() == []


def test_a_bad_row_is_reported_with_its_line_and_the_good_rows_load():
    pipeline = Pipeline()
    rows = lineup_rows(5)
    rows[2] = [rows[2][0], rows[2][1], "25:99", rows[2][3], rows[2][4]]

    pipeline.invoke(pipeline.bucket.put("uploads/typo.csv", lineup_csv(rows)))

    ((subject, body),) = pipeline.mail.sent
    assert "typo.csv" in subject
    assert "line 4" in body
    assert len(pipeline.table.performances()) == 4


def test_a_newer_version_replaces_the_rows_of_the_older_one():
    pipeline = Pipeline()
    pipeline.invoke(pipeline.bucket.put("uploads/day.csv", lineup_csv(lineup_rows(20))))
    newer = [["Only Act", "Main Stage", "12:00", "13:00", "2025-07-14"]]

    pipeline.invoke(pipeline.bucket.put("uploads/day.csv", lineup_csv(newer)))
    pipeline.deliver_parts()  # the older version's rows are collected in steps

    assert pipeline.performers() == ["Only Act"]
    assert len(pipeline.mail.sent) == 2


def test_a_deleted_file_loses_its_rows_with_one_email_even_if_the_event_comes_twice():
    pipeline = Pipeline()
    pipeline.invoke(pipeline.bucket.put("uploads/day.csv", lineup_csv(lineup_rows(30))))
    pipeline.invoke(pipeline.bucket.put("uploads/other.csv", lineup_csv(lineup_rows(4))))
    removed = pipeline.bucket.delete("uploads/day.csv")

    pipeline.invoke(removed)
    pipeline.invoke(removed)

    assert len(pipeline.table.performances()) == 4  # other.csv's rows stay
    assert pipeline.subjects()[2:] == ["festival-lineup REMOVED: day.csv"]
    assert "30 rows removed" in pipeline.mail.sent[2][1]


def test_a_delete_followed_by_a_new_upload_spares_the_new_rows():
    pipeline = Pipeline()
    pipeline.invoke(pipeline.bucket.put("uploads/day.csv", lineup_csv(lineup_rows(30))))
    removed = pipeline.bucket.delete("uploads/day.csv")
    newer = [["Only Act", "Main Stage", "12:00", "13:00", "2025-07-14"]]
    pipeline.invoke(pipeline.bucket.put("uploads/day.csv", lineup_csv(newer)))

    pipeline.invoke(removed)  # arrives late: the key holds a newer upload
    pipeline.deliver_parts()

    assert pipeline.performers() == ["Only Act"]


def test_deleting_a_file_that_is_not_a_lineup_sends_nothing():
    pipeline = Pipeline()
    pipeline.invoke(pipeline.bucket.put("uploads/notes.txt", b"hello"))

    result = pipeline.invoke(pipeline.bucket.delete("uploads/notes.txt"))

    assert result["files"] == [{"file": "uploads/notes.txt", "status": "IGNORED"}]
    assert pipeline.subjects() == ["festival-lineup FAILED: notes.txt"]  # its upload's only
