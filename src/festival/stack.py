"""The deployed stack, seen from this machine: its outputs, the AWS session that reaches it,
the queries over its table, and what to tell a person when reaching it fails.

`festival`'s commands (``festival.cli``) and `festival serve`'s pages
(``festival.explorer``) both find the stack here, and both say its failures with
``stack_error``: a command prints the message as one line, a page shows the title above it.
"""

from __future__ import annotations

from datetime import time
from enum import Enum

import boto3
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
)

from festival.nights import DAY_STARTS_OUTPUT, DEFAULT_DAY_STARTS, DayStartsError, parse_day_starts
from festival.queries import LineupQueries
from festival.settings import LOCAL_ENDPOINT, local_session


class Trouble(Enum):
    """What went wrong reaching the stack, by its title (a page's heading)."""

    NOT_DEPLOYED = "The stack is not deployed here"
    NO_CREDENTIALS = "No AWS credentials"
    NO_REGION = "No AWS region"
    UNREACHABLE = "AWS cannot be reached"
    GONE = "The stack's table or bucket does not exist"
    DENIED = "Not allowed"
    CREDENTIALS_REFUSED = "Your AWS credentials were refused"
    CALL_FAILED = "An AWS call failed"
    OTHER = "AWS could not be reached"


class StackError(Exception):
    """Reaching the deployed stack failed: the message says what happened and what helps,
    in one line; ``trouble`` names the kind of failure."""

    def __init__(self, message: str, trouble: Trouble = Trouble.NOT_DEPLOYED) -> None:
        super().__init__(message)
        self.trouble = trouble


# What reaching the stack may fail with; ``stack_error`` says each for a person.
STACK_ERRORS = (StackError, BotoCoreError, ClientError)

# What AWS answers for a table, bucket, topic or queue that does not exist (any more).
GONE_CODES = frozenset(
    {
        "ResourceNotFoundException",  # DynamoDB: "Requested resource not found"
        "NoSuchBucket",
        "NotFound",  # SNS
        "NotFoundException",
        "AWS.SimpleQueueService.NonExistentQueue",
        "QueueDoesNotExist",
    }
)
DENIED_CODES = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"})
REFUSED_CREDENTIALS_CODES = frozenset(
    {
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
    }
)
# The managed policies the stack outputs: reading the lineup, and uploading files.
READER_POLICY = "reader policy (ReaderPolicyArn)"
UPLOADER_POLICY = "uploader policy (UploaderPolicyArn)"


def aws_session(
    local: bool, profile: str | None, region: str | None
) -> tuple[boto3.Session, str | None]:
    """The session and endpoint that reach the stack: the local stack's with ``local``."""
    if local:
        return local_session(region), LOCAL_ENDPOINT
    # Everything else comes from the standard configuration (profile, AWS_ENDPOINT_URL...).
    return boto3.Session(profile_name=profile, region_name=region), None


def outputs_of(cloudformation, stack: str) -> dict[str, str]:
    """Every output of the stack, by name, read with a CloudFormation client (AWS's errors
    as they come: the deploy tools say them their own way)."""
    described = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}


def stack_outputs(session: boto3.Session, endpoint: str | None, stack: str) -> dict[str, str]:
    """Every output of the stack, by name."""
    cloudformation = session.client("cloudformation", endpoint_url=endpoint)
    try:
        return outputs_of(cloudformation, stack)
    except ClientError as error:
        if "does not exist" in str(error):
            raise StackError(
                f"stack {stack!r} does not exist here (deploy it with make up / make deploy-aws,"
                " or pass --stack)"
            ) from error
        raise


def stack_output(session: boto3.Session, endpoint: str | None, stack: str, name: str) -> str:
    outputs = stack_outputs(session, endpoint, stack)
    if name not in outputs:
        raise StackError(f"stack {stack!r} has no output {name}: is it festival-lineup's?")
    return outputs[name]


def stack_day_starts(session: boto3.Session, endpoint: str | None, stack: str) -> time:
    """The festival day's boundary hour the stack was deployed with (its FestivalDayStarts
    output), or 06:00 for a stack deployed before it had one."""
    text = stack_outputs(session, endpoint, stack).get(DAY_STARTS_OUTPUT)
    if text is None:
        return DEFAULT_DAY_STARTS
    try:
        return parse_day_starts(text)
    except DayStartsError as error:
        raise StackError(f"stack {stack!r} output {DAY_STARTS_OUTPUT}: {error}") from error


def lineup_queries(session: boto3.Session, endpoint: str | None, stack: str) -> LineupQueries:
    """The queries over the table the stack's TableName output names."""
    table = stack_output(session, endpoint, stack, "TableName")
    return LineupQueries(session.client("dynamodb", endpoint_url=endpoint), table)


def is_gone(error: BaseException) -> bool:
    """Whether the error says the resource called no longer exists."""
    return isinstance(error, ClientError) and _code(error) in GONE_CODES


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def stack_error(error: Exception, *, local: bool, policy: str | None = READER_POLICY) -> StackError:
    """One of ``STACK_ERRORS`` said for a person: what happened and what helps. ``local``:
    the stack is the local one (make up deploys it); ``policy``: the stack's managed policy
    that allows what failed, named when AWS denies it (None: none does)."""
    if isinstance(error, StackError):
        return error
    failed = f"AWS call failed: {error}"
    if isinstance(error, NoCredentialsError):
        return StackError(
            "no AWS credentials found: configure a profile, or use --local for the local "
            "stack (festival uses your own credentials: aws configure, or --profile)",
            Trouble.NO_CREDENTIALS,
        )
    if isinstance(error, NoRegionError):
        return StackError(
            "no AWS region: set one (aws configure, AWS_DEFAULT_REGION, or --region)",
            Trouble.NO_REGION,
        )
    if isinstance(error, EndpointConnectionError):
        helps = (
            "Is the local stack running? Start it with make up."
            if local
            else "Check your network and the region."
        )
        return StackError(f"{failed}. {helps}", Trouble.UNREACHABLE)
    if not isinstance(error, ClientError):
        return StackError(failed, Trouble.OTHER)
    if is_gone(error):
        return StackError(
            f"{failed}. The stack's outputs name it: the stack is being deployed, or was "
            f"deleted. Deploy it ({'make up' if local else 'make deploy-aws'}).",
            Trouble.GONE,
        )
    if _code(error) in DENIED_CODES:
        attach = f": attach the stack's {policy} to your user or role" if policy else ""
        return StackError(f"{failed}. Your credentials may not do this{attach}.", Trouble.DENIED)
    if _code(error) in REFUSED_CREDENTIALS_CODES:
        return StackError(
            f"{failed}. Renew or fix your credentials (aws sso login, aws configure).",
            Trouble.CREDENTIALS_REFUSED,
        )
    return StackError(failed, Trouble.CALL_FAILED)
