"""The Lambda entry point: decode the S3 event, wire the pieces, report each file."""

from __future__ import annotations

import json
import logging
import os
import sys

import boto3
from botocore.config import Config as BotoConfig

from lineup_ingest import report as reports
from lineup_ingest.adapters import LineupTable, Notifier, UploadBucket
from lineup_ingest.config import Config
from lineup_ingest.dynamodb_http import batch_writer
from lineup_ingest.events import EventError, uploaded_objects
from lineup_ingest.ingest import Ingestion
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


class IngestRetryError(Exception):
    """At least one file could not be loaded for a reason a retry may cure."""


def lambda_handler(event: dict, context) -> dict:
    budget = RetryBudget(context.get_remaining_time_in_millis, reserve_ms=CONFIG.reserve_ms)
    # Batch writes skip boto3's per-request machinery, 2/3 of the Lambda's CPU (profiled):
    # in AWS and LocalStack they go over DynamoDBHttp with the client's endpoint and the
    # session's credentials; moto answers them through botocore's before-send event, and a
    # test's fake client in place of DYNAMODB gets them itself.
    table = LineupTable(DYNAMODB, CONFIG.table_name, budget,
                        writer=batch_writer(DYNAMODB, SESSION.get_credentials()))
    ingestion = Ingestion(UploadBucket(S3), table)
    notifier = Notifier(SNS, CONFIG.topic_arn)
    log_group = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")

    try:
        uploads = uploaded_objects(event)
    except EventError as error:
        # Retrying cannot help an event that names no object: say so and succeed.
        LOG.warning("ignored an event: %s", error)
        return {"files": [], "ignored": str(error)}

    outcomes = []
    for upload in uploads:
        outcome = ingestion.run(upload, context.aws_request_id, log_group)
        notifier.publish(reports.subject(outcome), reports.body(outcome))
        facts = outcome.facts()
        LOG.info(
            "%s %s: %d loaded, %d rejected",
            facts["status"], facts["file"], facts["rows_loaded"], facts["rows_rejected"],
            extra={**facts, "write_requests": table.write_requests,
                   "python": ".".join(map(str, sys.version_info[:3]))},
        )
        outcomes.append(facts)

    retry = [facts["file"] for facts in outcomes if facts["will_retry"]]
    if retry:
        # Failing the invocation hands the event to Lambda's retries and then to the
        # failure destination, so a file that keeps failing is never silently dropped.
        raise IngestRetryError(f"not loaded, will retry: {json.dumps(retry)}")
    return {"files": [{k: f[k] for k in ("file", "status", "rows_loaded")} for f in outcomes]}
