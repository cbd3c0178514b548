"""The local stack's data kept across restarts: saved by `down`, restored by `up`.

LocalStack's community edition forgets everything when it stops. So, before stopping it,
`festival-local down` saves under ``.local/state/emulator/``, for each deployed stack of
the template (those with ``UploadBucketName`` and ``TableName`` outputs):

- its name and parameters (``stacks.json``), so `up` deploys it again the same way;
- every object of its upload bucket, with its metadata, content type, modification time
  and ETag (``<stack>/objects.jsonl`` and ``<stack>/objects/``);
- every item of its table, exactly, as DynamoDB JSON lines (``<stack>/items.jsonl.gz``).
  The table itself (keys, indexes, TTL) comes back from the template.

A fresh emulator gives a redeployed stack new bucket and table names (they derive from the
stack's id), so the data goes back by output name: the old bucket's objects into the new
bucket, the old table's items into the new table.

Restoring never runs the pipeline again:

- the bucket's notification configuration is taken off while its objects are put back and
  then set again exactly as it was, so no S3 event reaches the function;
- each object gets back its modification time and ETag (``emulator_state``'s stamp route):
  the reconcile sweep loads any object newer than its upload's record, and would otherwise
  load every restored file again and email about it;
- items are written with BatchWriteItem (25 a request, several requests in flight); no
  stream or trigger reads the table.

MailDev keeps its messages in ``.local/state/mail`` itself and loads them when it starts;
the mail forwarder's record of what it sent is ``.local/state/mail-forwarded.txt``.
"""

from __future__ import annotations

import base64
import gzip
import json
import shutil
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

STACKS_FILE = "stacks.json"
ITEMS_FILE = "items.jsonl.gz"
OBJECTS_FILE = "objects.jsonl"
OBJECTS_DIR = "objects"
BATCH = 25  # BatchWriteItem's maximum
WRITERS = 4  # batch requests in flight while restoring
UNPROCESSED_ATTEMPTS = 8
# Outputs that make a stack one of ours.
STACK_OUTPUTS = ("UploadBucketName", "TableName")


class StateError(Exception):
    """The state could not be saved or restored (the message says what and why)."""


@dataclass(frozen=True)
class SavedStack:
    name: str
    parameters: dict[str, str]
    outputs: dict[str, str]


@dataclass
class Figures:
    """What a save or a restore moved, and how long it took (printed by the CLI)."""

    stacks: int = 0
    objects: int = 0
    items: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return (
            f"{self.stacks} stack(s), {self.objects} object(s), {self.items} item(s) "
            f"in {self.seconds:.1f} s"
        )


# --- DynamoDB JSON on disk and on the wire ------------------------------------------------------


def to_client(value: dict[str, Any]) -> dict[str, Any]:
    """A DynamoDB JSON attribute as boto3's low-level client takes it (binary as bytes)."""
    (kind, inner), *_ = value.items()
    if kind == "B":
        return {"B": base64.b64decode(inner)}
    if kind == "BS":
        return {"BS": [base64.b64decode(member) for member in inner]}
    if kind == "M":
        return {"M": {name: to_client(member) for name, member in inner.items()}}
    if kind == "L":
        return {"L": [to_client(member) for member in inner]}
    return {kind: inner}


def from_client(value: dict[str, Any]) -> dict[str, Any]:
    """A boto3 low-level attribute as DynamoDB JSON (binary as base64)."""
    (kind, inner), *_ = value.items()
    if kind == "B":
        return {"B": base64.b64encode(inner).decode()}
    if kind == "BS":
        return {"BS": [base64.b64encode(member).decode() for member in inner]}
    if kind == "M":
        return {"M": {name: from_client(member) for name, member in inner.items()}}
    if kind == "L":
        return {"L": [from_client(member) for member in inner]}
    return {kind: inner}


def read_items(path: Path) -> Iterator[dict[str, Any]]:
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                yield json.loads(line)


def batches(items: Iterable[dict[str, Any]], size: int = BATCH) -> Iterator[list[dict]]:
    batch: list[dict] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


# --- saving ---------------------------------------------------------------------------------


def festival_stacks(cloudformation) -> list[SavedStack]:
    """The deployed stacks of our template, as `up` must deploy them again."""
    found = []
    for page in cloudformation.get_paginator("describe_stacks").paginate():
        for stack in page["Stacks"]:
            status = stack["StackStatus"]
            if status.startswith("DELETE") or status.endswith("_FAILED"):
                continue
            outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
            if all(name in outputs for name in STACK_OUTPUTS):
                parameters = {
                    p["ParameterKey"]: p["ParameterValue"] for p in stack.get("Parameters", [])
                }
                found.append(SavedStack(stack["StackName"], parameters, outputs))
    return found


def dump_table(endpoint: str, dynamodb, table: str, path: Path) -> int:
    """Every item of the table into a gzipped JSON-lines file; the number of items."""
    try:
        response: requests.Response | None = requests.get(
            f"{endpoint}/_festival/state/dynamodb",
            params={"table": table},
            stream=True,
            timeout=600,
        )
    except requests.RequestException:
        response = None
    count = 0
    with gzip.open(path, "wb", compresslevel=1) as out:
        if response is not None and response.ok:
            for chunk in response.iter_content(chunk_size=1 << 20):
                out.write(chunk)
                count += chunk.count(b"\n")
            return count
        # Not our emulator's release (501), or no route: DynamoDB's own Scan, slower.
        for page in dynamodb.get_paginator("scan").paginate(TableName=table):
            for item in page["Items"]:
                attributes = {name: from_client(value) for name, value in item.items()}
                out.write(json.dumps(attributes, separators=(",", ":")).encode() + b"\n")
                count += 1
    return count


def dump_bucket(s3, bucket: str, folder: Path) -> int:
    """Every object of the bucket: bodies in ``objects/``, what S3 said of each in a manifest."""
    (folder / OBJECTS_DIR).mkdir(parents=True, exist_ok=True)
    keys = [
        obj["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        for obj in page.get("Contents", [])
    ]

    def save(numbered: tuple[int, str]) -> dict[str, Any]:
        number, key = numbered
        got = s3.get_object(Bucket=bucket, Key=key)
        (folder / OBJECTS_DIR / str(number)).write_bytes(got["Body"].read())
        return {
            "key": key,
            "file": str(number),
            "last_modified": got["LastModified"].isoformat(),
            "etag": got["ETag"],
            "content_type": got.get("ContentType", "binary/octet-stream"),
            "metadata": got.get("Metadata", {}),
        }

    with ThreadPoolExecutor(WRITERS) as pool:
        manifest = list(pool.map(save, enumerate(keys)))
    with (folder / OBJECTS_FILE).open("w", encoding="utf-8") as out:
        for entry in manifest:
            out.write(json.dumps(entry, ensure_ascii=False) + "\n")
    return len(manifest)


def save(state_dir: Path, endpoint: str, client: Callable[[str], Any]) -> Figures:
    """Save every stack's bucket and table under ``state_dir``, replacing what was there.

    Written beside the old state first and switched in at the end, so a save that fails
    leaves the previous one whole.
    """
    started = time.monotonic()
    figures = Figures()
    stacks = festival_stacks(client("cloudformation"))
    fresh = state_dir.with_name(state_dir.name + ".saving")
    shutil.rmtree(fresh, ignore_errors=True)
    fresh.mkdir(parents=True)
    s3, dynamodb = client("s3"), client("dynamodb")
    for stack in stacks:
        folder = fresh / stack.name
        folder.mkdir()
        figures.objects += dump_bucket(s3, stack.outputs["UploadBucketName"], folder)
        figures.items += dump_table(
            endpoint, dynamodb, stack.outputs["TableName"], folder / ITEMS_FILE
        )
    (fresh / STACKS_FILE).write_text(
        json.dumps(
            [{"name": s.name, "parameters": s.parameters, "outputs": s.outputs} for s in stacks],
            indent=2,
        ),
        encoding="utf-8",
    )
    old = state_dir.with_name(state_dir.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if state_dir.exists():
        state_dir.rename(old)
    fresh.rename(state_dir)
    shutil.rmtree(old, ignore_errors=True)
    figures.stacks = len(stacks)
    figures.seconds = time.monotonic() - started
    return figures


# --- restoring ------------------------------------------------------------------------------


def saved_stacks(state_dir: Path) -> list[SavedStack]:
    try:
        listed = json.loads((state_dir / STACKS_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    return [SavedStack(s["name"], s["parameters"], s["outputs"]) for s in listed]


def write_items(dynamodb, table: str, items: Iterable[dict[str, Any]]) -> int:
    """Put the items with BatchWriteItem, several requests in flight; the number written."""
    written = 0
    lock = threading.Lock()

    def write(batch: list[dict]) -> None:
        nonlocal written
        requests_ = [
            {"PutRequest": {"Item": {k: to_client(v) for k, v in i.items()}}} for i in batch
        ]
        pending = {table: requests_}
        for attempt in range(UNPROCESSED_ATTEMPTS):
            pending = dynamodb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
            if not pending:
                break
            time.sleep(min(0.05 * 2**attempt, 2))
        else:
            raise StateError(f"table {table}: items stayed unprocessed after retries")
        with lock:
            written += len(batch)

    with ThreadPoolExecutor(WRITERS) as pool:
        # Bounded: at most a few batches read ahead of the writers.
        in_flight: list = []
        for batch in batches(items):
            in_flight.append(pool.submit(write, batch))
            if len(in_flight) >= WRITERS * 4:
                in_flight.pop(0).result()
        for future in in_flight:
            future.result()
    return written


def put_objects_silently(
    s3, endpoint: str, bucket: str, folder: Path, region: str = "us-east-1"
) -> tuple[int, str | None]:
    """Put the saved objects back with no S3 event; the number put, and a note if their dates
    could not be given back."""
    try:
        manifest = [
            json.loads(line)
            for line in (folder / OBJECTS_FILE).read_text(encoding="utf-8").splitlines()
            if line.strip()
        ]
    except FileNotFoundError:
        return 0, None
    if not manifest:
        return 0, None
    notifications = s3.get_bucket_notification_configuration(Bucket=bucket)
    notifications.pop("ResponseMetadata", None)
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={})
    try:

        def put(entry: dict[str, Any]) -> None:
            s3.put_object(
                Bucket=bucket,
                Key=entry["key"],
                Body=(folder / OBJECTS_DIR / entry["file"]).read_bytes(),
                ContentType=entry["content_type"],
                Metadata=entry["metadata"],
            )

        with ThreadPoolExecutor(WRITERS) as pool:
            list(pool.map(put, manifest))
    finally:
        s3.put_bucket_notification_configuration(
            Bucket=bucket, NotificationConfiguration=notifications, SkipDestinationValidation=True
        )
    stamps = [
        {"bucket": bucket, "key": e["key"], "last_modified": e["last_modified"], "etag": e["etag"]}
        for e in manifest
    ]
    try:
        response = requests.post(
            f"{endpoint}/_festival/state/s3/stamp",
            params={"region": region},
            json=stamps,
            timeout=60,
        )
        refused = None if response.ok else f"{response.status_code}: {response.text[:200]}"
    except requests.RequestException as error:
        refused = str(error)
    if refused:
        return len(manifest), (
            f"bucket {bucket}: restored objects carry today's date ({refused}); the reconcile "
            "sweep will load them again"
        )
    return len(manifest), None


def restore(
    state_dir: Path,
    endpoint: str,
    client: Callable[[str], Any],
    deploy: Callable[[SavedStack], dict[str, str]],
) -> Figures:
    """Deploy each saved stack (``deploy`` returns its outputs) and put its data back."""
    started = time.monotonic()
    figures = Figures()
    s3, dynamodb = client("s3"), client("dynamodb")
    for saved in saved_stacks(state_dir):
        outputs = deploy(saved)
        folder = state_dir / saved.name
        put, note = put_objects_silently(s3, endpoint, outputs["UploadBucketName"], folder)
        figures.objects += put
        if note:
            figures.notes.append(note)
        if (folder / ITEMS_FILE).exists():
            figures.items += write_items(
                dynamodb, outputs["TableName"], read_items(folder / ITEMS_FILE)
            )
        figures.stacks += 1
    figures.seconds = time.monotonic() - started
    return figures
