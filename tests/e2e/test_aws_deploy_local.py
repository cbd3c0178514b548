"""`make deploy-aws` / `make destroy-aws` for real, against the local stack.

The real path, ordinary `aws` CLI included, through AWS_ENDPOINT_URL, with a stack name of
its own that the tests delete at the end. tests/unit/test_aws_deploy.py stubs AWS instead.
"""

from __future__ import annotations

import uuid

import boto3
import pytest
from botocore.exceptions import ClientError

from festival import aws_deploy
from festival.aws_deploy import Options
from festival.settings import LOCAL_REGION
from festival.stack import outputs_of
from tests.local_aws import local_environment

pytestmark = pytest.mark.e2e

# The artifacts bucket `deploy-aws` creates in LocalStack's default account.
ARTIFACTS = f"festival-lineup-artifacts-000000000000-{LOCAL_REGION}"


def never_asked(question: str) -> str:
    raise AssertionError(f"asked {question!r}")


@pytest.fixture
def local_aws(local_stack, monkeypatch):
    """A session and environment (for the `aws` CLI too) that point at the local stack."""
    for name, value in local_environment().items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    session = boto3.Session(region_name=LOCAL_REGION)
    stack = f"festival-aws-test-{uuid.uuid4().hex[:8]}"
    s3 = session.client("s3")
    had_artifacts = ARTIFACTS in {b["Name"] for b in s3.list_buckets()["Buckets"]}
    yield session, stack
    # Whatever the test left: the stack, the table it retains, the artifacts it uploaded.
    cloudformation = session.client("cloudformation")
    dynamodb = session.client("dynamodb")
    if aws_deploy.stack_status(cloudformation, stack) not in (None, "DELETE_COMPLETE"):
        table = outputs_of(cloudformation, stack).get("TableName")
        cloudformation.delete_stack(StackName=stack)
        cloudformation.get_waiter("stack_delete_complete").wait(
            StackName=stack, WaiterConfig={"Delay": 1, "MaxAttempts": 120}
        )
        if table:
            dynamodb.delete_table(TableName=table)
    if not had_artifacts:
        aws_deploy.empty_bucket(s3, ARTIFACTS)
        s3.delete_bucket(Bucket=ARTIFACTS)


def test_dry_run_on_the_local_stack_leaves_no_stack_and_no_change_set(local_aws):
    session, stack = local_aws
    options = Options(stack=stack, email="ops@example.com", dry_run=True, poll_s=1)

    assert aws_deploy.deploy(options, session=session, ask=never_asked) is False

    cloudformation = session.client("cloudformation")
    assert aws_deploy.stack_status(cloudformation, stack) in (None, "DELETE_COMPLETE")
    s3 = session.client("s3")
    block = s3.get_public_access_block(Bucket=ARTIFACTS)["PublicAccessBlockConfiguration"]
    assert all(block.values())
    assert "aws:SecureTransport" in s3.get_bucket_policy(Bucket=ARTIFACTS)["Policy"]


def test_deploy_then_destroy_on_the_local_stack_keeps_only_the_table(local_aws, capsys):
    session, stack = local_aws
    options = Options(stack=stack, email="ops@example.com", yes=True, poll_s=1)

    assert aws_deploy.deploy(options, session=session) is True
    cloudformation = session.client("cloudformation")
    outputs = outputs_of(cloudformation, stack)
    assert {"FailureQueueUrl", "AlarmTopicArn", "TableName"} <= set(outputs)
    # (LocalStack 4.14 ignores ReservedConcurrentExecutions: test_template.py checks it.)
    config = session.client("lambda").get_function_event_invoke_config(
        FunctionName=outputs["FunctionName"]
    )
    assert config["DestinationConfig"]["OnFailure"]["Destination"].endswith(
        outputs["FailureQueueUrl"].rsplit("/", 1)[1]
    )
    assert "Email subscriptions:" in capsys.readouterr().out
    s3 = session.client("s3")
    s3.put_object(Bucket=outputs["UploadBucketName"], Key="notes.txt", Body=b"not a lineup")

    assert aws_deploy.destroy(options, session=session) is True

    out = capsys.readouterr().out
    assert f"keeps AWS::DynamoDB::Table {outputs['TableName']}" in out
    assert "1 objects deleted" in out
    assert aws_deploy.stack_status(cloudformation, stack) in (None, "DELETE_COMPLETE")
    dynamodb = session.client("dynamodb")
    assert dynamodb.describe_table(TableName=outputs["TableName"])["Table"]
    dynamodb.delete_table(TableName=outputs["TableName"])  # the retained table: clean up
    with pytest.raises(ClientError):  # the upload bucket was emptied and deleted
        session.client("s3").head_bucket(Bucket=outputs["UploadBucketName"])
