"""The clashes page: sets overlapping on a stage, performers on two stages at once and
changeovers under a minimum (`LineupQueries.clashes`), of a festival day or of the whole
lineup (/clashes?date=&changeover=MINUTES&file=KEY)."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

from festival.explorer.clash_view import rows_by_kind
from festival.explorer.pages.shared import asked, explorer, parse_date
from festival.nights import night_window
from festival.queries import QueryInputError
from lineup_ingest.clashes import DEFAULT_CHANGEOVER_MINUTES

MAX_CHANGEOVER_MINUTES = 24 * 60

blueprint = Blueprint("clashes", __name__)


@blueprint.get("/clashes")
def clashes() -> ResponseReturnValue:
    question = asked("date", "changeover", "file")
    errors: list[str] = []
    minimum = changeover_asked(question["changeover"], errors)
    shown = parse_date(question["date"], errors) if question["date"] else None
    window = night_window(shown, explorer().day_starts()) if shown else None
    found = None
    if not errors:
        try:
            found = explorer().queries.clashes(
                window=window, file=question["file"] or None, changeover_minutes=minimum
            )
        except QueryInputError as problem:
            errors.append(str(problem))
    return render_template(
        "clashes.html",
        asked=question,
        shown=shown,
        window=window,
        minimum=minimum,
        found=found,
        kinds=rows_by_kind(found) if found else [],
        error="; ".join(errors) or None,
    )


def changeover_asked(text: str, errors: list[str]) -> int:
    """The shortest changeover that is not a clash, in minutes: ``text``, or the default
    when it is empty, or (with why added to ``errors``) not a number of minutes in a day."""
    if not text:
        return DEFAULT_CHANGEOVER_MINUTES
    try:
        minimum = int(text)
    except ValueError:
        minimum = -1
    if 0 <= minimum <= MAX_CHANGEOVER_MINUTES:
        return minimum
    errors.append(f"{text!r} is not a changeover in minutes from 0 to {MAX_CHANGEOVER_MINUTES}")
    return DEFAULT_CHANGEOVER_MINUTES
