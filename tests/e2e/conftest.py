"""End-to-end helpers: upload through S3, then watch DynamoDB, the logs and MailDev."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

import pytest
import requests

from festival.local import stack
from festival.local.deploy import DeployTarget, cli_path, deploy_local
from festival.local.mailforward import MailForwarder
from festival.local.paths import (
    LOCAL_EMAIL,
    LOCAL_LAMBDA_RUNTIME,
    MAIL_WEB_URL,
    SMTP_PORT,
    LocalPaths,
)
from festival.settings import LOCAL_CREDENTIALS, LOCAL_ENDPOINT, local_session
from festival.stack import outputs_of
from lineup_ingest import schema

T = TypeVar("T")
DEADLINE_S = 60.0
# Statuses of a record whose outcome is not final yet (lifecycle.Status).
RUNNING = frozenset({"LOADING", "REPORTING", "REMOVING"})


def wait_for(what: str, probe: Callable[[], T | None], deadline_s: float = DEADLINE_S) -> T:
    """Poll until ``probe`` returns something truthy, or fail saying what never happened."""
    deadline = time.monotonic() + deadline_s
    delay = 0.05
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {deadline_s:.0f} s waiting for {what}")
        time.sleep(delay)
        delay = min(delay * 2, 0.5)


@dataclass
class Pipeline:
    bucket: str
    prefix: str
    table: str
    function: str

    def __post_init__(self) -> None:
        self.s3 = stack.local_client("s3")
        self.dynamodb = stack.local_client("dynamodb")
        self.logs = stack.local_client("logs")

    def unique_key(self, name: str = "lineup.csv", prefix: str | None = None) -> str:
        stem, _, suffix = name.rpartition(".")
        return f"{self.prefix if prefix is None else prefix}{stem}-{uuid.uuid4().hex[:10]}.{suffix}"

    def upload(self, key: str, body: bytes) -> None:
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=body)

    def head(self, key: str) -> dict | None:
        """The file's head item (which version is current), read consistently."""
        found = self.dynamodb.get_item(
            TableName=self.table,
            Key={name: {"S": value} for name, value in schema.head_key(key).items()},
            ConsistentRead=True,
        )
        return found.get("Item")

    def current_version(self, key: str) -> str | None:
        """The version queries answer from (None: deleted, or never loaded)."""
        head = self.head(key) or {}
        return head["current"]["S"] if "current" in head else None

    def _version_pages(self, key: str, version: str, **arguments) -> Iterator[dict]:
        for partition in schema.file_partitions(key, version):
            yield from self.dynamodb.get_paginator("query").paginate(
                TableName=self.table,
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": {"S": partition}},
                ConsistentRead=True,
                **arguments,
            )

    def version_items(self, key: str, version: str, only: str | None = None) -> list[dict]:
        """Every performance item of one version of a file (a Query on each partition),
        with only the attribute named if one is (a 300,000-row file reads faster)."""
        projection = {"ProjectionExpression": only} if only else {}
        return [
            item
            for page in self._version_pages(key, version, **projection)
            for item in page["Items"]
        ]

    def version_count(self, key: str, version: str) -> int:
        """How many performance items one version of a file has (Select=COUNT)."""
        return sum(page["Count"] for page in self._version_pages(key, version, Select="COUNT"))

    def version_left(self, key: str, version: str) -> bool:
        """Whether any performance item of one version is left: one item asked of each
        partition, so that waiting for a collection does not slow it (a COUNT reads every
        item, and the emulator serves one request at a time)."""
        return any(
            self.dynamodb.query(
                TableName=self.table,
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": {"S": partition}},
                ProjectionExpression="pk",
                Limit=1,
                ConsistentRead=True,
            )["Items"]
            for partition in schema.file_partitions(key, version)
        )

    def any_version_left(self, key: str) -> bool:
        return any(self.version_left(key, version) for version in self.versions(key))

    def items_of(self, key: str) -> list[dict]:
        """The performance items queries answer from: those of the file's current version
        (none once it is deleted, or if no version loaded)."""
        version = self.current_version(key)
        return [] if version is None else self.version_items(key, version)

    def versions(self, key: str) -> list[str]:
        """Every upload version of the file that has a record, oldest first."""
        return [record["version"]["S"] for record in self.upload_records(key, loading=True)]

    def items_of_every_version(self, key: str, only: str | None = None) -> list[dict]:
        """What is left in the table of any version of the file, current or not."""
        return [item for v in self.versions(key) for item in self.version_items(key, v, only)]

    def count_of_every_version(self, key: str) -> int:
        return sum(self.version_count(key, version) for version in self.versions(key))

    def records(self, key: str) -> list[dict]:
        """Every record of the file: its upload versions' and its removals'."""
        pages = self.dynamodb.get_paginator("query").paginate(
            TableName=self.table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :file)",
            ExpressionAttributeValues={
                ":pk": {"S": schema.UPLOADS_PARTITION},
                ":file": {"S": schema.head_key(key)["sk"] + "#"},
            },
            ConsistentRead=True,
        )
        return [item for page in pages for item in page["Items"] if item["file"]["S"] == key]

    def upload_records(self, key: str, loading: bool = False) -> list[dict]:
        response = self.dynamodb.query(
            TableName=self.table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :file)",
            ExpressionAttributeValues={
                ":pk": {"S": schema.UPLOADS_PARTITION},
                ":file": {"S": schema.upload_record_key(key, "")["sk"]},
            },
        )
        # A load writes its record first, as LOADING, and decides its outcome before its
        # email (REPORTING): only finished loads count here, unless asked for.
        return [
            item
            for item in response["Items"]
            if item["file"]["S"] == key and (loading or item["status"]["S"] not in RUNNING)
        ]

    def emails_about(self, key: str) -> list[dict]:
        """Captured emails whose body names this object (each test's key is unique)."""
        emails = requests.get(f"{MAIL_WEB_URL}/api/email", timeout=5).json()
        return [email for email in emails if f"/{key} " in email.get("text", "")]

    def wait_for_email(self, key: str) -> dict:
        return wait_for(f"an email about {key}", lambda: self.emails_about(key))[0]

    def log_messages(self) -> list[str]:
        pages = self.logs.get_paginator("filter_log_events").paginate(
            logGroupName=f"/aws/lambda/{self.function}"
        )
        return [event["message"] for page in pages for event in page["events"]]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A module with ``RUNS_LAST = True`` restarts the stack (test_restart.py): its tests run
    after every other, whose session fixtures hold the bucket and table names it replaces."""
    items.sort(key=lambda item: bool(getattr(getattr(item, "module", None), "RUNS_LAST", False)))


@pytest.fixture(scope="session")
def pipeline(local_stack) -> Pipeline:
    outputs = local_stack.outputs
    return Pipeline(
        bucket=outputs["UploadBucketName"],
        prefix=outputs["UploadPrefix"],
        table=outputs["TableName"],
        function=outputs["FunctionName"],
    )


# A second stack of the same template, with parameters lowered so that small files load in
# many parts and failed parts are retried within seconds. Its reconcile sweep runs only
# when a test runs it (`festival reconcile --stack festival-lineup-parts`): the schedule
# names a day in 2099 (the last year LocalStack's cron accepts), so no sweep drains its
# failure queue behind a test's back.
# LocalStack 4.14 does not update an existing rule (AWS::Events::Rule has no update there:
# the stack's parameter changes, the rule keeps its schedule), so a parts stack deployed
# before this parameter still sweeps every 15 minutes: tests must allow for that sweep.
PARTS_STACK = "festival-lineup-parts"
# Parts of 256 KiB (about 3,700 tricky rows), so that a file of a megabyte makes several.
PART_BYTES = 262_144
PARTS_PARAMETERS = {
    "PartBytes": str(PART_BYTES),
    "PartConcurrency": "3",
    "PartAttempts": "2",
    "PartRetrySeconds": "1",
    "FunctionTimeout": "60",
    "ReconcileSchedule": "cron(0 0 1 1 ? 2099)",
}


@dataclass
class PartsPipeline(Pipeline):
    failure_queue_url: str = ""


@pytest.fixture(scope="session")
def parts_pipeline(local_stack) -> PartsPipeline:
    paths = LocalPaths.default()
    target = DeployTarget(
        cli=[cli_path("awslocal")],
        artifacts_bucket=stack.ARTIFACTS_BUCKET,
        stack_name=PARTS_STACK,
        env=LOCAL_CREDENTIALS,
        parameters={
            "NotificationEmail": LOCAL_EMAIL,
            "LambdaRuntime": LOCAL_LAMBDA_RUNTIME,
            **PARTS_PARAMETERS,
        },
    )
    if deploy_local(paths, target, stack.local_client):
        outputs = outputs_of(stack.local_client("cloudformation"), PARTS_STACK)
        stack.wait_until_function_ready(outputs["FunctionName"])
    outputs = outputs_of(stack.local_client("cloudformation"), PARTS_STACK)
    # Email this stack's reports too, from now on.
    MailForwarder(local_session(), LOCAL_ENDPOINT, "127.0.0.1", SMTP_PORT).sync_subscriptions()
    return PartsPipeline(
        bucket=outputs["UploadBucketName"],
        prefix=outputs["UploadPrefix"],
        table=outputs["TableName"],
        function=outputs["FunctionName"],
        failure_queue_url=outputs["FailureQueueUrl"],
    )
