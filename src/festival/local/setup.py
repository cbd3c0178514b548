"""Installing what the local stack needs, once: emulator, Lambda runtimes, MailDev.

Standard library only, so that the Makefile can run it (``python -m festival.local.setup``)
while the project's own virtualenv is still being made.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from festival.local.interpreters import InterpreterNotFoundError, find_python
from festival.local.paths import LOCAL_LAMBDA_RUNTIME, MAILDEV_VERSION, LocalPaths


class SetupError(Exception):
    """Something could not be installed; the message says what and how to fix it."""


def _say(message: str) -> None:
    print(f"festival-local: {message}", file=sys.stderr, flush=True)


def _run(command: list[str], what: str, log: Path) -> None:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a") as output:
        output.write(f"\n$ {' '.join(command)}\n")
        output.flush()
        result = subprocess.run(command, stdout=output, stderr=subprocess.STDOUT)
    if result.returncode != 0:
        raise SetupError(f"{what} failed (exit {result.returncode}); see {log}")


def _fingerprint(*parts: str | Path) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(Path(part).read_bytes() if isinstance(part, Path) else part.encode())
    return digest.hexdigest()


def _is_current(stamp: Path, fingerprint: str) -> bool:
    return stamp.is_file() and stamp.read_text().strip() == fingerprint


def _make_venv(python: str, folder: Path, log: Path) -> Path:
    if folder.exists():
        shutil.rmtree(folder)
    _run([python, "-m", "venv", str(folder)], f"creating a virtualenv in {folder}", log)
    return folder / "bin" / "python"


def ensure_emulator(paths: LocalPaths) -> Path:
    """LocalStack 4.14.0 and our plugin in their own virtualenv on Python >= 3.12."""
    kit = paths.root / "kit"
    plugin = paths.root / "localstack_plugin"
    requirements = kit / "emulator-requirements.txt"
    constraints = kit / "emulator-constraints.txt"
    fingerprint = _fingerprint(requirements, constraints, plugin / "pyproject.toml")
    stamp = paths.emulator_venv / ".installed"
    python = paths.emulator_venv / "bin" / "python"
    if _is_current(stamp, fingerprint) and python.exists():
        return python
    try:
        # LocalStack 4.14 uses Python 3.12 syntax although its metadata says 3.10.
        base = find_python(at_least=(3, 12))
    except InterpreterNotFoundError as error:
        raise SetupError(f"LocalStack needs Python 3.12 or newer: {error}") from error
    _say(f"installing LocalStack 4.14.0 into {paths.emulator_venv} (Python {base}), once")
    log = paths.logs / "setup-emulator.log"
    python = _make_venv(base, paths.emulator_venv, log)
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    _run(pip + ["-r", str(requirements), "-c", str(constraints)], "installing LocalStack", log)
    # Editable, so a change to the plugin takes effect at the next start.
    _run(pip + ["-e", str(plugin), "-c", str(constraints)], "installing our plugin", log)
    stamp.write_text(fingerprint)
    return python


def ensure_lambda_runtime(paths: LocalPaths, runtime: str = LOCAL_LAMBDA_RUNTIME) -> Path:
    """A virtualenv on the runtime's real interpreter, with the boto3 Lambda provides."""
    version = tuple(int(part) for part in runtime.removeprefix("python").split("."))
    requirements = paths.root / "kit" / "lambda-runtime-requirements.txt"
    folder = paths.runtime_venv(runtime)
    stamp = folder / ".installed"
    python = folder / "bin" / "python"
    fingerprint = _fingerprint(requirements)
    if _is_current(stamp, fingerprint) and python.exists():
        return python
    try:
        base = find_python(exactly=(version[0], version[1]))
    except InterpreterNotFoundError as error:
        raise SetupError(f"the local Lambda runtime {runtime} needs it: {error}") from error
    _say(f"preparing the {runtime} Lambda runtime on {base}, once")
    log = paths.logs / f"setup-{runtime}.log"
    python = _make_venv(base, folder, log)
    _run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
            str(requirements),
        ],
        f"installing boto3 for {runtime}",
        log,
    )
    stamp.write_text(fingerprint)
    return python


def ensure_maildev(paths: LocalPaths) -> Path:
    """MailDev from npm, pinned, under .local/maildev."""
    executable = paths.maildev / "node_modules" / ".bin" / "maildev"
    stamp = paths.maildev / ".installed"
    if _is_current(stamp, MAILDEV_VERSION) and executable.exists():
        return executable
    npm = shutil.which("npm")
    if not npm or not shutil.which("node"):
        raise SetupError(
            "MailDev needs Node.js 20+ and npm: install them (e.g. `apt-get install nodejs npm`)"
        )
    _say(f"installing MailDev {MAILDEV_VERSION} from npm, once")
    paths.maildev.mkdir(parents=True, exist_ok=True)
    _run(
        [
            npm,
            "install",
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
            "--prefix",
            str(paths.maildev),
            f"maildev@{MAILDEV_VERSION}",
        ],
        "installing MailDev",
        paths.logs / "setup-maildev.log",
    )
    stamp.write_text(MAILDEV_VERSION)
    return executable


def interpreter_map(paths: LocalPaths) -> str:
    """FESTIVAL_LAMBDA_INTERPRETERS for the plugin: the runtimes prepared so far."""
    runtimes = paths.state / "runtimes"
    mapping = {
        folder.name: str(folder / "bin" / "python")
        for folder in sorted(runtimes.glob("python3.*"))
        if (folder / ".installed").exists()
    }
    return json.dumps(mapping)


def install(paths: LocalPaths) -> None:
    """The emulator, the Lambda runtime and MailDev, side by side: each is an install of its
    own (a virtualenv or an npm prefix, a log, a stamp), mostly waiting on downloads.

    One install at a time per checkout (a lock file): `make up` in one terminal and `make
    check` in another would otherwise both remove and remake the same virtualenvs."""
    steps = (
        ensure_emulator,
        lambda paths: ensure_lambda_runtime(paths, LOCAL_LAMBDA_RUNTIME),
        ensure_maildev,
    )
    paths.state.mkdir(parents=True, exist_ok=True)
    with (paths.state / "setup.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file is closed
        with ThreadPoolExecutor(len(steps)) as pool:
            futures = [pool.submit(step, paths) for step in steps]
    failures = [str(error) for future in futures if (error := future.exception())]
    if failures:
        raise SetupError("; ".join(failures))


if __name__ == "__main__":
    try:
        install(LocalPaths.default())
    except (SetupError, FileNotFoundError) as error:
        sys.exit(f"festival-local: {error}")
