"""The lean BatchWriteItem sender against a stand-in DynamoDB on 127.0.0.1 (real sockets)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from botocore.credentials import Credentials
from botocore.exceptions import ChecksumError, ClientError, ConnectionClosedError

from lineup_ingest.adapters import LineupTable
from lineup_ingest.bootstrap import make_clients
from lineup_ingest.codec import to_attributes
from lineup_ingest.dynamodb_http import DynamoDBHttp
from lineup_ingest.retry import RetryBudget, is_retryable
from tests.unit.conftest import THROTTLED

ITEM = {
    "pk": "FILE#uploads/été.csv#03",
    "sk": 'PERF#2025-07-12T20:00#main#"quoted"',
    "minutes": 90,
    "source_line": 2,
    "stage": "Main\tStage \\ ü",
}


class CountingCredentials:
    """Credentials frozen once per request, as botocore's refreshable ones are."""

    def __init__(self) -> None:
        self.frozen = 0

    def get_frozen_credentials(self):
        self.frozen += 1
        return Credentials("AKIDEXAMPLE", "secret", token="session-token").get_frozen_credentials()


def sender(server, credentials=None) -> DynamoDBHttp:
    return DynamoDBHttp(
        f"http://127.0.0.1:{server.server_address[1]}",
        "eu-west-1",
        credentials or Credentials("AKIDEXAMPLE", "secret"),
        timeout_s=5,
    )


def puts(writer: DynamoDBHttp, *items: dict) -> dict[str, list]:
    return {"lineup": [writer.put_request(item) for item in items]}


def test_a_batch_is_posted_as_dynamodb_json_and_its_answer_returned(dynamodb):
    writer = sender(dynamodb)

    response = writer.batch_write_item(RequestItems=puts(writer, ITEM))

    assert response["UnprocessedItems"] == {}
    assert response["ResponseMetadata"] == {"RequestId": "request-1", "HTTPStatusCode": 200}
    ((headers, body, _),) = dynamodb.requests
    assert json.loads(body) == {
        "RequestItems": {"lineup": [{"PutRequest": {"Item": to_attributes(ITEM)}}]}
    }
    assert headers["X-Amz-Target"] == "DynamoDB_20120810.BatchWriteItem"
    assert headers["Content-Type"] == "application/x-amz-json-1.0"


def test_requests_are_signed_with_sigv4_for_dynamodb_in_the_region(dynamodb):
    credentials = CountingCredentials()
    writer = sender(dynamodb, credentials)

    writer.batch_write_item(RequestItems=puts(writer, ITEM))
    writer.batch_write_item(RequestItems=puts(writer, ITEM))

    headers = dynamodb.requests[0][0]
    authorization = headers["Authorization"]
    assert authorization.startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert (
        authorization.split("Credential=")[1]
        .split(",")[0]
        .endswith("/eu-west-1/dynamodb/aws4_request")
    )
    signed = authorization.split("SignedHeaders=")[1].split(",")[0].split(";")
    assert {"host", "x-amz-date", "x-amz-target", "x-amz-security-token"} <= set(signed)
    assert headers["X-Amz-Security-Token"] == "session-token"
    assert credentials.frozen == 2  # so expiring credentials are refreshed as botocore does


def test_the_signature_is_the_one_botocore_computes(dynamodb):
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    writer = sender(dynamodb)
    writer.batch_write_item(RequestItems=puts(writer, ITEM))

    headers, body, _ = dynamodb.requests[0]
    signed = headers["Authorization"].split("SignedHeaders=")[1].split(",")[0].split(";")
    received = {name.lower(): value for name, value in headers.items()}
    request = AWSRequest(
        method="POST",
        url=writer.url,
        data=body,
        headers={name: received[name] for name in signed if name != "host"},
    )
    auth = SigV4Auth(Credentials("AKIDEXAMPLE", "secret"), "dynamodb", "eu-west-1")
    request.context["timestamp"] = headers["X-Amz-Date"]
    canonical = auth.canonical_request(request)
    signature = auth.signature(auth.string_to_sign(request, canonical), request)
    assert headers["Authorization"].endswith(f"Signature={signature}")


def test_throttling_raises_the_clients_error_with_its_short_code(dynamodb):
    dynamodb.script.append(THROTTLED)
    writer = sender(dynamodb)

    with pytest.raises(ClientError) as raised:
        writer.batch_write_item(RequestItems=puts(writer, ITEM))

    assert raised.value.operation_name == "BatchWriteItem"
    assert raised.value.response["Error"] == {
        "Code": "ProvisionedThroughputExceededException",
        "Message": "slow down",
    }
    assert is_retryable(raised.value)


@pytest.mark.parametrize(
    ("status", "code"), [(500, "InternalServerError"), (503, "ServiceUnavailable")]
)
def test_a_server_error_without_a_type_is_retryable(dynamodb, status, code):
    dynamodb.script.append((status, {}))
    writer = sender(dynamodb)

    with pytest.raises(ClientError) as raised:
        writer.batch_write_item(RequestItems=puts(writer, ITEM))

    assert raised.value.response["Error"]["Code"] == code
    assert is_retryable(raised.value)


def test_a_validation_error_is_not_retryable(dynamodb):
    dynamodb.script.append(
        (400, {"__type": "com.amazon.coral.validate#ValidationException", "message": "bad item"})
    )
    writer = sender(dynamodb)

    with pytest.raises(ClientError) as raised:
        writer.batch_write_item(RequestItems=puts(writer, ITEM))

    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert not is_retryable(raised.value)


def test_unprocessed_items_are_returned_and_can_be_sent_again(dynamodb):
    unprocessed = {"lineup": [{"PutRequest": {"Item": to_attributes(ITEM)}}]}
    dynamodb.script.append((200, {"UnprocessedItems": unprocessed}))
    writer = sender(dynamodb)

    response = writer.batch_write_item(RequestItems=puts(writer, ITEM, {**ITEM, "sk": "2"}))
    writer.batch_write_item(RequestItems=response["UnprocessedItems"])

    assert response["UnprocessedItems"] == unprocessed
    assert json.loads(dynamodb.requests[1][1]) == {"RequestItems": unprocessed}


def test_a_closed_keep_alive_connection_is_replaced(dynamodb):
    dynamodb.close_after_answer = True
    writer = sender(dynamodb)

    for _ in range(3):
        writer.batch_write_item(RequestItems=puts(writer, ITEM))

    assert len(dynamodb.requests) == 3
    assert len({port for _, _, port in dynamodb.requests}) == 3


def test_connections_are_kept_alive_between_requests(dynamodb):
    writer = sender(dynamodb)

    for _ in range(3):
        writer.batch_write_item(RequestItems=puts(writer, ITEM))

    assert len({port for _, _, port in dynamodb.requests}) == 1


def test_a_dropped_request_is_sent_once_more_on_a_new_connection(dynamodb):
    dynamodb.script.append("drop")
    writer = sender(dynamodb)

    response = writer.batch_write_item(RequestItems=puts(writer, ITEM))

    assert response["UnprocessedItems"] == {}
    (_, first, port1), (_, second, port2) = dynamodb.requests
    assert first == second and port1 != port2


def test_a_connection_dropped_twice_raises_botocores_error(dynamodb):
    dynamodb.script.extend(["drop", "drop"])
    writer = sender(dynamodb)

    with pytest.raises(ConnectionClosedError):
        writer.batch_write_item(RequestItems=puts(writer, ITEM))


def test_an_answer_with_a_wrong_crc32_is_asked_again_then_refused(dynamodb):
    dynamodb.script.extend([(200, {"UnprocessedItems": {}}, 1)] * 2)
    writer = sender(dynamodb)

    with pytest.raises(ChecksumError):
        writer.batch_write_item(RequestItems=puts(writer, ITEM))
    assert len(dynamodb.requests) == 2


def test_the_table_retries_throttling_through_the_sender_within_its_budget(dynamodb):
    dynamodb.script.extend([THROTTLED, THROTTLED])
    writer = sender(dynamodb)
    budget = RetryBudget(lambda: 300_000, sleep=lambda _: None)
    table = LineupTable(object(), "lineup", budget, concurrency=1, writer=writer)

    table.put_items([ITEM, {**ITEM, "sk": "2"}])

    assert budget.retries == 2 and table.write_requests == 3
    items = json.loads(dynamodb.requests[-1][1])["RequestItems"]["lineup"]
    assert [put["PutRequest"]["Item"]["sk"]["S"] for put in items] == [ITEM["sk"], "2"]


def test_a_query_is_posted_with_boto3s_arguments_and_its_answer_returned_as_sent(dynamodb):
    answer = {
        "Items": [{"performer": {"S": "Sigur Rós"}, "start": {"S": "2025-07-12T20:00"}}],
        "Count": 1,
        "LastEvaluatedKey": {"pk": {"S": "FILE#a.csv#V1#00"}, "sk": {"S": "PERF#x"}},
    }
    dynamodb.script.append((200, answer))
    request = {
        "TableName": "lineup",
        "ConsistentRead": True,
        "KeyConditionExpression": "pk = :pk",
        "ExpressionAttributeValues": {":pk": {"S": "FILE#a.csv#V1#00"}},
    }

    response = sender(dynamodb).query(**request)

    assert {k: v for k, v in response.items() if k != "ResponseMetadata"} == answer
    ((headers, body, _),) = dynamodb.requests
    assert json.loads(body) == request
    assert headers["X-Amz-Target"] == "DynamoDB_20120810.Query"


def test_a_versions_rows_are_read_page_by_page_and_a_throttled_page_asked_again(dynamodb):
    def page(performers: list[str], last: str | None = None) -> tuple[int, dict]:
        items = [{"performer": {"S": p}, "stage": {"S": "Main"}} for p in performers]
        more = {"LastEvaluatedKey": {"pk": {"S": "p"}, "sk": {"S": last}}} if last else {}
        return 200, {"Items": items, **more}

    # The first partition in two pages (the second throttled once), the others empty.
    dynamodb.script.extend([page(["A", "B"], last="B"), THROTTLED, page(["C"])])
    budget = RetryBudget(lambda: 300_000, sleep=lambda _: None)
    table = LineupTable(object(), "lineup", budget, concurrency=1, writer=sender(dynamodb))

    rows = list(table.version_rows("uploads/a.csv", "V1", ("performer", "stage")))

    assert [row["performer"] for row in rows] == ["A", "B", "C"]
    assert budget.retries == 1
    second = json.loads(dynamodb.requests[1][1])
    assert second["ExclusiveStartKey"] == {"pk": {"S": "p"}, "sk": {"S": "B"}}
    assert json.loads(dynamodb.requests[2][1]) == second  # the throttled page, again


def test_a_put_is_encoded_as_botocore_would(dynamodb):
    item = {
        **ITEM,
        "flag": True,
        "nothing": None,
        "share": Decimal("1.5"),
        "raw": b"\x00\xff",
        "tags": {"a"},
        "nested": {"list": [1, "x"]},
    }

    encoded = json.loads(DynamoDBHttp.put_request(item))

    assert encoded == {
        "PutRequest": {
            "Item": {
                **to_attributes(ITEM),
                "flag": {"BOOL": True},
                "nothing": {"NULL": True},
                "share": {"N": "1.5"},
                "raw": {"B": "AP8="},
                "tags": {"SS": ["a"]},
                "nested": {"M": {"list": {"L": [{"N": "1"}, {"S": "x"}]}}},
            }
        }
    }


def test_the_functions_batch_writes_go_to_its_dynamodb_clients_endpoint(monkeypatch):
    import boto3

    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
    session = boto3.session.Session(
        region_name="eu-west-1", aws_access_key_id="a", aws_secret_access_key="b"
    )

    clients = make_clients(session)

    writer = clients.dynamodb_writer
    assert isinstance(writer, DynamoDBHttp)
    assert (writer.url, writer.region) == ("http://127.0.0.1:1/", "eu-west-1")
    assert writer.credentials.get_frozen_credentials().access_key == "a"
    assert clients.dynamodb.meta.endpoint_url == "http://127.0.0.1:1"
