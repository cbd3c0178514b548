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

from festival.explorer import create_app
from festival.explorer.stack import DeployedStack, OnFirstUse
from festival.settings import LOCAL_ENDPOINT, STACK_NAME
from tests.functional.moto_lineup import MotoLineup
from tests.functional.test_explorer import page, shown_sets, words
from tests.moto_aws import REGION, in_memory_aws, new_lineup

pytestmark = pytest.mark.functional

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
    with in_memory_aws(monkeypatch):
        yield


def deploy(outputs: StackOutputs) -> MotoLineup:
    """The stack deployed (again): a table and bucket of new names, the seed lineup loaded."""
    lineup = new_lineup()
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


def stack_deleted(outputs: StackOutputs) -> None:
    outputs.lineup = None


def stack_still_naming_them(outputs: StackOutputs) -> None:
    """Being deployed, or its resources deleted by hand."""


def local_stack_down(outputs: StackOutputs) -> None:
    outputs.unreachable = True  # make down


@pytest.mark.parametrize(
    ("what_happened", "problem_says", "advice_says"),
    [
        pytest.param(
            stack_deleted,
            ["The stack is not deployed"],
            "Reload this page once it is deployed",
            id="the stack deleted: reload once deployed",
        ),
        pytest.param(
            stack_still_naming_them,
            ["The stack's table or bucket does not exist", "Deploy it (make up)"],
            "Reload this page once it is deployed",
            id="a table still missing after a second look: deploy and reload",
        ),
        pytest.param(
            local_stack_down,
            ["AWS cannot be reached", "Start it with make up"],
            "Reload this page once make up has finished",
            id="the local stack down: make up, then reload",
        ),
    ],
)
def test_a_stack_gone_gets_a_page_saying_what_helps_and_doing_it_works(
    aws, what_happened, problem_says, advice_says
):
    outputs = StackOutputs()
    first = deploy(outputs)
    client = explorer(outputs)
    assert client.get(PERFORMER_PAGE).status_code == 200
    tear_down(first)
    what_happened(outputs)

    failed = client.get(PERFORMER_PAGE)

    assert failed.status_code == 503
    title, *details = problem_says
    problem = words(page(failed).find("problem")[0].text)
    assert problem.startswith(title)
    assert all(detail in problem for detail in details), problem
    assert advice(failed).startswith(advice_says)
    # Doing what it says: make up (when it was down), deploy, then reload. The same running
    # app answers.
    outputs.unreachable = False
    deploy(outputs)
    assert client.get(PERFORMER_PAGE).status_code == 200
