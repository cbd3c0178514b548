"""The end of an upload version: its outcome decided once, applied, emailed (pure).

The delivery that counts the last part (or refuses the file, or the sweep that ends a load
that stopped) moves the record LOADING -> REPORTING with the outcome in one conditional
write; the winner, and only it, makes the version current if it loaded (one conditional
write on the file's head, ordered by sequence), has what is no longer current collected,
sends the one email, and writes the final status. docs/ingest.md has the whole machine.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import KW_ONLY, dataclass
from datetime import datetime
from typing import Any, Protocol

from lineup_ingest import changes, clashes, schema
from lineup_ingest.lifecycle import LOADED, Status, status_of
from lineup_ingest.parsing import RowError
from lineup_ingest.parts import CollectTask, PartTask
from lineup_ingest.ports import (
    ChangeStore,
    HeadStore,
    PartQueue,
    PartStore,
    RecordStore,
    SketchStore,
    VersionReader,
)
from lineup_ingest.report import IngestReport, RejectedRows
from lineup_ingest.sketch import Sketch, same_lineup


class OutcomeStore(
    RecordStore, PartStore, HeadStore, VersionReader, ChangeStore, SketchStore, Protocol
):
    """What the end of a load needs of the table: records, parts' counts, heads, and the
    rows of the version it replaces and its own (to say what changed)."""


# Kept for the rest of publish once the rows for the report are read: making the version
# current, queueing collection, the email and the record, with retries (seconds at most).
REPORT_RESERVE_MS = 20_000


class OutOfTimeError(Exception):
    """Reading a version's rows for the report would run into REPORT_RESERVE_MS."""


@dataclass(eq=False)
class Outcome:
    table: OutcomeStore
    queue: PartQueue
    notify: Callable[[IngestReport], None]
    _: KW_ONLY
    clock: Callable[[], str]
    # Versions larger than this are not compared (the email says so, and how to).
    change_rows_limit: int = changes.MAX_ROWS
    # Versions larger than this are not read back to count their clashes (the email says
    # so); None: clashes.MAX_ROWS.
    clash_rows_limit: int | None = None
    # The invocation's time left: reading rows back for the report stops in time for the
    # rest of publish (REPORT_RESERVE_MS), so a slow read never keeps a record REPORTING
    # through every retry.
    remaining_ms: Callable[[], int] | None = None

    def end_stuck(self, record: dict[str, Any], reason: str) -> str:
        """The sweep's end of a load that stopped moving: FAILED, with its one email, if no
        part was counted since the sweep read it."""
        report = report_of(record)
        report.failure = reason
        return self.decide(record, report, expect_updated_at=str(record.get("updated_at", "")))

    def decide(
        self, record: dict[str, Any], report: IngestReport, expect_updated_at: str | None = None
    ) -> str:
        """LOADING -> REPORTING with the outcome, in one conditional write: its winner, and
        only it, applies the outcome and sends the email."""
        report.finished_at = self.clock()
        report.duration_s = _seconds_between(report.started_at, report.finished_at)
        expect: dict[str, Any] = {"status": Status.LOADING.value}
        if expect_updated_at is not None:
            expect["updated_at"] = expect_updated_at
        claimed = self.table.update_record(
            _key(record),
            {**_facts(report), "status": Status.REPORTING.value, "reporting_at": self.clock()},
            expect,
        )
        if claimed is None:
            return status_of(self.table.record(_key(record)))
        return self.publish(claimed)

    def publish(self, record: dict[str, Any]) -> str:
        """REPORTING -> the outcome: make the version current if it loaded (unless a newer
        event came first), have what is no longer current collected, email, record.

        Resumable: the sweep calls it again for a record left REPORTING by a crash. A crash
        after the email and before the last write sends the email twice (docs/ingest.md).
        """
        report = IngestReport.from_facts(record)
        version = str(record.get("version", ""))
        if "applied" not in record:
            applied = False
            if report.status.value in LOADED:
                self.compare(record, report)  # before the version it replaces can go
                self.count_clashes(record, report)
                applied, old_head = self.table.make_current(
                    report.key, version, report.etag, report.time_zone
                )
                if not applied and self._current_already(report.key, version):
                    # An earlier run of this publish made it current and stopped before it
                    # recorded so; a newer upload has begun since (it will replace it).
                    applied = True
                if applied:
                    self.same_lineup(report)
                previous = str((old_head or {}).get("current") or "")
                if applied and previous and previous != version:
                    earlier = self.table.record(schema.upload_record_key(report.key, previous))
                    report.rows_removed = int((earlier or {}).get("rows_loaded", 0))
                    self.collect(report.bucket, report.key, previous)
                elif not applied:
                    self._superseded(report)
            if not applied and (record.get("leased") or record.get("parts")):
                self.collect(report.bucket, report.key, version)  # it may have written rows
            record = (
                self.table.update_record(
                    _key(record),
                    {**_facts(report), "applied": applied},
                    {"status": Status.REPORTING.value},
                )
                or record
            )
        self.notify(report)
        final: dict[str, Any] = {"status": report.status.value}
        if report.peak_memory_mb is not None:
            final["peak_memory_mb"] = report.peak_memory_mb
        self.table.update_record(_key(record), final, {"status": Status.REPORTING.value})
        return report.status.value

    def compare(self, record: dict[str, Any], report: IngestReport) -> None:
        """What changed since the version this one replaces (changes.py), kept before it
        becomes current: the whole list in chunk items, then counts and the first of each
        kind on the record, on condition that it is REPORTING and holds none yet. The email,
        and the sweep's second one, say what the record says. The replaced version's rows
        are read now, while it is current: once it is not, they may be collected.

        The version current now is the one this one replaces if it becomes current: the
        head's ``latest`` is this version or newer since its load started, so no other
        version can become current before it (and if a newer one did, this one will not).
        """
        if report.changes is not None:  # kept by an earlier delivery: the same again
            return
        version = report.version
        previous = str((self.table.head(report.key) or {}).get("current") or "")
        if previous == version:
            return  # made current before change reports existed: nothing to compare
        found: dict[str, Any]
        if not previous:
            found = changes.new_file()
        else:
            earlier = self.table.record(schema.upload_record_key(report.key, previous)) or {}
            previous_rows = int(earlier.get("rows_loaded", 0))
            limit = self.change_rows_limit
            if max(previous_rows, report.rows_loaded) > limit:
                found = changes.skipped(report.rows_loaded, previous_rows, earlier, limit)
            else:
                try:
                    difference = changes.compare(
                        map(changes.Set.of, self._in_time(report.key, previous)),
                        map(changes.Set.of, self._in_time(report.key, version)),
                    )
                except OutOfTimeError:
                    found = changes.skipped(
                        report.rows_loaded, previous_rows, earlier, limit, out_of_time=True
                    )
                else:
                    chunks = changes.to_chunks(difference)
                    expires = record.get("expires_at")
                    self.table.put_change_chunks(
                        report.key, version, chunks, None if expires is None else int(expires)
                    )
                    found = changes.summary(difference, earlier, len(chunks))
        kept = self.table.update_record(
            _key(record),
            {"changes": found},
            {"status": Status.REPORTING.value, "changes": None},
        ) or (self.table.record(_key(record)) or {})
        report.changes = changes.plain(kept.get("changes")) or None

    def keep_sketch(self, task: PartTask, report: IngestReport) -> None:
        """Write the version's sketch of its sets (merged from its parts' in file_report)
        where the end of every load reads them: before it can become current, so that of
        two loads of the same lineup ending at once the later to become current sees the
        other's. Collection deletes it with the version's rows."""
        if report.sketch and report.status.value in LOADED:
            self.table.put_sketch(
                {
                    **schema.sketch_key(task.key, task.version),
                    "file": task.key,
                    "version": task.version,
                    "sketch": report.sketch,
                    **schema.expiry(task.expires_at),
                }
            )

    def same_lineup(self, report: IngestReport) -> None:
        """Once the version is current: another file whose current version holds most of
        its sets (sketch.same_lineup), noted on the report, and so on the record before
        the email. One Query of the SKETCHES partition and one of the heads."""
        current = {
            str(head.get("file")): str(head.get("current") or "") for head in self.table.heads()
        }
        mine: Sketch | None = None
        others: dict[str, Sketch] = {}
        for item in self.table.sketches():
            file, version = str(item.get("file", "")), str(item.get("version", ""))
            if file == report.key:
                if version == report.version:
                    mine = Sketch.decode(str(item.get("sketch", "")))
            elif version and current.get(file) == version:
                others[file] = Sketch.decode(str(item.get("sketch", "")))
        found = None if mine is None else same_lineup(mine, others)
        if found is not None:
            report.same_lineup_file = found[0]
            report.same_lineup_percent = round(found[1].share * 100)
            report.same_lineup_exact = found[1].exact

    def count_clashes(self, record: dict[str, Any], report: IngestReport) -> None:
        """The version's clashes (clashes.py: stage overlaps, double bookings, changeovers
        under 15 minutes), counted from its rows read back whole, since its parts each saw
        a piece of the file; kept on the record, on condition that it is REPORTING and
        holds none yet, before the email, so the sweep's second email says the same. A
        version of more than ``clash_rows_limit`` rows is not read: the record says so.
        """
        if report.clashes is not None:  # kept by an earlier delivery: the same again
            return
        limit = clashes.MAX_ROWS if self.clash_rows_limit is None else self.clash_rows_limit
        found: dict[str, Any]
        if report.rows_loaded > limit:
            found = clashes.not_counted(report.rows_loaded, limit)
        else:
            try:
                rows = self._in_time(report.key, report.version)
                counts = clashes.count_clashes(map(clashes.Slot.of, rows))
            except OutOfTimeError:
                found = clashes.not_counted(report.rows_loaded, limit, out_of_time=True)
            else:
                found = clashes.counted(counts, clashes.DEFAULT_CHANGEOVER_MINUTES)
        kept = self.table.update_record(
            _key(record),
            {"clashes": found},
            {"status": Status.REPORTING.value, "clashes": None},
        ) or (self.table.record(_key(record)) or {})
        report.clashes = clashes.from_record(kept.get("clashes"))

    def _in_time(self, key: str, version: str) -> Iterator[dict[str, Any]]:
        """A version's rows (``version_rows``), until the invocation's time left falls
        under REPORT_RESERVE_MS: then OutOfTimeError, and the report says what it could
        not read. A retry (the sweep's) would meet the same read, so the record keeps that
        answer rather than staying REPORTING."""
        for number, row in enumerate(self.table.version_rows(key, version)):
            if number % 1000 == 0 and self._short_of_time():
                raise OutOfTimeError(f"{key} version {version}: {number:,} rows read")
            yield row

    def _short_of_time(self) -> bool:
        return self.remaining_ms is not None and self.remaining_ms() < REPORT_RESERVE_MS

    def _current_already(self, key: str, version: str) -> bool:
        return str((self.table.head(key) or {}).get("current") or "") == version

    def _superseded(self, report: IngestReport) -> None:
        head = self.table.head(report.key) or {}
        if head.get("latest_kind") == "delete":
            report.file_deleted = True
            report.rows_removed = report.rows_loaded
            report.failure = (
                "The file was deleted before its load ended: the rows it had loaded are"
                " removed again (the deletion has its own email)."
            )
        else:
            report.failure = (
                "A newer upload of this file came while this one loaded: the lineup is the"
                " newer upload's, and this version's rows are removed again."
            )

    def collect(self, bucket: str, key: str, version: str) -> None:
        """Have a version's rows collected, in bounded steps through the parts queue."""
        self.queue.send(CollectTask(bucket=bucket, key=key, version=version))

    def file_report(self, task: PartTask, record: dict) -> IngestReport:
        report = report_of(record)
        report.parts = task.parts
        rejected: list[RowError] = []
        sketch = Sketch()
        for part in self.table.committed_parts(task):
            sketch.merge(Sketch.decode(str(part.get("sketch", ""))))
            report.rows_read += int(part["rows_read"])
            report.rows_loaded += int(part["rows_loaded"])
            report.rejected.total += int(part["rows_rejected"])
            report.names_joined += int(part.get("names_joined", 0))
            rejected += [RowError(int(line), reason) for line, reason in part["rejected"]]
        for number, counts in sorted(record.get("parts", {}).items()):
            if counts.get("failure"):
                report.failed_parts.append(f"part {int(number) + 1}: {counts['failure']}")
        rejected.sort(key=lambda error: error.line)
        report.sketch = sketch.encode()
        report.rejected = RejectedRows(total=report.rejected.total)
        for error in rejected[: report.rejected.limit]:
            report.rejected.first.append(error)
        if report.failed_parts:
            report.failure = f"{len(report.failed_parts)} of {task.parts} parts could not be loaded"
        elif report.rows_read == 0:
            report.failure = (
                "The file has a header but no rows: add one row per set below the header."
            )
        return report


def report_of(record: dict[str, Any]) -> IngestReport:
    """An upload's report as far as its record tells it: a LOADING record holds no counts
    yet, a REPORTING one holds them all (`_facts`)."""
    return IngestReport.from_facts(record)


def _facts(report: IngestReport) -> dict:
    facts = report.facts()
    facts["duration_ms"] = int(report.duration_s * 1000)
    facts["file_deleted"] = report.file_deleted
    facts["outcome"] = facts.pop("status")  # the record's status moves by itself
    del facts["duration_s"]
    return {k: v for k, v in facts.items() if v is not None}


def _key(record: dict[str, Any]) -> dict[str, str]:
    return {"pk": str(record["pk"]), "sk": str(record["sk"])}


def _seconds_between(start: str, end: str) -> float:
    try:
        return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()
    except ValueError:
        return 0.0
