"""The explorer's link to a deployed stack, and what to tell the user when it fails.

The table, bucket and prefix are read from the stack's outputs when a page first needs
them, and again after a failure: `festival serve` can start before the stack is deployed
or before credentials are set, shows a page saying so, and works once they are.
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


class OnFirstUse(Generic[T]):
    """Stands for the object ``build`` makes, built when first used and kept once built.

    A failed build is tried again on the next use (the stack may be deployed meanwhile).
    """

    def __init__(self, build: Callable[[], T]) -> None:
        self._build = build
        self._built: T | None = None
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        with self._lock:
            if self._built is None:
                self._built = self._build()
        return getattr(self._built, name)


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


@dataclass(frozen=True)
class Problem:
    """What went wrong reaching AWS, said for a person: a title and what to do."""

    title: str
    detail: str


def explain(error: Exception, *, local: bool, uploading: bool = False) -> Problem:
    if isinstance(error, CommandError):
        return Problem("The stack is not deployed here", str(error))
    if isinstance(error, NoCredentialsError):
        return Problem(
            "No AWS credentials",
            "festival serve uses your own AWS credentials: configure a profile "
            "(aws configure, or --profile), or use --local for the local stack.",
        )
    if isinstance(error, NoRegionError):
        return Problem(
            "No AWS region", "Set a region (aws configure, AWS_DEFAULT_REGION, or --region)."
        )
    if isinstance(error, EndpointConnectionError):
        hint = (
            "Is the local stack running? Start it with make up."
            if local
            else "Check your network and the region."
        )
        return Problem("AWS cannot be reached", f"{error}. {hint}")
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "")
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
            )
        return Problem("An AWS call failed", str(error))
    return Problem("AWS could not be reached", str(error))
