"""In-memory AWS (moto) for the tests and scripts that load a lineup with the Lambda's own
code, with test credentials and no endpoint or profile that could send a call elsewhere;
and an environment where boto3 finds no credentials at all."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.functional.moto_lineup import MotoLineup

REGION = "us-east-1"
# moto takes any credentials; set, they keep boto3 from looking for real ones.
MOTO_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": REGION,
}
# The variables boto3 reads credentials from, or the place to find them.
CREDENTIAL_VARIABLES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_ENDPOINT_URL",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
)


@contextmanager
def in_memory_aws(patch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto answers every AWS call made inside (mocks nest without a reset)."""
    for name, value in MOTO_ENVIRONMENT.items():
        patch.setenv(name, value)
    patch.delenv("AWS_ENDPOINT_URL", raising=False)
    patch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        yield


def new_lineup(**options: Any) -> MotoLineup:
    """A bucket and a table of their own names (inside ``in_memory_aws``), so a test's
    lineup and a module's lineup live side by side."""
    return MotoLineup(
        boto3.client("s3", region_name=REGION),
        boto3.client("dynamodb", region_name=REGION),
        **options,
    )


@contextmanager
def moto_lineup(
    patch: pytest.MonkeyPatch, *files: tuple[str, bytes], **options: Any
) -> Iterator[MotoLineup]:
    """A new lineup in in-memory AWS, with ``files`` (key, content) loaded in order."""
    with in_memory_aws(patch):
        lineup = new_lineup(**options)
        for key, body in files:
            lineup.load(key, body)
        yield lineup


@contextmanager
def lineup_of(*files: tuple[str, bytes], **options: Any) -> Iterator[MotoLineup]:
    """``moto_lineup`` where no test's monkeypatch reaches: a module's fixture, a script."""
    with pytest.MonkeyPatch.context() as patch, moto_lineup(patch, *files, **options) as lineup:
        yield lineup


def without_aws_credentials(patch: pytest.MonkeyPatch, folder: Path) -> None:
    """Nowhere boto3 looks holds credentials: no variable, no file (``folder`` has none),
    no instance metadata."""
    for name in CREDENTIAL_VARIABLES:
        patch.delenv(name, raising=False)
    patch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(folder / "none"))
    patch.setenv("AWS_CONFIG_FILE", str(folder / "none"))
    patch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def sent_operations(dynamodb) -> list[str]:
    """The operations the client's requests go on to name, as they are sent: by boto3 or
    by dynamodb_http (the queries' bulk reads), which both emit before-send."""
    operations: list[str] = []
    dynamodb.meta.events.register(
        "before-send.dynamodb.*",
        lambda event_name, **_: operations.append(event_name.rsplit(".", 1)[1]),
    )
    return operations
