"""Headless Chromium for the explorer's browser tests: Debian's package, driven by Playwright.

`make test` installs the package (the Makefile's `browser` target); Playwright's own browser
download is not used.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import pytest
from waitress import create_server

from festival.explorer import create_app
from festival.settings import STACK_NAME
from tests.moto_aws import lineup_of

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LAPTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}


@contextmanager
def chromium() -> Iterator:
    """A Playwright browser on Debian's Chromium (a fresh profile each launch)."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"the browser tests need {CHROMIUM}: run `make browser` (or apt-get install chromium)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def serving(app) -> Iterator[str]:
    """The WSGI app on a free port of 127.0.0.1 with waitress, as `festival serve` runs it."""
    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        server.close()
        thread.join(timeout=5)


@contextmanager
def explorer_of(now: datetime, *files: tuple[str, bytes]) -> Iterator[str]:
    """The explorer of a lineup of ``files`` loaded into in-memory AWS (moto) by the Lambda's
    own code, served as `festival serve --local` serves the stack `make up` deploys; its
    clock reads ``now``. Its address."""
    with lineup_of(*files) as lineup:
        app = create_app(
            lineup.queries, lineup.uploader, stack=STACK_NAME, local=True, now=lambda: now
        )
        with serving(app) as url:
            yield url
