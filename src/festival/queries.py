"""The three questions the table answers, each with DynamoDB ``Query`` only.

Used by the ``festival`` command and the notebooks. Key shapes come from the Lambda's
``lineup_ingest.schema`` so the writer and the readers cannot disagree.

"Occurring in [from, to)" means a set that starts before ``to`` and ends after ``from``.
Sets are indexed by their start, so a query looks back from ``from`` by the longest set
ever loaded (kept in one item, raised by the Lambda before it writes a longer set): a set
that began the day before and runs past midnight is found, and few extra items are read.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from lineup_ingest import schema
from lineup_ingest.codec import from_attributes, to_attributes
from lineup_ingest.lifecycle import Status

MINUTE_FORMAT = "%Y-%m-%dT%H:%M"


class QueryInputError(ValueError):
    """A user-supplied value the queries cannot use (the message says why)."""


def parse_local_datetime(text: str) -> datetime:
    """An ISO local datetime to the minute, like 2025-07-12T19:00."""
    try:
        moment = datetime.strptime(text.strip().replace(" ", "T", 1), MINUTE_FORMAT)
    except ValueError:
        raise QueryInputError(
            f"{text!r} is not a local date and time like 2025-07-12T19:00"
        ) from None
    return moment


def _iso(moment: datetime) -> str:
    return moment.strftime(MINUTE_FORMAT)


PUBLIC_FIELDS = ("performer", "stage", "start", "end", "date")


def _performance(item: dict[str, Any]) -> dict[str, Any]:
    return {
        **{name: item[name] for name in PUBLIC_FIELDS},
        "raw_start": item.get("raw_start"),
        "raw_end": item.get("raw_end"),
        "source_file": item.get("source_key"),
        "source_line": int(item["source_line"]) if "source_line" in item else None,
    }


def _sorted(performances: list[dict]) -> list[dict]:
    return sorted(performances, key=lambda p: (p["start"], p["stage"].casefold(), p["performer"]))


@dataclass
class LineupQueries:
    """Each question reads the file heads first, once (one Query of the small ``HEADS``
    partition: half a read unit for up to 4 KB of heads, about 20 files; a removed file's
    head expires a week after its removal), and keeps only rows of each file's current
    version: while a new version loads, the previous one answers,
    whole; then the new one does, at once. One reading of the heads per question, so that
    an answer never mixes two versions of a file."""

    dynamodb: Any  # a boto3 DynamoDB client
    table_name: str

    def current_versions(self) -> dict[str, str]:
        """Each file's current version (files with none, deleted or never loaded, absent)."""
        heads = self._query(
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues=to_attributes({":pk": schema.HEADS_PARTITION}),
        )
        return {
            str(head["file"]): str(head["current"])
            for head in heads
            if head.get("current") and head.get("file")
        }

    @staticmethod
    def _current(items: Iterator[dict[str, Any]], current: dict[str, str]) -> list[dict]:
        """The performances among ``items`` that belong to their file's current version."""
        return [
            _performance(item)
            for item in items
            if current.get(item.get("source_key", "")) == item.get("version")
        ]

    def _query(self, **arguments: Any) -> Iterator[dict[str, Any]]:
        pages = self.dynamodb.get_paginator("query").paginate(
            TableName=self.table_name, **arguments
        )
        for page in pages:
            for item in page.get("Items", []):
                yield from_attributes(item)

    def longest_set_minutes(self) -> int:
        """The look-back for time queries (a day if nothing recorded it yet)."""
        items = list(
            self._query(
                KeyConditionExpression="pk = :pk AND sk = :sk",
                ExpressionAttributeValues=to_attributes(
                    {":pk": schema.LONGEST_SET_KEY["pk"], ":sk": schema.LONGEST_SET_KEY["sk"]}
                ),
            )
        )
        return int(items[0]["minutes"]) if items else schema.MAX_SET_MINUTES

    def by_performer(self, performer: str) -> list[dict]:
        """Every performance of a performer, in time order."""
        items = self._query(
            IndexName=schema.PERFORMER_INDEX,
            KeyConditionExpression=f"{schema.INDEX_KEYS[schema.PERFORMER_INDEX][0]} = :pk",
            ExpressionAttributeValues=to_attributes({":pk": schema.performer_partition(performer)}),
        )
        return _sorted(self._current(items, self.current_versions()))

    def between(self, start: datetime, end: datetime, stage: str | None = None) -> list[dict]:
        """Every performance occurring in [start, end): starting before end, ending after start."""
        if end <= start:
            raise QueryInputError(f"the range is empty: {_iso(end)} is not after {_iso(start)}")
        earliest = start - timedelta(minutes=self.longest_set_minutes())
        current = self.current_versions()
        if stage is not None:
            return self._on_stage(
                stage, earliest, end - timedelta(minutes=1), after=start, current=current
            )
        found = []
        day = earliest.date()
        while day <= (end - timedelta(minutes=1)).date():
            for partition in schema.day_partitions(day.isoformat()):
                found += self._starting(partition, earliest, end, after=start, current=current)
            day += timedelta(days=1)
        return _sorted(found)

    def at(self, stage: str, moment: datetime) -> list[dict]:
        """The set(s) on a stage running at a moment: started at or before it, ending after."""
        earliest = moment - timedelta(minutes=self.longest_set_minutes())
        return self._on_stage(
            stage, earliest, moment, after=moment, current=self.current_versions()
        )

    def _starting(
        self,
        partition: str,
        earliest: datetime,
        before: datetime,
        after: datetime,
        current: dict[str, str],
    ) -> list[dict]:
        # Sort keys are "<start>#...": BETWEEN lo AND "<before>" keeps starts < before.
        return self._running(
            schema.TIME_INDEX, partition, _iso(earliest), _iso(before), after, current
        )

    def _on_stage(
        self,
        stage: str,
        earliest: datetime,
        latest_start: datetime,
        after: datetime,
        current: dict[str, str],
    ) -> list[dict]:
        # "$" sorts after "#", so "<latest_start>$" keeps starts <= latest_start.
        return _sorted(
            self._running(
                schema.STAGE_INDEX,
                schema.stage_partition(stage),
                _iso(earliest),
                _iso(latest_start) + "$",
                after,
                current,
            )
        )

    def _running(
        self,
        index: str,
        partition: str,
        low: str,
        high: str,
        after: datetime,
        current: dict[str, str],
    ) -> list[dict]:
        """Sets of one index partition starting in [low, high] and ending after ``after``."""
        partition_key, sort_key = schema.INDEX_KEYS[index]
        items = self._query(
            IndexName=index,
            KeyConditionExpression=f"{partition_key} = :pk AND {sort_key} BETWEEN :lo AND :hi",
            FilterExpression="#end > :after",
            ExpressionAttributeNames={"#end": "end"},
            ExpressionAttributeValues=to_attributes(
                {":pk": partition, ":lo": low, ":hi": high, ":after": _iso(after)}
            ),
        )
        return self._current(items, current)

    def on_day(self, day: date) -> list[dict]:
        """Every set starting on a day (its Date in the file), in time order: the day's
        partitions of ByTime, whole. A set past midnight is here, with its end the next day."""
        found = []
        current = self.current_versions()
        for partition in schema.day_partitions(day.isoformat()):
            items = self._query(
                IndexName=schema.TIME_INDEX,
                KeyConditionExpression="gsi3pk = :pk",
                ExpressionAttributeValues=to_attributes({":pk": partition}),
            )
            found += self._current(items, current)
        return _sorted(found)

    def days_of(self, file: str) -> tuple[date, date] | None:
        """The first and the last day a loaded file has sets on (None if it has none).

        A file partition's sort keys start with the set's start: the first and the last
        item of each of the file's partitions are enough, however long the file.
        """
        version = self.current_versions().get(file)
        if version is None:
            return None
        starts = []
        for partition in schema.file_partitions(file, version):
            for forward in (True, False):
                response = self.dynamodb.query(
                    TableName=self.table_name,
                    Limit=1,
                    ScanIndexForward=forward,
                    KeyConditionExpression="pk = :pk",
                    ExpressionAttributeValues=to_attributes({":pk": partition}),
                    ProjectionExpression="#start",
                    ExpressionAttributeNames={"#start": "start"},
                )
                starts += [from_attributes(item)["start"] for item in response.get("Items", [])]
        if not starts:
            return None
        return date.fromisoformat(min(starts)[:10]), date.fromisoformat(max(starts)[:10])

    def upload_versions(self, file: str) -> list[dict]:
        """The ingest records of one file's uploads (one per version), oldest first.

        The records of a file are those whose sort key begins with its record key with no
        version; another file's may begin so too (uploads/a.csv#V#b.csv's), and are left out.
        """
        items = self._query(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :file)",
            ExpressionAttributeValues=to_attributes(
                {
                    ":pk": schema.UPLOADS_PARTITION,
                    ":file": schema.upload_record_key(file, "")["sk"],
                }
            ),
        )
        return [
            _upload(item)
            for item in items
            if item.get("file") == file and item.get("kind", "upload") == "upload"
        ]

    def upload(self, file: str, etag: str) -> dict | None:
        """The ingest record of the newest upload of a file with that content (None until
        its load has begun). Its ``version`` tells it from an earlier upload of the same
        content."""
        found = [version for version in self.upload_versions(file) if version["etag"] == etag]
        return found[-1] if found else None

    def uploads(self) -> list[dict]:
        """The record of every upload and removal of a file, those still going first, then
        newest first."""
        items = self._query(
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues=to_attributes({":pk": schema.UPLOADS_PARTITION}),
        )
        records = [_upload(item) for item in items]
        return sorted(
            records,
            key=lambda record: (
                record["running"],
                record["finished_at"] or record["started_at"] or "",
                record.get("version") or "",
            ),
            reverse=True,
        )


# Statuses of a record whose outcome is not yet known to all: still loading or removing, or
# decided and its email being sent (REPORTING). Pages keep following them.
RUNNING = frozenset({Status.LOADING.value, Status.REMOVING.value, Status.REPORTING.value})


def _upload(item: dict) -> dict:
    """An ingest record (or a removal's record) as `festival uploads` shows it.

    While a file loads, its counts are the sums over the parts done so far.
    """
    if item.get("kind") == "removal":
        return _removal(item)
    parts = item.get("parts", {})
    loading = item["status"] == Status.LOADING.value

    def count(name: str) -> int:
        if loading:
            return sum(int(part.get(name, 0)) for part in parts.values())
        return int(item.get(name, 0))

    return {
        "file": item["file"],
        "kind": "upload",
        "etag": item.get("etag"),
        "version": item.get("version"),
        "status": item["status"],
        "running": item["status"] in RUNNING,
        "parts_done": len(parts),
        "parts_total": int(item.get("parts_total", 1)),
        "rows_read": count("rows_read"),
        "rows_loaded": count("rows_loaded"),
        "rows_rejected": count("rows_rejected"),
        "rows_removed": int(item.get("rows_removed", 0)),
        "failure": item.get("failure"),
        "failed_parts": list(item.get("failed_parts", [])),
        "clock": item.get("clock"),
        "clock_reason": item.get("clock_reason"),
        "rejected_rows": [
            {"line": int(row["line"]), "reason": row["reason"]}
            for row in item.get("rejected_rows", [])
        ],
        "uploaded_by": item.get("uploaded_by"),
        "source_ip": item.get("source_ip"),
        "started_at": item.get("started_at"),
        "finished_at": item.get("finished_at"),
    }


def _removal(item: dict) -> dict:
    """A file deleted or expired: when, by whom, and the rows removed (REMOVED), or none
    because the key was uploaded again (REPLACED)."""
    return {
        "file": item["file"],
        "kind": "removal",
        "status": item["status"],
        "running": item["status"] in RUNNING,
        "event": item.get("event"),
        "rows_removed": int(item.get("rows_removed", 0)),
        "failure": item.get("failure"),
        "removed_at": item.get("removed_at"),
        "removed_by": item.get("removed_by"),
        "source_ip": item.get("source_ip"),
        "started_at": item.get("started_at"),
        "finished_at": item.get("finished_at"),
    }
