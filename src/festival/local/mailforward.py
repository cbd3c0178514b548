"""Forwards what SNS email subscriptions would send into MailDev, once each.

LocalStack's community edition does not send email: it keeps SNS email deliveries in its
SES store, with the publisher's subject replaced by a constant. So the forwarder
subscribes a queue of its own to every topic that has email subscriptions, and for each
SNS message on that queue sends one email over SMTP to the topic's email subscribers,
with the subject given to Publish. A message is deleted from the queue only after
MailDev accepted it; its SNS MessageId is remembered so a redelivery is not sent twice,
also by a forwarder started again later: the ids sent are appended to a journal
(``--journal``, .local/state/mail-forwarded.txt under `make up`) that a new forwarder reads.

LocalStack logs every request it serves, so an idle forwarder stays quiet: it long-polls
its queue (one request per 20 s, answered at once when a message comes) and lists topics
and subscriptions again only before sending, or every few minutes to find new topics.
Deploying a stack (`festival-local up`) subscribes the queue to its topics at once.
"""

from __future__ import annotations

import argparse
import json
import logging
import smtplib
import time
from collections import OrderedDict
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from festival.settings import LOCAL_ENDPOINT, LOCAL_REGION, local_session

QUEUE_NAME = "festival-lineup-mail-forwarder"
SENDER = "AWS Notifications <no-reply@sns.amazonaws.com>"
DEFAULT_SUBJECT = "AWS Notification Message"  # what SNS uses when Publish has no subject
REMEMBERED_IDS = 10_000
LONG_POLL_S = 20  # SQS's longest wait for a message
RECIPIENTS_FRESH_S = 5.0  # older than this, the email subscribers are read again before sending
DISCOVER_EVERY_S = 300.0  # how often an idle forwarder looks for new topics
LOG = logging.getLogger("festival.mailforward")


class MailForwarder:
    def __init__(
        self,
        session: boto3.Session,
        endpoint: str,
        smtp_host: str,
        smtp_port: int,
        clock: Callable[[], float] = time.monotonic,
        journal: Path | None = None,
    ):
        self.sns = session.client("sns", endpoint_url=endpoint)
        self.sqs = session.client("sqs", endpoint_url=endpoint)
        self.smtp_host = smtp_host
        self.smtp_port = smtp_port
        self.queue_url = self.sqs.create_queue(QueueName=QUEUE_NAME)["QueueUrl"]
        self.queue_arn = self.sqs.get_queue_attributes(
            QueueUrl=self.queue_url, AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        self.recipients: dict[str, list[str]] = {}
        self.sent: OrderedDict[str, None] = OrderedDict()
        self.journal = journal
        if journal is not None:
            self._read_journal(journal)
        self.clock = clock
        self.synced_at: float | None = None

    def sync_subscriptions(self) -> dict[str, list[str]]:
        """Subscribe our queue to each topic with email subscribers; remember who they are."""
        recipients: dict[str, list[str]] = {}
        for page in self.sns.get_paginator("list_topics").paginate():
            for topic in page.get("Topics", []):
                arn = topic["TopicArn"]
                subscriptions = [
                    subscription
                    for sub_page in self.sns.get_paginator("list_subscriptions_by_topic").paginate(
                        TopicArn=arn
                    )
                    for subscription in sub_page.get("Subscriptions", [])
                ]
                emails = [s["Endpoint"] for s in subscriptions if s["Protocol"] == "email"]
                if not emails:
                    continue
                recipients[arn] = emails
                if not any(s["Endpoint"] == self.queue_arn for s in subscriptions):
                    self.sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=self.queue_arn)
                    LOG.info("forwarding %s to %s", arn, ", ".join(emails))
        self.recipients = recipients
        self.synced_at = self.clock()
        return recipients

    def synced_within(self, seconds: float) -> bool:
        return self.synced_at is not None and self.clock() - self.synced_at < seconds

    def poll(self) -> int:
        """One long poll of the queue, forwarding what comes; the number of emails sent."""
        if not self.synced_within(DISCOVER_EVERY_S):
            self.sync_subscriptions()
        return self.forward_pending()

    def forward_pending(self, wait_s: int = LONG_POLL_S) -> int:
        """Send what is on the queue, waiting up to ``wait_s`` for it; the emails sent."""
        messages = self.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=wait_s
        ).get("Messages", [])
        if messages and not self.synced_within(RECIPIENTS_FRESH_S):
            self.sync_subscriptions()  # who subscribes may have changed since
        sent = 0
        for message in messages:
            envelope = json.loads(message["Body"])
            message_id = envelope.get("MessageId", message["MessageId"])
            if message_id not in self.sent:
                recipients = self.recipients.get(envelope.get("TopicArn", ""))
                if recipients is None:
                    self.sync_subscriptions()
                    recipients = self.recipients.get(envelope.get("TopicArn", ""), [])
                if recipients:
                    self._send(envelope, recipients)
                    sent += 1
                self._remember(message_id)
            self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return sent

    def _send(self, envelope: dict, recipients: list[str]) -> None:
        email = EmailMessage()
        email["From"] = SENDER
        email["To"] = ", ".join(recipients)
        email["Subject"] = envelope.get("Subject") or DEFAULT_SUBJECT
        email["X-SNS-Message-Id"] = envelope.get("MessageId", "")
        email["X-SNS-Topic-Arn"] = envelope.get("TopicArn", "")
        email.set_content(envelope.get("Message", ""))
        with smtplib.SMTP(self.smtp_host, self.smtp_port, timeout=10) as smtp:
            smtp.send_message(email)
        LOG.info("sent %r to %s", email["Subject"], email["To"])

    def _remember(self, message_id: str) -> None:
        self.sent[message_id] = None
        while len(self.sent) > REMEMBERED_IDS:
            self.sent.popitem(last=False)
        if self.journal is not None:
            with self.journal.open("a", encoding="utf-8") as journal:
                journal.write(message_id + "\n")

    def _read_journal(self, journal: Path) -> None:
        """Remember the newest ids of the journal; keep it from growing without bound."""
        try:
            ids = [line for line in journal.read_text(encoding="utf-8").splitlines() if line]
        except FileNotFoundError:
            journal.parent.mkdir(parents=True, exist_ok=True)
            return
        for message_id in ids[-REMEMBERED_IDS:]:
            self.sent[message_id] = None
        if len(ids) > 2 * REMEMBERED_IDS:
            kept = journal.with_suffix(".tmp")
            kept.write_text("".join(f"{i}\n" for i in self.sent), encoding="utf-8")
            kept.replace(journal)


def serve(forwarder: MailForwarder) -> None:
    while True:
        try:
            forwarder.poll()
        except (BotoCoreError, ClientError, OSError, smtplib.SMTPException) as error:
            # The emulator or MailDev may be restarting: unsent messages stay on the queue.
            LOG.warning("will retry: %s", error)
            time.sleep(1)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", default=LOCAL_ENDPOINT)
    parser.add_argument("--smtp-host", default="127.0.0.1")
    parser.add_argument("--smtp-port", type=int, default=1025)
    parser.add_argument("--region", default=LOCAL_REGION)
    parser.add_argument("--journal", type=Path, help="where the ids of sent messages are kept")
    arguments = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    session = local_session(arguments.region)
    while True:
        try:
            forwarder = MailForwarder(
                session,
                arguments.endpoint,
                arguments.smtp_host,
                arguments.smtp_port,
                journal=arguments.journal,
            )
            break
        except (BotoCoreError, ClientError) as error:
            LOG.warning("waiting for the emulator at %s: %s", arguments.endpoint, error)
            time.sleep(1)
    serve(forwarder)


if __name__ == "__main__":
    main()
