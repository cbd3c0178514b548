"""A running explorer follows its stack: deployed again under new names (as `make down` and
`make up` do locally), it answers without a restart; and its error pages say what helps.

In-memory AWS (moto) holds the tables and buckets; CloudFormation is a small fake naming the
stack's current ones (moto's needs packages the project does not install).
"""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from moto import mock_aws

from festival.explorer import create_app
from festival.explorer.stack import DeployedStack, OnFirstUse
from festival.settings import LOCAL_ENDPOINT, STACK_NAME
from tests.functional.moto_lineup import MotoLineup
from tests.functional.test_explorer import page, shown_sets, words

pytestmark = pytest.mark.functional

REGION = "us-east-1"
SEED = Path(__file__).resolve().parents[2] / "seed" / "lineup.csv"
STACK = STACK_NAME
PERFORMER_PAGE = "/performer?name=Olivia+Rodrigo"


class StackOutputs:
    """CloudFormation's DescribeStacks for one stack, whose outputs the test changes."""

    def __init__(self) -> None:
        self.lineup: MotoLineup | None = None  # None: the stack is not deployed
        self.unreachable = False  # as when the local stack is down
        self.reads = 0

    def describe_stacks(self, StackName: str) -> dict:  # noqa: N803 (boto3's name)
        self.reads += 1
        if self.unreachable:
            raise EndpointConnectionError(endpoint_url=f"{LOCAL_ENDPOINT}/")
        if self.lineup is None:
            raise ClientError(
                {
                    "Error": {
                        "Code": "ValidationError",
                        "Message": f"Stack {StackName} does not exist",
                    }
                },
                "DescribeStacks",
            )
        outputs = {"TableName": self.lineup.name, "UploadBucketName": self.lineup.name}
        outputs["UploadPrefix"] = "uploads/"
        return {
            "Stacks": [
                {"Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in outputs.items()]}
            ]
        }


class Session:
    """boto3's session as the explorer uses it: CloudFormation from ``outputs``, the rest moto."""

    def __init__(self, outputs: StackOutputs) -> None:
        self.outputs = outputs

    def client(self, service: str, endpoint_url: str | None = None):
        if service == "cloudformation":
            return self.outputs
        return boto3.client(service, region_name=REGION)


@pytest.fixture
def aws(monkeypatch):
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        yield


def deploy(outputs: StackOutputs) -> MotoLineup:
    """The stack deployed (again): a table and bucket of new names, the seed lineup loaded."""
    lineup = MotoLineup(
        boto3.client("s3", region_name=REGION), boto3.client("dynamodb", region_name=REGION)
    )
    report = lineup.load("uploads/lineup.csv", SEED.read_bytes())
    assert report.rows_loaded == 24
    outputs.lineup = lineup
    return lineup


def tear_down(lineup: MotoLineup) -> None:
    """What stopping the emulator does to the stack's resources: gone."""
    lineup.dynamodb.delete_table(TableName=lineup.name)
    for key in lineup.object_keys():
        lineup.s3.delete_object(Bucket=lineup.name, Key=key)
    lineup.s3.delete_bucket(Bucket=lineup.name)


def explorer(outputs: StackOutputs, local: bool = True):
    stack = DeployedStack(Session(outputs), None, STACK)  # type: ignore[arg-type]
    app = create_app(
        OnFirstUse(stack.queries),
        OnFirstUse(stack.uploader),
        stack=STACK,
        local=local,
        now=lambda: datetime(2025, 7, 12, 22, 40),
    )
    return app.test_client()


def advice(response) -> str:
    (then,) = page(response).find("then")
    return words(then.text)


def test_a_running_explorer_answers_from_the_stack_deployed_again_under_new_names(aws):
    outputs = StackOutputs()
    first = deploy(outputs)
    client = explorer(outputs)
    before = client.get(PERFORMER_PAGE)
    assert before.status_code == 200
    sets = shown_sets(page(before))
    assert sets and all(performer == "Olivia Rodrigo" for performer, *_ in sets)

    tear_down(first)
    second = deploy(outputs)
    assert second.name != first.name

    after = client.get(PERFORMER_PAGE)

    assert after.status_code == 200, words(page(after).text)
    assert shown_sets(page(after)) == sets
    assert client.get("/uploads").status_code == 200


def test_an_upload_after_a_redeploy_goes_whole_to_the_new_bucket(aws):
    outputs = StackOutputs()
    first = deploy(outputs)
    stack = DeployedStack(Session(outputs), None, STACK)  # type: ignore[arg-type]
    uploader = OnFirstUse(stack.uploader)
    assert uploader.bucket == first.name
    tear_down(first)
    second = deploy(outputs)
    body = io.BytesIO(SEED.read_bytes())

    uploaded = uploader.put("uploads/again.csv", body)

    got = second.s3.get_object(Bucket=second.name, Key=uploaded.key)["Body"].read()
    assert got == SEED.read_bytes()  # read again from its start for the second attempt
    assert uploader.bucket == second.name


def test_the_stack_is_read_again_only_when_a_resource_is_gone(aws):
    outputs = StackOutputs()
    deploy(outputs)
    client = explorer(outputs)
    for _ in range(3):
        assert client.get(PERFORMER_PAGE).status_code == 200
    assert outputs.reads == 1


def test_a_stack_deleted_gets_a_page_saying_to_reload_once_deployed_and_reloading_works(aws):
    outputs = StackOutputs()
    first = deploy(outputs)
    client = explorer(outputs)
    assert client.get(PERFORMER_PAGE).status_code == 200
    tear_down(first)
    outputs.lineup = None  # the stack deleted

    failed = client.get(PERFORMER_PAGE)

    assert failed.status_code == 503
    assert words(page(failed).find("problem")[0].text).startswith("The stack is not deployed")
    assert advice(failed).startswith("Reload this page once it is deployed")
    # Doing what it says: deploy, then reload. The same running app answers.
    deploy(outputs)
    assert client.get(PERFORMER_PAGE).status_code == 200


def test_a_table_still_missing_after_a_second_look_says_to_deploy_and_reload(aws):
    outputs = StackOutputs()
    first = deploy(outputs)
    client = explorer(outputs)
    assert client.get(PERFORMER_PAGE).status_code == 200
    tear_down(first)  # the stack still names them: being deployed, or deleted by hand

    failed = client.get(PERFORMER_PAGE)

    assert failed.status_code == 503
    problem = words(page(failed).find("problem")[0].text)
    assert problem.startswith("The stack's table or bucket does not exist")
    assert "Deploy it (make up)" in problem
    assert advice(failed).startswith("Reload this page once it is deployed")
    deploy(outputs)
    assert client.get(PERFORMER_PAGE).status_code == 200


def test_a_local_stack_down_gets_a_page_saying_to_run_make_up_then_reload_which_works(aws):
    outputs = StackOutputs()
    first = deploy(outputs)
    client = explorer(outputs)
    assert client.get(PERFORMER_PAGE).status_code == 200
    tear_down(first)
    outputs.unreachable = True  # make down

    failed = client.get(PERFORMER_PAGE)

    assert failed.status_code == 503
    assert "Start it with make up" in words(page(failed).text)
    assert advice(failed).startswith("Reload this page once make up has finished")
    outputs.unreachable = False  # make up: deployed again, under new names
    deploy(outputs)
    assert client.get(PERFORMER_PAGE).status_code == 200
