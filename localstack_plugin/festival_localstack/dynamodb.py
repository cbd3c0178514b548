"""DynamoDB for LocalStack served by moto, with request counts and injectable faults.

LocalStack's own providers download Java and DynamoDB Local. This provider answers every
operation from moto (bundled with LocalStack as ``moto-ext``), selected with
``PROVIDER_OVERRIDE_DYNAMODB=festival_moto``.

Moto never throttles and never leaves ``UnprocessedItems``, so tests and benchmarks
control that here, over HTTP on LocalStack's own port:

- ``GET /_festival/dynamodb/stats`` the number of requests per operation since the last reset;
  ``DELETE`` resets them.
- ``PUT /_festival/dynamodb/faults`` with ``{"throttle_rate": 0.2, "unprocessed_rate": 0.3}``:
  that share of ``BatchWriteItem`` requests fails with
  ``ProvisionedThroughputExceededException``, and that share of the items of the others is
  returned unprocessed (and not written). With ``{"fail_batches_with": "text",
  "fail_times": 1}`` the first ``fail_times`` ``BatchWriteItem`` requests whose items hold
  the text fail with a ``ValidationException`` a retry cannot cure (every one of them when
  ``fail_times`` is absent): a crash of whatever loads that row. ``DELETE`` turns faults off.

Writes are served without work DynamoDB itself would not make a client wait for: an item's
JSON is decoded once, not walked against the API model and decoded again by moto
(``DecodeOnlyWritesParser``, ``_write_batch_in_moto``), and moto's quadratic size check and
whole-table sort per Query are removed (``moto_speedups``). Profiled with py-spy: without
them, the emulator's CPU per item, not the number of requests, set the speed of any loader.
These reach into LocalStack's and moto's internals, so they apply only to the releases they
were written for (``versions``); on others, writes take LocalStack's ordinary path.
"""

from __future__ import annotations

import json
import random
import threading
from collections import Counter
from collections.abc import Mapping
from typing import cast

from localstack.aws.api import CommonServiceException, RequestContext, handler
from localstack.aws.api.dynamodb import (
    BatchWriteItemInput,
    BatchWriteItemOutput,
    DynamodbApi,
    ProvisionedThroughputExceededException,
    QueryInput,
    QueryOutput,
)
from localstack.aws.handlers import service as service_handlers
from localstack.aws.protocol.parser import JSONRequestParser, create_parser
from localstack.http import Request, Response, route
from localstack.services.edge import ROUTER
from localstack.services.moto import MotoFallbackDispatcher, call_moto, call_moto_with_request
from localstack.services.plugins import Service, aws_provider
from moto.core.exceptions import JsonRESTError
from moto.dynamodb.responses import DynamoHandler

from festival_localstack import moto_index, moto_speedups, versions


class FaultPlan:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.throttle_rate = 0.0
        self.unprocessed_rate = 0.0
        self.fail_text = ""
        self.fail_times: int | None = None
        self.random = random.Random()
        self.requests: Counter[str] = Counter()
        self.injected: Counter[str] = Counter()

    def configure(self, settings: dict) -> None:
        with self.lock:
            self.throttle_rate = float(settings.get("throttle_rate", 0.0))
            self.unprocessed_rate = float(settings.get("unprocessed_rate", 0.0))
            self.fail_text = str(settings.get("fail_batches_with", ""))
            times = settings.get("fail_times")
            self.fail_times = None if times is None else int(times)
            self.random = random.Random(settings.get("seed"))

    def should_fail(self, request: dict) -> bool:
        with self.lock:
            if not self.fail_text or self.fail_times == 0:
                return False
            if self.fail_text not in json.dumps(request.get("RequestItems", {})):
                return False
            if self.fail_times is not None:
                self.fail_times -= 1
            self.injected["failed_requests"] += 1
            return True

    def should_throttle(self) -> bool:
        return self._drawn(self.throttle_rate, "throttled_requests")

    def should_leave_unprocessed(self) -> bool:
        return self._drawn(self.unprocessed_rate, "unprocessed_items")

    def _drawn(self, rate: float, counted_as: str) -> bool:
        """Whether to inject a fault drawn at this rate; counted if so."""
        with self.lock:
            injected = self.random.random() < rate
            if injected:
                self.injected[counted_as] += 1
            return injected

    def count(self, operation: str) -> None:
        with self.lock:
            self.requests[operation] += 1

    def stats(self) -> dict:
        with self.lock:
            return {"requests": dict(self.requests), "injected": dict(self.injected)}

    def reset_stats(self) -> None:
        with self.lock:
            self.requests.clear()
            self.injected.clear()


FAULTS = FaultPlan()


class DecodeOnlyWritesParser(JSONRequestParser):
    """Decodes a write's (or a Query's) JSON without walking it attribute by attribute
    against the model.

    Walking every attribute of every item was a third of the emulator's CPU per BatchWriteItem
    (profiled), and moto wants plain JSON anyway: BatchWriteItem's and Query's decoded JSON
    go straight to moto's handler, PutItem's raw body to moto. The fault path below parses
    in full the requests it changes.
    """

    DECODE_ONLY = frozenset({"BatchWriteItem", "PutItem", "Query"})

    def parse(self, request: Request):
        operation_name = request.headers.get("X-Amz-Target", "").rpartition(".")[2]
        if operation_name not in self.DECODE_ONLY:
            return super().parse(request)
        return self.service.operation_model(operation_name), self._parse_body_as_json(request)


def _create_parser_decoding_dynamodb_writes(service, protocol=None):
    if service.service_name == "dynamodb" and (protocol or service.protocol) == "json":
        return DecodeOnlyWritesParser(service)
    return create_parser(service, protocol)


def _in_moto(context: RequestContext, request: Mapping, operation: str) -> str:
    """The JSON text of moto's own handler of ``operation``, given the JSON decoded once by
    our parser; moto's errors raised as the service's.

    call_moto would have moto decode the raw request again and dispatch it through its HTTP
    layer, then parse moto's HTTP response back: per batch, more CPU than storing 25 items.
    """
    moto_handler = DynamoHandler()
    moto_handler.current_account, moto_handler.region = context.account_id, context.region
    moto_handler.body = request
    method = getattr(DynamoHandler, operation)
    if request.get("ReturnConsumedCapacity", "NONE") == "NONE":
        # moto's include_consumed_capacity decodes its handler's answer and encodes it again
        # even when no capacity is asked for: a second pass over every item of a Query.
        method = getattr(method, "__wrapped__", method)
    try:
        # moto-ext 5.1 answers with the JSON text (mypy reads the project's newer moto).
        return cast(str, method(moto_handler))
    except JsonRESTError as error:
        raise CommonServiceException(
            error.relative_error_type, error.message, status_code=error.code
        ) from error


def _write_batch_in_moto(context: RequestContext, request: dict) -> dict:
    return json.loads(_in_moto(context, request, "batch_write_item"))


def _query_in_moto(context: RequestContext, request: QueryInput) -> Response:
    """moto's answer to a Query, sent as moto wrote it: DynamoDB's own JSON. LocalStack
    would parse it back and serialize it again, walking every attribute of every item twice:
    most of the emulator's CPU for a page of items. Its response parser would parse it back
    too, unless the context holds a response already: only LocalStack's debug log of
    requests reads that, so it holds a note instead."""
    context.service_response = {"Note": "moto's answer, sent as written and not parsed back"}
    return Response(
        _in_moto(context, request, "query"),
        status=200,
        mimetype="application/x-amz-json-1.0",
    )


class MotoDynamoDBProvider(DynamodbApi):
    """Everything falls through to moto; BatchWriteItem may have faults injected first.

    With ``lean_writes``, requests come from ``DecodeOnlyWritesParser`` and a batch or a
    Query goes straight to moto's handler; without, LocalStack parses them and calls moto
    its own way.
    """

    def __init__(self, lean_writes: bool) -> None:
        self.lean_writes = lean_writes

    @handler("Query", expand=False)
    def query(  # type: ignore[override]
        self, context: RequestContext, request: QueryInput
    ) -> QueryOutput | Response:
        if self.lean_writes:
            return _query_in_moto(context, request)
        return call_moto(context)

    @handler("BatchWriteItem", expand=False)
    def batch_write_item(
        self, context: RequestContext, request: BatchWriteItemInput
    ) -> BatchWriteItemOutput:
        if FAULTS.fail_text and FAULTS.should_fail(request):
            raise CommonServiceException(
                "ValidationException", "Injected fault: this batch always fails", status_code=400
            )
        if FAULTS.should_throttle():
            raise ProvisionedThroughputExceededException(
                "Injected fault: the level of configured provisioned throughput was exceeded"
            )
        if not FAULTS.unprocessed_rate:
            if self.lean_writes:
                return _write_batch_in_moto(context, request)
            return call_moto(context)

        request = create_parser(context.service).parse(context.request)[1]
        processed: dict = {}
        unprocessed: dict = {}
        for table, writes in request["RequestItems"].items():
            for write in writes:
                target = unprocessed if FAULTS.should_leave_unprocessed() else processed
                target.setdefault(table, []).append(write)
        response = (
            call_moto_with_request(context, {**request, "RequestItems": processed})
            if processed
            else {"UnprocessedItems": {}}
        )
        for table, writes in unprocessed.items():
            response.setdefault("UnprocessedItems", {}).setdefault(table, []).extend(writes)
        return response


class FaultRoutes:
    @route("/_festival/dynamodb/faults", methods=["PUT", "POST"])
    def set_faults(self, request: Request) -> Response:
        FAULTS.configure(request.get_json(force=True) or {})
        return Response.for_json({"status": "ok"})

    @route("/_festival/dynamodb/faults", methods=["DELETE"])
    def clear_faults(self, request: Request) -> Response:
        FAULTS.configure({})
        return Response.for_json({"status": "ok"})

    @route("/_festival/dynamodb/stats", methods=["GET"])
    def get_stats(self, request: Request) -> Response:
        return Response.for_json(FAULTS.stats())

    @route("/_festival/dynamodb/stats", methods=["DELETE"])
    def reset_stats(self, request: Request) -> Response:
        FAULTS.reset_stats()
        return Response.for_json({"status": "ok"})


def _counting(table: dict) -> dict:
    """Each operation counted, and served by moto under ``moto_index.LOCK``: one request at a
    time reads or changes moto's tables (they are plain dicts; a Scan walking one while a
    batch write added to it answered "dictionary changed size during iteration"). moto's
    work is Python under the GIL either way, so this costs no throughput."""

    def wrap(operation, function):
        def counted(context, request):
            FAULTS.count(operation)
            with moto_index.LOCK:
                return function(context, request)

        return counted

    return {operation: wrap(operation, function) for operation, function in table.items()}


@aws_provider(api="dynamodb", name="festival_moto")
def dynamodb_moto():
    ROUTER.add(FaultRoutes())
    moto_speedups.apply()
    # Replaces LocalStack's parser factory for the whole process: only where written for.
    lean_writes = versions.written_for(
        "the lean DynamoDB write path (decode-only parser, moto's handler called directly)",
        "localstack-core",
        "moto-ext",
    )
    if lean_writes:
        service_handlers.create_parser = _create_parser_decoding_dynamodb_writes
    return Service.for_provider(
        MotoDynamoDBProvider(lean_writes),
        dispatch_table_factory=lambda provider: _counting(MotoFallbackDispatcher(provider)),
    )
