"""A deterministic simulator of the ingest service's invocations, for the interleaving tests.

Like FoundationDB's simulator or TigerBeetle's VOPR, on a small scale: every invocation of
the function runs in a greenlet of its own (a coroutine of ordinary, blocking code), and
only one runs at a time. Each call to
a port (S3, DynamoDB, SQS, SNS: the in-memory fakes) is a step at which the scheduler,
driven by one seeded random generator, picks which invocation goes on next, or kills one
(a crash, or Lambda's timeout) before or after the call, or makes the call fail. S3 events
and queue messages are delivered late, twice, or twice at once; the user uploads and deletes
between any two steps; the reconcile sweep runs now and then. So a seed is a schedule, and
replaying the seed replays it exactly.

After each schedule the world is let go quiet (every message delivered, then the sweep until
it finds nothing to do), and `check` asserts the lifecycle's invariants.
"""

from __future__ import annotations

import functools
import json
import random
import types
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import greenlet

from lineup_ingest import changes, schema
from lineup_ingest import report as reports
from lineup_ingest.ingest import LoadSettings
from lineup_ingest.lifecycle import LOADED
from lineup_ingest.parsing import Performance
from lineup_ingest.parts import CollectTask, PartTask, task_from_message
from lineup_ingest.reconcile import SweepSettings
from lineup_ingest.service import IngestService, Invocation, wire_steps
from tests.fakes import MemoryBucket, MemoryTable
from tests.lineups import lineup_csv

START = datetime(2025, 7, 1, tzinfo=timezone.utc)
FENCE_S = 120  # the simulated function timeout: an invocation is killed past it
STUCK_S = 400
PART_ATTEMPTS = 3
S3_ATTEMPTS = 3  # Lambda's asynchronous invocation: the first try and two retries
KEYS = ("uploads/a.csv", "uploads/b.csv")


class Killed(BaseException):
    """The invocation's process died (a crash or the timeout): no `except Exception` and no
    further call of it reaches the world."""


class Refused(Exception):
    """An AWS call that failed (throttling past the time left, a 500)."""


@dataclass
class Faults:
    kill: float = 0.01  # at each step, that the invocation dies (before or after the call)
    fail: float = 0.01  # that a table call fails
    duplicate: float = 0.15  # that an event or message is delivered once more
    lose: float = 0.03  # that an S3 event is never delivered (it failed every attempt)
    sweep: float = 0.01  # at each step, that the scheduled sweep starts


# One schedule in five is a storm: many more crashes, failing calls, duplicates and losses.
STORM = Faults(kill=0.05, fail=0.05, duplicate=0.4, lose=0.2, sweep=0.02)


@dataclass
class Run:
    """One invocation of the function, in a greenlet of its own."""

    name: str
    request_id: str
    event: dict
    started: int  # the simulated second it started
    on_end: Callable[[Run], None]
    task: greenlet.greenlet | None = None
    killed: bool = False
    finished: bool = False
    result: Any = None
    error: BaseException | None = None
    emailed: list[tuple[dict[str, str], tuple[str, str]]] = field(default_factory=list)
    pending: str = ""  # the call it waits to make


@dataclass
class Message:
    body: str
    message_id: str
    receives: int = 0
    in_flight: int = 0  # deliveries under way
    waits_for: frozenset[str] = frozenset()  # a delayed message: runs that must end first


class World:
    def __init__(
        self, seed: int = 0, faults: Faults | None = None, actions: int = 4, part_bytes: int = 512
    ) -> None:
        self.part_bytes = part_bytes
        self.random = random.Random(seed)
        self.seed = seed
        self.faults = faults or (STORM if self.random.random() < 0.2 else Faults())
        self.second = 0
        self.bucket = MemoryBucket(clock=self.moment_seconds)
        self.table = MemoryTable(clock=self.now)
        self.mail: list[tuple[str, str, str, str]] = []  # kind, file, version, status
        self.messages: list[Message] = []
        self.failure_queue: list[str] = []
        self.s3_events: list[tuple[dict, str, int]] = []  # event, request id, attempt
        self.runs: dict[str, Run] = {}
        self.current: Run | None = None
        self.counter = 0
        self.trace: list[str] = []
        # (key, version): emails it may get beyond one, one for each delivery that died (or
        # failed to write) between its email and its record's last write.
        self.window: Counter[tuple[str, str]] = Counter()
        self.uploads: dict[tuple[str, str], list[list[str]]] = {}  # (key, version) -> rows
        self.lost: set[tuple[str, str]] = set()  # (key, sequence) of events never delivered
        self.removals: dict[str, str] = {}  # sequence -> key
        self.plan = [self._action() for _ in range(actions)]
        self.service = IngestService(self._steps, _Queue(self), PART_ATTEMPTS)

    # --- time --------------------------------------------------------------------------

    def now(self) -> str:
        return (START + timedelta(seconds=self.second)).isoformat(timespec="milliseconds")

    def moment_seconds(self) -> str:
        return (START + timedelta(seconds=self.second)).isoformat(timespec="seconds")[:19]

    # --- the function, wired to the world ------------------------------------------------

    def _steps(self, invocation: Invocation):
        def notify(report: reports.IngestReport) -> None:
            self.step("sns.publish")
            self.mail.append(("upload", report.key, report.version, report.status.value))
            self._emailed(
                schema.upload_record_key(report.key, report.version), report.key, report.version
            )
            self.trace.append(
                f"{self.second:5d} EMAIL upload {report.key} {report.version} {report.status.value}"
            )

        def notify_removal(report: reports.RemovalReport) -> None:
            self.step("sns.publish")
            self.mail.append(("removal", report.key, report.sequence, report.status.value))
            self.trace.append(f"{self.second:5d} EMAIL removal {report.key} {report.sequence}")
            self._emailed(
                schema.removal_record_key(report.key, report.sequence), report.key, report.sequence
            )

        return wire_steps(
            bucket=_Stepped(self, self.bucket),
            table=_Stepped(self, self.table),
            queue=_Queue(self),
            failures=_Failures(self),
            notify=notify,
            notify_removal=notify_removal,
            settings=LoadSettings(part_bytes=self.part_bytes),
            sweep_settings=SweepSettings(fence_s=FENCE_S, stuck_after_s=STUCK_S),
            bucket_name=self.bucket.name,
            remaining_ms=invocation.remaining_ms,
            clock=self.now,
        )

    def _emailed(self, key: dict[str, str], file: str, version: str) -> None:
        assert self.current is not None
        self.current.emailed.append((key, (file, version)))

    def step(self, what: str, *, fallible: bool = False) -> None:
        """A port call is about to happen in the running invocation: let the scheduler
        choose what runs next; die or fail here if it says so."""
        run = self.current
        assert run is not None, f"{what} outside an invocation"
        self.trace.append(f"{self.second:5d} {run.name:8} {run.request_id:10} {what}")
        run.pending = what
        if run.killed:
            raise Killed
        assert run.task is not None and run.task.parent is not None
        run.task.parent.switch()  # back to the scheduler, until it resumes this run
        if run.killed or self.second - run.started > FENCE_S:  # a crash, or the timeout
            run.killed = True
            raise Killed
        if fallible and self.random.random() < self.faults.fail:
            raise Refused(f"{what} refused")

    # --- invocations -----------------------------------------------------------------------

    def start(self, event: dict, request_id: str, on_end: Callable[[Run], None]) -> None:
        self.counter += 1
        run = Run(f"run{self.counter}", request_id, event, self.second, on_end)

        def body() -> None:
            remaining = lambda: max(0, (FENCE_S - (self.second - run.started)) * 1000)  # noqa: E731
            try:
                run.result = self.service.handle(event, Invocation(request_id, remaining))
            except BaseException as error:  # noqa: BLE001 (a crash is an outcome here)
                run.error = error
            run.finished = True

        run.task = greenlet.greenlet(body)
        self.runs[run.name] = run

    def resume(self, run: Run) -> None:
        """Let one invocation run to its next step (or its end)."""
        self.current = run
        assert run.task is not None
        run.task.switch()
        if run.finished:
            for key, version in run.emailed:
                if (self.table.record(key) or {}).get("status") == "REPORTING":
                    # The one window for a second email: the record's write after the
                    # email did not happen (docs/ingest.md).
                    self.window[version] += 1
            del self.runs[run.name]
            run.on_end(run)

    def kill(self, run: Run) -> None:
        self.trace.append(f"{self.second:5d} {run.name:8} KILLED")
        run.killed = True
        self.resume(run)  # it raises Killed at once and ends

    # --- the user and the events -----------------------------------------------------------

    def _action(self) -> tuple[str, str, int]:
        key = self.random.choice(KEYS)
        kind = self.random.choices(["put", "put same", "delete"], [6, 1, 2])[0]
        return kind, key, self.random.randint(1, 12)

    def act(self, kind: str, key: str, size: int) -> None:
        self.trace.append(f"{self.second:5d} USER {kind} {key} ({size} rows)")
        if kind == "delete":
            if key not in self.bucket.objects:
                return
            event = self.bucket.delete(key)
            sequence = schema.sequence_key(event["Records"][0]["s3"]["object"]["sequencer"])
            self.removals[sequence] = key
        else:
            previous = self.uploads.get((key, self._current_version(key) or ""))
            if kind == "put same" and previous:
                rows = previous
            else:
                rows = _rows(self.random, size, f"{key[-5]}{self.counter}")
            event = self.bucket.put(key, lineup_csv(rows))
            sequence = schema.sequence_key(event["Records"][0]["s3"]["object"]["sequencer"])
            self.uploads[(key, sequence)] = rows
        if self.random.random() < self.faults.lose:
            self.lost.add((key, sequence))
            return
        self.counter += 1
        self.s3_events.append((event, f"s3-{self.counter}", 1))

    def _current_version(self, key: str) -> str | None:
        versions = [v for k, v in self.uploads if k == key]
        return max(versions) if versions and key in self.bucket.objects else None

    def _s3_ended(self, event: dict, request_id: str, attempt: int) -> Callable[[Run], None]:
        def ended(run: Run) -> None:
            if run.error is not None and attempt < S3_ATTEMPTS:
                self.s3_events.append((event, request_id, attempt + 1))  # Lambda's retry
            elif run.error is not None:  # failed every attempt: to the on-failure queue
                failed = {"requestContext": {"condition": "RetriesExhausted"}}
                self.failure_queue.append(json.dumps({**failed, "requestPayload": event}))

        return ended

    def _message_ended(self, message: Message) -> Callable[[Run], None]:
        def ended(run: Run) -> None:
            message.in_flight -= 1
            failed = run.error is not None or (run.result or {}).get("batchItemFailures")
            if not failed and message in self.messages:
                self.messages.remove(message)  # deleted by the event source mapping

        return ended

    def _deliver(self, message: Message) -> None:
        if message.receives >= PART_ATTEMPTS:
            self.messages.remove(message)  # the redrive policy: to the failure queue
            self.failure_queue.append(message.body)
            return
        message.receives += 1
        message.in_flight += 1
        self.counter += 1
        record = {
            "eventSource": "aws:sqs",
            "messageId": message.message_id,
            "receiptHandle": message.message_id,
            "body": message.body,
            "attributes": {"ApproximateReceiveCount": str(message.receives)},
        }
        self.start({"Records": [record]}, f"sqs-{self.counter}", self._message_ended(message))

    def deliverable(self) -> list[Message]:
        return [
            m
            for m in self.messages
            if m.in_flight == 0
            and not (m.waits_for & set(self.runs))
            or (m.in_flight == 1 and self.random.random() < self.faults.duplicate / 4)
        ]

    # --- the scheduler -------------------------------------------------------------------

    def tick(self, exclude: Run | None = None) -> bool:
        """One scheduling decision; False once nothing is left to do."""
        self.second += 1
        choices: list[Callable[[], None]] = []
        waiting = [run for run in self._waiting() if run is not exclude]
        choices += [functools.partial(self._advance, run) for run in waiting]
        choices += [functools.partial(self._deliver, message) for message in self.deliverable()]
        choices += [functools.partial(self._deliver_s3, n) for n in range(len(self.s3_events))]
        if self.plan:
            choices.append(lambda: self.act(*self.plan.pop(0)))
        if not choices:
            return False
        if self.random.random() < self.faults.sweep:
            self.counter += 1
            self.start({"source": "aws.events"}, f"sweep-{self.counter}", lambda run: None)
            return True
        self.random.choice(choices)()
        return True

    def _waiting(self) -> list[Run]:
        return [run for run in self.runs.values() if not run.finished]

    def _advance(self, run: Run) -> None:
        if self.random.random() < self.faults.kill:
            self.kill(run)
        else:
            self.resume(run)

    def _deliver_s3(self, n: int) -> None:
        event, request_id, attempt = self.s3_events.pop(n)
        if attempt == 1 and self.random.random() < self.faults.duplicate:
            self.counter += 1
            self.s3_events.append((event, f"s3-{self.counter}", 1))  # S3 sends it twice
        self.start(event, request_id, self._s3_ended(event, request_id, attempt))
        record = event["Records"][0]
        self.trace.append(
            f"{self.second:5d} S3 {record['eventName']} {record['s3']['object']['sequencer']}"
            f" as {request_id}"
        )

    def run_to_quiet(self, max_ticks: int = 20_000) -> None:
        """The schedule, then quiet: deliveries without faults, and the sweep until it has
        nothing left to do."""
        ticks = 0
        while self.tick():
            ticks += 1
            assert ticks < max_ticks, f"seed {self.seed}: no end in sight"
        calm = Faults(kill=0, fail=0, duplicate=0, lose=0, sweep=0)
        self.faults = calm
        for _ in range(20):
            self.second += FENCE_S + STUCK_S + 1
            self.counter += 1
            swept: list[Run] = []
            self.start({"source": "aws.events"}, f"sweep-{self.counter}", swept.append)
            while self.tick():
                ticks += 1
                assert ticks < max_ticks, f"seed {self.seed}: no end in sight"
            ((sweep,),) = (swept,)
            if isinstance(sweep.error, Killed):
                continue  # it ran past its timeout: the next sweep goes on
            assert sweep.error is None, f"seed {self.seed}: the sweep failed: {sweep.error!r}"
            if not any(sweep.result["reconciled"].values()):
                return
        raise AssertionError(f"seed {self.seed}: the sweep never found the world converged")

    # --- scripted schedules: the named interleavings -----------------------------------

    @classmethod
    def scripted(cls, part_bytes: int = 512) -> World:
        """A world without random faults or user actions: the test says what happens."""
        return cls(0, Faults(kill=0, fail=0, duplicate=0, lose=0, sweep=0), 0, part_bytes)

    def upload(self, key: str, rows: list[list[str]], same_as: str | None = None) -> dict:
        """Put a file; the S3 event, not delivered yet."""
        body = lineup_csv(rows)
        event = self.bucket.put(key, body)
        sequence = schema.sequence_key(event["Records"][0]["s3"]["object"]["sequencer"])
        self.uploads[(key, sequence)] = rows
        return event

    def delete(self, key: str) -> dict:
        event = self.bucket.delete(key)
        sequence = schema.sequence_key(event["Records"][0]["s3"]["object"]["sequencer"])
        self.removals[sequence] = key
        return event

    def lose(self, event: dict) -> None:
        """S3 never delivers this event: what the sweep must make up for."""
        found = event["Records"][0]["s3"]["object"]
        self.lost.add((found["key"], schema.sequence_key(found["sequencer"])))

    def deliver(self, event: dict) -> Run:
        """A delivery of an S3 event (each one with a request id of its own)."""
        self.counter += 1
        self.start(event, f"s3-{self.counter}", lambda run: None)
        return self.runs[f"run{self.counter}"]

    def deliver_part(self, n: int = 0) -> Run:
        """A delivery of the n-th message on the parts queue, in flight or not (twice at
        once if it is already being delivered)."""
        self._deliver(self.messages[n])
        return self.runs[f"run{self.counter}"]

    def until(self, run: Run, call: str) -> Run:
        """Let ``run`` go on until it is about to make ``call`` (or ends)."""
        while run.name in self.runs:
            self.resume(run)
            if run.pending == call and run.name in self.runs:
                return run
        return run

    def finish(self, run: Run) -> Run:
        while run.name in self.runs:
            self.resume(run)
        return run

    def quiet(self) -> None:
        self.run_to_quiet()

    def quiet_except(self, paused: Run) -> None:
        """Deliver everything that can go while ``paused`` stays where it is (no sweep, no
        time passing: ``paused`` is still within its timeout)."""
        second = self.second
        while self.tick(exclude=paused):
            pass
        self.second = second

    def emails(self, kind: str, key: str) -> list[str]:
        return [status for k, file, _, status in self.mail if (k, file) == (kind, key)]

    def stored(self) -> set[tuple[str, str]]:
        return {(item["pk"], item["sk"]) for item in self.table.performances()}

    def rows_of(self, key: str, rows: list[list[str]], version: str) -> set[tuple[str, str]]:
        return {_item_key(key, version, row) for row in rows}

    # --- the invariants ------------------------------------------------------------------

    def check(self) -> None:
        seed = self.seed
        emails: dict[tuple[str, str, str], list[str]] = {}
        for kind, file, version, status in self.mail:
            emails.setdefault((kind, file, version), []).append(status)
        for key, version in self.uploads:
            sent = emails.get(("upload", key, version), [])
            limit = (0, 1) if (key, version) in self.lost else (1,)
            limit = (*limit, *range(2, 2 + self.window[(key, version)]))
            assert len(sent) in limit, f"seed {seed}: upload {version} got emails {sent}"
        for sequence, key in self.removals.items():
            sent = emails.get(("removal", key, sequence), [])
            limit = (0, 1) if (key, sequence) in self.lost else (1,)
            limit = (*limit, *range(2, 2 + self.window[(key, sequence)]))
            assert len(sent) in limit, f"seed {seed}: removal {sequence} got emails {sent}"
        for (kind, file, version), sent in emails.items():
            most = 1 + self.window[(file, version)]
            assert len(sent) <= most, f"seed {seed}: {kind} {version} got emails {sent}"
        for record in self.table.records():
            assert record["status"] not in ("LOADING", "REPORTING", "REMOVING"), (
                f"seed {seed}: {record['sk']} is still {record['status']}"
            )
        heads = {head["file"]: head for head in self.table.heads()}
        # Each current version's sketch of its sets is kept, and no other version's.
        sketches = {(item["file"], item["version"]) for item in self.table.sketches()}
        currents = {(key, head["current"]) for key, head in heads.items() if head.get("current")}
        assert sketches == currents, (
            f"seed {seed}: sketches of {sorted(sketches - currents)} are not current,"
            f" and {sorted(currents - sketches)} lack theirs"
        )
        expected: set[tuple[str, str]] = set()
        for key in KEYS:
            current = (heads.get(key) or {}).get("current")
            if key not in self.bucket.objects:
                assert not current, f"seed {seed}: {key} is deleted, yet {current} is current"
                continue
            newest = max(v for k, v in self.uploads if k == key)
            newest_record = self.table.record(schema.upload_record_key(key, newest)) or {}
            if newest_record.get("status") in LOADED:
                assert current == newest, f"seed {seed}: {key}: {current} current, not {newest}"
            if current:
                record = self.table.record(schema.upload_record_key(key, current)) or {}
                assert record.get("status") in LOADED, f"seed {seed}: current {record}"
                # A version the sweep loaded (its event lost) holds the object as it is.
                source = current if (key, current) in self.uploads else newest
                rows = self.uploads[(key, source)]
                if True:
                    items = {_item_key(key, current, row) for row in rows}
                    assert int(record["rows_loaded"]) == len(items), (
                        f"seed {seed}: {key} {current} counts {record['rows_loaded']}"
                        f" for {len(items)} rows"
                    )
                    expected |= items
                self._check_changes(key, current, record)
        stored = {(item["pk"], item["sk"]) for item in self.table.performances()}
        assert stored == expected, (
            f"seed {seed}: the table holds {len(stored - expected)} rows too many and lacks"
            f" {len(expected - stored)}"
        )

    def _check_changes(self, key: str, current: str, record: dict[str, Any]) -> None:
        """The current version's change list, applied to the sets of the version it
        replaced, gives its own sets (when the user's uploads tell both)."""
        summary = record.get("changes") or {}
        previous = str(summary.get("previous") or "")
        if summary.get("state") != changes.COMPARED or (key, previous) not in self.uploads:
            return
        if (key, current) not in self.uploads:
            return  # loaded by the sweep (its event lost): what it read is not known here
        whole = changes.from_chunks(self.table.change_chunks(key, current))
        assert whole.counts() == {k: int(summary[k]) for k in ("added", "removed", "moved")}
        assert whole.applied_to(_sets(self.uploads[(key, previous)])) == _sets(
            self.uploads[(key, current)]
        ), f"seed {self.seed}: {key} {current}: its change list does not give its sets"


def _sets(rows: list[list[str]]) -> set[changes.Set]:
    """The sets of `_rows`, as stored: every set ends at 01:00 the next day."""
    return {
        changes.Set(
            row[0], row[1], f"{row[4]}T{int(row[2].split(':')[0]):02d}:00", "2025-07-13T01:00"
        )
        for row in rows
    }


class _Stepped:
    """A port whose every call is a step of the schedule."""

    FALLIBLE = {
        "put_items",
        "create_record",
        "update_record",
        "commit_part",
        "note_upload",
        "make_current",
        "remove_current",
        "put_sketch",
        "sketches",
        "delete_keys",
        "version_keys",
        "record",
        "version_rows",
        "put_change_chunks",
    }

    def __init__(self, world: World, port: Any) -> None:
        self._world = world
        self._port = port

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._port, name)
        if not callable(attribute):
            return attribute
        world = self._world

        def call(*args: Any, **kwargs: Any) -> Any:
            world.step(name, fallible=name in self.FALLIBLE)
            result = attribute(*args, **kwargs)
            if isinstance(result, types.GeneratorType):
                result = iter(list(result))
            world.step(f"after {name}")
            return result

        return call


class _Queue:
    """The parts queue: a message may be delayed until the runs now going have ended."""

    def __init__(self, world: World) -> None:
        self.world = world

    def send(self, task: PartTask | CollectTask, delay_s: int = 0) -> None:
        world = self.world
        world.step("sqs.send")
        world.counter += 1
        waits = frozenset(world.runs) if delay_s >= FENCE_S else frozenset()
        world.messages.append(Message(task.to_message(), f"m{world.counter}", waits_for=waits))
        world.step("after sqs.send")

    def retry_delay_s(self, attempt: int) -> int:
        return 0 if attempt <= 0 else 30 * 2 ** (attempt - 1)

    def retry_later(self, receipt_handle: str, attempt: int) -> None:
        self.world.step("sqs.change_message_visibility")


class _Failures:
    def __init__(self, world: World) -> None:
        self.world = world

    def receive(self, limit: int) -> list[tuple[str, str]]:
        self.world.step("sqs.receive")
        return [(body, body) for body in self.world.failure_queue[:limit]]

    def delete(self, receipt: str) -> None:
        self.world.step("sqs.delete")
        if receipt in self.world.failure_queue:
            self.world.failure_queue.remove(receipt)


def _rows(generator: random.Random, count: int, tag: str) -> list[list[str]]:
    """``count`` sets with distinct keys, on two stages, some past midnight."""
    rows = []
    for n in range(count):
        hour = generator.randint(12, 23)
        rows.append(
            [
                f"Act {tag}-{n}",
                generator.choice(["Main", "Tent"]),
                f"{hour}:00",
                "1:00",
                "2025-07-12",
            ]
        )
    return rows


def _item_key(key: str, version: str, row: list[str]) -> tuple[str, str]:
    performance = Performance(
        performer=row[0],
        stage=row[1],
        date=row[4],
        start=f"{row[4]}T{int(row[2].split(':')[0]):02d}:00",
        end="2025-07-13T01:00",
        raw_start=row[2],
        raw_end=row[3],
        line=0,
    )
    item = schema.performance_item(
        performance, source_key=key, load_id="", uploaded_at="", version=version
    )
    return str(item["pk"]), str(item["sk"])


def task_kind(body: str) -> str:
    return "collect" if isinstance(task_from_message(body), CollectTask) else "part"
