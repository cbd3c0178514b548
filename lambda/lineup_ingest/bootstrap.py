"""The one place that wires the service to AWS: clients once per process, a table per
invocation (its retries are bounded by that invocation's time)."""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config as BotoConfig

from lineup_ingest import report as reports
from lineup_ingest.adapters import (
    FailureQueueAdapter,
    LineupTable,
    Notifier,
    PartsQueue,
    UploadBucket,
)
from lineup_ingest.config import Config
from lineup_ingest.dynamodb_http import DynamoDBHttp
from lineup_ingest.ingest import LoadSettings
from lineup_ingest.memory import peak_memory_mb
from lineup_ingest.reconcile import SweepSettings
from lineup_ingest.retry import RetryBudget
from lineup_ingest.service import IngestService, Invocation, Steps, wire_steps

LOG = logging.getLogger("lineup_ingest")
# Retries of throttled writes are ours (bounded by the time left); botocore only retries
# connection-level failures once more.
BOTO_CONFIG = BotoConfig(retries={"mode": "standard", "max_attempts": 2})


@dataclass(frozen=True)
class Clients:
    """The AWS clients of one process (a test may swap one for a faulty double)."""

    s3: Any
    dynamodb: Any
    sqs: Any
    sns: Any
    # What the table's batch writes and its reads of a version's rows go through.
    dynamodb_writer: Any


def make_clients(session: boto3.session.Session | None = None) -> Clients:
    session = session or boto3.session.Session()
    # Our items are built by schema.performance_item, and DynamoDB validates every request
    # anyway: botocore's client-side check of each attribute was half the Lambda's CPU
    # (profiled).
    dynamodb = session.client(
        "dynamodb", config=BOTO_CONFIG.merge(BotoConfig(parameter_validation=False))
    )
    return Clients(
        s3=session.client("s3", config=BOTO_CONFIG),
        dynamodb=dynamodb,
        sqs=session.client("sqs", config=BOTO_CONFIG),
        sns=session.client("sns", config=BOTO_CONFIG),
        # Batch writes skip boto3's per-request machinery, 2/3 of the Lambda's CPU
        # (profiled): they go over DynamoDBHttp with the client's endpoint and the
        # session's credentials (moto answers them through botocore's before-send event).
        # Made once per process, so its connections are kept across invocations.
        dynamodb_writer=DynamoDBHttp.for_client(dynamodb, session.get_credentials()),
    )


def build_service(config: Config, clients: Clients | None = None) -> IngestService:
    clients = clients or make_clients()
    queue = PartsQueue(clients.sqs, config.parts_queue_url, config.part_retry_s)
    notifier = Notifier(clients.sns, config.topic_arn)
    bucket = UploadBucket(clients.s3)
    failures = FailureQueueAdapter(clients.sqs, config.failure_queue_url)
    sweep_settings = SweepSettings(
        fence_s=config.fence_s, stuck_after_s=config.stuck_after_s, prefix=config.upload_prefix
    )
    settings = LoadSettings(
        part_bytes=config.part_bytes,
        max_file_bytes=config.max_file_bytes,
        clock=config.clock,
        time_zone=config.time_zone,
        retention_days=config.retention_days,
    )

    def steps_for(invocation: Invocation) -> Steps:
        budget = RetryBudget(invocation.remaining_ms, reserve_ms=config.reserve_ms)
        table = LineupTable(
            clients.dynamodb, config.table_name, budget, writer=clients.dynamodb_writer
        )

        def notify(report: reports.IngestReport) -> None:
            # Set before the email: the upload's record, written after it, carries it too.
            report.peak_memory_mb = peak_memory_mb()
            notifier.publish(reports.subject(report), reports.body(report))
            log_outcome(report, table.write_requests)

        def notify_removal(report: reports.RemovalReport) -> None:
            notifier.publish(reports.removal_subject(report), reports.removal_body(report))
            facts = report.facts()
            LOG.info(
                "%s %s: %d rows removed",
                facts["status"],
                facts["file"],
                facts["rows_removed"],
                extra={**facts, "write_requests": table.write_requests},
            )

        return wire_steps(
            bucket=bucket,
            table=table,
            queue=queue,
            failures=failures,
            notify=notify,
            notify_removal=notify_removal,
            settings=settings,
            sweep_settings=sweep_settings,
            bucket_name=config.bucket_name,
            remaining_ms=invocation.remaining_ms,
        )

    return IngestService(steps_for, queue, config.part_attempts)


def log_outcome(report: reports.IngestReport, write_requests: int) -> None:
    """One structured log line per file, for CloudWatch Logs Insights."""
    facts = report.facts()
    LOG.info(
        "%s %s: %d loaded, %d rejected, peak memory %d MB",
        facts["status"],
        facts["file"],
        facts["rows_loaded"],
        facts["rows_rejected"],
        facts["peak_memory_mb"],
        extra={
            **facts,
            "write_requests": write_requests,
            "python": ".".join(map(str, sys.version_info[:3])),
        },
    )
