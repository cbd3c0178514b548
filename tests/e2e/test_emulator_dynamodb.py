"""The emulator's DynamoDB still answers like DynamoDB where our plugin makes it faster.

The plugin decodes writes once and hands them to moto itself, measures items in one pass
and scopes Query to its partition (festival_localstack); these check the answers a client
sees did not change: limits, errors, binary values, and what Query returns in which order.
"""

from __future__ import annotations

import random
import uuid

import pytest
from botocore.exceptions import ClientError

from festival.local import stack

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def dynamodb(local_stack):
    return stack.local_client("dynamodb")


@pytest.fixture(scope="module")
def scratch_table(dynamodb):
    """A table of our own, with one index, deleted afterwards."""
    name = f"emulator-check-{uuid.uuid4().hex[:8]}"
    dynamodb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": name_, "AttributeType": "S"} for name_ in ("pk", "sk", "g", "gs")
        ],
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "ByG",
                "KeySchema": [
                    {"AttributeName": "g", "KeyType": "HASH"},
                    {"AttributeName": "gs", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    yield name
    dynamodb.delete_table(TableName=name)


def put_requests(items: list[dict]) -> list[dict]:
    return [{"PutRequest": {"Item": item}} for item in items]


def error_code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return error.value.response["Error"]["Code"]


def test_an_item_over_400_kb_is_refused_and_one_under_it_is_stored(dynamodb, scratch_table):
    under = {"pk": {"S": "size"}, "sk": {"S": "under"}, "blob": {"S": "x" * 390_000}}
    over = {"pk": {"S": "size"}, "sk": {"S": "over"}, "blob": {"S": "x" * 410_000}}

    dynamodb.batch_write_item(RequestItems={scratch_table: put_requests([under])})
    with pytest.raises(ClientError) as refused:
        dynamodb.batch_write_item(RequestItems={scratch_table: put_requests([over])})

    assert error_code(refused) == "ValidationException"
    assert "size" in str(refused.value).lower()
    stored = dynamodb.query(
        TableName=scratch_table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "size"}},
    )["Items"]
    assert [item["sk"]["S"] for item in stored] == ["under"]


def test_batch_write_errors_reach_the_client_as_dynamodb_errors(dynamodb, scratch_table):
    item = {"pk": {"S": "errors"}, "sk": {"S": "1"}}
    with pytest.raises(ClientError) as missing_table:
        dynamodb.batch_write_item(RequestItems={"no-such-table": put_requests([item])})
    with pytest.raises(ClientError) as duplicate_keys:
        dynamodb.batch_write_item(RequestItems={scratch_table: put_requests([item, item])})

    assert error_code(missing_table) == "ResourceNotFoundException"
    assert error_code(duplicate_keys) == "ValidationException"
    assert "duplicates" in str(duplicate_keys.value)


def test_binary_and_number_values_round_trip_through_batch_write_and_put_item(
    dynamodb, scratch_table
):
    batched = {
        "pk": {"S": "types"},
        "sk": {"S": "batched"},
        "b": {"B": b"\x00\xff raw"},
        "n": {"N": "12.5"},
        "bs": {"BS": [b"\x01", b"\x02"]},
    }
    put = {**batched, "sk": {"S": "put"}}

    dynamodb.batch_write_item(RequestItems={scratch_table: put_requests([batched])})
    dynamodb.put_item(TableName=scratch_table, Item=put)

    for item in (batched, put):
        read = dynamodb.get_item(TableName=scratch_table, Key={k: item[k] for k in ("pk", "sk")})
        assert read["Item"]["b"] == {"B": b"\x00\xff raw"}
        assert read["Item"]["n"] == {"N": "12.5"}
        assert sorted(read["Item"]["bs"]["BS"]) == [b"\x01", b"\x02"]


def test_query_returns_its_partition_only_in_key_order_on_the_table_and_an_index(
    dynamodb, scratch_table
):
    items = [
        {
            "pk": {"S": f"part-{p}"},
            "sk": {"S": f"{s:03d}"},
            "g": {"S": f"group-{s % 2}"},
            "gs": {"S": f"{99 - s:03d}-{p}"},
        }
        for p in range(3)
        for s in range(30)
    ]
    random.Random(5).shuffle(items)
    for start in range(0, len(items), 25):
        batch = put_requests(items[start : start + 25])
        dynamodb.batch_write_item(RequestItems={scratch_table: batch})

    def query(**arguments) -> list[dict]:
        pages = dynamodb.get_paginator("query").paginate(
            TableName=scratch_table, PaginationConfig={"PageSize": 7}, **arguments
        )
        return [item for page in pages for item in page["Items"]]

    forward = query(
        KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": {"S": "part-1"}}
    )
    backward = query(
        KeyConditionExpression="pk = :pk AND sk BETWEEN :a AND :b",
        ExpressionAttributeValues={":pk": {"S": "part-2"}, ":a": {"S": "010"}, ":b": {"S": "019"}},
        ScanIndexForward=False,
    )
    by_index = query(
        IndexName="ByG",
        KeyConditionExpression="g = :g",
        ExpressionAttributeValues={":g": {"S": "group-1"}},
    )

    assert [i["sk"]["S"] for i in forward] == [f"{s:03d}" for s in range(30)]
    assert {i["pk"]["S"] for i in forward} == {"part-1"}
    assert [i["sk"]["S"] for i in backward] == [f"{s:03d}" for s in range(19, 9, -1)]
    expected_index = sorted(
        (i for i in items if i["g"]["S"] == "group-1"), key=lambda i: i["gs"]["S"]
    )
    assert [i["gs"]["S"] for i in by_index] == [i["gs"]["S"] for i in expected_index]
