"""Fixtures shared by every tier. The local stack is started only if a test needs it."""

from __future__ import annotations

import os
from pathlib import Path

import botocore.loaders
import botocore.session
import pytest
from hypothesis import settings

from festival.local import stack
from festival.local.paths import LocalPaths

# Only these tests may start the local stack: `make check` runs every other test without it.
# Every test builds its own boto3 sessions, and each session's loader would read and parse
# the same service models again (a tenth of the functional tests' time). The loaders share
# one cache, as one session's clients already do; every session here has the same paths.
_SERVICE_MODELS: dict = {}


def _loader_with_shared_cache(search_path_string: str | None = None) -> botocore.loaders.Loader:
    loader = botocore.loaders.create_loader(search_path_string)
    loader._cache = _SERVICE_MODELS
    return loader


botocore.session.create_loader = _loader_with_shared_cache  # type: ignore[attr-defined]

# Properties without a count of their own try 50 examples in `make check`, 500 in `make
# soak` (HYPOTHESIS_PROFILE=soak). No deadline per example: on shared 2-core machines, with
# the end-to-end tests running beside these in `make test`, it would time the machine.
settings.register_profile("check", max_examples=50, deadline=None)
settings.register_profile("soak", max_examples=500, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "check"))

E2E_TESTS = Path(__file__).resolve().parent / "e2e"
STACK_FIXTURE = "local_stack"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Refuse, before anything runs, a test outside tests/e2e that would start the stack."""
    misplaced = [
        item.nodeid
        for item in items
        if STACK_FIXTURE in getattr(item, "fixturenames", ())
        and not item.path.resolve().is_relative_to(E2E_TESTS)
    ]
    if misplaced:
        raise pytest.UsageError(
            f"these tests use the {STACK_FIXTURE} fixture, which starts the local stack, "
            f"but are not under tests/e2e (move them there): {', '.join(misplaced)}"
        )


@pytest.fixture(scope="session")
def local_stack():
    """The running local stack with the template deployed (started here if it was not).

    Stops, at the end of the session, exactly the processes this session started, without
    saving the session's test data over the state the developer's last `make down` saved.
    """
    paths = LocalPaths.default()
    result = stack.up(paths)
    yield result
    stack.down(paths, only=result.started, save=False)


# The browser tests' fixtures (tests/functional and tests/e2e): Debian's Chromium, one per
# module, and a laptop-sized page per test that records every dialog a page opened.
@pytest.fixture(scope="module")
def browser():
    from tests.browser import chromium  # Playwright is loaded by browser tests only

    with chromium() as launched:
        yield launched


@pytest.fixture
def dialogs() -> list[str]:
    """Every alert, confirm or prompt a page opened."""
    return []


@pytest.fixture
def page(browser, dialogs):
    opened = browser.new_page(viewport={"width": 1280, "height": 900})
    opened.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    yield opened
    opened.close()
