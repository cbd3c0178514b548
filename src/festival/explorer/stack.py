"""The explorer's link to a deployed stack, and what a page tells the user when it fails
(said by ``festival.stack``, with what makes the page work again).

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
from botocore.exceptions import ClientError

from festival.explorer.uploader import S3Uploader
from festival.queries import LineupQueries
from festival.stack import (
    READER_POLICY,
    STACK_ERRORS,
    UPLOADER_POLICY,
    Trouble,
    is_gone,
    lineup_queries,
    stack_error,
    stack_output,
)

T = TypeVar("T")

# Errors reaching AWS that a page explains instead of failing with a traceback.
UNREACHABLE_ERRORS = STACK_ERRORS


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
    """The stack a running explorer reads and uploads to: each call reads its outputs."""

    session: boto3.Session
    endpoint: str | None
    name: str

    def queries(self) -> LineupQueries:
        return lineup_queries(self.session, self.endpoint, self.name)

    def uploader(self) -> S3Uploader:
        bucket = stack_output(self.session, self.endpoint, self.name, "UploadBucketName")
        prefix = stack_output(self.session, self.endpoint, self.name, "UploadPrefix")
        return S3Uploader(self.session.client("s3", endpoint_url=self.endpoint), bucket, prefix)


RELOAD = "Reload this page once that is done: festival serve keeps running."
RESTART = (
    "Then stop festival serve (Ctrl+C) and start it again: it keeps the credentials and "
    "region it started with."
)
TRY_AGAIN = "Reload this page to try again."
# What makes the page work again, by what went wrong (``then``).
THEN = {
    Trouble.NOT_DEPLOYED: "Reload this page once it is deployed: festival serve looks the stack "
    "up again on each page until it finds it.",
    Trouble.NO_CREDENTIALS: "Credentials written to the default profile are read when you "
    "reload this page; for another profile or --local, stop festival serve and start it again "
    "with it.",
    Trouble.NO_REGION: "Then stop festival serve (Ctrl+C) and start it again: it reads the "
    "region when it starts.",
    Trouble.UNREACHABLE: RELOAD,
    Trouble.GONE: "Reload this page once it is deployed: festival serve reads the stack's "
    "outputs again and uses its new table and bucket.",
    Trouble.DENIED: "Reload this page once the policy is attached (IAM may take a minute).",
    Trouble.CREDENTIALS_REFUSED: RESTART,
    Trouble.CALL_FAILED: TRY_AGAIN,
    Trouble.OTHER: TRY_AGAIN,
}
# make up deploys the stack anew: once it has finished, the explorer follows it.
LOCAL_STACK_STARTED = (
    "Reload this page once make up has finished: festival serve finds the stack again, with "
    "its new table and bucket."
)


@dataclass(frozen=True)
class Problem:
    """What went wrong reaching AWS, said for a person: a title, what happened, and what
    helps (``then``: each says only what makes the page work again, tests check it)."""

    title: str
    detail: str
    then: str = RELOAD


def explain(error: Exception, *, local: bool, uploading: bool = False) -> Problem:
    """One of ``UNREACHABLE_ERRORS`` as a page says it (``festival.stack.stack_error``),
    with what makes the page work again."""
    said = stack_error(error, local=local, policy=UPLOADER_POLICY if uploading else READER_POLICY)
    then = THEN[said.trouble]
    if said.trouble is Trouble.UNREACHABLE and local:
        then = LOCAL_STACK_STARTED
    return Problem(said.trouble.value, str(said), then)
