"""festival.stack, the one face of the deployed stack: its outputs read from CloudFormation
(stubbed with botocore's Stubber, no network), and every AWS failure said for a person, the
same way for `festival` and for the explorer's pages."""

from __future__ import annotations

import ast
from datetime import time
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import (
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    ReadTimeoutError,
)
from botocore.stub import Stubber

from festival.explorer.stack import THEN, explain
from festival.settings import LOCAL_ENDPOINT, LOCAL_REGION
from festival.stack import (
    GONE_CODES,
    READER_POLICY,
    UPLOADER_POLICY,
    StackError,
    Trouble,
    aws_session,
    is_gone,
    lineup_queries,
    stack_day_starts,
    stack_error,
    stack_output,
)

ROOT = Path(__file__).resolve().parents[2]
REGION = "eu-west-1"
STACK = "lineup-stack"


class StubbedSession:
    """Just what festival.stack uses of a boto3 Session: its clients, CloudFormation's
    answering DescribeStacks with the given outputs (None: the stack does not exist)."""

    def __init__(self, outputs: dict[str, str] | None) -> None:
        self.cloudformation = boto3.client(
            "cloudformation", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x"
        )
        stubber = Stubber(self.cloudformation)
        if outputs is None:
            stubber.add_client_error(
                "describe_stacks",
                service_error_code="ValidationError",
                service_message=f"Stack with id {STACK} does not exist",
            )
        else:
            described = [{"OutputKey": key, "OutputValue": value} for key, value in outputs.items()]
            stack_answer = {
                "StackName": STACK,
                "CreationTime": "2025-07-01T00:00:00Z",
                "StackStatus": "CREATE_COMPLETE",
                "Outputs": described,
            }
            stubber.add_response(
                "describe_stacks", {"Stacks": [stack_answer]}, {"StackName": STACK}
            )
        stubber.activate()
        self.endpoints: list[str | None] = []

    def client(self, service: str, endpoint_url: str | None = None):
        self.endpoints.append(endpoint_url)
        if service == "cloudformation":
            return self.cloudformation
        return boto3.client(
            service, region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x"
        )


def client_error(code: str, message: str = "it failed") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, "Query")


# --- Finding the stack -----------------------------------------------------------------------


def test_a_stack_not_deployed_says_how_to_deploy_it():
    with pytest.raises(StackError) as raised:
        stack_output(StubbedSession(None), None, STACK, "TableName")

    assert str(raised.value) == (
        f"stack '{STACK}' does not exist here (deploy it with make up / make deploy-aws,"
        " or pass --stack)"
    )
    assert raised.value.trouble is Trouble.NOT_DEPLOYED


def test_a_stack_without_the_output_is_not_festival_lineups():
    with pytest.raises(StackError, match="has no output TableName: is it festival-lineup's"):
        stack_output(StubbedSession({"BucketName": "theirs"}), None, STACK, "TableName")


def test_the_queries_read_the_table_the_stack_names_through_its_endpoint():
    session = StubbedSession({"TableName": "the-table"})

    queries = lineup_queries(session, LOCAL_ENDPOINT, STACK)

    assert queries.table_name == "the-table"
    assert session.endpoints == [LOCAL_ENDPOINT] * 2  # CloudFormation, then DynamoDB


@pytest.mark.parametrize(
    ("outputs", "day_starts"),
    [({}, time(6, 0)), ({"FestivalDayStarts": "4:30"}, time(4, 30))],
)
def test_the_day_starts_at_the_stacks_output_else_at_six(outputs, day_starts):
    assert stack_day_starts(StubbedSession(outputs), None, STACK) == day_starts


def test_a_day_starts_output_that_is_no_hour_is_a_stack_error():
    session = StubbedSession({"FestivalDayStarts": "dawn"})

    with pytest.raises(StackError, match=f"stack '{STACK}' output FestivalDayStarts"):
        stack_day_starts(session, None, STACK)


def test_the_local_stack_is_reached_at_its_endpoint_and_region_with_its_credentials():
    session, endpoint = aws_session(local=True, profile=None, region=None)

    assert (endpoint, session.region_name) == (LOCAL_ENDPOINT, LOCAL_REGION)
    assert session.get_credentials() is not None


def test_aws_is_reached_through_the_standard_configuration():
    session, endpoint = aws_session(local=False, profile=None, region=REGION)

    assert (endpoint, session.region_name) == (None, REGION)


# --- Saying what went wrong ------------------------------------------------------------------

CONNECTION_REFUSED = EndpointConnectionError(endpoint_url=f"{LOCAL_ENDPOINT}/")


@pytest.mark.parametrize(
    ("error", "local", "trouble", "says"),
    [
        (StackError("stack 'x' does not exist here"), True, Trouble.NOT_DEPLOYED, "stack 'x'"),
        (
            NoCredentialsError(),
            False,
            Trouble.NO_CREDENTIALS,
            "no AWS credentials found: configure a profile, or use --local",
        ),
        (NoRegionError(), False, Trouble.NO_REGION, "--region"),
        (CONNECTION_REFUSED, True, Trouble.UNREACHABLE, "Start it with make up."),
        (CONNECTION_REFUSED, False, Trouble.UNREACHABLE, "Check your network and the region."),
        (client_error("ResourceNotFoundException"), True, Trouble.GONE, "Deploy it (make up)."),
        (client_error("NoSuchBucket"), False, Trouble.GONE, "Deploy it (make deploy-aws)."),
        (client_error("AccessDeniedException"), False, Trouble.DENIED, READER_POLICY),
        (
            client_error("ExpiredTokenException"),
            False,
            Trouble.CREDENTIALS_REFUSED,
            "aws sso login",
        ),
        (client_error("ThrottlingException"), False, Trouble.CALL_FAILED, "AWS call failed: "),
        (ReadTimeoutError(endpoint_url="x"), False, Trouble.OTHER, "AWS call failed: "),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else None,
)
def test_each_failure_is_said_with_what_helps(error, local, trouble, says):
    said = stack_error(error, local=local)

    assert said.trouble is trouble
    assert says in str(said)
    assert "\n" not in str(said)  # `festival` prints it as one line


def test_an_aws_failure_keeps_what_aws_said():
    said = stack_error(client_error("ThrottlingException", "Rate exceeded"), local=False)

    assert str(said) == (
        "AWS call failed: An error occurred (ThrottlingException) when calling the Query "
        "operation: Rate exceeded"
    )


@pytest.mark.parametrize(
    ("policy", "says"),
    [
        (UPLOADER_POLICY, f"attach the stack's {UPLOADER_POLICY} to your user or role."),
        (None, "Your credentials may not do this."),
    ],
)
def test_a_denied_call_names_the_policy_that_allows_it_if_any(policy, says):
    said = stack_error(client_error("AccessDenied"), local=False, policy=policy)

    assert str(said).endswith(says)


@pytest.mark.parametrize("code", sorted(GONE_CODES))
def test_a_resource_that_does_not_exist_is_gone(code):
    assert is_gone(client_error(code))


@pytest.mark.parametrize(
    "error", [client_error("ValidationError"), StackError("x"), CONNECTION_REFUSED]
)
def test_other_failures_are_not_gone(error):
    assert not is_gone(error)


def test_every_trouble_has_a_page_title_and_what_makes_the_page_work_again():
    assert set(THEN) == set(Trouble)
    for error in (NoCredentialsError(), client_error("ThrottlingException")):
        problem = explain(error, local=False)
        said = stack_error(error, local=False)
        assert (problem.title, problem.detail) == (said.trouble.value, str(said))


def imports_the_command_line(source: Path) -> bool:
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module == "festival":
            if "cli" in {alias.name for alias in node.names}:
                return True
        elif isinstance(node, ast.ImportFrom) and node.module == "festival.cli":
            return True
        elif isinstance(node, ast.Import) and "festival.cli" in {a.name for a in node.names}:
            return True
    return False


def test_no_module_finds_the_stack_through_the_command_line():
    sources = (ROOT / "src" / "festival").rglob("*.py")

    assert [source for source in sources if imports_the_command_line(source)] == []
