"""The outcome of one upload, and the email that tells a person about it (pure).

The S3 key, and the cells quoted in row errors, come from outside: in the email each of
their display controls is written as an escape (see text.visible), so that a key holding
"\nStatus: OK" cannot add a line to the body or the subject, nor an escape or a
bidirectional override change how they are shown.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from enum import Enum

from lineup_ingest import clashes as clash_report
from lineup_ingest.changes import email_lines as change_lines
from lineup_ingest.changes import plain as plain_changes
from lineup_ingest.events import InBucket, s3_uri
from lineup_ingest.parsing import RowError
from lineup_ingest.text import visible

# The email lists a file's first rejected rows; each part keeps as many (parts.Progress).
REJECTED_ROWS_SHOWN = 50
SUBJECT_MAX = 99  # SNS: ASCII, no line breaks, under 100 characters


class Status(str, Enum):
    OK = "OK"
    PARTIAL = "PARTIAL"
    FAILED = "FAILED"


@dataclass
class RejectedRows:
    """The first rejected rows, and how many there were, in constant memory."""

    limit: int = REJECTED_ROWS_SHOWN
    first: list[RowError] = field(default_factory=list)
    total: int = 0

    def add(self, error: RowError) -> None:
        self.total += 1
        if len(self.first) < self.limit:
            self.first.append(error)


@dataclass
class IngestReport(InBucket):
    bucket: str
    key: str
    etag: str
    size: int
    started_at: str
    finished_at: str = ""
    duration_s: float = 0.0
    rows_read: int = 0
    rows_loaded: int = 0
    rows_removed: int = 0
    rejected: RejectedRows = field(default_factory=RejectedRows)
    failure: str | None = None
    request_id: str = ""
    log_group: str = ""
    parts: int = 1
    failed_parts: list[str] = field(default_factory=list)
    clock: str | None = None  # how times without AM/PM were read, and why
    clock_reason: str = ""
    # The peak memory of the process that finished the file, so far (set by the handler).
    peak_memory_mb: int | None = None
    uploaded_by: str = ""  # the S3 event's principal ID and source IP
    source_ip: str = ""
    # The object was gone when the load ended (deleted or expired): the rows it had loaded
    # were removed again, and counted in rows_removed.
    file_deleted: bool = False
    version: str = ""  # the upload version (schema.sequence_key of S3's sequencer)
    # The zone of the file's times (an IANA name), and where it came from.
    time_zone: str = ""
    time_zone_reason: str = ""
    # Another file whose current version holds most of this upload's sets (the same lineup
    # under two names, lineup_ingest.sketch): its key and the estimated share, in percent.
    same_lineup_file: str = ""
    same_lineup_percent: int | None = None
    same_lineup_exact: bool = False
    # The upload's sketch of its sets (encoded), from its parts: not part of its facts.
    sketch: str = ""
    # What changed since the version it replaces (changes.summary, new_file or skipped),
    # as its record keeps it; None until compared, and for a version not loaded.
    changes: dict | None = None
    # Names whose wrapped cell held line breaks, read as one line each (performances.py).
    names_joined: int = 0
    # The loaded version's clash counts, or why they were not counted (clashes.counted,
    # clashes.not_counted), as its record keeps them; None until counted.
    clashes: dict | None = None

    @property
    def rows_rejected(self) -> int:
        return self.rejected.total

    @classmethod
    def from_facts(cls, facts: dict) -> IngestReport:
        """The report again from its facts (an upload's record once REPORTING)."""
        rejected = RejectedRows(total=int(facts.get("rows_rejected", 0)))
        rejected.first = [
            RowError(int(row["line"]), str(row["reason"])) for row in facts.get("rejected_rows", [])
        ]
        peak = facts.get("peak_memory_mb")
        same = facts.get("same_lineup_percent")
        return cls(
            bucket=str(facts.get("bucket", "")),
            key=str(facts["file"]),
            etag=str(facts.get("etag", "")),
            size=int(facts.get("size", 0)),
            started_at=str(facts.get("started_at", "")),
            finished_at=str(facts.get("finished_at", "")),
            duration_s=int(facts.get("duration_ms", 0)) / 1000,
            rows_read=int(facts.get("rows_read", 0)),
            rows_loaded=int(facts.get("rows_loaded", 0)),
            rows_removed=int(facts.get("rows_removed", 0)),
            rejected=rejected,
            failure=facts.get("failure") or None,
            request_id=str(facts.get("request_id", "")),
            log_group=str(facts.get("log_group", "")),
            parts=int(facts.get("parts_total", 1)),
            failed_parts=[str(part) for part in facts.get("failed_parts") or []],
            clock=facts.get("clock"),
            clock_reason=str(facts.get("clock_reason") or ""),
            peak_memory_mb=None if peak is None else int(peak),
            uploaded_by=str(facts.get("uploaded_by") or ""),
            source_ip=str(facts.get("source_ip") or ""),
            file_deleted=bool(facts.get("file_deleted", False)),
            version=str(facts.get("version", "")),
            time_zone=str(facts.get("time_zone") or ""),
            time_zone_reason=str(facts.get("time_zone_reason") or ""),
            same_lineup_file=str(facts.get("same_lineup_file") or ""),
            same_lineup_percent=None if same is None else int(same),
            same_lineup_exact=bool(facts.get("same_lineup_exact", False)),
            changes=plain_changes(facts.get("changes")) or None,
            names_joined=int(facts.get("names_joined", 0)),
            clashes=clash_report.from_record(facts.get("clashes")),
        )

    @property
    def status(self) -> Status:
        if self.failure or (self.rows_loaded == 0 and self.rows_rejected):
            return Status.FAILED
        if self.rows_rejected:
            return Status.PARTIAL
        return Status.OK

    def facts(self) -> dict:
        """The report as plain data, for logs and the ingest record."""
        return {
            "file": self.key,
            "bucket": self.bucket,
            "etag": self.etag,
            "version": self.version or None,
            "size": self.size,
            "status": self.status.value,
            "rows_read": self.rows_read,
            "rows_loaded": self.rows_loaded,
            "rows_rejected": self.rows_rejected,
            "rows_removed": self.rows_removed,
            "rejected_rows": [
                {"line": error.line, "reason": error.reason} for error in self.rejected.first
            ],
            "failure": self.failure,
            "clock": self.clock,
            "clock_reason": self.clock_reason or None,
            "parts_total": self.parts,
            "parts_done": self.parts,
            "failed_parts": self.failed_parts or None,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "duration_s": round(self.duration_s, 3),
            "request_id": self.request_id,
            "log_group": self.log_group or None,
            "peak_memory_mb": self.peak_memory_mb,
            "uploaded_by": self.uploaded_by or None,
            "source_ip": self.source_ip or None,
            "time_zone": self.time_zone or None,
            "time_zone_reason": self.time_zone_reason or None,
            "same_lineup_file": self.same_lineup_file or None,
            "same_lineup_percent": self.same_lineup_percent if self.same_lineup_file else None,
            "same_lineup_exact": self.same_lineup_exact if self.same_lineup_file else None,
            "changes": self.changes,
            "names_joined": self.names_joined,
            "clashes": self.clashes,
        }


def ascii_subject(text: str) -> str:
    """SNS subjects must be printable ASCII: transliterate accents, replace the rest."""
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_text = "".join(
        char if 32 <= ord(char) < 127 else ("" if unicodedata.combining(char) else "?")
        for char in decomposed
    )
    if len(ascii_text) > SUBJECT_MAX:
        ascii_text = ascii_text[: SUBJECT_MAX - 3] + "..."
    return ascii_text


def subject(report: IngestReport) -> str:
    name = report.key.rsplit("/", 1)[-1] or report.key
    return ascii_subject(f"festival-lineup {report.status.value}: {visible(name)}")


def body(report: IngestReport) -> str:
    headline = {
        Status.OK: "was loaded.",
        Status.PARTIAL: "was loaded, except the rows listed below.",
        Status.FAILED: "was NOT loaded.",
    }[report.status]
    lines = [
        f"{report.uri} {headline}",
        "",
        f"Status:        {report.status.value}",
        f"Rows read:     {report.rows_read}",
        f"Rows loaded:   {report.rows_loaded}",
        f"Rows rejected: {report.rows_rejected}",
        f"Rows removed:  {report.rows_removed} "
        + (
            "(the file was deleted before its load ended)"
            if report.file_deleted
            else "(the version it replaces, removed in the background)"
        ),
        f"Duration:      {report.duration_s:.2f} s",
        f"File version:  ETag {report.etag or 'unknown'}, {report.size} bytes",
        f"Uploaded by:   {_who(report.uploaded_by, report.source_ip)}",
    ]
    if report.clock_reason:
        lines.append(f"Times:         {report.clock_reason}")
    if report.time_zone:
        lines.append(f"Time zone:     {report.time_zone} ({report.time_zone_reason or 'default'})")
    if report.parts > 1:
        lines.append(f"Loaded in:     {report.parts} parts")
    if report.names_joined:
        lines.append(
            f"Wrapped names: {report.names_joined} held line breaks (wrapped cells),"
            " each read as one line"
        )
    clash_line = clash_report.summary_line(report.clashes)
    if clash_line and report.status is not Status.FAILED:
        lines.append(clash_line)
    if report.same_lineup_file:
        lines += ["", *same_lineup_note(report)]
    if report.failure:
        lines += ["", f"Reason: {report.failure}"]
        lines += [f"  {failed}" for failed in report.failed_parts]
    if report.rows_rejected:
        shown = len(report.rejected.first)
        lines += ["", f"Rejected rows (first {shown} of {report.rows_rejected}):"]
        lines += [f"  line {error.line}: {error.reason}" for error in report.rejected.first]
    if report.status is not Status.FAILED:
        changed = change_lines(report.changes, report.key)
        lines += ["", *changed] if changed else []
    lines += where_to_read_more(report, "every upload with its counts and first errors")
    # Every line is made visible: no text from outside can break one in two.
    return "\n".join(map(visible, lines)) + "\n"


def where_to_read_more(report: IngestReport | RemovalReport, listed: str) -> list[str]:
    """An email's closing lines: what `festival uploads` lists, and the invocation's logs."""
    return [
        "",
        f"Details: `festival uploads` lists {listed};",
        f"logs are in CloudWatch Logs group {report.log_group or '(unknown)'}"
        f", request id {report.request_id or '(unknown)'}.",
    ]


def same_lineup_note(report: IngestReport) -> list[str]:
    """The email's warning that another current file holds most of this upload's sets:
    which, how much, and how to replace it."""
    other = s3_uri(report.bucket, report.same_lineup_file)
    share = f"{'' if report.same_lineup_exact else 'about '}{report.same_lineup_percent}%"
    return [
        f"Same lineup:   most of these sets ({share}) are already in {other},",
        "               which is loaded too: every query shows those sets twice.",
        f"               To replace it, delete it (aws s3 rm {other})",
        f"               or upload this file under its name (aws s3 cp <this file> {other}).",
    ]


def _who(principal: str, source_ip: str) -> str:
    """The S3 event's requester: its principal ID and the IP the request came from."""
    return f"{principal or 'unknown'} from {source_ip or 'an unknown address'}"


class RemovalStatus(str, Enum):
    REMOVING = "REMOVING"  # in the record while the rows are being removed
    REMOVED = "REMOVED"
    REPLACED = "REPLACED"  # uploaded again since: nothing removed
    FAILED = "FAILED"


@dataclass
class RemovalReport(InBucket):
    """The outcome of one removal of a file: a delete, or expiry by the lifecycle rule."""

    bucket: str
    key: str
    event_name: str
    removed_at: str
    started_at: str
    # What became of the file's rows.
    rows_removed: int = 0
    # The upload found in the bucket instead (ETag, upload time): the key was uploaded again.
    replaced_by: tuple[str, str] | None = None
    failure: str | None = None
    finished_at: str = ""
    # Who asked, and which invocation did the work.
    removed_by: str = ""
    source_ip: str = ""
    request_id: str = ""
    log_group: str = ""
    sequence: str = ""  # where the removal falls among the key's events (its record's id)

    @property
    def status(self) -> RemovalStatus:
        if self.failure:
            return RemovalStatus.FAILED
        return RemovalStatus.REPLACED if self.replaced_by else RemovalStatus.REMOVED

    @property
    def by_lifecycle(self) -> bool:
        return self.event_name.startswith("LifecycleExpiration")

    def facts(self) -> dict:
        """The report as plain data, for logs and the removal's record."""
        return {
            "kind": "removal",
            "file": self.key,
            "bucket": self.bucket,
            "status": self.status.value,
            "event": self.event_name,
            "removed_at": self.removed_at,
            "removed_by": self.removed_by or None,
            "source_ip": self.source_ip or None,
            "rows_removed": self.rows_removed,
            "replaced_by_etag": self.replaced_by[0] if self.replaced_by else None,
            "replaced_by_uploaded_at": self.replaced_by[1] if self.replaced_by else None,
            "failure": self.failure,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "request_id": self.request_id,
        }


def removal_subject(report: RemovalReport) -> str:
    name = report.key.rsplit("/", 1)[-1] or report.key
    return ascii_subject(f"festival-lineup {report.status.value}: {visible(name)}")


def removal_body(report: RemovalReport) -> str:
    how = "expired (the bucket's lifecycle rule)" if report.by_lifecycle else "was deleted"
    rows = f"{report.rows_removed} row{'' if report.rows_removed == 1 else 's'}"
    headline = {
        RemovalStatus.REMOVED: (
            f"{rows} removed."
            if report.rows_removed
            else "nothing to remove (no version of it was loaded; a load still under way"
            " ends FAILED and removes its own rows)."
        ),
        RemovalStatus.REPLACED: "nothing removed: it was uploaded again since.",
        RemovalStatus.FAILED: f"its rows were NOT all removed (at least {rows} removed).",
    }[report.status]
    lines = [
        f"{report.uri} {how}: {headline}",
        "",
        f"Status:        {report.status.value}",
        f"Rows removed:  {report.rows_removed} (the rows of the version it removed)",
        f"Removed at:    {report.removed_at} (S3 event {report.event_name})",
        f"Removed by:    {_who(report.removed_by, report.source_ip)}",
    ]
    if report.replaced_by:
        lines += [
            "",
            "The key was uploaded again after this removal: the newer upload's own email"
            " reports its load, which replaces the rows of earlier versions.",
        ]
    if report.failure:
        lines += ["", f"Reason: {report.failure}"]
    lines += where_to_read_more(report, "every upload and removal with its counts")
    return "\n".join(map(visible, lines)) + "\n"
