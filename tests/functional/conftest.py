"""The handler against in-memory AWS (moto): real boto3 calls, no network."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote_plus

import boto3
import pytest
from moto import mock_aws

from lineup_ingest import bootstrap, handler
from lineup_ingest.config import Config
from tests.cfn import table_definition

BUCKET = "festival-uploads"
TABLE = "lineup"
REGION = "us-east-1"


@dataclass
class LambdaContext:
    remaining_ms: int = 300_000
    aws_request_id: str = "request-1"

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


_sequencers = itertools.count(0x0055AED6DCD90281E5)


def s3_event(key: str, etag: str = "", size: int = 0, bucket: str = BUCKET) -> dict:
    """An S3 ObjectCreated notification as AWS sends it: the key is URL-encoded, and the
    sequencer grows with each event (without one, two uploads of a key within a second
    would read as one version, since LastModified has one-second resolution)."""
    return {
        "Records": [
            {
                "eventSource": "aws:s3",
                "eventName": "ObjectCreated:Put",
                "s3": {
                    "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
                    "object": {
                        "key": quote_plus(key, safe="/"),
                        "eTag": etag,
                        "size": size,
                        "sequencer": f"{next(_sequencers):X}",
                    },
                },
            }
        ]
    }


def removal_event(
    key: str,
    *,
    event_name: str = "ObjectRemoved:Delete",
    event_time: str | None = None,
    principal: str = "AWS:AIDAREMOVER",
    source_ip: str = "198.51.100.9",
    bucket: str = BUCKET,
) -> dict:
    """An S3 removal notification as AWS sends it: no ETag nor size, a sequencer, the time
    (now unless given) and who asked."""
    when = event_time or datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    return {
        "Records": [
            {
                "eventSource": "aws:s3",
                "eventName": event_name,
                "eventTime": when,
                "userIdentity": {"principalId": principal},
                "requestParameters": {"sourceIPAddress": source_ip},
                "s3": {
                    "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
                    "object": {
                        "key": quote_plus(key, safe="/"),
                        "sequencer": f"{next(_sequencers):X}",
                    },
                },
            }
        ]
    }


@dataclass
class FakeAws:
    clients: bootstrap.Clients
    # boto3's clients, which have no static types.
    s3: Any
    dynamodb: Any
    sqs: Any
    mailbox_url: str
    parts_url: str
    monkeypatch: pytest.MonkeyPatch

    def rewire(self, **clients: object) -> None:
        """Build the function again from the environment (as a cold start does), with
        some of its clients replaced (a faulty double in place of DynamoDB, say: it takes
        the batch writes too, which the function sends past the boto3 client)."""
        if "dynamodb" in clients:
            clients.setdefault("dynamodb_writer", clients["dynamodb"])
        service = bootstrap.build_service(
            Config.from_environment(), replace(self.clients, **clients)
        )
        # The handler's service, kept while the process stays warm; put back after the test.
        self.monkeypatch.setattr(handler, "_service", service)

    def upload(self, key: str, body: bytes) -> dict:
        """Put the object and return the event S3 would send for it."""
        response = self.s3.put_object(Bucket=BUCKET, Key=key, Body=body)
        return s3_event(key, response["ETag"].strip('"'), len(body))

    def delete(self, key: str) -> dict:
        """Delete the object and return the event S3 would send for it."""
        self.s3.delete_object(Bucket=BUCKET, Key=key)
        return removal_event(key)

    def invoke(self, event: dict, context: LambdaContext | None = None) -> dict:
        return handler.lambda_handler(event, context or LambdaContext())

    def deliver_parts(self, context: LambdaContext | None = None, limit: int = 1000) -> int:
        """Hand the parts queue's messages to the handler one by one, as Lambda's event
        source mapping does (batch size 1, retried messages come back), until it is empty.
        The number of deliveries."""
        delivered = 0
        while delivered < limit:
            messages = self.sqs.receive_message(
                QueueUrl=self.parts_url,
                MaxNumberOfMessages=1,
                AttributeNames=["ApproximateReceiveCount"],
            ).get("Messages", [])
            if not messages:
                return delivered
            (message,) = messages
            event = {
                "Records": [
                    {
                        "eventSource": "aws:sqs",
                        "messageId": message["MessageId"],
                        "receiptHandle": message["ReceiptHandle"],
                        "body": message["Body"],
                        "attributes": message["Attributes"],
                    }
                ]
            }
            result = self.invoke(event, context)
            delivered += 1
            if not result["batchItemFailures"]:
                self.sqs.delete_message(
                    QueueUrl=self.parts_url, ReceiptHandle=message["ReceiptHandle"]
                )
        raise AssertionError(f"the parts queue still had messages after {limit} deliveries")

    def performances(self) -> list[dict]:
        items = self.dynamodb.scan(TableName=TABLE)["Items"]
        return [item for item in items if item["sk"]["S"].startswith("PERF#")]

    def upload_records(self) -> list[dict]:
        items = self.dynamodb.scan(TableName=TABLE)["Items"]
        return [item for item in items if item["pk"]["S"] == "UPLOADS"]

    def emails(self) -> list[dict]:
        """Every SNS message published so far, as {subject, body}."""
        received: list[dict] = []
        while True:
            messages = self.sqs.receive_message(
                QueueUrl=self.mailbox_url, MaxNumberOfMessages=10
            ).get("Messages", [])
            if not messages:
                return received
            for message in messages:
                envelope = json.loads(message["Body"])
                received.append({"subject": envelope.get("Subject"), "body": envelope["Message"]})
                self.sqs.delete_message(
                    QueueUrl=self.mailbox_url, ReceiptHandle=message["ReceiptHandle"]
                )


@pytest.fixture
def aws(monkeypatch) -> Iterator[FakeAws]:
    yield from fake_aws(monkeypatch)


def fake_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAws]:
    """In-memory AWS with the stack's bucket, table, topic and queues, and the handler."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "TABLE_NAME": TABLE,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET)
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        dynamodb.create_table(TableName=TABLE, **table_definition())
        sns = boto3.client("sns", region_name=REGION)
        topic_arn = sns.create_topic(Name="reports")["TopicArn"]
        sqs = boto3.client("sqs", region_name=REGION)
        mailbox_url = sqs.create_queue(QueueName="mailbox")["QueueUrl"]
        mailbox_arn = sqs.get_queue_attributes(QueueUrl=mailbox_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=mailbox_arn)
        monkeypatch.setenv("TOPIC_ARN", topic_arn)
        failures_url = sqs.create_queue(QueueName="failures")["QueueUrl"]
        failures_arn = sqs.get_queue_attributes(QueueUrl=failures_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        parts_url = sqs.create_queue(
            QueueName="parts",
            Attributes={
                "RedrivePolicy": json.dumps(
                    {"deadLetterTargetArn": failures_arn, "maxReceiveCount": "3"}
                ),
            },
        )["QueueUrl"]
        monkeypatch.setenv("PARTS_QUEUE_URL", parts_url)
        # Retried parts come back at once here (the stack's default waits 30 s, doubling).
        monkeypatch.setenv("PART_RETRY_SECONDS", "0")
        clients = bootstrap.make_clients()
        fake = FakeAws(clients, s3, dynamodb, sqs, mailbox_url, parts_url, monkeypatch)
        fake.rewire()
        yield fake
