"""Stand-in for LocalStack's ``lambda-runtime-init``, run as a host process.

Started by ``executor.HostProcessExecutor`` on the interpreter chosen for the function's
runtime (a real Python 3.10 for ``python3.10``), so it must stay standard-library only
and Python 3.10 compatible. It speaks LocalStack's executor protocol:

1. import the handler, then POST ``{endpoint}/status/{id}/ready`` (or ``.../error``);
2. accept ``POST /invoke`` on ``FESTIVAL_INVOKE_HOST:FESTIVAL_INVOKE_PORT``;
3. run the handler with a Lambda-like context, then POST ``/invocations/{id}/logs`` and
   ``/invocations/{id}/response`` (or ``/error``).

Logs follow the function's ``AWS_LAMBDA_LOG_FORMAT`` (``JSON`` or text) like the AWS
Python runtime, with START, END and REPORT lines.
"""

from __future__ import annotations

import datetime
import importlib
import io
import json
import logging
import os
import queue
import resource
import sys
import threading
import time
import traceback
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ENDPOINT = os.environ["LOCALSTACK_RUNTIME_ENDPOINT"]
RUNTIME_ID = os.environ["LOCALSTACK_RUNTIME_ID"]
TIMEOUT_SECONDS = float(os.environ.get("AWS_LAMBDA_FUNCTION_TIMEOUT", "3"))
JSON_LOGS = os.environ.get("AWS_LAMBDA_LOG_FORMAT", "").upper() == "JSON"
REAL_STDOUT = sys.stdout

invocations: queue.Queue[dict] = queue.Queue()
current_request_id = ""


def post(path: str, body: bytes | str) -> None:
    data = body.encode("utf-8") if isinstance(body, str) else body
    request = urllib.request.Request(
        f"{ENDPOINT}{path}",
        data=data,
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    # LocalStack is on loopback: never go through a proxy.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=30) as response:
        response.read()


def error_payload(error: BaseException) -> str:
    return json.dumps(
        {
            "errorMessage": str(error),
            "errorType": type(error).__name__,
            "requestId": current_request_id,
            "stackTrace": traceback.format_tb(error.__traceback__),
        }
    )


class InvocationOutput(io.TextIOBase):
    """Writes to the process output and to the current invocation's log buffer."""

    def __init__(self) -> None:
        self.buffer_lock = threading.Lock()
        self.captured = io.StringIO()

    def write(self, text: str) -> int:
        REAL_STDOUT.write(text)
        REAL_STDOUT.flush()
        with self.buffer_lock:
            self.captured.write(text)
        return len(text)

    def flush(self) -> None:
        REAL_STDOUT.flush()

    def take(self) -> str:
        with self.buffer_lock:
            text = self.captured.getvalue()
            self.captured = io.StringIO()
        return text


class JsonFormatter(logging.Formatter):
    """The shape of the AWS Python runtime's JSON log lines, extra fields included."""

    STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "timestamp": datetime.datetime.fromtimestamp(record.created, tz=datetime.timezone.utc)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "message": record.getMessage(),
            "logger": record.name,
            "requestId": current_request_id,
        }
        line.update((key, value) for key, value in vars(record).items() if key not in self.STANDARD)
        if record.exc_info:
            line["errorType"] = record.exc_info[0].__name__ if record.exc_info[0] else None
            line["stackTrace"] = traceback.format_exception(*record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        stamp = datetime.datetime.fromtimestamp(record.created, tz=datetime.timezone.utc)
        text = f"[{record.levelname}]\t{stamp:%Y-%m-%dT%H:%M:%S.%f}Z\t{current_request_id}\t"
        text += record.getMessage()
        if record.exc_info:
            text += "\n" + "".join(traceback.format_exception(*record.exc_info))
        return text


class StdoutHandler(logging.Handler):
    """Resolves sys.stdout at emit time, so records land in the invocation's capture."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stdout.write(self.format(record) + "\n")
        except Exception:
            self.handleError(record)


def configure_logging() -> None:
    handler = StdoutHandler()
    handler.setFormatter(JsonFormatter() if JSON_LOGS else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    level = os.environ.get("AWS_LAMBDA_LOG_LEVEL", "INFO" if JSON_LOGS else "WARNING")
    root.setLevel(level.upper())


class LambdaContext:
    def __init__(self, request_id: str, function_arn: str) -> None:
        self.aws_request_id = request_id
        self.invoked_function_arn = function_arn
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self._deadline = time.monotonic() + TIMEOUT_SECONDS

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class InvokeRequestHandler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        if self.path != "/invoke":
            self.send_error(404)
            return
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        invocations.put(json.loads(body))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass  # the function's own logs are what matters


def peak_memory_mb() -> int:
    """Peak resident memory of this process (VmHWM; ru_maxrss survives fork and exec)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def load_handler():
    task_root = os.environ.get("LAMBDA_TASK_ROOT", os.getcwd())
    if task_root not in sys.path:
        sys.path.insert(0, task_root)
    module_name, _, function_name = os.environ["_HANDLER"].rpartition(".")
    return getattr(importlib.import_module(module_name), function_name)


def run_invocation(handler, invocation: dict, output: InvocationOutput) -> None:
    global current_request_id
    request_id = invocation["invoke-id"]
    current_request_id = request_id
    os.environ["_X_AMZN_TRACE_ID"] = invocation.get("trace-id") or ""
    version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
    print(f"START RequestId: {request_id} Version: {version}")
    context = LambdaContext(request_id, invocation.get("invoked-function-arn", ""))
    outcome: dict = {}

    def call() -> None:
        try:
            result = handler(json.loads(invocation.get("payload") or "null"), context)
            outcome["response"] = json.dumps(result)
        except Exception as error:
            print(f"[ERROR] {type(error).__name__}: {error}")
            traceback.print_exc(file=sys.stdout)
            outcome["error"] = error_payload(error)

    started = time.monotonic()
    worker = threading.Thread(target=call, daemon=True)
    worker.start()
    worker.join(TIMEOUT_SECONDS)
    duration_ms = (time.monotonic() - started) * 1000
    timed_out = worker.is_alive()
    if timed_out:
        outcome["error"] = json.dumps(
            {
                "errorMessage": f"Task timed out after {TIMEOUT_SECONDS:.2f} seconds",
                "errorType": "Sandbox.Timedout",
                "requestId": request_id,
            }
        )
        print(f"{datetime.datetime.utcnow():%Y-%m-%dT%H:%M:%S}Z {request_id} Task timed out")
    print(f"END RequestId: {request_id}")
    max_memory_mb = peak_memory_mb()
    print(
        f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\t"
        f"Memory Size: {context.memory_limit_in_mb} MB\tMax Memory Used: {max_memory_mb} MB"
    )
    post(f"/invocations/{request_id}/logs", json.dumps({"logs": output.take()}))
    if "error" in outcome:
        post(f"/invocations/{request_id}/error", outcome["error"])
    else:
        post(f"/invocations/{request_id}/response", outcome["response"])
    if timed_out:
        # A thread cannot be stopped: start afresh, as AWS resets a timed-out sandbox.
        os.environ["FESTIVAL_RESTARTED"] = "1"
        os.execv(sys.executable, [sys.executable, "-u", __file__])


def exit_with_the_emulator(parent: int, every_s: float = 1.0) -> None:
    """Exit once the emulator that started this runtime is gone. The runtime has a session
    of its own (the executor stops it itself); if the emulator is killed before it could,
    nothing else would, and the runtime would wait for invocations for ever."""
    while os.getppid() == parent:
        time.sleep(every_s)
    os._exit(0)


def main() -> None:
    threading.Thread(target=exit_with_the_emulator, args=(os.getppid(),), daemon=True).start()
    output = InvocationOutput()
    sys.stdout = output  # type: ignore[assignment]
    sys.stderr = output  # type: ignore[assignment]
    configure_logging()

    server = ThreadingHTTPServer(
        (os.environ["FESTIVAL_INVOKE_HOST"], int(os.environ["FESTIVAL_INVOKE_PORT"])),
        InvokeRequestHandler,
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()

    restarted = os.environ.pop("FESTIVAL_RESTARTED", None)
    try:
        handler = load_handler()
    except Exception as error:
        traceback.print_exc(file=sys.stdout)
        post(f"/status/{RUNTIME_ID}/error", error_payload(error))
        sys.exit(1)
    if not restarted:
        post(f"/status/{RUNTIME_ID}/ready", b"{}")

    while True:
        run_invocation(handler, invocations.get(), output)


if __name__ == "__main__":
    main()
