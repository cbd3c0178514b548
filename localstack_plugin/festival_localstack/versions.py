"""The LocalStack and moto releases this plugin's patches of their internals were written for.

A patch of another release's internals could change the emulator's answers in ways no test
here would see. So each patch asks ``written_for`` first and, on any other release, leaves
the original code in place with a warning: the emulator is then slower, never wrong.
Standard library only: the project's tests import this without LocalStack.
"""

from __future__ import annotations

import logging
from importlib import metadata

# The releases kit/emulator-requirements.txt and kit/emulator-constraints.txt install.
WRITTEN_FOR = {"localstack-core": "4.14.0", "moto-ext": "5.1.54"}
LOG = logging.getLogger(__name__)


def installed_release(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def written_for(patch: str, *distributions: str) -> bool:
    """Whether each distribution is installed at the release ``patch`` was written for.

    If not, logs a warning naming the patch and what differs, and the caller must leave
    the original code alone.
    """
    differing = {
        name: installed_release(name)
        for name in distributions
        if installed_release(name) != WRITTEN_FOR[name]
    }
    if differing:
        found = ", ".join(
            f"{name} {release or 'not installed'} (written for {WRITTEN_FOR[name]})"
            for name, release in differing.items()
        )
        LOG.warning("festival plugin: %s is not applied: %s", patch, found)
        return False
    return True
