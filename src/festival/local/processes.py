"""Background processes we start, remember by PID file, and stop: only ours."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import requests

KILLED_EXIT_S = 2.0  # for a killed process to be gone


class ProcessError(Exception):
    """A process could not be started or did not become healthy."""


def port_is_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((host, port)) == 0


def http_ok(url: str) -> Callable[[], bool]:
    def check() -> bool:
        try:
            return requests.get(url, timeout=2).ok
        except requests.RequestException:
            return False

    return check


@dataclass
class Service:
    name: str
    command: list[str]
    run_dir: Path
    log_dir: Path
    ports: list[int] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    healthy: Callable[[], bool] = lambda: True
    start_timeout_s: float = 60.0
    stop_timeout_s: float = 20.0

    @property
    def pid_file(self) -> Path:
        return self.run_dir / f"{self.name}.pid"

    @property
    def log_file(self) -> Path:
        return self.log_dir / f"{self.name}.log"

    def pid(self) -> int | None:
        """The PID we recorded, if that very process still runs (a stale file is removed).

        The file also holds the process's start time, so a PID reused by another
        process after a reboot or crash is never mistaken for ours.
        """
        try:
            pid_text, started = self.pid_file.read_text().split()
            pid = int(pid_text)
        except (FileNotFoundError, ValueError):
            return None
        if _alive(pid) and _start_time(pid) == started:
            return pid
        self.pid_file.unlink(missing_ok=True)
        return None

    def is_running(self) -> bool:
        return self.pid() is not None

    def start(self) -> bool:
        """Start unless already running; True if this call started it."""
        if self.is_running():
            return False
        busy = [port for port in self.ports if port_is_open(port)]
        if busy:
            raise ProcessError(
                f"cannot start {self.name}: port {', '.join(map(str, busy))} on 127.0.0.1 is "
                f"used by a process we did not start. Stop it (find it with "
                f"`ss -ltnp | grep :{busy[0]}`), then run the command again."
            )
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("a") as log:
            process = subprocess.Popen(
                self.command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **self.env},
                # Its own process group, so stopping it also stops its children.
                start_new_session=True,
            )
        self.pid_file.write_text(f"{process.pid} {_start_time(process.pid)}")
        deadline = time.monotonic() + self.start_timeout_s
        while time.monotonic() < deadline:
            if process.poll() is not None:
                self.pid_file.unlink(missing_ok=True)
                raise ProcessError(
                    f"{self.name} exited with code {process.returncode} while starting; "
                    f"see {self.log_file}"
                )
            if self.healthy():
                return True
            time.sleep(0.2)
        self.stop()
        raise ProcessError(
            f"{self.name} did not become healthy within {self.start_timeout_s:.0f} s; "
            f"see {self.log_file}"
        )

    def stop(self) -> bool:
        """Stop the process we started (and its group): SIGTERM, and SIGKILL after
        ``stop_timeout_s``; True if one was running."""
        pid = self.pid()
        if pid is None:
            return False
        _signal_group(pid, signal.SIGTERM)
        deadline = time.monotonic() + self.stop_timeout_s
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.1)
        if _alive(pid):
            _signal_group(pid, signal.SIGKILL)
            gone = time.monotonic() + KILLED_EXIT_S
            while time.monotonic() < gone and _alive(pid):  # reaps it, if it is our child
                time.sleep(0.05)
        self.pid_file.unlink(missing_ok=True)
        return True


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of ours counts as gone: reap it if we can.
    try:
        reaped, _ = os.waitpid(pid, os.WNOHANG)
        if reaped == pid:
            return False
    except ChildProcessError:
        pass
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def _start_time(pid: int) -> str:
    """The process's start time in clock ticks since boot (field 22 of /proc/PID/stat)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[-1].split()[19]
    except (OSError, IndexError):
        return "unknown"


def _signal_group(pid: int, signum: int) -> None:
    try:
        os.killpg(pid, signum)
    except (ProcessLookupError, PermissionError):
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass
