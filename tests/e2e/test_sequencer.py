"""The events of one key carry increasing sequencers, as on AWS (festival_localstack.s3_sequencer).

LocalStack as shipped writes one constant sequencer into every S3 event; our plugin stamps
each event with the next value of an increasing clock. Seen here as a consumer sees it: a
throwaway bucket notifies a queue of its own, and two uploads of one key within a second
and its deletion must come out ordered by their sequencers.
"""

from __future__ import annotations

import json
import uuid

import pytest

from festival.local import stack
from tests.e2e.conftest import wait_for

pytestmark = pytest.mark.e2e

LOCALSTACK_CONSTANT = "0055AED6DCD90281E5"


def s3_order(sequencer: str, width: int = 64) -> str:
    """As S3 says to compare sequencers: the shorter right-padded with zeros."""
    return sequencer.ljust(width, "0")


@pytest.fixture
def notified_bucket(local_stack):
    """A bucket whose object events go to a queue: (s3 client, bucket, sqs client, queue URL)."""
    s3, sqs = stack.local_client("s3"), stack.local_client("sqs")
    name = f"sequencer-check-{uuid.uuid4().hex[:10]}"
    queue_url = sqs.create_queue(QueueName=name)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    sqs.set_queue_attributes(
        QueueUrl=queue_url,
        Attributes={
            "Policy": json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "s3.amazonaws.com"},
                            "Action": "sqs:SendMessage",
                            "Resource": queue_arn,
                            "Condition": {"ArnLike": {"aws:SourceArn": f"arn:aws:s3:::{name}"}},
                        }
                    ],
                }
            )
        },
    )
    s3.create_bucket(Bucket=name)
    s3.put_bucket_notification_configuration(
        Bucket=name,
        NotificationConfiguration={
            "QueueConfigurations": [
                {
                    "QueueArn": queue_arn,
                    "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"],
                }
            ]
        },
    )
    yield s3, name, sqs, queue_url
    for version in s3.list_objects_v2(Bucket=name).get("Contents", []):
        s3.delete_object(Bucket=name, Key=version["Key"])
    s3.delete_bucket(Bucket=name)
    sqs.delete_queue(QueueUrl=queue_url)


def event_records(sqs, queue_url: str, received: list[dict]) -> list[dict]:
    """Receive and delete what the queue holds; every S3 record received so far."""
    messages = sqs.receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1
    ).get("Messages", [])
    for message in messages:
        # S3 first sends an s3:TestEvent, without Records, when the configuration is set.
        received += json.loads(message["Body"]).get("Records", [])
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return received


def test_two_uploads_within_a_second_and_a_delete_of_one_key_have_increasing_sequencers(
    notified_bucket,
) -> None:
    s3, bucket, sqs, queue_url = notified_bucket
    key = f"lineup-{uuid.uuid4().hex[:10]}.csv"
    first = s3.put_object(Bucket=bucket, Key=key, Body=b"band,stage\nA,Main\n")
    second = s3.put_object(Bucket=bucket, Key=key, Body=b"band,stage\nB,Main\n")
    s3.delete_object(Bucket=bucket, Key=key)

    received: list[dict] = []

    def three_records() -> list[dict] | None:
        records = event_records(sqs, queue_url, received)
        return records if len(records) >= 3 else None

    records = wait_for("three S3 events of the key in the queue", three_records)

    assert len(records) == 3
    assert {record["s3"]["object"]["key"] for record in records} == {key}
    # A standard queue need not keep the order: tell the events apart by what they carry.
    by_event = {
        (record["eventName"], record["s3"]["object"].get("eTag")): record["s3"]["object"][
            "sequencer"
        ]
        for record in records
    }
    in_request_order = [
        by_event[("ObjectCreated:Put", first["ETag"].strip('"'))],
        by_event[("ObjectCreated:Put", second["ETag"].strip('"'))],
        by_event[("ObjectRemoved:Delete", None)],
    ]
    assert LOCALSTACK_CONSTANT not in in_request_order
    assert all(int(sequencer, 16) >= 0 for sequencer in in_request_order)  # hexadecimal
    assert all(sequencer == sequencer.upper() for sequencer in in_request_order)
    padded = [s3_order(sequencer) for sequencer in in_request_order]
    assert padded[0] < padded[1] < padded[2]
