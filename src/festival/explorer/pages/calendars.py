"""Calendar feeds: a performer's, a stage's or a festival night's sets as an RFC 5545
calendar to subscribe to (/calendar/<kind>/<name>.ics; `festival export --format ics`
writes the same, from `festival.calendars`)."""

from __future__ import annotations

from flask import Blueprint, Response
from flask.typing import ResponseReturnValue

from festival.calendars import CalendarError, Selection, calendar
from festival.explorer.pages.shared import asked_day_starts, explorer
from festival.nights import DayStartsError

blueprint = Blueprint("calendars", __name__)


@blueprint.get("/calendar/<any(performer, stage, night):kind>/<path:name>.ics")
def calendar_feed(kind: str, name: str) -> ResponseReturnValue:
    """The calendar of one selection; a night honours ?day-starts=HH:MM as the day page
    does. What cannot be one is a plain-text 400 saying why."""
    given = explorer()
    try:
        selection = Selection(kind, name)
        chosen = asked_day_starts()
        day_starts = given.day_starts if chosen is None else (lambda: chosen)
        performances = selection.performances(given.queries, day_starts)
        content = calendar(performances, selection.title(performances))
    except (ValueError, DayStartsError, CalendarError) as problem:
        return Response(f"{problem}\n", status=400, mimetype="text/plain")
    response = Response(content, content_type="text/calendar; charset=utf-8")
    response.headers["Content-Disposition"] = f'inline; filename="{selection.file_stem}.ics"'
    return response
