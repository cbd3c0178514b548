"""The what's-on page: the sets on at a moment, by stage, or those between two moments
(/whats-on?at=, or ?from=&to=; ?stage= for one stage)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

from festival.explorer.pages.shared import asked, explorer
from festival.queries import QueryInputError, parse_local_datetime
from lineup_ingest import schema

blueprint = Blueprint("whats_on", __name__)


@blueprint.get("/whats-on")
def whats_on() -> ResponseReturnValue:
    question = asked("at", "from", "to", "stage")
    stage = question["stage"] or None
    answer: dict[str, Any] = {}
    error = None
    try:
        if question["at"]:
            moment = parse_local_datetime(question["at"])
            answer = {"moment": moment, "stages": on_each_stage(moment, stage)}
        elif question["from"] or question["to"]:
            first = parse_local_datetime(question["from"])
            last = parse_local_datetime(question["to"])
            answer = {
                "first": first,
                "last": last,
                "performances": explorer().queries.between(first, last, stage=stage),
            }
    except QueryInputError as problem:
        error = str(problem)
    return render_template("whats_on.html", asked=question, answer=answer, error=error)


def on_each_stage(moment: datetime, stage: str | None) -> list[tuple[str, list[dict]]]:
    """The set(s) running at a moment, by stage: `at` for one stage, else every set
    occurring in the minute [moment, moment + 1 min), which is what `at` answers on
    each stage."""
    queries = explorer().queries
    if stage is not None:
        found = queries.at(stage, moment)
        return [(found[0]["stage"] if found else stage, found)]
    by_stage: dict[str, list[dict]] = {}
    names: dict[str, str] = {}
    for performance in queries.between(moment, moment + timedelta(minutes=1)):
        key = schema.name_key(performance["stage"])
        names.setdefault(key, performance["stage"])
        by_stage.setdefault(key, []).append(performance)
    return [(names[key], by_stage[key]) for key in sorted(by_stage)]
