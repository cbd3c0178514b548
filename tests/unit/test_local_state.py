"""Saving and restoring the local stack's data (festival.local.state) on in-memory AWS (moto).

A "redeploy" here creates a bucket and a table under new names, as a fresh emulator gives a
redeployed stack; the data must land there exactly, and restoring must send no S3 event.
"""

from __future__ import annotations

import gzip
import json
from decimal import Decimal
from pathlib import Path
from urllib.parse import unquote

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from festival.local import emulator_state, stack, state
from festival.local.mailforward import MailForwarder
from festival.local.paths import LocalPaths
from festival.settings import STACK_NAME
from festival_localstack import versions
from tests.cfn import table_definition
from tests.unit.test_mailforward import TOPIC, Clock, FakeAws
from tests.unit.test_mailforward import outbox as outbox  # noqa: F401 - the fixture

REGION = "us-east-1"
# No emulator here: the in-process routes are absent, so a Scan and undated objects are used.
NO_ROUTES = "http://127.0.0.1:9"


class FakeCloudFormation:
    """DescribeStacks as CloudFormation answers it (moto's needs packages we do not install):
    one of our stacks, one being deleted, and a stack of another template."""

    STACKS = [
        {
            "StackName": STACK_NAME,
            "StackStatus": "UPDATE_COMPLETE",
            "Parameters": [{"ParameterKey": "NotificationEmail", "ParameterValue": "a@b.c"}],
            "Outputs": [
                {"OutputKey": "UploadBucketName", "OutputValue": "bucket-v1"},
                {"OutputKey": "TableName", "OutputValue": "table-v1"},
                {"OutputKey": "UploadPrefix", "OutputValue": "uploads/"},
            ],
        },
        {"StackName": "going", "StackStatus": "DELETE_IN_PROGRESS", "Outputs": []},
        {
            "StackName": "someone-elses",
            "StackStatus": "CREATE_COMPLETE",
            "Outputs": [{"OutputKey": "TableName", "OutputValue": "theirs"}],
        },
    ]

    def get_paginator(self, operation: str):
        assert operation == "describe_stacks"
        stacks = self.STACKS

        class Pages:
            def paginate(self):
                return [{"Stacks": stacks}]

        return Pages()


ITEMS = [
    {
        "pk": {"S": "PERF#olivia rodrigo"},
        "sk": {"S": "2025-07-12T22:30#Main Stage"},
        "performer": {"S": "Sigur Rós"},
        "expires_at": {"N": "1767225600"},
        "rows": {"N": "24.5"},
        "tags": {"SS": ["a", "b"]},
        "nested": {"M": {"list": {"L": [{"N": "1"}, {"S": "x"}, {"NULL": True}]}}},
        "raw": {"B": "AAEC/w=="},
        "raws": {"BS": ["AA==", "/w=="]},
        "flag": {"BOOL": False},
    },
    *[
        {"pk": {"S": f"P#{n % 7}"}, "sk": {"S": f"S#{n:05d}"}, "n": {"N": str(n)}}
        for n in range(60)
    ],
]


@pytest.fixture
def aws():
    with mock_aws():
        yield {name: boto3.client(name, region_name=REGION) for name in ("s3", "dynamodb", "sqs")}


def client_of(aws):
    return lambda name: aws.get(name) or FakeCloudFormation()


def make_stack_data(aws, bucket: str, table: str) -> str:
    """A bucket that notifies a queue of each new object, and a table; the queue's URL."""
    aws["s3"].create_bucket(Bucket=bucket)
    aws["dynamodb"].create_table(TableName=table, **table_definition())
    queue = aws["sqs"].create_queue(QueueName=f"{bucket}-events")["QueueUrl"]
    arn = aws["sqs"].get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    aws["s3"].put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}]
        },
    )
    return queue


def drain(sqs, queue: str) -> list[dict]:
    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
    events = [json.loads(m["Body"]) for m in messages]
    for message in messages:
        sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
    return [e for e in events if "Records" in e]


def scan(dynamodb, table: str) -> list[dict]:
    pages = dynamodb.get_paginator("scan").paginate(TableName=table)
    found = [item for page in pages for item in page["Items"]]
    return sorted(found, key=lambda item: (item["pk"]["S"], item["sk"]["S"]))


def test_a_saved_stack_comes_back_under_new_names_exactly_and_without_s3_events(aws, tmp_path):
    old_queue = make_stack_data(aws, "bucket-v1", "table-v1")
    aws["s3"].put_object(
        Bucket="bucket-v1",
        Key="uploads/lineup.csv",
        Body=b"performer,stage\nSigur R\xc3\xb3s,Main\n",
        ContentType="text/csv",
        Metadata={"timezone": "Europe/Oslo"},
    )
    aws["s3"].put_object(Bucket="bucket-v1", Key="uploads/empty.csv", Body=b"")
    aws["dynamodb"].batch_write_item(
        RequestItems={
            "table-v1": [
                {"PutRequest": {"Item": {k: state.to_client(v) for k, v in item.items()}}}
                for item in ITEMS[:25]
            ]
        }
    )
    state.write_items(aws["dynamodb"], "table-v1", ITEMS[25:])
    before = scan(aws["dynamodb"], "table-v1")
    saved_heads = {
        key: aws["s3"].head_object(Bucket="bucket-v1", Key=key)
        for key in ("uploads/lineup.csv", "uploads/empty.csv")
    }
    drain(aws["sqs"], old_queue)

    folder = tmp_path / "emulator"
    figures = state.save(folder, NO_ROUTES, client_of(aws))

    assert (figures.stacks, figures.objects, figures.items) == (1, 2, len(ITEMS))
    with gzip.open(folder / STACK_NAME / state.ITEMS_FILE, "rt") as saved:
        assert len(saved.read().splitlines()) == len(ITEMS)

    # The emulator restarts empty: the stack is deployed again, with new names.
    new_queue = make_stack_data(aws, "bucket-v2", "table-v2")
    configuration = aws["s3"].get_bucket_notification_configuration(Bucket="bucket-v2")
    deployed = []

    def redeploy(saved: state.SavedStack) -> dict[str, str]:
        deployed.append(saved.name)
        return {**saved.outputs, "UploadBucketName": "bucket-v2", "TableName": "table-v2"}

    restored = state.restore(folder, NO_ROUTES, client_of(aws), redeploy)

    assert deployed == [STACK_NAME]
    assert state.saved_stacks(folder)[0].parameters == {"NotificationEmail": "a@b.c"}
    assert (restored.stacks, restored.objects, restored.items) == (1, 2, len(ITEMS))
    # Items: every attribute as it was (numbers, sets, binary, nested maps).
    assert scan(aws["dynamodb"], "table-v2") == before
    got = aws["s3"].get_object(Bucket="bucket-v2", Key="uploads/lineup.csv")
    assert got["Body"].read() == b"performer,stage\nSigur R\xc3\xb3s,Main\n"
    assert (got["ContentType"], got["Metadata"]) == ("text/csv", {"timezone": "Europe/Oslo"})
    assert got["ETag"] == saved_heads["uploads/lineup.csv"]["ETag"]
    # No event for a restored object, and the notification is back as it was...
    assert drain(aws["sqs"], new_queue) == []
    after = aws["s3"].get_bucket_notification_configuration(Bucket="bucket-v2")
    assert after["QueueConfigurations"] == configuration["QueueConfigurations"]
    # ...so the next real upload is notified.
    aws["s3"].put_object(Bucket="bucket-v2", Key="uploads/next.csv", Body=b"x")
    (event,) = drain(aws["sqs"], new_queue)
    assert unquote(event["Records"][0]["s3"]["object"]["key"]) == "uploads/next.csv"
    # Without the emulator's stamp route, the restore says the dates could not be kept.
    assert restored.notes and "today's date" in restored.notes[0]


def test_a_failed_save_leaves_the_previous_save_whole(aws, tmp_path):
    folder = tmp_path / "emulator"
    folder.mkdir()
    (folder / state.STACKS_FILE).write_text('[{"name": "kept", "parameters": {}, "outputs": {}}]')

    def broken(name: str):
        raise OSError("disk full")

    with pytest.raises(OSError):
        state.save(folder, NO_ROUTES, broken)

    assert [s.name for s in state.saved_stacks(folder)] == ["kept"]


def test_nothing_saved_restores_nothing(tmp_path):
    called = []
    figures = state.restore(tmp_path / "none", NO_ROUTES, lambda name: None, called.append)
    assert (figures.stacks, called) == (0, [])


def test_dynamodb_json_round_trips_through_the_client_form():
    for item in ITEMS:
        wire = {name: state.to_client(value) for name, value in item.items()}
        assert {name: state.from_client(value) for name, value in wire.items()} == item
    assert state.to_client({"B": "AAEC/w=="}) == {"B": b"\x00\x01\x02\xff"}


def test_restoring_many_items_writes_each_once_in_batches_of_25(aws):
    aws["dynamodb"].create_table(TableName="big", **table_definition())
    items = [{"pk": {"S": f"P#{n % 50}"}, "sk": {"S": f"{n:06d}"}} for n in range(2_000)]

    assert state.write_items(aws["dynamodb"], "big", iter(items)) == 2_000
    assert len(scan(aws["dynamodb"], "big")) == 2_000


def test_a_restarted_forwarder_does_not_send_again_what_it_sent_before(tmp_path, outbox):  # noqa: F811
    clock = Clock()
    aws = FakeAws(clock)
    journal = tmp_path / "state" / "mail-forwarded.txt"
    first = MailForwarder(aws, NO_ROUTES, "127.0.0.1", 1025, clock=clock, journal=journal)
    aws.publish("festival-lineup OK: lineup.csv", "24 rows loaded")
    redelivered = list(aws.queue)  # the queue gives it again: deleted too late, or a crash
    assert first.poll() == 1

    aws.queue = redelivered
    again = MailForwarder(aws, NO_ROUTES, "127.0.0.1", 1025, clock=clock, journal=journal)

    assert again.poll() == 0
    assert len(outbox.sent) == 1
    assert journal.read_text().split() == [json.loads(redelivered[0]["Body"])["MessageId"]]
    assert TOPIC in again.recipients


def test_numbers_keep_their_exact_digits():
    item = {"n": {"N": "12345678901234567890.000000000000000001"}}
    assert state.to_client(item["n"]) == item["n"]
    assert Decimal(item["n"]["N"]) == Decimal("12345678901234567890.000000000000000001")


class MotoItem:
    """What the emulator's route reads of a moto item."""

    def __init__(self, number: int) -> None:
        self.number = number

    def to_json(self) -> dict:
        return {"Attributes": {"pk": {"S": f"P#{self.number}"}, "raw": {"B": "AA=="}}}


def test_the_emulators_route_streams_every_item_as_one_json_line_in_few_chunks():
    items = [MotoItem(n) for n in range(emulator_state.LINES_PER_CHUNK * 2 + 1)]

    chunks = list(emulator_state.item_lines(items))

    assert len(chunks) == 3
    lines = b"".join(chunks).decode().splitlines()
    assert [json.loads(line)["pk"]["S"] for line in lines] == [f"P#{n}" for n in range(len(items))]
    assert json.loads(lines[0])["raw"] == {"B": "AA=="}


def test_the_emulator_script_is_pinned_to_the_releases_the_plugin_is_written_for():
    # The emulator is installed with those pins (kit/emulator-constraints.txt).
    assert emulator_state.WRITTEN_FOR == versions.WRITTEN_FOR


class FakeService:
    def __init__(self, log: list[str], name: str) -> None:
        self.log, self.name = log, name

    def is_running(self) -> bool:
        return True

    def stop(self) -> bool:
        self.log.append(f"stop {self.name}")
        return True


@pytest.fixture
def kit(monkeypatch, tmp_path):
    """The local stack's processes as fakes that record what is done to them."""
    log: list[str] = []
    monkeypatch.setattr(
        stack, "services", lambda paths: {n: FakeService(log, n) for n in stack.SERVICE_NAMES}
    )
    monkeypatch.setattr(stack, "localstack_healthy", lambda: True)
    monkeypatch.setattr(stack, "drain_mail_queue", lambda: log.append("drain mail"))
    return log, LocalPaths(tmp_path)


def test_down_saves_after_the_mail_is_forwarded_then_stops_everything(kit, monkeypatch):
    log, paths = kit
    monkeypatch.setattr(state, "save", lambda *args: log.append("save") or state.Figures(1))

    result = stack.down(paths)

    assert log == ["drain mail", "save", "stop mailforward", "stop maildev", "stop localstack"]
    assert result.saved is not None and result.saved.stacks == 1


def test_a_failed_save_stops_nothing_so_the_data_is_still_in_the_emulator(kit, monkeypatch):
    log, paths = kit

    def failing(*args):
        raise ClientError({"Error": {"Code": "InternalError", "Message": "boom"}}, "Scan")

    monkeypatch.setattr(state, "save", failing)

    with pytest.raises(state.StateError, match="saving the local stack's data failed"):
        stack.down(paths)
    assert log == ["drain mail"]


def test_down_without_saving_and_reset_keep_nothing(kit, monkeypatch):
    log, paths = kit
    monkeypatch.setattr(state, "save", lambda *args: log.append("save"))
    (paths.mail_store).mkdir(parents=True)
    (paths.mail_store / "old.eml").write_text("x")
    monkeypatch.setattr(stack, "up", lambda paths, email: log.append(f"up {email}"))

    assert stack.down(paths, save=False).saved is None
    stack.reset(paths, email="me@example.com")

    assert "save" not in log and log[-1] == "up me@example.com"
    assert not paths.saved_state.exists()


def test_a_saved_stack_is_deployed_again_with_the_parameters_the_template_still_declares():
    declared = stack.template_parameters(LocalPaths(Path(stack.__file__).resolve().parents[3]))

    assert {"NotificationEmail", "LambdaRuntime", "PartBytes", "ReconcileSchedule"} <= declared
    assert "UploadBucketName" not in declared  # an output, not a parameter
