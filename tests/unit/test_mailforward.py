"""The mail forwarder: quiet while idle (LocalStack logs each request), exact when mail comes."""

from __future__ import annotations

import json
from collections import Counter
from email.message import EmailMessage

import pytest

from festival.local import mailforward
from festival.local.mailforward import MailForwarder
from festival.settings import LOCAL_ENDPOINT

TOPIC = "arn:aws:sns:us-east-1:000000000000:festival-lineup-reports"
QUEUE_ARN = "arn:aws:sqs:us-east-1:000000000000:festival-lineup-mail-forwarder"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class FakeAws:
    """SNS and SQS as the forwarder uses them; counts each request, as LocalStack logs it.

    An empty long poll takes its whole wait on the clock, as SQS makes it last.
    """

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.requests: Counter[str] = Counter()
        self.subscriptions = {TOPIC: [{"Protocol": "email", "Endpoint": "ops@example.com"}]}
        self.queue: list[dict] = []

    def client(self, service: str, endpoint_url: str):
        return self

    def _count(self, operation: str) -> None:
        self.requests[operation] += 1

    def create_queue(self, QueueName: str) -> dict:  # noqa: N803 (boto3's names)
        self._count("CreateQueue")
        return {"QueueUrl": f"{LOCAL_ENDPOINT}/000000000000/forwarder"}

    def get_queue_attributes(self, **_: object) -> dict:
        self._count("GetQueueAttributes")
        return {"Attributes": {"QueueArn": QUEUE_ARN}}

    def get_paginator(self, operation: str):
        aws = self

        class Pages:
            def paginate(self, TopicArn: str = "") -> list[dict]:  # noqa: N803
                aws._count(operation)
                if operation == "list_topics":
                    return [{"Topics": [{"TopicArn": arn} for arn in aws.subscriptions]}]
                return [{"Subscriptions": aws.subscriptions[TopicArn]}]

        return Pages()

    def subscribe(self, TopicArn: str, Protocol: str, Endpoint: str) -> None:  # noqa: N803
        self._count("Subscribe")
        self.subscriptions[TopicArn].append({"Protocol": Protocol, "Endpoint": Endpoint})

    def receive_message(self, WaitTimeSeconds: int, **_: object) -> dict:  # noqa: N803
        self._count("ReceiveMessage")
        if not self.queue:
            self.clock.now += WaitTimeSeconds
            return {}
        messages, self.queue = self.queue, []
        return {"Messages": messages}

    def delete_message(self, **_: object) -> None:
        self._count("DeleteMessage")

    def publish(self, subject: str, text: str) -> None:
        """What SNS puts on the forwarder's queue when the topic is published to."""
        envelope = {
            "MessageId": f"m{len(self.queue)}",
            "TopicArn": TOPIC,
            "Subject": subject,
            "Message": text,
        }
        self.queue.append({"MessageId": "q", "ReceiptHandle": "r", "Body": json.dumps(envelope)})


class Outbox:
    """MailDev, as smtplib reaches it."""

    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []

    def __call__(self, host: str, port: int, timeout: float):
        return self

    def __enter__(self):
        return self

    def __exit__(self, *_: object) -> None:
        pass

    def send_message(self, email: EmailMessage) -> None:
        self.sent.append(email)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def aws(clock) -> FakeAws:
    return FakeAws(clock)


@pytest.fixture
def outbox(monkeypatch) -> Outbox:
    outbox = Outbox()
    monkeypatch.setattr(mailforward.smtplib, "SMTP", outbox)
    return outbox


def forwarder(aws: FakeAws, clock: Clock) -> MailForwarder:
    return MailForwarder(aws, LOCAL_ENDPOINT, "127.0.0.1", 1025, clock=clock)


def test_an_idle_forwarder_sends_a_few_requests_a_minute_not_one_every_few_seconds(aws, clock):
    forwarding = forwarder(aws, clock)
    aws.requests.clear()  # setting up the queue is once per start

    while clock.now < 600:  # ten idle minutes
        forwarding.poll()

    per_minute = sum(aws.requests.values()) / 10
    assert per_minute <= 4, aws.requests
    assert aws.requests["ReceiveMessage"] == 30  # one long poll per 20 s
    assert aws.requests["list_topics"] == 2  # at the start and five minutes later


def test_an_email_goes_to_whoever_subscribes_when_it_is_sent(aws, clock, outbox):
    forwarding = forwarder(aws, clock)
    forwarding.poll()  # idle: learns that ops@example.com subscribes
    aws.subscriptions[TOPIC][0]["Endpoint"] = "oncall@example.com"  # a new deploy's EMAIL
    aws.publish("festival-lineup OK: lineup.csv", "12 rows loaded")

    assert forwarding.poll() == 1

    (email,) = outbox.sent
    assert (email["To"], email["Subject"]) == (
        "oncall@example.com",
        "festival-lineup OK: lineup.csv",
    )
    assert email.get_content().strip() == "12 rows loaded"
    assert aws.requests["DeleteMessage"] == 1


def test_the_queue_is_subscribed_to_a_topic_with_email_subscribers_once(aws, clock):
    forwarding = forwarder(aws, clock)

    forwarding.sync_subscriptions()
    forwarding.sync_subscriptions()

    assert aws.requests["Subscribe"] == 1
    assert {"Protocol": "sqs", "Endpoint": QUEUE_ARN} in aws.subscriptions[TOPIC]
