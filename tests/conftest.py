"""Fixtures shared by every tier. The local stack is started only if a test needs it."""

from __future__ import annotations

import pytest

from festival.local import stack
from festival.local.paths import LocalPaths


@pytest.fixture(scope="session")
def local_stack():
    """The running local stack with the template deployed (started here if it was not).

    Stops, at the end of the session, exactly the processes this session started.
    """
    paths = LocalPaths.default()
    result = stack.up(paths)
    yield result
    stack.down(paths, only=result.started)
