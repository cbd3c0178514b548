"""The change page of one upload: what it changed since the version it replaced
(/uploads/changes?file=&version=; `festival changes` says the same)."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask.typing import ResponseReturnValue

from festival.explorer.pages.shared import explorer
from festival.queries import QueryInputError

# Sets of each kind a change page shows before "Show all".
CHANGES_SHOWN = 100
CHANGE_KINDS = ("added", "removed", "moved")

blueprint = Blueprint("changes", __name__)


@blueprint.get("/uploads/changes")
def upload_changes() -> ResponseReturnValue:
    """One upload's change report: the first CHANGES_SHOWN of each kind unless ``all=1``."""
    file = request.args.get("file", "")
    if not file:
        abort(404)
    version = request.args.get("version") or None
    try:
        found = explorer().queries.changes(file, version)
    except QueryInputError as problem:
        return render_template("changes.html", file=file, found=None, error=str(problem)), 404
    everything = request.args.get("all") == "1"
    cut = any(len(found[kind]) > CHANGES_SHOWN for kind in CHANGE_KINDS)
    if not everything:
        found = {**found, **{kind: found[kind][:CHANGES_SHOWN] for kind in CHANGE_KINDS}}
    return render_template(
        "changes.html",
        file=file,
        found=found,
        error=None,
        cut=cut and not everything,
        shown=CHANGES_SHOWN,
    )
