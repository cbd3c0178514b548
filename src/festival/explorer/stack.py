"""The explorer's link to a deployed stack, and what to tell the user when it fails.

The table, bucket and prefix are read from the stack's outputs when a page first needs
them, and again after a failure: `festival serve` can start before the stack is deployed
or before credentials are set, shows a page saying so, and works once they are.

It follows the stack, too: when a call answers that its table, bucket or topic does not
exist (the stack was deployed again, as `make down` and `make up` do locally, and its
resources have new names), the outputs are read again and the call is made once more, so
a running explorer keeps answering without a restart.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import boto3
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
)

from festival.cli import CommandError, stack_output
from festival.explorer.uploader import S3Uploader
from festival.queries import LineupQueries

T = TypeVar("T")

# Errors reaching AWS that a page explains instead of failing with a traceback.
UNREACHABLE_ERRORS = (CommandError, BotoCoreError, ClientError)


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


def is_gone(error: BaseException) -> bool:
    """Whether the error says the resource called no longer exists."""
    return (
        isinstance(error, ClientError)
        and error.response.get("Error", {}).get("Code", "") in GONE_CODES
    )


class OnFirstUse(Generic[T]):
    """Stands for the object ``build`` makes, built when first used and kept once built.

    A failed build is tried again on the next use (the stack may be deployed meanwhile).
    A method call that fails because its resource is gone (``is_gone``) builds the object
    again (``build`` reads the stack's outputs anew) and is made once more on the new one;
    if it fails again, or the stack is gone too, that error is what the page explains.
    """

    def __init__(self, build: Callable[[], T]) -> None:
        self._build = build
        self._built: T | None = None
        self._lock = threading.Lock()

    def _current(self) -> T:
        with self._lock:
            if self._built is None:
                self._built = self._build()
            return self._built

    def _rebuilt(self, stale: T) -> T:
        """A new object, unless another thread already replaced ``stale``."""
        with self._lock:
            if self._built is stale or self._built is None:
                self._built = None
                self._built = self._build()
            return self._built

    def __getattr__(self, name: str) -> Any:
        built = self._current()
        attribute = getattr(built, name)
        if not callable(attribute):
            return attribute

        def call_following_the_stack(*args: Any, **kwargs: Any) -> Any:
            # A file being uploaded is read again from where it started.
            streams = [
                (value, value.tell())
                for value in (*args, *kwargs.values())
                if hasattr(value, "seek") and hasattr(value, "tell")
            ]
            try:
                return attribute(*args, **kwargs)
            except ClientError as error:
                if not is_gone(error):
                    raise
            for stream, position in streams:
                stream.seek(position)
            return getattr(self._rebuilt(built), name)(*args, **kwargs)

        return call_following_the_stack


@dataclass
class DeployedStack:
    session: boto3.Session
    endpoint: str | None
    name: str

    def queries(self) -> LineupQueries:
        table = stack_output(self.session, self.endpoint, self.name, "TableName")
        return LineupQueries(self.session.client("dynamodb", endpoint_url=self.endpoint), table)

    def uploader(self) -> S3Uploader:
        bucket = stack_output(self.session, self.endpoint, self.name, "UploadBucketName")
        prefix = stack_output(self.session, self.endpoint, self.name, "UploadPrefix")
        return S3Uploader(self.session.client("s3", endpoint_url=self.endpoint), bucket, prefix)


RELOAD = "Reload this page once that is done: festival serve keeps running."
RESTART = (
    "Then stop festival serve (Ctrl+C) and start it again: it keeps the credentials and "
    "region it started with."
)


@dataclass(frozen=True)
class Problem:
    """What went wrong reaching AWS, said for a person: a title, what happened, and what
    helps (``then``: each says only what makes the page work again, tests check it)."""

    title: str
    detail: str
    then: str = RELOAD


def explain(error: Exception, *, local: bool, uploading: bool = False) -> Problem:
    if isinstance(error, CommandError):
        return Problem(
            "The stack is not deployed here",
            str(error),
            "Reload this page once it is deployed: festival serve looks the stack up again "
            "on each page until it finds it.",
        )
    if isinstance(error, NoCredentialsError):
        return Problem(
            "No AWS credentials",
            "festival serve uses your own AWS credentials: configure a profile "
            "(aws configure, or --profile), or use --local for the local stack.",
            "Credentials written to the default profile are read when you reload this page; "
            "for another profile or --local, stop festival serve and start it again with it.",
        )
    if isinstance(error, NoRegionError):
        return Problem(
            "No AWS region",
            "Set a region (aws configure, AWS_DEFAULT_REGION, or --region).",
            "Then stop festival serve (Ctrl+C) and start it again: it reads the region when "
            "it starts.",
        )
    if isinstance(error, EndpointConnectionError):
        if local:
            return Problem(
                "AWS cannot be reached",
                f"{error}. Is the local stack running? Start it with make up.",
                "Reload this page once make up has finished: festival serve finds the stack "
                "again, with its new table and bucket.",
            )
        return Problem("AWS cannot be reached", f"{error}. Check your network and the region.")
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        if is_gone(error):
            return Problem(
                "The stack's table or bucket does not exist",
                f"AWS said: {error}. The stack's outputs were read again and still name it: "
                "the stack is being deployed, or was deleted. Deploy it "
                f"({'make up' if local else 'make deploy-aws'}).",
                "Reload this page once it is deployed: festival serve reads the stack's "
                "outputs again and uses its new table and bucket.",
            )
        if code in {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"}:
            policy = (
                "uploader policy (UploaderPolicyArn)"
                if uploading
                else "reader policy (ReaderPolicyArn)"
            )
            return Problem(
                "Not allowed",
                f"Your credentials may not do this: attach the stack's {policy} "
                f"to your user or role. AWS said: {error}",
                "Reload this page once the policy is attached (IAM may take a minute).",
            )
        if code in {
            "ExpiredToken",
            "ExpiredTokenException",
            "InvalidClientTokenId",
            "UnrecognizedClientException",
            "InvalidAccessKeyId",
            "SignatureDoesNotMatch",
        }:
            return Problem(
                "Your AWS credentials were refused",
                f"Renew or fix them (aws sso login, aws configure). AWS said: {error}",
                RESTART,
            )
        return Problem("An AWS call failed", str(error), "Reload this page to try again.")
    return Problem("AWS could not be reached", str(error), "Reload this page to try again.")
