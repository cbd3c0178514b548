"""The local stack's tools (festival.local): processes we start and stop, interpreters we find."""

from __future__ import annotations

import os
import socket
import sys
import time

import pytest

from festival.local.interpreters import InterpreterNotFoundError, find_python, version_of
from festival.local.processes import ProcessError, Service


def sleeper(tmp_path, **options) -> Service:
    return Service(
        name="sleeper",
        command=[sys.executable, "-c", "import time; time.sleep(60)"],
        run_dir=tmp_path / "run",
        log_dir=tmp_path / "logs",
        **options,
    )


def test_a_started_process_is_recorded_and_stopped_by_its_pid_file(tmp_path):
    service = sleeper(tmp_path)
    assert service.start() is True
    pid = service.pid()
    assert pid and service.is_running()
    assert service.start() is False  # already running: nothing new started

    assert service.stop() is True
    assert not service.pid_file.exists()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_a_process_that_ignores_sigterm_is_killed_after_its_stop_timeout_and_reaped(tmp_path):
    ready = tmp_path / "ignoring"
    service = Service(
        name="stubborn",
        command=[
            sys.executable,
            "-c",
            "import pathlib, signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
            "pathlib.Path(sys.argv[1]).touch(); time.sleep(60)",
            str(ready),
        ],
        run_dir=tmp_path / "run",
        log_dir=tmp_path / "logs",
        healthy=ready.exists,
        stop_timeout_s=1.0,
    )
    assert service.start() is True
    pid = service.pid()
    started = time.monotonic()
    assert service.stop() is True
    assert 1.0 <= time.monotonic() - started < 10  # SIGTERM ignored, killed: no 20 s wait
    with pytest.raises(ProcessLookupError):  # killed, and reaped: no zombie left
        os.kill(pid, 0)


def test_a_pid_file_naming_another_process_is_not_ours_and_nothing_is_killed(tmp_path):
    service = sleeper(tmp_path)
    service.run_dir.mkdir(parents=True)
    # Our own PID, with a start time that is not ours: as after a reboot that reused it.
    service.pid_file.write_text(f"{os.getpid()} 1")
    assert service.pid() is None
    assert service.stop() is False
    os.kill(os.getpid(), 0)  # still alive


def test_a_port_held_by_someone_else_is_a_clear_error(tmp_path):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(ProcessError, match=f"port {port} on 127.0.0.1 is used by a process"):
            sleeper(tmp_path, ports=[port]).start()


def test_a_process_that_exits_while_starting_points_at_its_log(tmp_path):
    service = Service(
        name="broken",
        command=[sys.executable, "-c", "raise SystemExit(3)"],
        run_dir=tmp_path / "run",
        log_dir=tmp_path / "logs",
        healthy=lambda: False,
    )
    with pytest.raises(ProcessError, match="exited with code 3.*broken.log"):
        service.start()


def test_python_3_10_is_found_by_probing_and_really_is_3_10():
    assert version_of(find_python(exactly=(3, 10))) == (3, 10)


def test_an_interpreter_that_is_missing_says_what_to_install():
    with pytest.raises(InterpreterNotFoundError, match="pyenv install 3.99"):
        find_python(exactly=(3, 99))
