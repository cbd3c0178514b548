"""`festival serve` as a user starts it: on 127.0.0.1 only, and a taken port is one clear line."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.functional

ROOT = Path(__file__).resolve().parents[2]


def festival_serve(port: int, *more: str) -> subprocess.Popen:
    """No AWS is reached: no page that needs it is asked for."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    env.update(
        AWS_ENDPOINT_URL="http://127.0.0.1:9",
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT / "lambda")]),
    )
    return subprocess.Popen(
        [sys.executable, "-m", "festival.cli", "serve", "--port", str(port), *more],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def listening_addresses(port: int) -> set[str]:
    """The local addresses listening on a TCP port, from the kernel's tables (Linux)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not os.path.exists(table):
            continue
        with open(table, encoding="ascii") as lines:
            for line in list(lines)[1:]:
                local, state = line.split()[1], line.split()[3]
                address, hex_port = local.split(":")
                if int(hex_port, 16) == port and state == "0A":  # LISTEN
                    found.add(address)
    return found


def test_festival_serve_listens_on_127_0_0_1_only_and_serves_the_pages():
    port = free_port()
    server = festival_serve(port)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/upload", timeout=2) as page:
                    assert page.status == 200
                    assert b"Upload a lineup" in page.read()
                break
            except OSError:
                assert server.poll() is None, server.stderr.read()
                assert time.monotonic() < deadline, "festival serve never answered"
                time.sleep(0.2)

        assert listening_addresses(port) == {"0100007F"}  # 127.0.0.1, nothing else
    finally:
        server.terminate()
        out, _ = server.communicate(timeout=10)
    assert f"Lineup explorer on http://127.0.0.1:{port}/" in out


def test_festival_serve_on_a_port_in_use_says_so_in_one_line():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = festival_serve(port)
        out, err = server.communicate(timeout=30)

    assert server.returncode == 1
    assert err.splitlines() == [
        f"festival: cannot listen on 127.0.0.1:{port} (Address already in use): pass another --port"
    ]
