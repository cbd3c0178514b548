"""The Lambda entry point: an S3 event starts loading files or removes a deleted file's rows,
a parts-queue message loads a part."""

from __future__ import annotations

import logging
import os
import resource
import sys

import boto3
from botocore.config import Config as BotoConfig

from lineup_ingest import report as reports
from lineup_ingest.adapters import LineupTable, Notifier, PartsQueue, UploadBucket
from lineup_ingest.config import Config
from lineup_ingest.dynamodb_http import batch_writer
from lineup_ingest.events import EventError, RemovedObject, object_events
from lineup_ingest.filenames import is_lineup_name
from lineup_ingest.ingest import Ingestion, LoadSettings, PartFailedError
from lineup_ingest.parts import PartTask
from lineup_ingest.removal import Removal
from lineup_ingest.retry import RetryBudget

LOG = logging.getLogger("lineup_ingest")
LOG.setLevel(logging.INFO)
# Retries of throttled writes are ours (bounded by the time left); botocore only retries
# connection-level failures once more.
BOTO_CONFIG = BotoConfig(retries={"mode": "standard", "max_attempts": 2})

CONFIG = Config.from_environment()
SESSION = boto3.session.Session()
S3 = SESSION.client("s3", config=BOTO_CONFIG)
# Our items are built by schema.performance_item, and DynamoDB validates every request anyway:
# botocore's client-side check of each attribute was half the Lambda's CPU (profiled).
DYNAMODB = SESSION.client(
    "dynamodb", config=BOTO_CONFIG.merge(BotoConfig(parameter_validation=False))
)
SNS = SESSION.client("sns", config=BOTO_CONFIG)
SQS = SESSION.client("sqs", config=BOTO_CONFIG)


def lambda_handler(event: dict, context) -> dict:
    budget = RetryBudget(context.get_remaining_time_in_millis, reserve_ms=CONFIG.reserve_ms)
    # Batch writes skip boto3's per-request machinery, 2/3 of the Lambda's CPU (profiled):
    # in AWS and LocalStack they go over DynamoDBHttp with the client's endpoint and the
    # session's credentials; moto answers them through botocore's before-send event, and a
    # test's fake client in place of DYNAMODB gets them itself.
    table = LineupTable(DYNAMODB, CONFIG.table_name, budget,
                        writer=batch_writer(DYNAMODB, SESSION.get_credentials()))
    queue = PartsQueue(SQS, CONFIG.parts_queue_url, CONFIG.part_retry_s)
    notifier = Notifier(SNS, CONFIG.topic_arn)

    def notify(report: reports.IngestReport) -> None:
        # Set before the email: the upload's record, written after it, carries it too.
        report.peak_memory_mb = peak_memory_mb()
        notifier.publish(reports.subject(report), reports.body(report))
        facts = report.facts()
        LOG.info(
            "%s %s: %d loaded, %d rejected, peak memory %d MB",
            facts["status"], facts["file"], facts["rows_loaded"], facts["rows_rejected"],
            facts["peak_memory_mb"],
            extra={**facts, "write_requests": table.write_requests,
                   "python": ".".join(map(str, sys.version_info[:3]))},
        )

    def notify_removal(report: reports.RemovalReport) -> None:
        notifier.publish(reports.removal_subject(report), reports.removal_body(report))
        facts = report.facts()
        LOG.info("%s %s: %d rows removed", facts["status"], facts["file"],
                 facts["rows_removed"], extra={**facts, "write_requests": table.write_requests})

    settings = LoadSettings(
        part_bytes=CONFIG.part_bytes, max_file_bytes=CONFIG.max_file_bytes, clock=CONFIG.clock,
        retention_days=CONFIG.retention_days,
    )
    bucket = UploadBucket(S3)
    ingestion = Ingestion(bucket, table, queue, notify, settings)
    records = event.get("Records") if isinstance(event, dict) else None
    if records and isinstance(records[0], dict) and records[0].get("eventSource") == "aws:sqs":
        return _load_parts(ingestion, queue, records, context)
    return _start_uploads(ingestion, Removal(bucket, table, notify_removal), event, context)


def peak_memory_mb() -> int:
    """The peak resident memory of this process so far, in MB as Lambda counts them (MiB).

    A warm process keeps its peak from invocation to invocation, so memory that a file leaves
    behind shows as a climb from one file's log line and record to the next. Linux's VmHWM:
    ru_maxrss would start at the peak of whichever process started this one (it survives
    fork and exec), LocalStack's hundreds of MB on the local stack.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) // 1024  # KiB
    except OSError:  # not Linux
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak // (1024 * 1024 if sys.platform == "darwin" else 1024)


def _start_uploads(ingestion: Ingestion, removal: Removal, event: dict, context) -> dict:
    """Start loading each uploaded file; remove the rows of each deleted one."""
    try:
        announced = object_events(event)
    except EventError as error:
        # Retrying cannot help an event that names no object: say so and succeed.
        LOG.warning("ignored an event: %s", error)
        return {"files": [], "ignored": str(error)}
    log_group = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
    files = []
    for found in announced:
        if isinstance(found, RemovedObject) and not is_lineup_name(found.key):
            status = "IGNORED"  # never loaded (its upload got a FAILED email): no rows
        elif isinstance(found, RemovedObject):
            status = removal.remove(
                found, context.aws_request_id, log_group, context.get_remaining_time_in_millis
            )
        else:
            status = ingestion.start(
                found, context.aws_request_id, log_group, context.get_remaining_time_in_millis
            )
        files.append({"file": found.key, "status": status})
    return {"files": files}


def _load_parts(ingestion: Ingestion, queue: PartsQueue, records: list, context) -> dict:
    """Load each part; report those to retry, which come back after the retry delay.

    On its last delivery a failing part is counted as failed, so that its file still ends
    with one email, and is reported failed once more, so that the queue moves it to the
    failure queue.
    """
    failures = []
    for record in records:
        task = PartTask.from_message(record["body"])
        attempt = int(record.get("attributes", {}).get("ApproximateReceiveCount", "1"))
        try:
            ingestion.run_part(
                task, request_id=context.aws_request_id,
                remaining_ms=context.get_remaining_time_in_millis,
            )
        except PartFailedError as error:
            LOG.warning("part %d of %s failed (attempt %d): %s",
                        task.part + 1, task.key, attempt, error)
            if attempt >= CONFIG.part_attempts:
                try:
                    ingestion.give_up(task, str(error), request_id=context.aws_request_id)
                except Exception:  # the message still goes to the failure queue
                    LOG.exception("part %d of %s could not be counted as failed",
                                  task.part + 1, task.key)
                queue.retry_later(record["receiptHandle"], 0)  # to the failure queue now
            else:
                queue.retry_later(record["receiptHandle"], attempt)
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}
