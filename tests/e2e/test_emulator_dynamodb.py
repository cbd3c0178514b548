"""The emulator's DynamoDB still answers like DynamoDB where our plugin makes it faster.

The plugin decodes writes once and hands them to moto itself, measures items in one pass,
keeps each table's indexes sorted so a Query reads only its page, and serves one request at
a time (festival_localstack); these check the answers a client sees did not change: limits,
errors, binary values, what Query returns in which order, an index following an update,
and concurrent writes and reads that all succeed.
"""

from __future__ import annotations

import random
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

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

    # The plugin skips moto's second pass over an answer when no capacity is asked for.
    counted = dynamodb.query(
        TableName=scratch_table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "part-1"}},
        ReturnConsumedCapacity="TOTAL",
    )
    assert counted["ConsumedCapacity"]["TableName"] == scratch_table
    assert counted["Items"] == forward

    assert [i["sk"]["S"] for i in forward] == [f"{s:03d}" for s in range(30)]
    assert {i["pk"]["S"] for i in forward} == {"part-1"}
    assert [i["sk"]["S"] for i in backward] == [f"{s:03d}" for s in range(19, 9, -1)]
    expected_index = sorted(
        (i for i in items if i["g"]["S"] == "group-1"), key=lambda i: i["gs"]["S"]
    )
    assert [i["gs"]["S"] for i in by_index] == [i["gs"]["S"] for i in expected_index]


def test_an_update_moving_an_item_between_index_partitions_moves_it_in_queries(
    dynamodb, scratch_table
):
    key = {"pk": {"S": "moving"}, "sk": {"S": "1"}}
    dynamodb.put_item(
        TableName=scratch_table, Item={**key, "g": {"S": "moving-from"}, "gs": {"S": "a"}}
    )

    def index_partition(group: str) -> list[str]:
        return [
            item["gs"]["S"]
            for item in dynamodb.query(
                TableName=scratch_table,
                IndexName="ByG",
                KeyConditionExpression="g = :g",
                ExpressionAttributeValues={":g": {"S": group}},
            )["Items"]
        ]

    assert index_partition("moving-from") == ["a"]
    dynamodb.update_item(
        TableName=scratch_table,
        Key=key,
        UpdateExpression="SET g = :g, gs = :gs",
        ExpressionAttributeValues={":g": {"S": "moving-to"}, ":gs": {"S": "b"}},
    )
    moved = (index_partition("moving-from"), index_partition("moving-to"))
    dynamodb.delete_item(TableName=scratch_table, Key=key)

    assert moved == ([], ["b"])
    assert index_partition("moving-to") == []


def test_batch_writes_queries_and_scans_at_once_all_succeed_with_whole_batches(
    dynamodb, scratch_table
):
    """Four writers of whole batches, a querier and a scanner on one table: no request
    fails, and every answer holds whole batches (each is applied at once), in order."""
    writers, batches = 4, 30
    failures: list[str] = []
    counts: list[int] = []

    def write(number: int) -> None:
        for batch in range(batches):
            items = [
                {
                    "pk": {"S": f"hammer-{number}"},
                    "sk": {"S": f"{batch:03d}#{row:02d}"},
                    "g": {"S": "hammer"},
                    "gs": {"S": f"{number}#{batch:03d}#{row:02d}"},
                }
                for row in range(25)
            ]
            try:
                dynamodb.batch_write_item(RequestItems={scratch_table: put_requests(items)})
            except ClientError as error:
                failures.append(f"BatchWriteItem: {error}")

    def read(operation: str, until: threading.Event) -> None:
        while not until.is_set():
            try:
                if operation == "Query":
                    pages = dynamodb.get_paginator("query").paginate(
                        TableName=scratch_table,
                        IndexName="ByG",
                        KeyConditionExpression="g = :g",
                        ExpressionAttributeValues={":g": {"S": "hammer"}},
                    )
                else:
                    pages = dynamodb.get_paginator("scan").paginate(TableName=scratch_table)
                items = [item for page in pages for item in page["Items"]]
            except ClientError as error:
                failures.append(f"{operation}: {error}")
                continue
            keys = [i["gs"]["S"] for i in items if i.get("g", {}).get("S") == "hammer"]
            if operation == "Query" and keys != sorted(keys):
                failures.append("Query: out of order")
            counts.append(len(keys))

    done = threading.Event()
    readers = [threading.Thread(target=read, args=(op, done)) for op in ("Query", "Scan")]
    for reader in readers:
        reader.start()
    with ThreadPoolExecutor(writers) as pool:
        list(pool.map(write, range(writers)))
    done.set()
    for reader in readers:
        reader.join()

    assert failures == []
    assert counts and all(count % 25 == 0 for count in counts)
    final = dynamodb.query(
        TableName=scratch_table,
        IndexName="ByG",
        KeyConditionExpression="g = :g",
        ExpressionAttributeValues={":g": {"S": "hammer"}},
        Select="COUNT",
    )
    assert final["Count"] == writers * batches * 25


def test_query_errors_reach_the_client_as_dynamodb_errors(dynamodb, scratch_table):
    condition = {
        "KeyConditionExpression": "pk = :pk",
        "ExpressionAttributeValues": {":pk": {"S": "errors"}},
    }
    with pytest.raises(ClientError) as missing_table:
        dynamodb.query(TableName="no-such-table", **condition)
    with pytest.raises(ClientError) as missing_index:
        dynamodb.query(TableName=scratch_table, IndexName="NoSuchIndex", **condition)

    assert error_code(missing_table) == "ResourceNotFoundException"
    # DynamoDB says ValidationException; moto, with or without the plugin, this:
    assert error_code(missing_index) == "ResourceNotFoundException"
    assert "NoSuchIndex" in str(missing_index.value)
    assert missing_index.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
