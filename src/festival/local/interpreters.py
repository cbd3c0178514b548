"""Finding Python interpreters by probing, never by a hard-coded path alone."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from pathlib import Path


class InterpreterNotFoundError(Exception):
    """No interpreter of the wanted version; the message says what to install."""


def _candidates(version: tuple[int, int] | None) -> list[str]:
    names = (
        [f"python{version[0]}.{version[1]}"]
        if version
        else [f"python3.{minor}" for minor in range(20, 9, -1)] + ["python3"]
    )
    found = [path for name in names if (path := shutil.which(name))]
    pyenv_root = os.environ.get("PYENV_ROOT", str(Path.home() / ".pyenv"))
    pattern = f"{version[0]}.{version[1]}.*" if version else "3.*"
    # pyenv keeps builds that its shims only expose when selected: look at them directly.
    found += sorted(glob.glob(f"{pyenv_root}/versions/{pattern}/bin/python3"), reverse=True)
    for prefix in ("/usr/local/bin", "/usr/bin"):
        found += [f"{prefix}/{name}" for name in names if os.access(f"{prefix}/{name}", os.X_OK)]
    return list(dict.fromkeys(found))


def version_of(executable: str) -> tuple[int, int] | None:
    """The (major, minor) an executable really runs, or None if it does not run."""
    try:
        output = subprocess.run(
            [executable, "-c", "import sys; print(*sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=20,
            check=True,
        ).stdout.split()
        return int(output[0]), int(output[1])
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        return None


def find_python(
    *, exactly: tuple[int, int] | None = None, at_least: tuple[int, int] | None = None
) -> str:
    """An interpreter of exactly one version, or the newest of at least one."""
    for candidate in _candidates(exactly):
        found = version_of(candidate)
        if found is None:
            continue
        if exactly and found == exactly:
            return candidate
        if at_least and found >= at_least and not exactly:
            return candidate
    lowest = at_least or (3, 0)
    wanted = f"{exactly[0]}.{exactly[1]}" if exactly else f">= {lowest[0]}.{lowest[1]}"
    example = f"{exactly[0]}.{exactly[1]}" if exactly else "3.12"
    raise InterpreterNotFoundError(
        f"no Python {wanted} found on PATH or under pyenv. Install one, for example "
        f"`pyenv install {example}` or `apt-get install python{example}` "
        f"(with python{example}-venv), then run the command again."
    )
