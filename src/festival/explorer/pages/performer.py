"""The performer page: every set of a performer, found by name in any case (/performer)."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue

from festival.explorer.pages.shared import explorer

blueprint = Blueprint("performer", __name__)


@blueprint.get("/performer")
def performer() -> ResponseReturnValue:
    name = request.args.get("name", "")
    performances = explorer().queries.by_performer(name) if name.strip() else None
    return render_template("performer.html", name=name, performances=performances)
