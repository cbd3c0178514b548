"""Routes inside LocalStack that `festival-local down` and `up` use to save and restore state.

LocalStack's init runner executes this file inside the emulator's process (it is copied to
``<FILESYSTEM_ROOT>/etc/localstack/init/ready.d/`` before LocalStack starts), where it adds
two routes on LocalStack's own port:

- ``GET /_festival/state/dynamodb?table=NAME[&region=R]``: every item of the table, one JSON
  object (DynamoDB JSON) a line, read from moto's store in one pass. A paginated Scan of
  moto walks the table from its start for each page (quadratic: about 35 s for 50,000
  items), which would make saving hundreds of thousands of rows take many minutes.
- ``POST /_festival/state/s3/stamp`` with ``[{"bucket", "key", "last_modified", "etag"}]``:
  gives restored objects back the modification time and ETag they had when saved. The
  reconcile sweep loads again any object newer than its upload record, so restored files
  must keep their dates, which S3's API cannot set.

These read LocalStack's and moto's internals, so they answer only on the releases they were
written for (the same pins as the plugin: kit/emulator-constraints.txt); on others they
answer 501 and the caller falls back (a Scan; objects dated at their restore).

Standard library only at import: the project's tests import it without LocalStack.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Callable, Iterator
from datetime import datetime
from importlib import metadata
from typing import Any

WRITTEN_FOR = {"localstack-core": "4.14.0", "moto-ext": "5.1.54"}
ACCOUNT = "000000000000"
DEFAULT_REGION = "us-east-1"
DUMP_ATTEMPTS = 5  # a write during the walk changes moto's dicts under it: walk again
LOG = logging.getLogger("festival.state")


def written_for_installed() -> str | None:
    """None when LocalStack and moto are the pinned releases, else what differs."""
    differing = []
    for name, wanted in WRITTEN_FOR.items():
        try:
            found: str | None = metadata.version(name)
        except metadata.PackageNotFoundError:
            found = None
        if found != wanted:
            differing.append(f"{name} {found or 'not installed'} (written for {wanted})")
    return ", ".join(differing) or None


LINES_PER_CHUNK = 2000  # one chunk of the response per this many items, not one per item


def item_lines(items: list[Any]) -> Iterator[bytes]:
    """Moto items as DynamoDB JSON lines (binary values base64, as DynamoDB's JSON has them),
    in chunks of many lines."""
    for start in range(0, len(items), LINES_PER_CHUNK):
        yield b"".join(
            json.dumps(item.to_json()["Attributes"], separators=(",", ":")).encode() + b"\n"
            for item in items[start : start + LINES_PER_CHUNK]
        )


def table_items(table_name: str, region: str) -> list[Any]:
    from moto.dynamodb.models import dynamodb_backends

    table = dynamodb_backends[ACCOUNT][region].get_table(table_name)
    moto_lock: contextlib.AbstractContextManager[Any] = contextlib.nullcontext()
    try:  # the plugin's lock around moto's DynamoDB structures, where it has one
        from festival_localstack.moto_index import LOCK

        moto_lock = LOCK
    except ImportError:
        pass
    for attempt in range(DUMP_ATTEMPTS):
        try:
            with moto_lock:
                return list(table.all_items())
        except RuntimeError:  # "dictionary changed size during iteration"
            if attempt == DUMP_ATTEMPTS - 1:
                raise
    return []


def stamp_objects(stamps: list[dict[str, str]], region: str) -> int:
    from localstack.services.s3.models import s3_stores

    buckets = s3_stores[ACCOUNT][region].buckets
    stamped = 0
    for stamp in stamps:
        s3_object = buckets[stamp["bucket"]].objects.get(stamp["key"])
        if s3_object is None:
            continue
        moment = datetime.fromisoformat(stamp["last_modified"])
        s3_object.last_modified = moment.astimezone(s3_object.last_modified.tzinfo)
        s3_object.etag = stamp["etag"].strip('"')
        stamped += 1
    return stamped


def install() -> None:
    """Add the routes to LocalStack's gateway (called when LocalStack runs this file)."""
    from localstack.http import Request, Response, route
    from localstack.services.edge import ROUTER

    unsupported = written_for_installed()
    if unsupported:
        LOG.warning("festival state routes answer 501: %s", unsupported)

    def answer(request: Request, failed: int, work: Callable[[str], Response]) -> Response:
        """What ``work`` answers for the request's region; 501 on releases the routes were
        not written for, and the status ``failed`` with the error if ``work`` raises."""
        if unsupported:
            return Response.for_json({"error": unsupported}, status=501)
        region = request.args.get("region", DEFAULT_REGION)
        try:
            return work(region)
        except Exception as error:  # noqa: BLE001 - said to the caller, who stops
            return Response.for_json({"error": f"{type(error).__name__}: {error}"}, status=failed)

    class StateRoutes:
        @route("/_festival/state/dynamodb", methods=["GET"])
        def dump_table(self, request: Request) -> Response:
            return answer(
                request,
                404,
                lambda region: Response(
                    item_lines(table_items(request.args["table"], region)),
                    mimetype="application/x-ndjson",
                ),
            )

        @route("/_festival/state/s3/stamp", methods=["POST"])
        def stamp(self, request: Request) -> Response:
            return answer(
                request,
                400,
                lambda region: Response.for_json(
                    {"stamped": stamp_objects(request.get_json(force=True), region)}
                ),
            )

    ROUTER.add(StateRoutes())


# LocalStack's init runner executes this file with empty globals (no __name__).
if globals().get("__name__") in (None, "__main__", "builtins"):
    install()
