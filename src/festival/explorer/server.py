"""Run the explorer on 127.0.0.1 with waitress, a production WSGI server."""

from __future__ import annotations

from collections.abc import Callable
from datetime import time

import boto3
from waitress import create_server

from festival.explorer.app import create_app
from festival.explorer.stack import DeployedStack, OnFirstUse
from festival.stack import stack_day_starts

HOST = "127.0.0.1"  # never another interface: the pages use the caller's AWS credentials
THREADS = 4


class PortInUseError(Exception):
    """The port is taken (the message names it)."""


def serve(
    session: boto3.Session,
    endpoint: str | None,
    stack_name: str,
    *,
    local: bool,
    port: int,
    max_upload_bytes: int,
    announce: Callable[[str], None],
    day_starts: time | None = None,
) -> None:
    """Serve until interrupted. The stack is looked up when a page first needs it, and again
    when a call finds its table or bucket gone (the stack deployed again, under new names:
    festival.explorer.stack.OnFirstUse); so is the hour festival days start at (its
    FestivalDayStarts output), unless ``day_starts``."""
    stack = DeployedStack(session, endpoint, stack_name)
    app = create_app(
        OnFirstUse(stack.queries),
        OnFirstUse(stack.uploader),
        stack=stack_name,
        local=local,
        max_upload_bytes=max_upload_bytes,
        day_starts=day_starts or (lambda: stack_day_starts(session, endpoint, stack_name)),
    )
    try:
        server = create_server(
            app,
            host=HOST,
            port=port,
            threads=THREADS,
            max_request_body_size=max_upload_bytes + 1024 * 1024,
        )
    except OSError as error:
        raise PortInUseError(
            f"cannot listen on {HOST}:{port} ({error.strerror}): pass another --port"
        ) from error
    announce(
        f"Lineup explorer on http://{HOST}:{server.effective_port}/ (stack {stack_name}"
        f"{', local' if local else ''}); Ctrl+C stops it."
    )
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
