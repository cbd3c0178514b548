"""How `festival` reads pages of a Query: through dynamodb_http, with the boto3 client's
retry settings, or through the client itself where a proxy is set; and what it reads
back, binary values included, is what boto3 would have read."""

from __future__ import annotations

import base64
from decimal import Decimal

import boto3
import pytest
from boto3.dynamodb.types import Binary, TypeSerializer
from botocore.config import Config
from botocore.exceptions import ClientError

from festival import queries as reading
from festival.queries import LineupQueries
from lineup_ingest import schema
from lineup_ingest.codec import from_attributes, from_json_attributes
from tests.unit.conftest import THROTTLED

HEAD = {
    "pk": {"S": schema.HEADS_PARTITION},
    "sk": {"S": "FILE#uploads/lineup.csv"},
    "file": {"S": "uploads/lineup.csv"},
    "current": {"S": "V1"},
}


@pytest.fixture
def waits(monkeypatch) -> list[float]:
    """The waits before each retry, at their longest (random() is 1), not slept."""
    waited: list[float] = []
    monkeypatch.setattr(reading, "sleep", waited.append)
    monkeypatch.setattr(reading.random, "random", lambda: 1.0)
    return waited


def queries_of(server, monkeypatch, **config) -> LineupQueries:
    for name, value in {"AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "secret"}.items():
        monkeypatch.setenv(name, value)
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    client = boto3.client(
        "dynamodb",
        region_name="eu-west-1",
        endpoint_url=f"http://127.0.0.1:{server.server_address[1]}",
        config=Config(**config),
    )
    return LineupQueries(client, "lineup")


def test_a_throttled_page_is_asked_again_after_the_waits_botocore_would_make(
    dynamodb, monkeypatch, waits
):
    dynamodb.script.extend([THROTTLED, THROTTLED, (200, {"Items": [HEAD]})])

    current = queries_of(dynamodb, monkeypatch).current_versions()

    assert current == {"uploads/lineup.csv": "V1"}
    assert waits == [1.0, 2.0]
    assert len(dynamodb.requests) == 3


def test_a_read_throttled_on_each_of_the_clients_attempts_fails_with_dynamodbs_error(
    dynamodb, monkeypatch, waits
):
    dynamodb.script.extend([THROTTLED] * 5)

    with pytest.raises(ClientError, match="ProvisionedThroughputExceeded"):
        queries_of(dynamodb, monkeypatch, retries={"total_max_attempts": 5}).current_versions()

    assert len(dynamodb.requests) == 5 and waits == [1.0, 2.0, 4.0, 8.0]


def test_through_a_proxy_the_pages_are_read_by_the_boto3_client(dynamodb, monkeypatch, waits):
    dynamodb.script.extend([(200, {"Items": [HEAD]})])
    queries = queries_of(dynamodb, monkeypatch, proxies={"https": "http://proxy.invalid:3128"})
    through_boto3: list[str] = []
    queries.dynamodb.meta.events.register(
        "before-call.dynamodb.Query", lambda model, **_: through_boto3.append(model.name)
    )

    assert queries.current_versions() == {"uploads/lineup.csv": "V1"}
    assert through_boto3 == ["Query"]


def test_an_item_read_as_json_is_the_item_boto3_reads_binary_values_included():
    chunk, other = b"\x00\xffchunk", b"\x01"
    item = {
        "pk": "CHANGES#uploads/lineup.csv",
        "part": Decimal(3),
        "data": Binary(chunk),
        "both": {Binary(chunk), Binary(other)},
        "nested": {"list": [Binary(other), "text", Decimal("1.5")], "flag": True, "none": None},
        "names": {"Bonobo", "Kraftwerk"},
    }
    attributes = {name: TypeSerializer().serialize(value) for name, value in item.items()}

    def as_json(value):  # what DynamoDB's JSON carries: bytes in base64
        if isinstance(value, bytes):
            return base64.b64encode(value).decode()
        if isinstance(value, dict):
            return {name: as_json(inner) for name, inner in value.items()}
        if isinstance(value, list | set):
            return [as_json(inner) for inner in value]
        return value

    assert from_json_attributes(as_json(attributes)) == from_attributes(attributes) == item
