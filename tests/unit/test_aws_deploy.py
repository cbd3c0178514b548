"""`make deploy-aws` / `make destroy-aws` without an AWS account.

AWS is stubbed (botocore Stubber, no network). tests/e2e/test_aws_deploy_local.py runs the
real path against the local stack.
"""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import ANY, Stubber

from festival import aws_deploy
from festival.aws_deploy import Options, PromotionError
from festival.settings import STACK_NAME

REGION = "eu-west-1"
CHANGE_SET = "arn:aws:cloudformation:eu-west-1:123456789012:changeSet/c/1"
STACK_ARN = "arn:aws:cloudformation:eu-west-1:123456789012:stack/s/1"


def stubbed(service: str) -> tuple[object, Stubber]:
    client = boto3.client(
        service, region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x"
    )
    return client, Stubber(client)


class FakeSession:
    """Just what aws_deploy uses of a boto3 Session: a region and clients."""

    def __init__(self, clients: dict[str, object], region: str | None = REGION) -> None:
        self.clients = clients
        self.region_name = region

    def client(self, service: str):
        return self.clients[service]


def never_asked(question: str) -> str:
    raise AssertionError(f"asked {question!r}")


# --- Credentials --------------------------------------------------------------------------


def test_no_credentials_at_all_is_a_one_line_error(monkeypatch, tmp_path):
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")

    with pytest.raises(PromotionError) as raised:
        aws_deploy.caller_account(boto3.Session(region_name=REGION))

    message = str(raised.value)
    assert message.startswith("no AWS credentials found")
    assert "\n" not in message


def test_expired_credentials_are_a_one_line_error_naming_the_code():
    sts, stub = stubbed("sts")
    stub.add_client_error(
        "get_caller_identity",
        service_error_code="ExpiredToken",
        service_message="The security token included\nin the request is expired",
    )
    with stub, pytest.raises(PromotionError) as raised:
        aws_deploy.caller_account(FakeSession({"sts": sts}))

    assert "ExpiredToken" in str(raised.value)
    assert "\n" not in str(raised.value)


def test_no_region_is_refused_before_calling_aws():
    with pytest.raises(PromotionError, match="no AWS region configured"):
        aws_deploy.caller_account(FakeSession({}, region=None))


def test_unknown_profile_is_a_clear_error():
    with pytest.raises(PromotionError, match="no-such-profile-for-festival"):
        aws_deploy.aws_session(profile="no-such-profile-for-festival")


def test_caller_account_reports_account_arn_and_region():
    sts, stub = stubbed("sts")
    stub.add_response(
        "get_caller_identity",
        {"Account": "123456789012", "Arn": "arn:aws:iam::123456789012:user/ops", "UserId": "AID"},
    )
    with stub:
        account = aws_deploy.caller_account(FakeSession({"sts": sts}))
    assert account == aws_deploy.Account(
        "123456789012", "arn:aws:iam::123456789012:user/ops", REGION
    )


# --- Confirmation -------------------------------------------------------------------------


@pytest.mark.parametrize("answer", ["", "n", "no", "N", "maybe", "yes please"])
def test_anything_but_yes_means_no(answer):
    assert (
        aws_deploy.confirm("Go?", assume_yes=False, ask=lambda _: answer, interactive=True) is False
    )


@pytest.mark.parametrize("answer", ["y", "Y", "yes", " YES "])
def test_y_or_yes_confirms(answer):
    assert aws_deploy.confirm("Go?", assume_yes=False, ask=lambda _: answer, interactive=True)


def test_end_of_input_means_no():
    def closed(_: str) -> str:
        raise EOFError

    assert aws_deploy.confirm("Go?", assume_yes=False, ask=closed, interactive=True) is False


def test_without_a_terminal_the_answer_is_no_unless_yes_is_set():
    assert aws_deploy.confirm("Go?", assume_yes=False, ask=never_asked, interactive=False) is False
    assert aws_deploy.confirm("Go?", assume_yes=True, ask=never_asked, interactive=False)


def test_the_prompt_shows_no_as_the_default():
    questions = []
    aws_deploy.confirm(
        "Go?", assume_yes=False, ask=lambda q: questions.append(q) or "", interactive=True
    )
    assert questions == ["Go? [y/N] "]


# --- Deploy, with AWS stubbed ---------------------------------------------------------------


@pytest.fixture
def fake_aws(monkeypatch, tmp_path):
    """Stubbed clients; packaging and the CLI's change set replaced by fakes."""
    clients = {name: stubbed(name) for name in ("sts", "cloudformation", "lambda", "s3")}
    clients["sts"][1].add_response(
        "get_caller_identity",
        {"Account": "123456789012", "Arn": "arn:aws:iam::123456789012:user/ops", "UserId": "AID"},
    )
    monkeypatch.setattr(aws_deploy, "ensure_artifacts_bucket", lambda s3, account: "artifacts")
    monkeypatch.setattr(aws_deploy, "cli_path", lambda name: f"/bin/{name}")
    monkeypatch.setattr(aws_deploy, "package", lambda target, paths: tmp_path / "packaged.yaml")
    monkeypatch.setattr(aws_deploy, "create_change_set", lambda target, packaged: CHANGE_SET)
    session = FakeSession({name: client for name, (client, _) in clients.items()})
    stubs = {name: stub for name, (_, stub) in clients.items()}
    for stub in stubs.values():
        stub.activate()
    yield session, stubs
    for stub in stubs.values():
        stub.assert_no_pending_responses()
        stub.deactivate()


def stack_missing(cloudformation: Stubber) -> None:
    cloudformation.add_client_error(
        "describe_stacks",
        service_error_code="ValidationError",
        service_message="Stack with id s does not exist",
        expected_params={"StackName": "s"},
    )


def stack_in(cloudformation: Stubber, status: str) -> None:
    cloudformation.add_response(
        "describe_stacks",
        {
            "Stacks": [
                {
                    "StackName": "s",
                    "StackId": STACK_ARN,
                    "StackStatus": status,
                    "CreationTime": "2026-11-25T00:00:00Z",
                }
            ]
        },
        {"StackName": "s"},
    )


def quota(lambda_: Stubber, limit: int) -> None:
    lambda_.add_response(
        "get_account_settings",
        {
            "AccountLimit": {
                "ConcurrentExecutions": limit,
                "TotalCodeSize": 1,
                "CodeSizeUnzipped": 1,
                "CodeSizeZipped": 1,
                "UnreservedConcurrentExecutions": limit,
            }
        },
    )


def one_change(cloudformation: Stubber) -> None:
    cloudformation.add_response(
        "describe_change_set",
        {
            "ChangeSetName": "c",
            "ChangeSetId": CHANGE_SET,
            "StackName": "s",
            "Changes": [
                {
                    "Type": "Resource",
                    "ResourceChange": {
                        "Action": "Add",
                        "LogicalResourceId": "LineupTable",
                        "ResourceType": "AWS::DynamoDB::Table",
                    },
                }
            ],
        },
        {"ChangeSetName": CHANGE_SET},
    )


def test_dry_run_shows_the_change_set_then_deletes_it_and_the_empty_new_stack(fake_aws, capsys):
    session, stubs = fake_aws
    stack_missing(stubs["cloudformation"])
    quota(stubs["lambda"], 1000)
    one_change(stubs["cloudformation"])
    stubs["cloudformation"].add_response("delete_change_set", {}, {"ChangeSetName": CHANGE_SET})
    stack_in(stubs["cloudformation"], "REVIEW_IN_PROGRESS")
    stubs["cloudformation"].add_response("delete_stack", {}, {"StackName": "s"})

    executed = aws_deploy.deploy(
        Options(stack="s", email="ops@example.com", dry_run=True), session=session, ask=never_asked
    )

    assert executed is False  # and no execute_change_set: the stubber would have refused it
    out = capsys.readouterr().out
    assert "LineupTable" in out and "AWS::DynamoDB::Table" in out
    assert "DRY_RUN" in out


def test_dry_run_on_an_existing_stack_keeps_the_stack(fake_aws):
    session, stubs = fake_aws
    stack_in(stubs["cloudformation"], "UPDATE_COMPLETE")
    quota(stubs["lambda"], 1000)
    one_change(stubs["cloudformation"])
    stubs["cloudformation"].add_response("delete_change_set", {}, {"ChangeSetName": CHANGE_SET})

    assert (
        aws_deploy.deploy(
            Options(stack="s", email="ops@example.com", dry_run=True),
            session=session,
            ask=never_asked,
        )
        is False
    )


def test_pressing_enter_at_the_prompt_executes_nothing(fake_aws, capsys):
    session, stubs = fake_aws
    stack_in(stubs["cloudformation"], "UPDATE_COMPLETE")
    quota(stubs["lambda"], 1000)
    one_change(stubs["cloudformation"])
    stubs["cloudformation"].add_response("delete_change_set", {}, {"ChangeSetName": CHANGE_SET})

    executed = aws_deploy.deploy(
        Options(stack="s", email="ops@example.com"),
        session=session,
        ask=lambda _: "",
        interactive=True,
    )

    assert executed is False
    assert "Not executed" in capsys.readouterr().out


def test_an_account_too_small_to_reserve_concurrency_is_told_what_to_pass(fake_aws):
    session, stubs = fake_aws
    stack_missing(stubs["cloudformation"])
    quota(stubs["lambda"], 10)

    with pytest.raises(PromotionError, match="PARAMS=ReservedConcurrency=0"):
        aws_deploy.deploy(Options(stack="s", email="ops@example.com"), session=session)


def test_a_stack_whose_creation_failed_must_be_destroyed_first(fake_aws):
    session, stubs = fake_aws
    stack_in(stubs["cloudformation"], "ROLLBACK_COMPLETE")

    with pytest.raises(PromotionError, match="make destroy-aws"):
        aws_deploy.deploy(Options(stack="s", email="ops@example.com"), session=session)
    stubs["lambda"].assert_no_pending_responses()


def test_email_is_required():
    with pytest.raises(PromotionError, match="EMAIL is required"):
        aws_deploy.deploy(Options(stack="s", email=""), session=FakeSession({}))


def test_options_from_the_command_line():
    command, options = aws_deploy.parse_options(
        [
            "deploy",
            "--email",
            "a@example.com",
            "--parameter",
            "ReservedConcurrency=0",
            "--dry-run",
        ]
    )
    assert command == "deploy"
    assert options.stack == STACK_NAME and options.runtime == "python3.12"
    assert options.template_parameters() == {
        "NotificationEmail": "a@example.com",
        "AlarmEmail": "a@example.com",
        "LambdaRuntime": "python3.12",
        "ReservedConcurrency": "0",
    }
    assert options.dry_run and not options.yes


def test_artifacts_bucket_is_created_private_encrypted_and_tls_only():
    s3, stub = stubbed("s3")
    account = aws_deploy.Account("123456789012", "arn:aws:iam::123456789012:user/ops", REGION)
    name = "festival-lineup-artifacts-123456789012-eu-west-1"
    stub.add_client_error("head_bucket", service_error_code="404", http_status_code=404)
    stub.add_response(
        "create_bucket",
        {},
        {"Bucket": name, "CreateBucketConfiguration": {"LocationConstraint": REGION}},
    )
    stub.add_response(
        "put_public_access_block",
        {},
        {
            "Bucket": name,
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
        },
    )
    stub.add_response(
        "put_bucket_encryption", {}, {"Bucket": name, "ServerSideEncryptionConfiguration": ANY}
    )
    stub.add_response(
        "put_bucket_policy", {}, {"Bucket": name, "Policy": aws_deploy.tls_only_policy(name)}
    )
    with stub:
        assert aws_deploy.ensure_artifacts_bucket(s3, account) == name
    stub.assert_no_pending_responses()
