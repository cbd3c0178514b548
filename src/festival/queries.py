"""The three questions the table answers, each with DynamoDB ``Query`` only.

Used by the ``festival`` command and the notebooks. Key shapes come from the Lambda's
``lineup_ingest.schema`` so the writer and the readers cannot disagree.

"Occurring in [from, to)" means a set that starts before ``to`` and ends after ``from``.
Sets are indexed by their start, so a query looks back from ``from`` by the longest set
ever loaded (kept in one item, raised by the Lambda before it writes a longer set): a set
that began the day before and runs past midnight is found, and few extra items are read.
"""

from __future__ import annotations

import itertools
import random
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from time import sleep
from typing import Any

from botocore.exceptions import ClientError

from festival.nights import calendar_days, night_of, night_window
from lineup_ingest import changes, clashes, schema
from lineup_ingest.clashes import DEFAULT_CHANGEOVER_MINUTES, Clashes, Slot, find_clashes
from lineup_ingest.codec import from_attributes, from_json_attributes, to_attributes
from lineup_ingest.dynamodb_http import DynamoDBHttp
from lineup_ingest.lifecycle import Status
from lineup_ingest.retry import is_retryable

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


# The zone of a file made current before zones were kept on heads: the stack's default.
DEFAULT_ZONE = "UTC"


def _performance(item: dict[str, Any], zone: str = DEFAULT_ZONE) -> dict[str, Any]:
    return {
        **{name: item[name] for name in PUBLIC_FIELDS},
        "raw_start": item.get("raw_start"),
        "raw_end": item.get("raw_end"),
        "source_file": item.get("source_key"),
        "source_line": int(item["source_line"]) if "source_line" in item else None,
        # The time zone of start and end (wall-clock times there): the file's, from its head.
        "zone": zone,
    }


class CurrentVersions(dict[str, str]):
    """Each file's current version, and in ``zones`` the time zone of its times (an IANA
    name), both from the same reading of the heads."""

    def __init__(self, versions: dict[str, str], zones: dict[str, str]) -> None:
        super().__init__(versions)
        self.zones = zones


def _sorted(performances: list[dict]) -> list[dict]:
    return sorted(performances, key=lambda p: (p["start"], p["stage"].casefold(), p["performer"]))


# A throttled read is tried again as botocore's standard retry mode would: up to the
# client's total_max_attempts (AWS_MAX_ATTEMPTS; 3 by default), waiting at random up to 1 s,
# 2 s, 4 s... (at most 20 s) before each.
DEFAULT_ATTEMPTS, RETRY_BASE_S, RETRY_CAP_S = 3, 1.0, 20.0

STARTS_KEPT = 4096  # versions whose first and last starts a LineupQueries keeps


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
    # A version's rows never change once it is current (a new upload is a new version), so
    # its first and last starts are read once per process: the explorer's day view asks
    # them of every file on every page (32 Queries a file otherwise).
    _starts: dict[tuple[str, str], tuple[datetime, datetime] | None] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    # The long reads' sender: None through a proxy, which dynamodb_http does not speak.
    _http: DynamoDBHttp | None = field(init=False, repr=False, compare=False)
    _attempts: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        config = self.dynamodb.meta.config
        self._attempts = (config.retries or {}).get("total_max_attempts", DEFAULT_ATTEMPTS)
        if config.proxies or urllib.request.getproxies():
            self._http = None
            return
        # The client's endpoint, region, credentials, CA bundle and before-send event (moto
        # answers through it in tests); botocore offers no public way to the credentials
        # and the CA bundle its client uses.
        self._http = DynamoDBHttp.for_client(
            self.dynamodb,
            self.dynamodb._get_credentials(),
            verify=self.dynamodb._endpoint.http_session._verify,
        )

    def current_versions(self) -> CurrentVersions:
        """Each file's current version (files with none, deleted or never loaded, absent),
        with its time zone."""
        heads = [
            head
            for head in self._query(
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues=to_attributes({":pk": schema.HEADS_PARTITION}),
            )
            if head.get("current") and head.get("file")
        ]
        return CurrentVersions(
            {str(head["file"]): str(head["current"]) for head in heads},
            {str(head["file"]): str(head.get("zone") or DEFAULT_ZONE) for head in heads},
        )

    @staticmethod
    def _current(items: Iterator[dict[str, Any]], current: dict[str, str]) -> list[dict]:
        """The performances among ``items`` that belong to their file's current version."""
        zones: dict[str, str] = getattr(current, "zones", {})
        return [
            _performance(item, zones.get(str(item.get("source_key")), DEFAULT_ZONE))
            for item in items
            if current.get(item.get("source_key", "")) == item.get("version")
        ]

    def by_stage(self, stage: str) -> list[dict]:
        """Every performance on a stage (any case and spacing), in time order: its ByStage
        partition, whole."""
        items = self._query(
            IndexName=schema.STAGE_INDEX,
            KeyConditionExpression=f"{schema.INDEX_KEYS[schema.STAGE_INDEX][0]} = :pk",
            ExpressionAttributeValues=to_attributes({":pk": schema.stage_partition(stage)}),
        )
        return _sorted(self._current(items, self.current_versions()))

    def _query(self, **arguments: Any) -> Iterator[dict[str, Any]]:
        """Every item of a Query, page after page, its answers read with ``json.loads``
        (`dynamodb_http`): botocore's parser cost a night of 10,000 sets a second of CPU."""
        request = {"TableName": self.table_name, **arguments}
        # Binary values: base64 in the JSON, bytes from boto3's parser.
        decode = from_attributes if self._http is None else from_json_attributes
        while True:
            page = self._read_page(request)
            for item in page.get("Items", []):
                yield decode(item)
            if "LastEvaluatedKey" not in page:
                return
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _read_page(self, request: dict[str, Any]) -> dict[str, Any]:
        """One page; throttling retried with backoff, as the boto3 client would."""
        if self._http is None:
            return self.dynamodb.query(**request)  # which retries itself
        for attempt in itertools.count():
            try:
                return self._http.query(**request)
            except ClientError as error:
                if not is_retryable(error) or attempt + 1 >= self._attempts:
                    raise
                sleep(random.random() * min(RETRY_CAP_S, RETRY_BASE_S * 2**attempt))
        raise AssertionError("unreachable")

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
        if stage is not None:
            return self._on_stage(stage, earliest, end - timedelta(minutes=1), after=start)
        current = self.current_versions()
        found = []
        day = earliest.date()
        while day <= (end - timedelta(minutes=1)).date():
            for partition in schema.day_partitions(day.isoformat()):
                # Sort keys are "<start>#...": BETWEEN lo AND "<end>" keeps starts < end.
                found += self._running(
                    schema.TIME_INDEX, partition, _iso(earliest), _iso(end), start, current
                )
            day += timedelta(days=1)
        return _sorted(found)

    def at(self, stage: str, moment: datetime) -> list[dict]:
        """The set(s) on a stage running at a moment: started at or before it, ending after."""
        earliest = moment - timedelta(minutes=self.longest_set_minutes())
        return self._on_stage(stage, earliest, moment, after=moment)

    def _on_stage(
        self, stage: str, earliest: datetime, latest_start: datetime, after: datetime
    ) -> list[dict]:
        """Sets of a stage (of current versions) starting in [earliest, latest_start] and
        ending after ``after``."""
        # "$" sorts after "#", so "<latest_start>$" keeps starts <= latest_start.
        return _sorted(
            self._running(
                schema.STAGE_INDEX,
                schema.stage_partition(stage),
                _iso(earliest),
                _iso(latest_start) + "$",
                after,
                self.current_versions(),
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

    def on_night(self, night: date, day_starts: time) -> list[dict]:
        """Every set of a festival day, in time order: starting in [day_starts on ``night``,
        day_starts the next day), so a 01:00 set belongs to the night before
        (``festival.nights``). A set running past the boundary is here, whole; one that
        began the night before is not. One ``Query`` of ByTime per calendar day the night
        touches and shard, ``gsi3sk BETWEEN <first moment> AND <boundary>``: exactly the
        night's sets are read, no look-back needed."""
        start, end = night_window(night, day_starts)
        partition_key, sort_key = schema.INDEX_KEYS[schema.TIME_INDEX]
        current = self.current_versions()
        found = []
        for day in calendar_days(night, day_starts):
            for partition in schema.day_partitions(day.isoformat()):
                # "<end>" sorts before "<end>#...": a start at the next boundary is out.
                items = self._query(
                    IndexName=schema.TIME_INDEX,
                    KeyConditionExpression=(
                        f"{partition_key} = :pk AND {sort_key} BETWEEN :lo AND :hi"
                    ),
                    ExpressionAttributeValues=to_attributes(
                        {":pk": partition, ":lo": _iso(start), ":hi": _iso(end)}
                    ),
                )
                found += self._current(items, current)
        return _sorted(found)

    def nights_of(self, file: str, day_starts: time) -> tuple[date, date] | None:
        """The first and the last festival day a loaded file has sets on (None if none)."""
        starts = self.starts_of(file)
        if starts is None:
            return None
        return night_of(starts[0], day_starts), night_of(starts[1], day_starts)

    def starts_of(self, file: str) -> tuple[datetime, datetime] | None:
        """The first and the last start of a loaded file's sets (None if it has none).

        A file partition's sort keys start with the set's start: the first and the last
        item of each of the file's partitions are enough, however long the file.
        """
        version = self.current_versions().get(file)
        if version is None:
            return None
        if (file, version) not in self._starts:
            if len(self._starts) >= STARTS_KEPT:
                self._starts.clear()
            self._starts[file, version] = self._read_starts(file, version)
        return self._starts[file, version]

    def _read_starts(self, file: str, version: str) -> tuple[datetime, datetime] | None:
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
        return datetime.fromisoformat(min(starts)), datetime.fromisoformat(max(starts))

    def clashes(
        self,
        *,
        window: tuple[datetime, datetime] | None = None,
        file: str | None = None,
        changeover_minutes: int = DEFAULT_CHANGEOVER_MINUTES,
    ) -> Clashes:
        """The clashes of the lineup (lineup_ingest.clashes): stage overlaps, double
        bookings and changeovers under ``changeover_minutes``, among the current versions'
        sets, or one file's.

        With a ``window`` [from, to) (a festival night), the clashes whose later set starts
        in it: the sets occurring in [from - changeover, to) are read (`between`, ByTime:
        the sets running at the window's start and those ending just before it are the only
        ones that can clash with its sets), and with ``file``, those of the file. Without
        a window, every row of each current version (or of the file's), a ``Query`` of
        each of its 16 partitions: the whole lineup, about 0.5 read unit per 4 KB, one unit
        per 15 rows of 537 bytes."""
        if changeover_minutes < 0:
            raise QueryInputError(f"a changeover is at least 0 minutes, not {changeover_minutes}")
        current = self.current_versions()
        if file is not None and file not in current:
            raise QueryInputError(f"{file!r} has no loaded version (see festival uploads)")
        if window is not None:
            start, end = window
            if end <= start:
                raise QueryInputError(f"the range is empty: {_iso(end)} is not after {_iso(start)}")
            sets = self.between(start - timedelta(minutes=changeover_minutes), end)
            if file is not None:
                sets = [p for p in sets if p["source_file"] == file]
        else:
            sets = []
            for source, version in sorted(current.items()):
                if file is not None and source != file:
                    continue
                for partition in schema.file_partitions(source, version):
                    sets += [
                        _performance(item)
                        for item in self._query(
                            KeyConditionExpression="pk = :pk",
                            ExpressionAttributeValues=to_attributes({":pk": partition}),
                        )
                    ]
        # The same set in two files is one set: the one of the first file by name is kept.
        sets.sort(key=lambda p: (p["start"], p["source_file"] or "", p["source_line"] or 0))
        found = find_clashes(map(Slot.of, sets), changeover_minutes)
        if window is not None:
            found = found.starting_in(_iso(window[0]), _iso(window[1]))
        return found

    def upload_versions(self, file: str) -> list[dict]:
        """The ingest records of one file's uploads (one per version), oldest first.

        The records of a file are those whose sort key begins with its record key with no
        version; another file's may begin so too (uploads/a.csv#V#b.csv's), and are left out.
        """
        return [_upload(item) for item in self._upload_records(file)]

    def _upload_records(self, file: str) -> list[dict]:
        """The items of one file's upload records (one per version), oldest first."""
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
            item
            for item in items
            if item.get("file") == file and item.get("kind", "upload") == "upload"
        ]

    def upload(self, file: str, etag: str) -> dict | None:
        """The ingest record of the newest upload of a file with that content (None until
        its load has begun). Its ``version`` tells it from an earlier upload of the same
        content."""
        found = [version for version in self.upload_versions(file) if version["etag"] == etag]
        return found[-1] if found else None

    def changes(self, file: str, version: str | None = None) -> dict:
        """What one upload of a file changed since the version it replaced (the Lambda's
        change report, lineup_ingest.changes): the file's newest upload, or ``version``
        (whole, or a prefix only one of its versions starts with).

        Two reads, both Query: the file's records (its part of ``UPLOADS``), then the
        upload's change list (its ``CHANGES#`` partition, gzip-compressed JSON in chunks),
        which is kept after the replaced version's rows are gone, as long as the record.
        """
        records = self._upload_records(file)
        if not records:
            raise QueryInputError(f"no upload of {file!r} (festival uploads lists them)")
        if version:
            records = [r for r in records if str(r.get("version", "")).startswith(version)]
            if len(records) != 1:
                raise QueryInputError(
                    f"{'no' if not records else 'more than one'} upload of {file!r} has a"
                    f" version starting {version!r} (festival uploads --json lists them)"
                )
        record = max(records, key=lambda r: str(r.get("version", "")))
        summary = record.get("changes") or {}
        state = str(summary.get("state") or "none")
        found: dict[str, Any] = {
            "file": file,
            "version": str(record.get("version", "")),
            "status": str(record.get("status", "")),
            "uploaded_at": record.get("uploaded_at"),
            "state": state,
            "previous": None,
            "counts": None,
            "added": [],
            "removed": [],
            "moved": [],
            "note": _changes_note(record, state, summary),
        }
        if state in (changes.COMPARED, changes.SKIPPED):
            found["previous"] = _previous_version(summary, state)
        if state != changes.COMPARED:
            return found
        kinds = ("added", "removed", "moved")
        found["counts"] = {kind: int(summary.get(kind, 0)) for kind in kinds}
        return {**found, **self._change_list(file, found["version"], int(summary.get("chunks", 0)))}

    def _change_list(self, file: str, version: str, chunk_count: int) -> dict[str, list]:
        """The sets an upload added, removed and moved: its change list, read whole."""
        chunks = [
            bytes(getattr(item["data"], "value", item["data"]))
            for item in self._query(
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues=to_attributes(
                    {":pk": schema.changes_partition(file, version)}
                ),
            )
        ]
        if len(chunks) != chunk_count:
            raise QueryInputError(
                f"the change list of {file!r} version {version} is incomplete"
                f" ({len(chunks)} of {chunk_count} chunks): has it expired?"
            )
        return change_lists(changes.from_chunks(chunks))

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
        "names_joined": count("names_joined"),
        # The loaded version's clash counts (lineup_ingest.clashes), once counted.
        "clashes": clashes.from_record(item.get("clashes")),
        "rows_removed": int(item.get("rows_removed", 0)),
        "failure": item.get("failure"),
        "failed_parts": list(item.get("failed_parts", [])),
        "clock": item.get("clock"),
        "clock_reason": item.get("clock_reason"),
        "time_zone": item.get("time_zone"),
        # Another file whose current version held most of this upload's sets when it
        # became current (the same lineup under two names), and the estimated share.
        "same_lineup_file": item.get("same_lineup_file"),
        "same_lineup_percent": (
            int(item["same_lineup_percent"]) if "same_lineup_percent" in item else None
        ),
        "same_lineup_exact": bool(item.get("same_lineup_exact", False)),
        "bucket": item.get("bucket"),
        "rejected_rows": [
            {"line": int(row["line"]), "reason": row["reason"]}
            for row in item.get("rejected_rows", [])
        ],
        "uploaded_by": item.get("uploaded_by"),
        "source_ip": item.get("source_ip"),
        "started_at": item.get("started_at"),
        "finished_at": item.get("finished_at"),
    }


def change_lists(whole: changes.Changes) -> dict[str, list[dict[str, Any]]]:
    """The sets a change list added, removed and moved, as plain data (``--json``)."""

    def place(one: changes.Set) -> dict[str, str]:
        return {"stage": one.stage, "start": one.start, "end": one.end}

    return {
        "added": [one._asdict() for one in whole.added],
        "removed": [one._asdict() for one in whole.removed],
        "moved": [
            {"performer": move.new.performer, "from": place(move.old), "to": place(move.new)}
            for move in whole.moved
        ],
    }


def _previous_version(summary: dict, state: str) -> dict[str, Any]:
    """The version an upload was compared with (or not, for SKIPPED: it says how big)."""
    rows = {"rows": int(summary.get("previous_rows", 0))} if state == changes.SKIPPED else {}
    return {
        "version": summary.get("previous"),
        "uploaded_at": summary.get("previous_uploaded_at") or None,
        "etag": summary.get("previous_etag") or None,
        **rows,
    }


def _changes_note(record: dict, state: str, summary: dict) -> str:
    """A line on an upload's change report: what it compared, or why there is none."""
    status = str(record.get("status", ""))
    if state == changes.NEW:
        return "New file: no earlier upload of this key."
    if state == changes.SKIPPED:
        return (
            f"Not compared: this version has {int(summary.get('rows', 0)):,} rows and the"
            f" previous {int(summary.get('previous_rows', 0)):,}, more than the"
            f" {int(summary.get('limit', 0)):,} a change report reads. Compare the two CSV"
            " files: festival changes --files OLD.csv NEW.csv"
        )
    if state == changes.COMPARED:
        return "Compared with the version it replaced."
    if status in RUNNING:
        return f"No change report yet: the upload is {status}."
    if status == Status.FAILED.value:
        return "No change report: the upload FAILED, so it changed nothing."
    return "No change report: loaded before change reports were made."


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
