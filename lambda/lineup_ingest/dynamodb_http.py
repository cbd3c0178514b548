"""BatchWriteItem and Query without boto3's per-request machinery: JSON, SigV4, one
kept-alive socket.

Measured on the Lambda's Python 3.10 (docs in benchmarks/lambda_cpu.py): a 25-item
``BatchWriteItem`` through the boto3 client costs about 3 ms of CPU, of which serializing,
signing and sending need about 1 ms; the rest is botocore validating, serializing through
the service model, emitting events and parsing the response through the model. Batch writes
are 4,000 of the 4,003 requests of a 100,000-row file, so this module sends those. At the
end of a load every row is read back (clashes, changes): botocore's parser then costs more
than the writes (about 0.1 ms a row on the local stack), so those Queries go through here
too, and their answers are read with ``json.loads`` alone.

`DynamoDBHttp.batch_write_item` and `query` keep the boto3 client's contract: the same
arguments and return value (but for binary attribute values, which a Query answers in
base64 here; the rows read back hold none), and DynamoDB's errors raised as
``botocore.exceptions.ClientError`` with the short code of the ``__type`` (so the caller's
retry of throttling keeps working). Everything that is not a request body comes from
botocore: the endpoint and region of the client (``AWS_ENDPOINT_URL`` or AWS), its
credentials (``get_frozen_credentials`` on each request, which refreshes expiring ones as
botocore does), ``SigV4Auth``, the CA bundle, and its ``before-send`` event, so whatever
answers a client's requests in its place (moto does) answers these too.
"""

from __future__ import annotations

import base64
import http.client
import json
import socket
import ssl
import threading
import zlib
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from boto3.dynamodb.types import Binary, TypeSerializer
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSPreparedRequest, AWSRequest
from botocore.client import BaseClient
from botocore.exceptions import (
    ChecksumError,
    ClientError,
    ConnectionClosedError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)
from botocore.hooks import first_non_none_response
from botocore.httpsession import get_cert_path

TARGET_PREFIX = "DynamoDB_20120810."
# A 5xx without a __type still means "try again later".
SERVER_ERROR_CODES = {503: "ServiceUnavailable"}
_DEFAULT_SERVER_ERROR = "InternalServerError"

_escape = json.encoder.encode_basestring_ascii  # what json.dumps uses for a str (C)
_serializer = TypeSerializer()


class _EncodedRequest(str):
    """One write request already in DynamoDB JSON, e.g. ``{"PutRequest":{"Item":{...}}}``."""

    __slots__ = ()


class DynamoDBHttp:
    """Sends ``BatchWriteItem`` and ``Query`` requests; thread-safe, one connection per
    thread."""

    def __init__(
        self,
        endpoint_url: str,
        region: str,
        credentials,
        *,
        events=None,
        timeout_s: float = 60.0,
        verify: bool | str = True,
    ) -> None:
        parts = urlsplit(endpoint_url)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ValueError(f"not an http(s) endpoint: {endpoint_url!r}")
        self.endpoint_url = endpoint_url
        self.url = f"{parts.scheme}://{parts.netloc}/"
        self.region = region
        self.credentials = credentials
        self.events = events
        self.timeout_s = timeout_s
        self._secure = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port
        self._ssl_context: ssl.SSLContext | None = None
        if self._secure:
            if verify is False:
                self._ssl_context = ssl._create_unverified_context()
            else:
                self._ssl_context = ssl.create_default_context(cafile=get_cert_path(verify))
        self._local = threading.local()
        self._base_headers = {
            "Content-Type": "application/x-amz-json-1.0",
            "Accept-Encoding": "identity",
        }

    @classmethod
    def for_client(
        cls, client: BaseClient, credentials, *, verify: bool | str = True
    ) -> DynamoDBHttp:
        """A sender to the endpoint of a boto3 DynamoDB client, signing with ``credentials``
        (the session's: ``session.get_credentials()`` is what the client signs with) and
        checking the server's certificate with ``verify`` (True: botocore's CA bundle)."""
        config = client.meta.config
        return cls(
            client.meta.endpoint_url,
            client.meta.region_name,
            credentials,
            events=client.meta.events,
            timeout_s=max(config.connect_timeout or 0, config.read_timeout or 0) or 60.0,
            verify=verify,
        )

    # --- requests in DynamoDB JSON ---------------------------------------------------------

    @staticmethod
    def put_request(item: dict[str, Any]) -> str:
        """The put of ``item`` (plain Python values) encoded once, ready for a request body.

        Building the JSON text of an item directly is several times cheaper than building
        its attribute dicts and then ``json.dumps``. `batch_write_item` takes these strings
        among its write requests, next to the usual dicts (unprocessed items come back so).
        """
        attributes = []
        for name, value in item.items():  # encode_value, inlined for our str and int
            kind = type(value)
            if kind is str:
                attributes.append(f'{_escape(name)}:{{"S":{_escape(value)}}}')
            elif kind is int:
                attributes.append(f'{_escape(name)}:{{"N":"{value}"}}')
            else:
                attributes.append(f"{_escape(name)}:{encode_value(value)}")
        return _EncodedRequest('{"PutRequest":{"Item":{' + ",".join(attributes) + "}}}")

    @staticmethod
    def body(request_items: dict[str, list]) -> bytes:
        tables = []
        for table, requests in request_items.items():
            encoded = [r if type(r) is _EncodedRequest else _dumps(r) for r in requests]
            tables.append(f"{_escape(table)}:[{','.join(encoded)}]")
        return ('{"RequestItems":{' + ",".join(tables) + "}}").encode()

    # --- the request ----------------------------------------------------------------------

    def batch_write_item(self, *, RequestItems: dict[str, list]) -> dict:  # noqa: N803 (boto3)
        return self._call("BatchWriteItem", self.body(RequestItems))

    def query(self, **params: Any) -> dict:
        """A Query with boto3's arguments (attribute values in DynamoDB JSON); its answer as
        DynamoDB sends it, ``Items`` and ``LastEvaluatedKey`` in DynamoDB JSON."""
        return self._call("Query", _dumps(params).encode())

    def _call(self, operation: str, body: bytes) -> dict:
        headers = self._signed_headers(operation, body)
        status, response_headers, content = self._answer(operation, headers, body)
        request_id = response_headers.get("x-amzn-requestid", "")
        metadata = {"RequestId": request_id, "HTTPStatusCode": status}
        parsed = _parse(content)
        if status >= 300:
            raise ClientError(_error(status, parsed, metadata), operation)
        parsed["ResponseMetadata"] = metadata
        return parsed

    def _signed_headers(self, operation: str, body: bytes) -> dict[str, str]:
        if self.credentials is None:
            raise NoCredentialsError()
        headers = {**self._base_headers, "X-Amz-Target": TARGET_PREFIX + operation}
        request = AWSRequest(method="POST", url=self.url, data=body, headers=headers)
        SigV4Auth(self.credentials.get_frozen_credentials(), "dynamodb", self.region).add_auth(
            request
        )
        return dict(request.headers.items())

    def _answer(
        self, operation: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict, bytes]:
        if self.events is not None:
            prepared = AWSPreparedRequest("POST", self.url, headers, body, stream_output=False)
            answer = first_non_none_response(
                self.events.emit(f"before-send.dynamodb.{operation}", request=prepared)
            )
            if answer is not None:
                return answer.status_code, _lower(answer.headers), answer.content
        for attempt in range(2):
            try:
                return self._send(headers, body)
            except (OSError, http.client.HTTPException, ChecksumError) as error:
                # A kept-alive connection the server closed, a reset, a timeout, a
                # corrupted answer: once more on a new connection (puts, deletes and
                # queries are idempotent).
                self._disconnect()
                if attempt:
                    raise _as_botocore_error(error, self.endpoint_url) from error
        raise AssertionError("unreachable")

    def _send(self, headers: dict[str, str], body: bytes) -> tuple[int, dict, bytes]:
        connection = self._connection()
        connection.request("POST", "/", body, headers)
        response = connection.getresponse()
        content = response.read()
        response_headers = _lower(response.headers)
        if response.will_close:
            self._disconnect()
        checksum = response_headers.get("x-amz-crc32")
        if checksum is not None and int(checksum) != zlib.crc32(content):
            raise ChecksumError(
                checksum_type="crc32",
                expected_checksum=checksum,
                actual_checksum=zlib.crc32(content),
            )
        return response.status, response_headers, content

    def _connection(self) -> http.client.HTTPConnection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            if self._secure:
                connection = http.client.HTTPSConnection(
                    self._host, self._port, timeout=self.timeout_s, context=self._ssl_context
                )
            else:
                connection = http.client.HTTPConnection(
                    self._host, self._port, timeout=self.timeout_s
                )
            connection.connect()
            connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._local.connection = connection
        return connection

    def _disconnect(self) -> None:
        connection = getattr(self._local, "connection", None)
        self._local.connection = None
        if connection is not None:
            connection.close()


# --- encoding ------------------------------------------------------------------------------


def encode_value(value: Any) -> str:
    """One attribute value in DynamoDB JSON: ``{"S":"..."}``, ``{"N":"3"}``, ..."""
    kind = type(value)
    if kind is str:
        return '{"S":' + _escape(value) + "}"
    if kind is int:
        return '{"N":"' + str(value) + '"}'
    return _dumps(_serializer.serialize(value))


def _json_default(value: Any) -> Any:
    # What TypeSerializer leaves that json cannot write: numbers and binary data.
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Binary):
        value = value.value
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"cannot encode {type(value).__name__} for DynamoDB")


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), default=_json_default)


# --- answers -------------------------------------------------------------------------------


def _parse(content: bytes) -> dict:
    try:
        parsed = json.loads(content) if content else {}
    except ValueError:  # not DynamoDB answering, e.g. a proxy's error page
        return {"message": content[:200].decode("utf-8", "replace")}
    return parsed if isinstance(parsed, dict) else {}


def _lower(headers) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def _error(status: int, parsed: dict, metadata: dict) -> dict:
    code = parsed.get("__type") or ""
    code = code.split(":", 1)[0].rsplit("#", 1)[-1]
    if not code:
        code = (
            SERVER_ERROR_CODES.get(status, _DEFAULT_SERVER_ERROR) if status >= 500 else str(status)
        )
    message = parsed.get("message", parsed.get("Message", ""))
    return {"Error": {"Code": code, "Message": message}, "ResponseMetadata": metadata}


def _as_botocore_error(error: Exception, endpoint_url: str) -> Exception:
    if isinstance(error, ChecksumError):
        return error
    if isinstance(error, (socket.timeout, TimeoutError)):
        return ReadTimeoutError(endpoint_url=endpoint_url, error=error)
    if isinstance(error, (ConnectionRefusedError, socket.gaierror)):
        return EndpointConnectionError(endpoint_url=endpoint_url, error=error)
    return ConnectionClosedError(endpoint_url=endpoint_url, error=error)
