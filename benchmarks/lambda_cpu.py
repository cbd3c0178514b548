"""CPU time of the Lambda's ingest code per 1,000 rows (run by bench.py, or on its own).

Three processes, so that only the Lambda's side is measured:

- this one, which starts the other two and prints their result;
- a DynamoDB stand-in (``serve``) on 127.0.0.1 that answers every request at once with an
  empty success; it stops when this process closes its stdin, or after ``--lifetime`` s;
- the probe (``probe``), on the Lambda runtime's interpreter (Python 3.10), which drives the
  real ``Ingestion``, ``UploadBucket`` and ``LineupTable`` with boto3 clients pointed at the
  stand-in, over a generated file, and measures ``getrusage(RUSAGE_SELF)`` (all threads).

The probe makes three passes over the same rows, each on its own, and the split is their
differences: ``parse`` is ``read_lineup`` alone; ``items`` is the whole ingest with a writer
that accepts every batch at once (items, attributes, batching, the writer threads);
``requests`` is the rest of the full ingest through the stand-in (serializing, signing,
sending and reading the responses). The file is generated in memory before any pass, so
making it up is not counted.

    python benchmarks/lambda_cpu.py [--rows 100000] [--repeat 1] [--python PATH]

``measure_local`` (bench.py, with the local stack up) runs the handler itself in a probe on
the same interpreter against the local stack, with the deployed function's environment:
its import (a cold start's init), then one S3 event of the generated file through its end
(S3 reads, the writes, the rows read back for the report, the email through SNS). The file
is put under a key outside the upload prefix, so the deployed function does not load it
too; it is deleted after, and its removal event handed to the handler, which has the
deployed function collect the rows.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import subprocess
import sys
import threading
import time
import urllib.request
import zlib
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WRITE_OPERATIONS = ("BatchWriteItem", "PutItem", "UpdateItem", "DeleteItem")
RESPONSES = {
    "BatchWriteItem": {"UnprocessedItems": {}},
    "Query": {"Items": [], "Count": 0, "ScannedCount": 0},
}


# --- the stand-in (its own process: its CPU is not the Lambda's) -----------------------------


class CountingServer(ThreadingHTTPServer):
    """Requests per operation, shared by the stand-in's threads."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), InstantDynamoDB)
        self.counts: dict[str, int] = {}
        self.lock = threading.Lock()


class InstantDynamoDB(BaseHTTPRequestHandler):
    server: CountingServer
    protocol_version = "HTTP/1.1"  # keep-alive, as DynamoDB does
    wbufsize = 64 * 1024  # an answer in one send (flushed after each request), no Nagle wait

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        operation = self.headers.get("X-Amz-Target", ".").rsplit(".", 1)[1]
        with self.server.lock:
            self.server.counts[operation] = self.server.counts.get(operation, 0) + 1
        body = json.dumps(RESPONSES.get(operation, {})).encode()
        self._reply(
            body,
            {"Content-Type": "application/x-amz-json-1.0", "x-amz-crc32": str(zlib.crc32(body))},
        )

    def do_GET(self) -> None:  # noqa: N802 (the request counts)
        with self.server.lock:
            self._reply(json.dumps(self.server.counts).encode())

    def do_DELETE(self) -> None:  # noqa: N802 (reset the counts)
        with self.server.lock:
            self.server.counts.clear()
        self._reply(b"{}")

    def _reply(self, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(200)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


def serve(lifetime_s: float) -> None:
    server = CountingServer()
    print(server.server_address[1], flush=True)

    def stop_when_parent_leaves() -> None:
        sys.stdin.read()  # EOF: the parent closed the pipe or died
        server.shutdown()

    threading.Thread(target=stop_when_parent_leaves, daemon=True).start()
    threading.Timer(lifetime_s, server.shutdown).start()
    server.serve_forever()
    server.server_close()
    os._exit(0)


# --- the probe (the Lambda runtime's interpreter) --------------------------------------------


class LambdaContext:
    """What the handler reads of Lambda's context: a request id and a generous time left."""

    aws_request_id = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 900_000


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def probe(rows: int, endpoint: str, repeat: int) -> dict:
    sys.path[:0] = [str(ROOT / "lambda"), str(ROOT), str(ROOT / "benchmarks")]
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": endpoint,
            "TABLE_NAME": "bench",
            "TOPIC_ARN": "arn:aws:sns:us-east-1:000000000000:bench",
            "PARTS_QUEUE_URL": f"{endpoint}/000000000000/parts",
        }
    )
    from memory_probe import GeneratedFile

    from lineup_ingest import bootstrap
    from lineup_ingest.adapters import LineupTable, PartsQueue, UploadBucket
    from lineup_ingest.events import UploadedObject
    from lineup_ingest.ingest import Ingestion, LoadSettings
    from lineup_ingest.parsing import read_lineup
    from lineup_ingest.retry import RetryBudget

    data = io.BufferedReader(GeneratedFile(rows)).read()

    class GeneratedObjects:
        """S3 for UploadBucket: every object is the generated file (reading S3 is not ours)."""

        def get_object(self, Range: str = "", **_: object) -> dict:  # noqa: N803 (boto3's)
            first, _dash, last = Range.removeprefix("bytes=").partition("-")
            body = data[int(first or 0) : int(last) + 1 if last else None]
            return {
                "Body": io.BytesIO(body),
                "ETag": '"etag"',
                "LastModified": datetime(2025, 7, 1, tzinfo=timezone.utc),
            }

        def head_object(self, **_: object) -> dict:
            return {"ETag": '"etag"', "ContentLength": len(data)}

    class AcceptingBatches:
        """The DynamoDB client, but batch writes are accepted without a request (the items
        are still encoded as the handler's writer encodes them)."""

        def __init__(self, client) -> None:
            self.client = client
            self.put_request = clients.dynamodb_writer.put_request

        def __getattr__(self, name: str):
            return getattr(self.client, name)

        def batch_write_item(self, **_: object) -> dict:
            return {}

    clients = bootstrap.make_clients()  # as the function makes them at a cold start
    dynamodb = clients.dynamodb
    upload = UploadedObject("bench", "uploads/bench.csv", "etag", len(data))

    def parse_only() -> None:
        assert sum(1 for _ in read_lineup(io.BytesIO(data))) == rows

    def ingest(client, writer=None) -> None:
        """What the handler does per row: the file's one part, read, built and written, as
        the handler wires it (the few requests per file that record the load are left out:
        the stand-in does not keep items). Without a writer, the client writes."""
        table = LineupTable(
            client,
            "bench",
            RetryBudget(LambdaContext().get_remaining_time_in_millis),
            writer=writer,
        )
        whole = LoadSettings(part_bytes=2**62, max_file_bytes=2**62)
        ingestion = Ingestion(
            UploadBucket(GeneratedObjects()),
            table,
            PartsQueue(None, ""),
            lambda report: None,
            whole,
        )
        task, _ = ingestion.plan(upload, "", "2025-07-01T00:00:00+00:00", {})
        progress = ingestion.load_part(task, None)
        assert progress is not None and progress.rows_loaded == rows, progress

    def stats(method: str = "GET") -> dict:
        request = urllib.request.Request(f"{endpoint}/_stats", method=method)
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)

    ingest(dynamodb, clients.dynamodb_writer)  # warm up: imports, connections, caches
    passes = {
        "parse": parse_only,
        "build": lambda: ingest(AcceptingBatches(dynamodb)),
        "full": lambda: ingest(dynamodb, clients.dynamodb_writer),
    }
    best = dict.fromkeys(passes, float("inf"))
    for _ in range(repeat):
        for name, work in passes.items():
            stats("DELETE")
            started = cpu_s()
            work()
            best[name] = min(best[name], cpu_s() - started)
    counted = stats()  # of the last full pass
    writes = sum(counted.get(name, 0) for name in WRITE_OPERATIONS)
    per_1000 = {name: seconds * 1000 / rows * 1000 for name, seconds in best.items()}
    return {
        "rows": rows,
        "cpu_ms_per_1000_rows": round(per_1000["full"], 1),
        "split_ms_per_1000_rows": {
            "parse": round(per_1000["parse"], 1),
            "items": round(per_1000["build"] - per_1000["parse"], 1),
            "requests": round(per_1000["full"] - per_1000["build"], 1),
        },
        "write_requests": writes,
        "write_requests_per_1000_rows": round(writes / rows * 1000, 2),
        "requests": counted,
        "python": ".".join(map(str, sys.version_info[:3])),
    }


def probe_local(rows: int, event: dict) -> dict:
    """The handler on this interpreter against the local stack (the environment is the
    deployed function's, set by ``measure_local``): CPU of its import, and of the event."""
    started = cpu_s()
    sys.path[:0] = [str(ROOT / "lambda")]
    from lineup_ingest import handler

    imported = cpu_s()
    handler.lambda_handler(event, LambdaContext())
    handled = cpu_s()
    return {
        "rows": rows,
        "import_cpu_ms": round((imported - started) * 1000, 1),
        "handler_cpu_ms": round((handled - imported) * 1000, 1),
        "cpu_ms_per_1000_rows": round((handled - imported) * 1000 / rows * 1000, 1),
        "python": ".".join(map(str, sys.version_info[:3])),
    }


def s3_event(bucket: str, key: str, event_name: str, etag: str = "", size: int = 0) -> dict:
    sequencer = f"{time.time_ns():020X}"  # grows with each event, as S3's do for a key
    obj = {"key": key, "sequencer": sequencer, **({"eTag": etag, "size": size} if etag else {})}
    return {
        "Records": [
            {
                "eventSource": "aws:s3",
                "eventName": event_name,
                "s3": {"bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"}, "object": obj},
            }
        ]
    }


def measure_local(outputs: dict, rows: int, python: Path | None = None) -> dict:
    """The handler's CPU per 1,000 rows against the local stack (``probe_local``), with the
    deployed function's environment; the rows are collected again after."""
    python = python or runtime_python()  # puts src/ on the path, for festival.settings
    from tests.local_aws import local_environment

    from festival.settings import local_client

    s3 = local_client("s3")
    function = local_client("lambda").get_function_configuration(
        FunctionName=outputs["FunctionName"]
    )
    bucket, key = outputs["UploadBucketName"], f"bench-cpu/lineup-{time.time_ns()}.csv"
    sys.path[:0] = [str(ROOT / "benchmarks")]
    from memory_probe import GeneratedFile

    body = io.BufferedReader(GeneratedFile(rows)).read()
    etag = s3.put_object(Bucket=bucket, Key=key, Body=body)["ETag"].strip('"')
    environment = {
        **os.environ,
        **function["Environment"]["Variables"],
        **local_environment(),
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function["MemorySize"]),
    }

    def probe(event: dict) -> dict:
        arguments = ["probe-local", "--rows", str(rows), "--event", json.dumps(event)]
        output = subprocess.run(
            [str(python), __file__, *arguments],
            env=environment,
            capture_output=True,
            text=True,
            check=True,
            timeout=1800,
        ).stdout
        return json.loads(output.strip().splitlines()[-1])  # after whatever the handler logs

    try:
        return probe(s3_event(bucket, key, "ObjectCreated:Put", etag, len(body)))
    finally:
        s3.delete_object(Bucket=bucket, Key=key)
        probe(s3_event(bucket, key, "ObjectRemoved:Delete"))


# --- the conductor ---------------------------------------------------------------------------


def runtime_python() -> Path:
    """The local stack's Lambda runtime (Python 3.10 with the Lambda's boto3)."""
    sys.path[:0] = [str(ROOT / "src")]
    from festival.local.paths import LOCAL_LAMBDA_RUNTIME, LocalPaths

    return LocalPaths.default().runtime_venv(LOCAL_LAMBDA_RUNTIME) / "bin" / "python"


def measure(rows: int = 100_000, repeat: int = 1, python: Path | None = None) -> dict:
    """Start the stand-in, run the probe on ``python`` against it, return the probe's JSON."""
    python = python or runtime_python()
    server = subprocess.Popen(
        [sys.executable, __file__, "serve"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdin and server.stdout  # both are pipes
    try:
        port = int(server.stdout.readline())
        output = subprocess.run(
            [
                str(python),
                __file__,
                "probe",
                "--rows",
                str(rows),
                "--repeat",
                str(repeat),
                "--endpoint",
                f"http://127.0.0.1:{port}",
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=1800,
        ).stdout
    finally:
        server.stdin.close()
        server.wait(timeout=30)
    return json.loads(output)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "mode", nargs="?", default="measure", choices=("measure", "serve", "probe", "probe-local")
    )
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=1, help="passes of each kind; the least")
    parser.add_argument("--endpoint", help="(probe) the stand-in's URL")
    parser.add_argument("--event", help="(probe-local) the S3 event to hand the handler")
    parser.add_argument("--lifetime", type=float, default=3600, help="(serve) at most, s")
    parser.add_argument(
        "--python", type=Path, help="the interpreter the probe runs on (the local Lambda runtime's)"
    )
    arguments = parser.parse_args()
    if arguments.mode == "serve":
        serve(arguments.lifetime)
    elif arguments.mode == "probe-local":
        print(json.dumps(probe_local(arguments.rows, json.loads(arguments.event))))
    elif arguments.mode == "probe":
        print(json.dumps(probe(arguments.rows, arguments.endpoint, arguments.repeat)))
    else:
        started = time.monotonic()
        result = measure(arguments.rows, arguments.repeat, arguments.python)
        result["wall_s"] = round(time.monotonic() - started, 1)
        print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
