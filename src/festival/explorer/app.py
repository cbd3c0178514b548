"""The lineup explorer: server-rendered pages over `festival.queries`, and an upload form.

`create_app` wires what the pages are given (`pages.shared.Explorer`) to the pages
(`pages/`, a module each), their error pages and filters. It takes what the pages ask (a
`ports.LineupReader`: a `LineupQueries`, or anything answering the same methods) and what
uploads (a `ports.Uploader`: an `S3Uploader`); `festival serve` passes the deployed stack's,
tests pass moto-backed ones. Every answer comes from `LineupQueries`, so the pages and the
`festival` command cannot disagree.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime
from datetime import time as TimeOfDay

from flask import Flask, Response
from flask_wtf.csrf import CSRFProtect

from festival.explorer.pages import PAGES
from festival.explorer.pages.errors import ERROR_PAGES
from festival.explorer.pages.formats import FILTERS
from festival.explorer.pages.shared import EXTENSION, Explorer, page_globals, read_once
from festival.explorer.ports import LineupReader, Uploader
from festival.nights import DEFAULT_DAY_STARTS
from festival.settings import DEFAULT_MAX_UPLOAD_MB

DEFAULT_MAX_UPLOAD_BYTES = DEFAULT_MAX_UPLOAD_MB * 1024 * 1024
# Names the explorer answers to: a page fetched through another name (DNS rebinding by a
# web site the user visits) is refused.
LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "[::1]"]
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; "
    # The timeline places sets with computed percentages in style attributes.
    "style-src-attr 'unsafe-inline'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def create_app(
    queries: LineupReader,
    uploader: Uploader | None,
    *,
    stack: str | None = None,
    local: bool = False,
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES,
    now: Callable[[], datetime] = datetime.now,
    secret_key: str | None = None,
    day_starts: TimeOfDay | Callable[[], TimeOfDay] = DEFAULT_DAY_STARTS,
) -> Flask:
    """The explorer's WSGI app. ``stack`` names the stack in the pages' header; ``now`` is the
    festival's local time (the laptop's clock); ``day_starts`` the hour festival days start
    at, or what reads it (the stack's output) when a page first needs it. Without an
    ``uploader`` the explorer only reads: an upload is a page that is not there."""
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=secret_key or secrets.token_hex(32),
        MAX_CONTENT_LENGTH=max_upload_bytes,
        TRUSTED_HOSTS=LOOPBACK_HOSTS,
        SESSION_COOKIE_SAMESITE="Strict",
        # The form's token lives as long as the page: the key is new at every start anyway.
        WTF_CSRF_TIME_LIMIT=None,
    )
    CSRFProtect(app)
    app.extensions[EXTENSION] = Explorer(
        queries, uploader, read_once(day_starts), now, stack, local, max_upload_bytes
    )
    app.context_processor(page_globals)
    app.jinja_env.filters.update(FILTERS)
    app.after_request(safe_headers)
    for error, page in ERROR_PAGES.items():
        app.register_error_handler(error, page)
    for blueprint in PAGES:
        app.register_blueprint(blueprint)
    return app


def safe_headers(response: Response) -> Response:
    """Every answer: only the explorer's own scripts and styles, and kept by no cache."""
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response
