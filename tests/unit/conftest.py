"""The unit tests' stand-in DynamoDB: a scripted HTTP server on 127.0.0.1 (real sockets),
for the senders that talk to DynamoDB without boto3's client (dynamodb_http)."""

from __future__ import annotations

import json
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

THROTTLED = (
    400,
    {
        "__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
        "message": "slow down",
    },
)


class StandIn(BaseHTTPRequestHandler):
    """Answers each request with the next scripted answer: (status, body) or "drop"."""

    server: ScriptedServer
    protocol_version = "HTTP/1.1"
    wbufsize = 64 * 1024

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        server = self.server
        with server.lock:
            server.requests.append((dict(self.headers), body, self.client_address[1]))
            answer = server.script.pop(0) if server.script else (200, {"UnprocessedItems": {}})
        if answer == "drop":  # the connection ends with no answer
            self.close_connection = True
            return
        status, document = answer[:2]
        payload = json.dumps(document).encode()
        crc = answer[2] if len(answer) > 2 else zlib.crc32(payload)
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("x-amzn-RequestId", f"request-{len(server.requests)}")
        self.send_header("x-amz-crc32", str(crc))
        self.end_headers()
        self.wfile.write(payload)
        if server.close_after_answer:  # a keep-alive connection the server closes later
            self.close_connection = True

    def log_message(self, *_: object) -> None:
        pass


class ScriptedServer(ThreadingHTTPServer):
    """The stand-in's script and the requests it received, shared by its threads."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), StandIn)
        self.lock = threading.Lock()
        self.requests: list[tuple[dict, bytes, int]] = []
        self.script: list = []
        self.close_after_answer = False


@pytest.fixture
def dynamodb():
    server = ScriptedServer()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)
