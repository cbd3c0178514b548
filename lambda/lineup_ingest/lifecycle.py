"""A file's lifecycle as data (pure): the statuses of its records, and what each holds.

Every upload version has a record (``pk = UPLOADS``, one per S3 sequencer), moved from
status to status by one conditional write per step; the delivery that wins a write is the
only one that does what follows it (the email above all). A removal has a record of its
own. docs/ingest.md draws the machine:

    upload   LOADING --(every part counted, or refused)--> REPORTING --(email)--> OK|PARTIAL|FAILED
    removal  REMOVING --(the version's rows collected)--> REPORTING --(email)--> REMOVED|REPLACED

A version whose load ended and that is not current is garbage: its rows are collected in
bounded steps (``gc``: COLLECTING, then COLLECTED).
"""

from __future__ import annotations

from datetime import datetime, timezone
from enum import Enum
from typing import Any, TypedDict


class Status(str, Enum):
    LOADING = "LOADING"
    REPORTING = "REPORTING"  # the outcome is decided; its email is being sent
    OK = "OK"
    PARTIAL = "PARTIAL"
    FAILED = "FAILED"
    REMOVING = "REMOVING"
    REMOVED = "REMOVED"
    REPLACED = "REPLACED"  # a removal overtaken by a newer upload: nothing removed


FINAL = frozenset({Status.OK, Status.PARTIAL, Status.FAILED, Status.REMOVED, Status.REPLACED})
LOADED = frozenset({Status.OK.value, Status.PARTIAL.value})


class Collection(str, Enum):
    COLLECTING = "COLLECTING"
    COLLECTED = "COLLECTED"


class UploadRecord(TypedDict, total=False):
    """An upload version's record, as the Lambda, `festival`, the explorer and the fakes
    read it. Counts are the report's (`report.IngestReport.facts`) once it is REPORTING."""

    pk: str
    sk: str
    kind: str  # "upload" or "removal"
    file: str
    bucket: str
    etag: str
    size: int
    version: str  # schema.sequence_key of the S3 event's sequencer
    uploaded_at: str
    status: str  # a Status
    starter: str  # the request id that started it: Lambda's retries of its event go on
    started_at: str
    updated_at: str  # the last part counted: the sweep ends a load that stops moving
    reporting_at: str
    parts: dict[str, dict[str, Any]]
    parts_total: int
    active: int  # deliveries of its parts still able to write rows (leases)
    applied: bool  # it became current
    gc: str  # a Collection
    gc_at: str
    collects: str  # a removal: the version it made garbage (whose rows it waits for)
    rows_loaded: int
    expires_at: int


def utc_now() -> str:
    """Now, as every record's times are written: ISO UTC to the millisecond."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def status_of(record: dict[str, Any] | None) -> str:
    return str(record.get("status", "")) if record else ""
