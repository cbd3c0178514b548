"""The AWS side of the ports (ports.py): S3 reads, DynamoDB writes and queries, SQS and
SNS sends. All boto3 is here."""

from __future__ import annotations

import io
import threading
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import IO, Any

from botocore.exceptions import ClientError

from lineup_ingest import schema
from lineup_ingest.codec import from_attributes, from_json_attributes, to_attributes
from lineup_ingest.config import WRITES_IN_FLIGHT, Config
from lineup_ingest.events import s3_uri
from lineup_ingest.lifecycle import utc_now
from lineup_ingest.parts import CollectTask, PartTask, Progress, part_done_item
from lineup_ingest.ports import (
    BATCH_LIMIT,
    PART_DONE,
    ROW_ATTRIBUTES,
    Additions,
    Fields,
    ObjectGoneError,
    ObjectReplacedError,
    PartEnding,
    RecordKey,
)
from lineup_ingest.retry import RetryBudget, is_retryable

# Conditional deletes in flight at once: within the 10 connections botocore's client pools.
DELETES_IN_FLIGHT = 8


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


class UploadBucket:
    def __init__(self, s3_client) -> None:
        self.s3 = s3_client

    def open_range(
        self, bucket: str, key: str, etag: str, start: int, end: int | None = None
    ) -> IO[bytes]:
        """A stream over bytes [start, end) of one version of the object (to its end if None).

        Raises ObjectReplacedError once the object is another version (its ETag changed).
        """
        if end is not None and end <= start:
            return io.BytesIO(b"")
        byte_range = f"bytes={start}-{'' if end is None else end - 1}"
        try:
            response = self.s3.get_object(Bucket=bucket, Key=key, Range=byte_range, IfMatch=etag)
        except ClientError as error:
            code = _error_code(error)
            if code in {"NoSuchKey", "404"}:
                raise ObjectGoneError(f"{s3_uri(bucket, key)} no longer exists") from error
            if code in {"PreconditionFailed", "412"}:
                raise ObjectReplacedError(
                    f"{s3_uri(bucket, key)} was replaced by a newer upload while it was loading;"
                    " the newer version is loaded instead"
                ) from error
            if code == "InvalidRange":  # at or past the end of the object
                return io.BytesIO(b"")
            raise
        return response["Body"]

    def describe(self, bucket: str, key: str) -> tuple[dict[str, str], str, str, int]:
        """The object's user metadata (``x-amz-meta-*``, names in lower case), upload time,
        ETag and size.

        The ranged reads check the version; this is read once, before them.
        """
        try:
            response = self.s3.head_object(Bucket=bucket, Key=key)
        except ClientError as error:
            if _error_code(error) in {"NoSuchKey", "404", "NotFound"}:
                raise ObjectGoneError(f"{s3_uri(bucket, key)} no longer exists") from error
            raise
        metadata = {name.lower(): value for name, value in response.get("Metadata", {}).items()}
        uploaded = response.get("LastModified")
        return (
            metadata,
            uploaded.isoformat(timespec="seconds") if uploaded else "",
            str(response.get("ETag", "")).strip('"'),
            int(response.get("ContentLength", 0)),
        )

    def list_objects(self, bucket: str, prefix: str = "") -> Iterator[tuple[str, str, str, int]]:
        """Every object under the prefix: its key, ETag, upload time (as describe gives it)
        and size."""
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        for page in pages:
            for found in page.get("Contents", []):
                yield (
                    found["Key"],
                    str(found.get("ETag", "")).strip('"'),
                    found["LastModified"].isoformat(timespec="seconds"),
                    int(found.get("Size", 0)),
                )

    def current_etag(self, bucket: str, key: str) -> str | None:
        """The ETag of the object now, or None if it was deleted."""
        found = self.current_version(bucket, key)
        return found[0] if found else None

    def current_version(self, bucket: str, key: str) -> tuple[str, int] | None:
        """The ETag and size of the object now, or None if it was deleted."""
        try:
            response = self.s3.head_object(Bucket=bucket, Key=key)
        except ClientError as error:
            if _error_code(error) in {"NoSuchKey", "404", "NotFound"}:
                return None
            raise
        return str(response.get("ETag", "")).strip('"'), int(response.get("ContentLength", 0))


class LineupTable:
    """Writes to the lineup table in batches, retrying throttling within a budget.

    Batches of puts go out ``concurrency`` at a time: a batch write spends most of its time
    waiting on the network, so a few in flight load a big file several times faster. At
    most twice that many batches wait in memory, so memory stays flat.

    Batch writes go through ``writer`` (the client unless given): anything with the client's
    ``batch_write_item``, such as `dynamodb_http.DynamoDBHttp`. A writer with a
    ``put_request(item)`` encodes each put itself, in place of `to_attributes`.
    """

    def __init__(
        self,
        client,
        table_name: str,
        budget: RetryBudget,
        concurrency: int = WRITES_IN_FLIGHT,
        writer=None,
    ) -> None:
        self.client = client
        self.writer = client if writer is None else writer
        self.table_name = table_name
        self.budget = budget
        self.concurrency = concurrency
        self.write_requests = 0
        self._count_lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None
        self._in_flight: deque[Future] = deque()
        # The keys of the batches in flight, in the same order.
        self._in_flight_keys: deque[frozenset[tuple[str, str]]] = deque()

    def _counted(self) -> None:
        with self._count_lock:
            self.write_requests += 1

    def write_batch(self, requests: list[dict]) -> None:
        """One BatchWriteItem of at most 25 requests, until every request is processed."""
        pending = {self.table_name: requests}
        attempt = 0
        while pending:
            try:
                self._counted()
                response = self.writer.batch_write_item(RequestItems=pending)
            except ClientError as error:
                if not is_retryable(error):
                    raise
                self.budget.wait(attempt, "a throttled batch write")
                attempt += 1
                continue
            pending = response.get("UnprocessedItems") or {}
            if pending:
                self.budget.wait(attempt, "unprocessed items of a batch write")
                attempt += 1

    def put_items(self, items: list[dict[str, Any]]) -> None:
        """Send one batch of puts; it may still be in flight when this returns (see drain)."""
        put_request = getattr(self.writer, "put_request", None)
        if put_request is not None:
            requests = [put_request(item) for item in items]
        else:
            requests = [{"PutRequest": {"Item": to_attributes(item)}} for item in items]
        if self.concurrency <= 1:
            self.write_batch(requests)
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="batch-write")
        keys = frozenset((item["pk"], item["sk"]) for item in items)
        # The last row of a file wins when it repeats a performance (another spelling of a
        # name, say): a batch holding a key of one in flight waits for it to land.
        while len(self._in_flight) >= 2 * self.concurrency or any(
            keys & held for held in self._in_flight_keys
        ):
            self._in_flight_keys.popleft()
            self._in_flight.popleft().result()
        self._in_flight.append(self._pool.submit(self.write_batch, requests))
        self._in_flight_keys.append(keys)

    def drain(self) -> None:
        """Wait for every batch in flight; raise the first failure once all have ended."""
        failure: BaseException | None = None
        self._in_flight_keys.clear()
        while self._in_flight:
            error = self._in_flight.popleft().exception()
            failure = failure or error
        if failure is not None:
            raise failure

    def settle(self) -> None:
        """After a failure: let batches in flight end, so none lands after the report."""
        self._in_flight_keys.clear()
        while self._in_flight:
            self._in_flight.popleft().exception()

    def delete_keys(self, keys: Iterable[dict[str, str]]) -> int:
        deleted = 0
        batch: list[dict] = []
        for key in keys:
            batch.append({"DeleteRequest": {"Key": to_attributes(key)}})
            if len(batch) == BATCH_LIMIT:
                self.write_batch(batch)
                deleted += len(batch)
                batch = []
        if batch:
            self.write_batch(batch)
            deleted += len(batch)
        return deleted

    def version_keys(self, source_key: str, version: str, limit: int) -> list[dict[str, str]]:
        """Up to ``limit`` keys of one version's items: its rows (in partitions only it
        writes) and its parts' bookkeeping."""
        partitions = [
            *schema.file_partitions(source_key, version),
            schema.load_partition(source_key, version),
        ]
        keys: list[dict[str, str]] = []
        for partition in partitions:
            response = self.client.query(
                TableName=self.table_name,
                ConsistentRead=True,  # rows written just before collection began are seen
                KeyConditionExpression="pk = :pk",
                ProjectionExpression="pk, sk",
                ExpressionAttributeValues=to_attributes({":pk": partition}),
                Limit=limit - len(keys),
            )
            keys += [{"pk": item["pk"]["S"], "sk": item["sk"]["S"]} for item in response["Items"]]
            if len(keys) >= limit:
                break
        return keys

    def version_rows(
        self, source_key: str, version: str, attributes: Sequence[str] = ROW_ATTRIBUTES
    ) -> Iterator[dict[str, Any]]:
        """Every row of one version, with only ``attributes``: a consistent Query of each of
        its partitions, page by page (a page is 1 MB of items read, whatever is projected)."""
        names = {f"#a{n}": name for n, name in enumerate(attributes)}
        for partition in schema.file_partitions(source_key, version):
            request: dict[str, Any] = {
                "TableName": self.table_name,
                "ConsistentRead": True,  # the rows of a load that has just ended are all seen
                "KeyConditionExpression": "pk = :pk",
                "ProjectionExpression": ", ".join(names),
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": to_attributes({":pk": partition}),
            }
            while True:  # page by page (a page is 1 MB of items read, whatever is projected)
                page = self._read(request)
                for item in page.get("Items", []):
                    # The projected attributes are strings: read them directly, 100,000 rows
                    # a version in a fraction of TypeDeserializer's time.
                    if all("S" in value for value in item.values()):
                        yield {name: value["S"] for name, value in item.items()}
                    else:
                        yield from_json_attributes(item)
                if "LastEvaluatedKey" not in page:
                    break
                request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _read(self, request: dict[str, Any]) -> dict[str, Any]:
        """One Query page through the writer's HTTP path (dynamodb_http: every row of a
        version is read back at the end of its load), retried when throttled."""
        attempt = 0
        while True:
            try:
                return self.writer.query(**request)
            except ClientError as error:
                if not is_retryable(error):
                    raise
                self.budget.wait(attempt, "a throttled read of a version's rows")
                attempt += 1

    def put_change_chunks(
        self, source_key: str, version: str, chunks: list[bytes], expires_at: int | None
    ) -> None:
        """Write a version's change list, one item per chunk (each under 400 KB). Writing
        it again writes the same items."""
        for number, chunk in enumerate(chunks):
            self.put_upload_record(
                {
                    **schema.change_chunk_key(source_key, version, number),
                    "data": chunk,
                    "chunks": len(chunks),
                    **schema.expiry(expires_at),
                }
            )

    # --- records, moved by conditional writes ---------------------------------------------

    def record(self, key: dict[str, str]) -> dict[str, Any] | None:
        response = self.client.get_item(
            TableName=self.table_name, ConsistentRead=True, Key=to_attributes(key)
        )
        item = response.get("Item")
        return from_attributes(item) if item else None

    def create_record(self, record: dict[str, Any]) -> bool:
        """Write a new record; False if one is there already (another delivery's)."""
        written = self._conditional(
            self.client.put_item,
            Item=to_attributes(record),
            ConditionExpression="attribute_not_exists(pk)",
        )
        return written is not None

    def update_record(
        self, key: RecordKey, sets: Fields, expect: Fields, *, add: Additions | None = None
    ) -> Fields | None:
        """Set (and add to) attributes of an existing record if each ``expect``ed attribute
        has that value (None: has none); the record afterwards, or None if not."""
        update, condition, names, values = _update_expression(sets, expect, add or {})
        response = self._conditional(
            self.client.update_item,
            Key=to_attributes(key),
            UpdateExpression=update,
            ConditionExpression=condition,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=to_attributes(values),
            ReturnValues="ALL_NEW",
        )
        return None if response is None else from_attributes(response["Attributes"])

    def _conditional(self, call: Any, **arguments: Any) -> dict[str, Any] | None:
        """One conditional write; its response, or None if its condition did not hold."""
        self._counted()
        try:
            return call(TableName=self.table_name, **arguments)
        except ClientError as error:
            if _error_code(error) == "ConditionalCheckFailedException":
                return None
            raise

    def records(self) -> Iterator[dict[str, Any]]:
        """Every upload's and removal's record."""
        yield from self._partition(schema.UPLOADS_PARTITION)

    def _partition(self, partition: str) -> Iterator[dict[str, Any]]:
        pages = self.client.get_paginator("query").paginate(
            TableName=self.table_name,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues=to_attributes({":pk": partition}),
        )
        for page in pages:
            for item in page.get("Items", []):
                yield from_attributes(item)

    # --- heads ----------------------------------------------------------------------------

    def head(self, source_key: str) -> dict[str, Any] | None:
        return self.record(schema.head_key(source_key))

    def heads(self) -> Iterator[dict[str, Any]]:
        yield from self._partition(schema.HEADS_PARTITION)

    # --- sketches -------------------------------------------------------------------------

    def put_sketch(self, item: dict[str, Any]) -> None:
        self.put_upload_record(item)

    def sketches(self) -> Iterator[dict[str, Any]]:
        """Every version's sketch: consistent, so a sketch written before its version
        became current is seen by a load ending after that."""
        pages = self.client.get_paginator("query").paginate(
            TableName=self.table_name,
            ConsistentRead=True,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues=to_attributes({":pk": schema.SKETCHES_PARTITION}),
        )
        for page in pages:
            for item in page.get("Items", []):
                yield from_attributes(item)

    def note_upload(self, source_key: str, sequence: str) -> bool:
        """Record an upload as the file's newest event, unless a newer one came first."""
        return (
            self._advance_head(
                source_key,
                sequence,
                "SET latest = :s, latest_kind = :kind, #file = :file REMOVE expires_at",
                {},
            )
            is not None
        )

    def make_current(
        self, source_key: str, sequence: str, etag: str, zone: str = ""
    ) -> tuple[bool, dict[str, Any] | None]:
        """Make a loaded version current, unless a newer event came first; the head before.
        ``zone``: the version's time zone (an IANA name), kept on the head for queries."""
        old = self._advance_head(
            source_key,
            sequence,
            "SET latest = :s, latest_kind = :kind, #file = :file, #current = :s,"
            " current_etag = :etag, #zone = :zone REMOVE missing_since, expires_at",
            {":etag": etag, ":zone": zone or "UTC"},
            returns="ALL_OLD",
        )
        return old is not None, (old or None)

    def remove_current(
        self, source_key: str, sequence: str, expected: str | None, expires_at: int
    ) -> bool:
        """Apply a removal: no version is current, if no newer upload came first and the
        current version is still ``expected``; the head expires at ``expires_at``."""
        condition = "attribute_not_exists(#current)" if expected is None else "#current = :expected"
        return (
            self._advance_head(
                source_key,
                sequence,
                "SET latest = :s, latest_kind = :kind, #file = :file, expires_at = :expires"
                " REMOVE #current, current_etag, missing_since",
                {":expires": expires_at, **({} if expected is None else {":expected": expected})},
                extra_condition=condition,
                kind="delete",
            )
            is not None
        )

    def _advance_head(
        self,
        source_key: str,
        sequence: str,
        update: str,
        values: dict[str, Any],
        *,
        extra_condition: str = "",
        kind: str = "upload",
        returns: str = "NONE",
    ) -> dict[str, Any] | None:
        """One conditional write on the head, ordered by sequence; None if refused."""
        condition = "(attribute_not_exists(latest) OR latest <= :s)"
        if extra_condition:
            condition += f" AND {extra_condition}"
        names = {"#file": "file"}
        if "#current" in update or "#current" in condition:
            names["#current"] = "current"
        if "#zone" in update:
            names["#zone"] = "zone"
        response = self._conditional(
            self.client.update_item,
            Key=to_attributes(schema.head_key(source_key)),
            UpdateExpression=update,
            ConditionExpression=condition,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=to_attributes(
                {":s": sequence, ":kind": kind, ":file": source_key, **values}
            ),
            ReturnValues=returns,
        )
        if response is None:
            return None
        return from_attributes(response.get("Attributes") or {})

    def longest_set_minutes(self) -> int:
        response = self.client.get_item(
            TableName=self.table_name, Key=to_attributes(schema.LONGEST_SET_KEY)
        )
        item = response.get("Item")
        return int(item["minutes"]["N"]) if item else 0

    def raise_longest_set(self, minutes: int) -> None:
        """Record a longer set first, so time queries never look back too little."""
        self._counted()
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key=to_attributes(schema.LONGEST_SET_KEY),
                UpdateExpression="SET minutes = :m",
                ConditionExpression="attribute_not_exists(minutes) OR minutes < :m",
                ExpressionAttributeValues=to_attributes({":m": minutes}),
            )
        except ClientError as error:
            # Another upload recorded an even longer set meanwhile: nothing to do.
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise

    def put_upload_record(self, record: dict[str, Any]) -> None:
        self._counted()
        self.client.put_item(TableName=self.table_name, Item=to_attributes(record))

    def _put_if_absent(self, item: dict[str, Any]) -> None:
        if not self.create_record(item):
            return

    # --- the bookkeeping of a load in parts ----------------------------------------------------

    def commit_part(
        self, task: PartTask, progress: Progress, ending: PartEnding = PART_DONE
    ) -> dict[str, Any] | None:
        """Count a part (done, or failed with the ``unreached`` parts after it) in one write;
        the record afterwards, or None once its load is over.

        The part's first rejected rows go to an item of its own first; its counts go into
        the record's ``parts`` map under its number. A failure never overwrites a part
        counted done, so a part retried or delivered twice is counted once.
        """
        failure = ending.failure
        entries = ending.entries(task, progress)
        part_item = part_done_item(task, progress, entries[task.part])
        if failure:
            self._put_if_absent(part_item)
        else:
            self.put_upload_record(part_item)
        names = {f"#p{part}": f"{part:06d}" for part in entries}
        values: dict[str, Any] = {f":c{part}": value for part, value in entries.items()}
        sets = [
            f"parts.#p{part} = "
            + (f"if_not_exists(parts.#p{part}, :c{part})" if failure else f":c{part}")
            for part in entries
        ]
        update = "SET " + ", ".join([*sets, "updated_at = :now"])
        response = self._conditional(
            self.client.update_item,
            Key=to_attributes(schema.upload_record_key(task.key, task.version)),
            UpdateExpression=update,
            ConditionExpression="#status = :loading",
            ExpressionAttributeNames={**names, "#status": "status"},
            ExpressionAttributeValues=to_attributes(
                {**values, ":now": utc_now(), ":loading": "LOADING"}
            ),
            ReturnValues="ALL_NEW",
        )
        return None if response is None else from_attributes(response["Attributes"])

    def committed_parts(self, task: PartTask) -> Iterator[dict[str, Any]]:
        pages = self.client.get_paginator("query").paginate(
            TableName=self.table_name,
            ConsistentRead=True,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :part)",
            ExpressionAttributeValues=to_attributes(
                {
                    ":pk": schema.load_partition(task.key, task.version),
                    ":part": schema.PART_DONE_PREFIX,
                }
            ),
        )
        for page in pages:
            for item in page["Items"]:
                yield from_attributes(item)

    def was_queued(self, task: PartTask) -> bool:
        response = self.client.get_item(
            TableName=self.table_name,
            ConsistentRead=True,
            ProjectionExpression="pk",
            Key=to_attributes(schema.part_queued_key(task.key, task.version, task.part)),
        )
        return "Item" in response

    def mark_queued(self, task: PartTask) -> None:
        self.put_upload_record(
            {
                **schema.part_queued_key(task.key, task.version, task.part),
                **schema.expiry(task.expires_at),
            }
        )


class PartsQueue:
    """The SQS queue that hands parts of a file to other invocations of the function."""

    def __init__(self, sqs_client, queue_url: str, retry_base_s: int = Config.part_retry_s) -> None:
        self.sqs = sqs_client
        self.queue_url = queue_url
        self.retry_base_s = retry_base_s

    def send(self, task: PartTask | CollectTask, delay_s: int = 0) -> None:
        self.sqs.send_message(
            QueueUrl=self.queue_url, MessageBody=task.to_message(), DelaySeconds=delay_s
        )

    def retry_delay_s(self, attempt: int) -> int:
        """How long a part waits before attempt ``attempt + 1``: doubling, at most 15 min.

        Attempt 0 means no wait: a message given up on goes to the failure queue at once.
        """
        if attempt <= 0:
            return 0
        return min(900, self.retry_base_s * 2 ** (attempt - 1))

    def retry_later(self, receipt_handle: str, attempt: int) -> None:
        """Make a failed part's message come back after the retry delay, not the timeout."""
        self.sqs.change_message_visibility(
            QueueUrl=self.queue_url,
            ReceiptHandle=receipt_handle,
            VisibilityTimeout=self.retry_delay_s(attempt),
        )


class FailureQueueAdapter:
    """The parts queue's failure queue, as the sweep reads it."""

    def __init__(self, sqs_client, queue_url: str) -> None:
        self.sqs = sqs_client
        self.queue_url = queue_url

    def receive(self, limit: int) -> list[tuple[str, str]]:
        if not self.queue_url:
            return []
        response = self.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=limit, WaitTimeSeconds=0
        )
        return [(m["ReceiptHandle"], m["Body"]) for m in response.get("Messages", [])]

    def delete(self, receipt: str) -> None:
        self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=receipt)


def _update_expression(
    sets: dict[str, Any], expect: dict[str, Any], add: dict[str, int]
) -> tuple[str, str, dict[str, str], dict[str, Any]]:
    """An UpdateItem's expressions: every name and value a placeholder (no reserved word
    can break one), the record required to exist."""
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    clauses = []
    for n, (name, value) in enumerate(sets.items()):
        names[f"#s{n}"], values[f":s{n}"] = name, value
    if sets:
        clauses.append("SET " + ", ".join(f"#s{n} = :s{n}" for n in range(len(sets))))
    for n, (name, value) in enumerate(add.items()):
        names[f"#a{n}"], values[f":a{n}"] = name, value
    if add:
        clauses.append("ADD " + ", ".join(f"#a{n} :a{n}" for n in range(len(add))))
    conditions = ["attribute_exists(pk)"]
    for n, (name, value) in enumerate(expect.items()):
        names[f"#e{n}"] = name
        if value is None:
            conditions.append(f"attribute_not_exists(#e{n})")
        else:
            values[f":e{n}"] = value
            conditions.append(f"#e{n} = :e{n}")
    return " ".join(clauses), " AND ".join(conditions), names, values


class Notifier:
    def __init__(self, sns_client, topic_arn: str) -> None:
        self.sns = sns_client
        self.topic_arn = topic_arn

    def publish(self, subject: str, message: str) -> None:
        self.sns.publish(TopicArn=self.topic_arn, Subject=subject, Message=message)
