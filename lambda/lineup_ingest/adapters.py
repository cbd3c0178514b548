"""The AWS side of the ports (ports.py): S3 reads, DynamoDB writes and queries, SQS and
SNS sends. All boto3 is here."""

from __future__ import annotations

import io
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import islice
from typing import IO, Any

from botocore.exceptions import ClientError

from lineup_ingest import schema
from lineup_ingest.codec import from_attributes, to_attributes
from lineup_ingest.config import WRITES_IN_FLIGHT
from lineup_ingest.parts import PartTask, Progress, part_counts, part_done_item
from lineup_ingest.ports import BATCH_LIMIT, ObjectGoneError, ObjectReplacedError
from lineup_ingest.retry import RetryBudget

# Conditional deletes in flight at once: within the 10 connections botocore's client pools.
DELETES_IN_FLIGHT = 8
RETRYABLE_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
    }
)


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def is_retryable(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") in RETRYABLE_CODES


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
                raise ObjectGoneError(f"s3://{bucket}/{key} no longer exists") from error
            if code in {"PreconditionFailed", "412"}:
                raise ObjectReplacedError(
                    f"s3://{bucket}/{key} was replaced by a newer upload while it was loading;"
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
                raise ObjectGoneError(f"s3://{bucket}/{key} no longer exists") from error
            raise
        metadata = {name.lower(): value for name, value in response.get("Metadata", {}).items()}
        uploaded = response.get("LastModified")
        return (
            metadata,
            uploaded.isoformat(timespec="seconds") if uploaded else "",
            str(response.get("ETag", "")).strip('"'),
            int(response.get("ContentLength", 0)),
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

    def other_versions_loaded(self, source_key: str, etag: str) -> bool:
        """Whether another version of this file was ever loaded (it left an ingest record)."""
        pages = self.client.get_paginator("query").paginate(
            TableName=self.table_name,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :file)",
            ProjectionExpression="sk",
            ExpressionAttributeValues=to_attributes(
                {
                    ":pk": schema.UPLOADS_PARTITION,
                    ":file": schema.upload_record_key(source_key, "")["sk"],
                }
            ),
        )
        current = schema.upload_record_key(source_key, etag)["sk"]
        return any(item["sk"]["S"] != current for page in pages for item in page["Items"])

    def stale_keys(
        self, source_key: str, load_id: str, uploaded_at: str
    ) -> Iterator[dict[str, str]]:
        """Keys of this file's performances written by another version, uploaded no later.

        Only the current version's finisher removes rows, so a newer upload's rows are
        those of an upload that started since: never touched, unless within the same
        second (S3 keeps upload times to the second).
        """
        for partition in schema.file_partitions(source_key):
            pages = self.client.get_paginator("query").paginate(
                TableName=self.table_name,
                KeyConditionExpression="pk = :pk AND begins_with(sk, :perf)",
                FilterExpression="load_id <> :load AND uploaded_at <= :uploaded",
                ProjectionExpression="pk, sk",
                ExpressionAttributeValues=to_attributes(
                    {":pk": partition, ":perf": "PERF#", ":load": load_id, ":uploaded": uploaded_at}
                ),
            )
            for page in pages:
                for item in page.get("Items", []):
                    yield {"pk": item["pk"]["S"], "sk": item["sk"]["S"]}

    # --- removals -------------------------------------------------------------------------

    def keys_uploaded_no_later(self, source_key: str, uploaded_at: str) -> Iterator[dict[str, str]]:
        """Keys of this file's performances whose version was uploaded at or before
        ``uploaded_at`` (ISO to the second, like S3's LastModified), whichever version."""
        for partition in schema.file_partitions(source_key):
            pages = self.client.get_paginator("query").paginate(
                TableName=self.table_name,
                KeyConditionExpression="pk = :pk AND begins_with(sk, :perf)",
                FilterExpression="uploaded_at <= :uploaded",
                ProjectionExpression="pk, sk",
                ExpressionAttributeValues=to_attributes(
                    {":pk": partition, ":perf": "PERF#", ":uploaded": uploaded_at}
                ),
            )
            for page in pages:
                for item in page.get("Items", []):
                    yield {"pk": item["pk"]["S"], "sk": item["sk"]["S"]}

    def delete_uploaded_no_later(self, keys: Iterable[dict[str, str]], uploaded_at: str) -> int:
        """Delete each row that is still of a version uploaded no later than ``uploaded_at``;
        how many were deleted.

        A newer upload may rewrite a row between the query that found it and its delete:
        each delete is a DeleteItem on that condition (BatchWriteItem takes none),
        DELETES_IN_FLIGHT at once, so a newer version's row is never deleted.
        """
        deleted = 0
        iterator = iter(keys)
        with ThreadPoolExecutor(DELETES_IN_FLIGHT, thread_name_prefix="delete") as pool:
            while chunk := list(islice(iterator, 100)):  # a bounded number of keys held
                deleted += sum(
                    pool.map(lambda key: self._delete_if_uploaded_no_later(key, uploaded_at), chunk)
                )
        return deleted

    def _delete_if_uploaded_no_later(self, key: dict[str, str], uploaded_at: str) -> bool:
        attempt = 0
        while True:
            self._counted()
            try:
                self.client.delete_item(
                    TableName=self.table_name,
                    Key=to_attributes(key),
                    ConditionExpression="uploaded_at <= :uploaded",
                    ExpressionAttributeValues=to_attributes({":uploaded": uploaded_at}),
                )
            except ClientError as error:
                if _error_code(error) == "ConditionalCheckFailedException":
                    return False  # rewritten by a newer upload, or deleted already
                if not is_retryable(error):
                    raise
                self.budget.wait(attempt, "a throttled delete")
                attempt += 1
                continue
            return True

    def record(self, key: dict[str, str]) -> dict[str, Any] | None:
        response = self.client.get_item(
            TableName=self.table_name, ConsistentRead=True, Key=to_attributes(key)
        )
        item = response.get("Item")
        return from_attributes(item) if item else None

    def claim_removal(self, record: dict[str, Any]) -> bool:
        """Write a removal's REMOVING record for ``record["finisher"]``; False if another
        delivery of the same event holds it, or it is over."""
        self._counted()
        try:
            self.client.put_item(
                TableName=self.table_name,
                Item=to_attributes(record),
                ConditionExpression=(
                    "attribute_not_exists(pk) OR (#status = :removing AND finisher = :who)"
                ),
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=to_attributes(
                    {":removing": "REMOVING", ":who": record["finisher"]}
                ),
            )
        except ClientError as error:
            if _error_code(error) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def count_removed(self, key: dict[str, str], rows: int, who: str) -> int:
        """Add rows removed to a removal's record (a retry goes on from the count so far);
        the count afterwards."""
        self._counted()
        response = self.client.update_item(
            TableName=self.table_name,
            Key=to_attributes(key),
            UpdateExpression="ADD rows_removed :n",
            ConditionExpression="finisher = :who",
            ExpressionAttributeValues=to_attributes({":n": rows, ":who": who}),
            ReturnValues="UPDATED_NEW",
        )
        return int(from_attributes(response["Attributes"])["rows_removed"])

    def finish_removal(self, record: dict[str, Any]) -> None:
        """Write a removal's final record, if ``record["finisher"]`` still holds it."""
        self._counted()
        try:
            self.client.put_item(
                TableName=self.table_name,
                Item=to_attributes(record),
                ConditionExpression="finisher = :who",
                ExpressionAttributeValues=to_attributes({":who": record["finisher"]}),
            )
        except ClientError as error:
            if _error_code(error) != "ConditionalCheckFailedException":
                raise

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
        self._counted()
        try:
            self.client.put_item(
                TableName=self.table_name,
                Item=to_attributes(item),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as error:
            if _error_code(error) != "ConditionalCheckFailedException":
                raise

    # --- the bookkeeping of a load in parts ----------------------------------------------------

    def upload_record(self, source_key: str, etag: str) -> dict[str, Any] | None:
        response = self.client.get_item(
            TableName=self.table_name,
            ConsistentRead=True,
            Key=to_attributes(schema.upload_record_key(source_key, etag)),
        )
        item = response.get("Item")
        return from_attributes(item) if item else None

    def begin_load(self, record: dict[str, Any]) -> bool:
        """Write a new load's LOADING record; False if this load (upload) has one already.

        The same content uploaded again under the same key is a new load: its record
        replaces the earlier one's, whatever it said.
        """
        self._counted()
        try:
            self.client.put_item(
                TableName=self.table_name,
                Item=to_attributes(record),
                ConditionExpression="attribute_not_exists(pk) OR uploaded_at <> :uploaded",
                ExpressionAttributeValues=to_attributes({":uploaded": record["uploaded_at"]}),
            )
        except ClientError as error:
            if _error_code(error) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def set_facts(self, source_key: str, etag: str, facts: dict[str, Any]) -> None:
        """Set facts of a load's record (the same values however often)."""
        names = {f"#f{n}": name for n, name in enumerate(facts)}
        values = {f":v{n}": value for n, value in enumerate(facts.values())}
        self._counted()
        self.client.update_item(
            TableName=self.table_name,
            Key=to_attributes(schema.upload_record_key(source_key, etag)),
            UpdateExpression="SET " + ", ".join(f"#f{n} = :v{n}" for n in range(len(facts))),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=to_attributes(values),
        )

    def commit_part(
        self,
        task: PartTask,
        progress: Progress,
        failure: str | None,
        *,
        started_at: str = "",
        finished_at: str = "",
    ) -> dict[str, Any] | None:
        """Record a part as done; the file's record afterwards (None if another upload of the
        file has started since, and this part's load is over).

        The part's first rejected rows go to an item of its own; its counts go into the
        record's ``parts`` map under its number. Both writes set the same values however
        often they are repeated, so a part retried or delivered twice is counted once, and
        the record's map holds exactly the parts done.
        """
        counts = part_counts(progress, failure, started_at, finished_at)
        part_item = part_done_item(task, progress, counts)
        if failure:  # a late failure of a part that was loaded keeps the part's counts
            self._put_if_absent(part_item)
        else:
            self.put_upload_record(part_item)
        # A failure is recorded only where nothing is yet: it never overwrites a success.
        condition = "uploaded_at = :uploaded" + (
            " AND attribute_not_exists(parts.#part)" if failure else ""
        )
        return self._set_parts(task, {task.part: counts}, condition)

    def commit_unreached(self, task: PartTask, reason: str) -> dict[str, Any] | None:
        """Count the parts after ``task`` as failed, where not counted yet: nothing will
        queue them (this part failed before it handed the next one on)."""
        counts = {"rows_read": 0, "rows_loaded": 0, "rows_rejected": 0, "failure": reason}
        later = {part: counts for part in range(task.part + 1, task.parts)}
        return self._set_parts(task, later, "uploaded_at = :uploaded", if_absent=True)

    def _set_parts(
        self, task: PartTask, entries: dict[int, dict], condition: str, if_absent: bool = False
    ) -> dict[str, Any] | None:
        """Set entries of the record's ``parts`` map; the record afterwards, or None if
        another upload of the file has started since."""
        names = {f"#p{part}": f"{part:06d}" for part in entries}
        values = {f":c{part}": counts for part, counts in entries.items()}
        sets = [
            f"parts.#p{part} = "
            + (f"if_not_exists(parts.#p{part}, :c{part})" if if_absent else f":c{part}")
            for part in entries
        ]
        if "#part" in condition:
            names["#part"] = f"{task.part:06d}"
        self._counted()
        try:
            response = self.client.update_item(
                TableName=self.table_name,
                Key=to_attributes(schema.upload_record_key(task.key, task.etag)),
                UpdateExpression="SET " + ", ".join(sets),
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=to_attributes({**values, ":uploaded": task.uploaded_at}),
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if _error_code(error) != "ConditionalCheckFailedException":
                raise
            record = self.upload_record(task.key, task.etag)
            return record if record and record.get("uploaded_at") == task.uploaded_at else None
        return from_attributes(response["Attributes"])

    def committed_parts(self, task: PartTask) -> Iterator[dict[str, Any]]:
        pages = self.client.get_paginator("query").paginate(
            TableName=self.table_name,
            ConsistentRead=True,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :part)",
            ExpressionAttributeValues=to_attributes(
                {
                    ":pk": schema.load_partition(task.key, task.etag, task.uploaded_at),
                    ":part": "PART#",
                }
            ),
        )
        for page in pages:
            for item in page["Items"]:
                yield from_attributes(item)

    def claim_finish(self, source_key: str, etag: str, uploaded_at: str, who: str) -> bool:
        """Whether ``who`` may finish this upload of the file: the first to ask while it is
        loading, or the same one again (its retry)."""
        self._counted()
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key=to_attributes(schema.upload_record_key(source_key, etag)),
                UpdateExpression="SET finisher = :who",
                ConditionExpression=(
                    "#status = :loading AND uploaded_at = :uploaded"
                    " AND (attribute_not_exists(finisher) OR finisher = :who)"
                ),
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=to_attributes(
                    {":who": who, ":loading": "LOADING", ":uploaded": uploaded_at}
                ),
            )
        except ClientError as error:
            if _error_code(error) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def put_final_record(self, record: dict[str, Any]) -> None:
        """Write a finished upload's record, unless another finisher or upload took over."""
        self._counted()
        try:
            self.client.put_item(
                TableName=self.table_name,
                Item=to_attributes(record),
                ConditionExpression="finisher = :who AND uploaded_at = :uploaded",
                ExpressionAttributeValues=to_attributes(
                    {":who": record["finisher"], ":uploaded": record["uploaded_at"]}
                ),
            )
        except ClientError as error:
            if _error_code(error) != "ConditionalCheckFailedException":
                raise

    def was_queued(self, task: PartTask) -> bool:
        response = self.client.get_item(
            TableName=self.table_name,
            ConsistentRead=True,
            ProjectionExpression="pk",
            Key=to_attributes(
                schema.part_queued_key(task.key, task.etag, task.uploaded_at, task.part)
            ),
        )
        return "Item" in response

    def mark_queued(self, task: PartTask) -> None:
        self.put_upload_record(
            {
                **schema.part_queued_key(task.key, task.etag, task.uploaded_at, task.part),
                **schema.expiry(task.expires_at),
            }
        )


class PartsQueue:
    """The SQS queue that hands parts of a file to other invocations of the function."""

    def __init__(self, sqs_client, queue_url: str, retry_base_s: int = 30) -> None:
        self.sqs = sqs_client
        self.queue_url = queue_url
        self.retry_base_s = retry_base_s

    def send(self, task: PartTask, delay_s: int = 0) -> None:
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


class Notifier:
    def __init__(self, sns_client, topic_arn: str) -> None:
        self.sns = sns_client
        self.topic_arn = topic_arn

    def publish(self, subject: str, message: str) -> None:
        self.sns.publish(TopicArn=self.topic_arn, Subject=subject, Message=message)
