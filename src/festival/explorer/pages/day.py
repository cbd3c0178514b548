"""The day page: a festival night's sets on a timeline of its stages and in a table, with
its clashes marked and shortcuts to the lineup's other days (/day; / leads here)."""

from __future__ import annotations

from datetime import date, timedelta
from datetime import time as TimeOfDay

from flask import Blueprint, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from festival.explorer.clash_view import day_marks
from festival.explorer.pages.shared import asked, asked_day_starts, explorer, parse_date
from festival.explorer.paging import on_page, stages_page
from festival.explorer.timeline import day_timeline
from festival.nights import DayStartsError, format_day_starts, night_of, night_window

# The uploads whose days the shortcuts may show, newest first: a file's rows may be gone.
LATEST_FILES_TRIED = 3
MAX_DAY_SHORTCUTS = 31

blueprint = Blueprint("day", __name__)


@blueprint.get("/")
def home() -> ResponseReturnValue:
    return redirect(url_for("day.day"))


@blueprint.get("/day")
def day() -> ResponseReturnValue:
    """A festival night: the sets starting from the boundary hour on the date to the
    same hour the next day (?day-starts=HH:MM overrides the boundary for the page); a
    night of more sets than a page holds, a page of its stages (?stages-page=N)."""
    given = explorer()
    current = given.now()
    errors: list[str] = []
    boundary, carried = boundary_asked(errors)
    tonight = night_of(current, boundary)
    asked_date = asked("date")["date"]
    known_days = lineup_days(boundary)
    if asked_date:
        shown = parse_date(asked_date, errors) or tonight
    else:
        shown = default_day(tonight, known_days, boundary)
    performances = given.queries.on_night(shown, boundary)
    night_start, night_end = night_window(shown, boundary)
    timeline = day_timeline(shown, performances, current, boundary)
    marks = day_marks(performances)  # the whole night's clashes, on every page: no read more
    stage_page = stages_page(
        [len(line.blocks) for line in timeline.stages], request.args.get("stages-page", "")
    )
    if stage_page:  # a night too big for one page: a page of its stages
        if stage_page.error:
            errors.append(stage_page.error)
        timeline, performances = on_page(timeline, performances, stage_page)
    return render_template(
        "day.html",
        shown=shown,
        error="; ".join(errors) or None,
        known_days=known_days,
        timeline=timeline,
        performances=performances,
        marks=marks,
        stage_page=stage_page,
        is_today=shown == tonight,
        now=current,
        previous_day=shown - timedelta(days=1),
        next_day=shown + timedelta(days=1),
        night_start=night_start,
        night_end=night_end,
        day_starts=format_day_starts(boundary),
        carried=carried,
    )


def boundary_asked(errors: list[str]) -> tuple[TimeOfDay, dict[str, str]]:
    """The hour this page's festival days start at (?day-starts=, else the app's), and the
    argument its links carry to keep it (none for the app's)."""
    boundary = explorer().day_starts()
    try:
        chosen = asked_day_starts()
    except DayStartsError as problem:
        errors.append(f"{problem}: festival days start at {format_day_starts(boundary)}")
        return boundary, {}
    if chosen is None:
        return boundary, {}
    return chosen, {"day-starts": format_day_starts(chosen)}


def lineup_days(boundary: TimeOfDay) -> list[date]:
    """The festival days of the latest file that loaded rows: the day picker's shortcuts."""
    queries = explorer().queries
    loaded = [
        record
        for record in queries.uploads()
        if record["status"] in {"OK", "PARTIAL"} and record["rows_loaded"]
    ]
    for record in loaded[:LATEST_FILES_TRIED]:
        found = queries.nights_of(record["file"], boundary)
        if found:
            first, last = found
            return [
                first + timedelta(days=n)
                for n in range(min((last - first).days + 1, MAX_DAY_SHORTCUTS))
            ]
    return []


def default_day(tonight: date, known_days: list[date], boundary: TimeOfDay) -> date:
    """Tonight's festival day if it has sets or is the lineup's, else the lineup's first."""
    queries = explorer().queries
    if tonight in known_days or not known_days or queries.on_night(tonight, boundary):
        return tonight
    return known_days[0]
