"""Loading an uploaded file into the table, in parts: the steps, without the AWS details.

A load is idempotent: every row has a deterministic key and carries the ETag of the file
version it came from (``load_id``), so a duplicate event or a retried part rewrites the same
items. Each part is counted once: its counts go into the upload's record under its number,
the same values however often. The part that completes the count claims the right to
finish the file: it removes rows an older upload of another version had, sends the one
email and writes the final record. docs/ingest.md has the whole design.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import IO, Any, NamedTuple, cast

from lineup_ingest import schema
from lineup_ingest.compression import (
    GZIP_MAGIC,
    CompressedFileError,
    GzipRanges,
    decompressed_size,
    is_gzip,
)
from lineup_ingest.config import Config
from lineup_ingest.events import UploadedObject
from lineup_ingest.filenames import NOT_A_LINEUP_NAME, is_folder_marker, is_lineup_name
from lineup_ingest.lifecycle import Status, status_of, utc_now
from lineup_ingest.outcome import Outcome, report_of
from lineup_ingest.parsing import (
    ClockDecision,
    LineupFileError,
    ReadCounts,
    RowError,
    decide_clock_from_head,
    parse_clock,
    read_header,
    read_lineup,
)
from lineup_ingest.parts import PartTask, Progress
from lineup_ingest.ports import (
    BATCH_LIMIT,
    LineupStore,
    ObjectGoneError,
    ObjectReplacedError,
    ObjectStore,
    PartEnding,
    PartQueue,
)
from lineup_ingest.report import IngestReport
from lineup_ingest.sketch import Sketch, item_hash
from lineup_ingest.splitting import Boundary, next_boundary, offset_after_lines, part_count
from lineup_ingest.zones import ZONE_METADATA, known_zone

LOG = logging.getLogger("lineup_ingest")
# The record keeps a line per part: this many keep it far under DynamoDB's 400 KB an item.
MAX_PARTS = 1_000


@dataclass(frozen=True)
class LoadSettings:
    """How a load runs; the defaults are the function's (`Config`), said there once."""

    part_bytes: int = Config.part_bytes
    max_file_bytes: int = Config.max_file_bytes
    # A part stops taking rows when less than this is left of its invocation, beyond the
    # time kept for reporting, and hands the rest of itself on.
    handover_ms: int = 20_000
    # How times without AM/PM are read unless the upload's `clock` metadata says otherwise.
    clock: str = Config.clock
    # The festival's time zone (an IANA name) unless the upload's `timezone` metadata says
    # otherwise: kept on the record and, once current, on the file's head for queries.
    time_zone: str = Config.time_zone
    # Days after its upload that what a load writes expires (TTL); 0: never.
    retention_days: int = Config.retention_days


class StoredUpload(NamedTuple):
    """What the bucket says of an upload: its metadata and upload time, or that it is gone."""

    metadata: dict[str, str]
    uploaded_at: str
    gone: ObjectGoneError | None = None


NEWER_CAME_FIRST = (
    "A newer upload (or a delete) of this file came first: this version was not"
    " loaded, and the lineup is the newer one's."
)


class PartFailedError(Exception):
    """A part could not be loaded this time; a retry may succeed (throttling, a crash)."""


class Ingestion:
    def __init__(
        self,
        bucket: ObjectStore,
        table: LineupStore,
        queue: PartQueue,
        notify: Callable[[IngestReport], None],
        settings: LoadSettings = LoadSettings(),
        *,
        clock: Callable[[], str] = utc_now,
        remaining_ms: Callable[[], int] | None = None,
    ) -> None:
        self.bucket = bucket
        self.table = table
        self.queue = queue
        self.settings = settings
        self.clock = clock
        self.outcome = Outcome(table, queue, notify, clock=clock, remaining_ms=remaining_ms)

    # --- a new upload ---------------------------------------------------------------------

    def start(
        self,
        upload: UploadedObject,
        request_id: str = "",
        log_group: str = "",
        remaining_ms: Callable[[], int] | None = None,
    ) -> str:
        """Start loading one upload version: its record, its place in the file's order, its
        plan; then load the first part. The version's status so far.

        A version is the S3 event's sequencer: every delivery of the event names the same
        version, and finds its record. Only the delivery that created the record (or
        Lambda's retry of it, with the same request id) goes on. A folder marker is
        ignored ("IGNORED").
        """
        if is_folder_marker(upload.key, upload.size):
            return "IGNORED"
        upload, stored = self._look_up(upload)
        version = (
            schema.sequence_key(upload.sequencer)
            if upload.sequencer
            else schema.sequence_from_time(stored.uploaded_at)
        )
        key = schema.upload_record_key(upload.key, version)
        record = self._claim(upload, key, version, stored.uploaded_at, request_id, log_group)
        if isinstance(record, str):
            return record  # the status of another delivery's load of this version
        if not is_lineup_name(upload.key):  # refused by its name: no head, nothing read
            return self._refuse(record, NOT_A_LINEUP_NAME)
        if not self.table.note_upload(upload.key, version):
            return self._refuse(record, NEWER_CAME_FIRST)
        try:
            if stored.gone:
                raise stored.gone
            task, facts = self._plan_with_facts(upload, str(record["started_at"]), stored)
        except (LineupFileError, ObjectGoneError, ObjectReplacedError, TooLargeError) as error:
            return self._refuse(record, str(error))
        except Exception as error:  # never end without an email
            return self._refuse(
                record, f"unexpected error reading the file: {type(error).__name__}: {error}"
            )
        if self.table.update_record(key, facts, {"status": Status.LOADING.value}) is None:
            return status_of(self.table.record(key))
        return self._load_first_part(replace(task, version=version), request_id, remaining_ms)

    def _look_up(self, upload: UploadedObject) -> tuple[UploadedObject, StoredUpload]:
        """The upload as the bucket holds it: S3's events name the version (ETag, size),
        an event made by hand may not. An object already gone is refused later, once its
        record is written."""
        try:
            metadata, uploaded_at, etag, size = self.bucket.describe(upload.bucket, upload.key)
        except ObjectGoneError as error:
            return upload, StoredUpload({}, "", error)
        if not upload.etag:
            upload = replace(upload, etag=etag, size=size)
        return upload, StoredUpload(metadata, uploaded_at)

    def _claim(
        self,
        upload: UploadedObject,
        key: dict[str, str],
        version: str,
        uploaded_at: str,
        request_id: str,
        log_group: str,
    ) -> dict[str, Any] | str:
        """The version's record if this delivery loads it: the one that created the record,
        or Lambda's retry of that one (the same request id) while it loads. Otherwise the
        status of the other delivery's load (a duplicate delivery of the event)."""
        record = self.table.record(key)
        if record is not None:
            loading = record.get("status") == Status.LOADING.value
            if loading and record.get("starter") == request_id:
                return record
            return status_of(record)
        record = {
            **key,
            "kind": "upload",
            "file": upload.key,
            "bucket": upload.bucket,
            "etag": upload.etag,
            "size": upload.size,
            "version": version,
            "uploaded_at": uploaded_at,
            "status": Status.LOADING.value,
            "starter": request_id or uuid.uuid4().hex,
            "parts": {},
            "parts_total": 1,
            "active": 0,
            "started_at": self.clock(),
            "updated_at": self.clock(),
            "request_id": request_id,
            "log_group": log_group,
            **schema.expiry(self._expires_at(uploaded_at)),
            "uploaded_by": upload.uploaded_by,
            "source_ip": upload.source_ip,
        }
        if not self.table.create_record(record):
            return status_of(self.table.record(key))  # another delivery created it first
        return record

    def _plan_with_facts(
        self, upload: UploadedObject, started_at: str, stored: StoredUpload
    ) -> tuple[PartTask, dict[str, Any]]:
        """The first part, and what the record learns before it loads: how many parts,
        how times are read, and in which zone."""
        metadata = stored.metadata
        task, decision = self.plan(upload, started_at, stored.uploaded_at, metadata)
        zone, zone_reason = self._decide_zone(metadata.get(ZONE_METADATA))
        facts = {
            "parts_total": task.parts,
            "clock": decision.clock,
            "clock_reason": decision.reason,
            "time_zone": zone,
            "time_zone_reason": zone_reason,
        }
        return task, facts

    def _load_first_part(
        self, task: PartTask, request_id: str, remaining_ms: Callable[[], int] | None
    ) -> str:
        try:
            return self.run_part(task, request_id=request_id, remaining_ms=remaining_ms)
        except PartFailedError:
            # Parts are retried through the queue, the first one included.
            self.queue.send(task, delay_s=self.queue.retry_delay_s(1))
            return Status.LOADING.value

    def plan(
        self,
        upload: UploadedObject,
        started_at: str,
        uploaded_at: str,
        metadata: dict[str, str],
    ) -> tuple[PartTask, ClockDecision]:
        """The file's first part, and how its times without AM/PM are read.

        Raises LineupFileError (a name that is not a lineup's, no usable header, a bad clock
        setting, data that is not valid gzip), TooLargeError, ObjectGoneError or
        ObjectReplacedError: the file is refused before any row is written.

        A gzip file is read through once first, to measure it decompressed: MaxFileBytes
        and the parts are in decompressed bytes, so a decompression bomb is refused here.
        """
        if not is_lineup_name(upload.key):
            raise LineupFileError(NOT_A_LINEUP_NAME)
        limit = self.settings.max_file_bytes
        if upload.size > limit:
            raise TooLargeError(
                f"The file is {upload.size:,} bytes, more than the {limit:,}"
                " bytes this stack accepts (the MaxFileBytes parameter): nothing was loaded."
            )
        stored = self._stored(upload.bucket, upload.key, upload.etag)
        with stored(0, len(GZIP_MAGIC)) as magic:
            gzip = is_gzip(magic.read(len(GZIP_MAGIC)))
        content = self._content(upload.bucket, upload.key, upload.etag, gzip)
        size = upload.size
        if gzip:
            try:
                size = decompressed_size(stored, limit)
            except CompressedFileError as error:
                raise LineupFileError(
                    f"The file starts as gzip, but {error}: nothing was loaded."
                ) from None
            if size > limit:
                raise TooLargeError(
                    f"The file is gzip-compressed, {upload.size:,} bytes, and holds more than"
                    f" the {limit:,} bytes this stack accepts (the MaxFileBytes parameter, which"
                    " counts decompressed bytes): nothing was loaded."
                )
        with content(0) as head:
            header, header_lines = read_header(head)
        with content(0) as head:
            data_start = offset_after_lines(head, header_lines)
        decision = self._decide_clock(content, metadata.get("clock"))
        parts = part_count(size, self.settings.part_bytes)
        if parts > MAX_PARTS:
            raise TooLargeError(
                f"The file is {size:,} bytes{' decompressed' if gzip else ''}: more than "
                f"{MAX_PARTS:,} parts of {self.settings.part_bytes:,} bytes (the PartBytes "
                "parameter); raise PartBytes. Nothing was loaded."
            )
        return PartTask(
            bucket=upload.bucket,
            key=upload.key,
            etag=upload.etag,
            size=size,
            uploaded_at=uploaded_at,
            started_at=started_at,
            part=0,
            parts=parts,
            part_bytes=self.settings.part_bytes,
            start=data_start,
            line=header_lines + 1,
            header=header,
            clock=decision.clock,
            gzip=gzip,
            expires_at=self._expires_at(uploaded_at),
        ), decision

    def _content(self, bucket: str, key: str, etag: str, gzip: bool) -> Callable[..., IO[bytes]]:
        """Opens the file's bytes [start, end) (to its end if end is None): decompressed
        bytes of a gzip file."""
        stored = self._stored(bucket, key, etag)
        if gzip:  # a GzipReader is a raw binary stream: the IO[bytes] the parser reads
            return cast(Callable[..., IO[bytes]], GzipRanges(stored).open)
        return stored

    def _stored(self, bucket: str, key: str, etag: str) -> Callable[..., IO[bytes]]:
        """Opens the object's bytes as stored; every GET names the version (If-Match)."""

        def open_stored(start: int, end: int | None = None) -> IO[bytes]:
            return self.bucket.open_range(bucket, key, etag, start, end)

        return open_stored

    def _expires_at(self, uploaded_at: str) -> int | None:
        # An upload gone before it was read has no upload time: count from now.
        return schema.expires_at(uploaded_at or self.clock(), self.settings.retention_days)

    def _decide_clock(self, content: Callable[..., IO[bytes]], asked: str | None) -> ClockDecision:
        """Once per file, before any row is written, so that every part reads times alike."""
        source = "the upload's clock metadata" if asked is not None else "the stack's setting"
        try:
            clock = parse_clock(self.settings.clock if asked is None else asked)
        except ValueError as error:
            raise LineupFileError(f"{error} (from {source}): nothing was loaded.") from None
        if clock == "auto":
            with content(0) as head:
                return decide_clock_from_head(head)
        reading = "a 24-hour clock" if clock == "24h" else "afternoon/evening (7:00 -> 19:00)"
        return ClockDecision(clock, f"times without AM/PM read as {reading}, as {source} says")

    def _decide_zone(self, asked: str | None) -> tuple[str, str]:
        """The zone of the file's times: the upload's `timezone` metadata, else the stack's
        FestivalTimeZone. An unknown name refuses the file (LineupFileError)."""
        if asked is not None and asked.strip():
            name, source = asked.strip(), f"the upload's {ZONE_METADATA} metadata"
        else:
            name, source = self.settings.time_zone, "the stack's FestivalTimeZone"
        if not known_zone(name):
            raise LineupFileError(
                f"The time zone {name!r} (from {source}) is not an IANA time zone name like"
                " Europe/Amsterdam or America/New_York: nothing was loaded."
            )
        return name, source

    def _refuse(self, record: dict[str, Any], reason: str) -> str:
        """A version refused before any part ran: say so, once, and record it."""
        report = report_of(record)
        report.failure = reason
        return self.outcome.decide(record, report)

    # --- a part -----------------------------------------------------------------------------

    def run_part(
        self,
        task: PartTask,
        *,
        request_id: str = "",
        remaining_ms: Callable[[], int] | None = None,
    ) -> str:
        """Load one part (or what is left of it); finish the file if it was the last to end.

        A delivery writes rows only under a lease taken while the version is LOADING, so
        once a load has ended no delivery can start writing its rows; collection waits
        for the leases held (or for the fence). Raises PartFailedError when a retry may
        succeed (throttling past the time left, a crash); a part whose file version is
        gone is counted as failed at once.
        """
        key = schema.upload_record_key(task.key, task.version)
        record = self.table.update_record(
            key, {"leased": True}, {"status": Status.LOADING.value}, add=LEASE
        )
        if record is None:
            return status_of(self.table.record(key)) or "GONE"  # its load is over
        try:
            if f"{task.part:06d}" not in record.get("parts", {}):
                began = self.clock()
                try:
                    progress = self.load_part(task, remaining_ms)
                except (ObjectGoneError, ObjectReplacedError) as error:
                    counted = self._count_failed(task, str(error))
                else:
                    if progress is None:
                        return Status.LOADING.value  # handed on
                    ending = PartEnding(started_at=began, finished_at=self.clock())
                    counted = self.table.commit_part(task, progress, ending)
                if counted is None:
                    return status_of(self.table.record(key))
                record = counted
            return self._finish_if_complete(task, record)
        except Exception as error:
            self.table.settle()  # no batch of this attempt lands after it ends
            raise PartFailedError(f"{type(error).__name__}: {error}") from error
        finally:
            self._release(key)

    def _release(self, key: dict[str, str]) -> None:
        # A lease not given back (this write failing, a crash) only makes collection wait
        # for the fence: the function's timeout.
        try:
            self.table.update_record(key, {}, {}, add=RELEASE)
        except Exception:
            LOG.warning("a part's lease on %s was not given back", key["sk"], exc_info=True)

    def give_up(self, task: PartTask, reason: str, *, request_id: str = "") -> str:
        """Count a part that failed every attempt as failed, so its file still ends."""
        record = self._count_failed(task, reason)
        if record is None:
            return status_of(self.table.record(schema.upload_record_key(task.key, task.version)))
        return self._finish_if_complete(task, record)

    def _count_failed(self, task: PartTask, reason: str) -> dict | None:
        """Count a part as failed (unless it was counted done), with the parts after it
        that nothing will queue since it failed before handing the next one on: one write."""
        following = replace(task, part=task.part + 1)
        unreached = None
        if not task.is_last and not self.table.was_queued(following):
            unreached = f"not loaded: part {task.part + 1} failed before it"
        return self.table.commit_part(task, task.done, PartEnding(reason, unreached=unreached))

    def load_part(self, task: PartTask, remaining_ms: Callable[[], int] | None) -> Progress | None:
        """The part's rows, written; None if it ran short of time and handed the rest on."""
        start = Boundary(task.start, task.line)
        # One opener for the part's passes: a gzip file is decompressed up to the part once.
        content = self._content(task.bucket, task.key, task.etag, task.gzip)
        if task.is_last:
            end = task.size
        else:
            following = next_boundary(content, start, task.next_start, task.size)
            self._hand_on_next(
                replace(
                    task,
                    part=task.part + 1,
                    start=following.offset,
                    line=following.line,
                    done=Progress(),
                )
            )
            end = following.offset
        with content(task.start, end) as body:
            counts = ReadCounts()
            rows = self._rows(body, task, counts)
            for _ in range(task.done.rows_read):  # read before a hand-over: done already
                next(rows, None)
            counts.names_joined = task.done.names_joined  # those rows' joins, counted then
            return self._write(rows, task, task.done, remaining_ms, counts)

    def _hand_on_next(self, following: PartTask) -> None:
        """Queue the next part (once: a retried part finds it queued already).

        Sent before it is marked, so a crash in between queues it twice, never not at all;
        the second copy finds the part committed.
        """
        if not self.table.was_queued(following):
            self.queue.send(following)
            self.table.mark_queued(following)

    @staticmethod
    def _rows(body: IO[bytes], task: PartTask, counts: ReadCounts | None = None) -> Iterator:
        return read_lineup(
            body, clock=task.clock, header=task.header, first_line=task.line, counts=counts
        )

    def _write(
        self,
        rows: Iterator,
        task: PartTask,
        progress: Progress,
        remaining_ms: Callable[[], int] | None,
        counts: ReadCounts,
    ) -> Progress | None:
        """The part's rows written; its progress, or None when it handed the rest on.
        ``counts``: the read's, its names joined counted from the part's start."""
        longest_known = self.table.longest_set_minutes()
        batch: dict[tuple[str, str], dict] = {}
        read = loaded = 0
        rejected = progress
        sketch = Sketch.decode(progress.sketch)  # carried over a hand-over

        def flush() -> None:
            nonlocal longest_known, loaded
            longest = max(item["minutes"] for item in batch.values())
            if longest > longest_known:
                self.table.raise_longest_set(longest)
                longest_known = longest
            self.table.put_items(list(batch.values()))
            batch.clear()

        rows_in_batch = 0
        for row in rows:
            read += 1
            if isinstance(row, RowError):
                rejected = rejected.with_row_error(row)
                continue
            item = schema.performance_item(
                row,
                source_key=task.key,
                load_id=task.etag,
                uploaded_at=task.uploaded_at,
                expires_at=task.expires_at,
                version=task.version,
            )
            # The same performance twice in a file is one item; a batch may not repeat a key.
            batch[(str(item["pk"]), str(item["sk"]))] = item
            sketch.add(item_hash(item))
            rows_in_batch += 1
            if len(batch) == BATCH_LIMIT:
                flush()
                loaded += rows_in_batch
                rows_in_batch = 0
                if remaining_ms is not None and self._short_of_time(remaining_ms):
                    self.table.drain()
                    done = self._progress(progress, rejected, read, loaded, sketch, counts)
                    self.queue.send(replace(task, done=done))
                    return None
        if batch:
            flush()
            loaded += rows_in_batch
        self.table.drain()
        return self._progress(progress, rejected, read, loaded, sketch, counts)

    @staticmethod
    def _progress(
        before: Progress,
        rejected: Progress,
        read: int,
        loaded: int,
        sketch: Sketch,
        counts: ReadCounts,
    ) -> Progress:
        return replace(
            rejected,
            rows_read=before.rows_read + read,
            rows_loaded=before.rows_loaded + loaded,
            sketch=sketch.encode(),
            names_joined=counts.names_joined,
        )

    def _short_of_time(self, remaining_ms: Callable[[], int]) -> bool:
        return remaining_ms() < self.table.budget.reserve_ms + self.settings.handover_ms

    # --- the end of a file: outcome.py ---------------------------------------------------

    def _finish_if_complete(self, task: PartTask, record: dict) -> str:
        status = status_of(record)
        if status != Status.LOADING.value or len(record.get("parts", {})) < task.parts:
            return status
        report = self.outcome.file_report(task, record)
        self.outcome.keep_sketch(task, report)
        return self.outcome.decide(record, report)


# A part's lease on its version's rows, taken while the version loads and given back after.
LEASE = {"active": 1}
RELEASE = {"active": -1}


class TooLargeError(Exception):
    """The file is larger than the stack accepts."""
