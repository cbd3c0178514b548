"""Installing the local stack's parts (festival.local.setup): the Makefile runs the installer
with the first Python 3.10+ it finds while .venv is still being made, so it must need
nothing but the standard library; its three installs run side by side, and a failure says
what failed."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from festival.local import setup
from festival.local.paths import LocalPaths

SRC = Path(__file__).resolve().parents[2] / "src"


def test_the_installer_imports_nothing_beyond_the_standard_library():
    probe = (
        "import sys; before = set(sys.modules); import festival.local.setup; "
        "print('\\n'.join(sorted(set(sys.modules) - before)))"
    )
    # -I: no user site-packages, no PYTHON* variables; only src/ added, as the Makefile does.
    loaded = subprocess.run(
        [sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(SRC)!r}); {probe}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    top_level = {name.split(".")[0] for name in loaded}
    assert top_level - set(sys.stdlib_module_names) == {"festival"}, loaded


def test_the_three_installs_run_side_by_side(monkeypatch, tmp_path):
    everyone_started = threading.Barrier(3, timeout=10)  # breaks if they ran one by one

    def install(paths, *_):
        everyone_started.wait()
        return tmp_path

    for step in ("ensure_emulator", "ensure_lambda_runtime", "ensure_maildev"):
        monkeypatch.setattr(setup, step, install)
    setup.install(LocalPaths(root=tmp_path))


def test_a_failed_install_says_which_and_the_others_still_finish(monkeypatch, tmp_path):
    finished = []

    def fails(what):
        def install(paths, *_):
            raise setup.SetupError(f"installing {what} failed (exit 1); see its log")

        return install

    monkeypatch.setattr(setup, "ensure_emulator", fails("LocalStack"))
    monkeypatch.setattr(setup, "ensure_lambda_runtime", lambda paths, *_: finished.append(1))
    monkeypatch.setattr(setup, "ensure_maildev", fails("MailDev"))
    with pytest.raises(setup.SetupError) as raised:
        setup.install(LocalPaths(root=tmp_path))
    assert "installing LocalStack failed" in str(raised.value)
    assert "installing MailDev failed" in str(raised.value)
    assert finished == [1]


def test_two_installs_at_once_take_turns(monkeypatch, tmp_path):
    running, overlapped = [], []

    def install(paths, *_):
        running.append(1)
        overlapped.append(len(running) > 3)  # more than one install's three steps at once
        time.sleep(0.2)
        running.pop()

    for step in ("ensure_emulator", "ensure_lambda_runtime", "ensure_maildev"):
        monkeypatch.setattr(setup, step, install)
    paths = LocalPaths(root=tmp_path)
    both = [threading.Thread(target=setup.install, args=(paths,)) for _ in range(2)]
    for thread in both:
        thread.start()
    for thread in both:
        thread.join()
    assert len(overlapped) == 6 and not any(overlapped)
