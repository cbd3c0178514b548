"""The uploads pages: every upload and its load (/uploads), the upload form (/upload), and
one upload followed until its load is reported (/uploads/follow)."""

from __future__ import annotations

import time

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from festival.explorer.pages.shared import explorer, problem_page, upload_form_page
from festival.explorer.stack import UNREACHABLE_ERRORS, explain
from festival.explorer.uploader import UploadNameError

# How long the follow page waits for the load to begin before saying what to check.
PICKUP_PATIENCE_S = 60

blueprint = Blueprint("uploads", __name__)


@blueprint.get("/uploads")
def uploads() -> ResponseReturnValue:
    return render_template("uploads.html", records=explorer().queries.uploads())


@blueprint.get("/uploads/table")
def uploads_table() -> ResponseReturnValue:
    """The uploads page's table alone, which the page polls."""
    return render_template("_uploads_table.html", records=explorer().queries.uploads())


@blueprint.get("/upload")
def upload_form() -> ResponseReturnValue:
    return upload_form_page()


@blueprint.post("/upload")
def upload() -> ResponseReturnValue:
    given = explorer()
    if given.uploader is None:
        abort(404)
    chosen = request.files.get("lineup")
    if chosen is None or not chosen.filename:
        return upload_form_page("Choose a CSV file first.", status=400)
    try:
        key = given.uploader.key_for(chosen.filename)
    except UploadNameError as problem:
        return upload_form_page(f"Not uploaded: {problem}.", status=400)
    # A load is followed by the file and its ETag: the newest version with that content.
    # The same content uploaded before has a version of its own, so the page waits for
    # a record other than the one there now.
    earlier = {record["etag"]: version_of(record) for record in given.queries.upload_versions(key)}
    try:
        uploaded = given.uploader.put(key, chosen.stream)
    except UNREACHABLE_ERRORS as problem:
        return problem_page(explain(problem, local=given.local, uploading=True), 503)
    return redirect(
        url_for(
            "uploads.follow",
            file=uploaded.key,
            etag=uploaded.etag,
            after=earlier.get(uploaded.etag) or "",
            since=int(time.time()),
        ),
        code=303,
    )


@blueprint.get("/uploads/follow")
def follow() -> ResponseReturnValue:
    return render_template("follow.html", **following())


@blueprint.get("/uploads/follow/report")
def follow_report() -> ResponseReturnValue:
    """The follow page's report alone, which the page polls."""
    return render_template("_follow_report.html", **following())


def following() -> dict:
    """What the follow page says of the upload its arguments name (file, etag; after: the
    version of an earlier upload of the same content; since: when it was uploaded)."""
    file, etag = request.args.get("file", ""), request.args.get("etag", "")
    if not file or not etag:
        abort(404)
    queries = explorer().queries
    record = queries.upload(file, etag)
    if record is not None and version_of(record) == request.args.get("after"):
        record = None  # still the record of an earlier upload of the same content
    waited = time.time() - request.args.get("since", type=float, default=time.time())
    days = None
    if record and record["status"] in {"OK", "PARTIAL"} and record["rows_loaded"]:
        days = queries.nights_of(file, explorer().day_starts())
    return {
        "file": file,
        "etag": etag,
        "record": record,
        "days": days,
        "late": record is None and waited > PICKUP_PATIENCE_S,
        "query": request.args,
    }


def version_of(record: dict) -> str:
    """What tells one upload of a file from another of the same content: its version (S3's
    sequencer), or when its load started for a record written before versions were."""
    return str(record.get("version") or record.get("started_at") or "")
