"""What the pages share: what the app was given (`Explorer`), the arguments several pages
read alike (a date, the hour festival days start at), and the pages that say what went
wrong."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from datetime import time as TimeOfDay

from flask import current_app, render_template, request

from festival.explorer.ports import LineupReader, Uploader
from festival.explorer.stack import Problem
from festival.nights import parse_day_starts

# The key of the app's `Explorer` in `app.extensions` (Flask's place for what an app holds).
EXTENSION = "festival.explorer"


@dataclass(frozen=True)
class Explorer:
    """What `create_app` was given: what the pages read and upload through, and say."""

    queries: LineupReader
    uploader: Uploader | None  # None: an explorer that only reads (the benchmarks')
    day_starts: Callable[[], TimeOfDay]  # the hour festival days start at (`read_once`)
    now: Callable[[], datetime]  # the festival's local time
    stack: str | None  # named in every page's header
    local: bool
    max_upload_bytes: int


def explorer() -> Explorer:
    """What the app answering this request was given."""
    return current_app.extensions[EXTENSION]


def read_once(day_starts: TimeOfDay | Callable[[], TimeOfDay]) -> Callable[[], TimeOfDay]:
    """The boundary hour as given, or as what reads it (the stack's output) answers when a
    page first asks: read once, and again after a failed read."""
    known = [day_starts] if isinstance(day_starts, TimeOfDay) else []

    def boundary() -> TimeOfDay:
        if not known:
            assert callable(day_starts)
            known.append(day_starts())
        return known[0]

    return boundary


def page_globals() -> dict:
    """What every template may use: the header's stack and the upload limit."""
    given = explorer()
    return {
        "stack": given.stack,
        "local": given.local,
        "max_upload_mb": given.max_upload_bytes / 2**20,
    }


def asked(*names: str) -> dict[str, str]:
    """The request's arguments of these names, stripped; a missing one is empty."""
    return {name: request.args.get(name, "").strip() for name in names}


def asked_day_starts() -> TimeOfDay | None:
    """The hour festival days start at for this page (?day-starts=HH:MM), or None for the
    app's; DayStartsError when it is not an hour."""
    text = asked("day-starts")["day-starts"]
    return parse_day_starts(text) if text else None


def parse_date(text: str, errors: list[str]) -> date | None:
    """The date ``text`` names, or None with why added to ``errors``."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors.append(f"{text!r} is not a date like 2025-07-12")
        return None


def problem_page(problem: Problem, status: int) -> tuple[str, int]:
    return render_template("problem.html", problem=problem), status


def upload_form_page(error: str | None = None, status: int = 200) -> tuple[str, int]:
    """The upload form, with why the last upload was refused."""
    return render_template("upload.html", error=error), status
