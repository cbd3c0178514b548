"""The lineup explorer: server-rendered pages over `festival.queries`, and an upload form.

`create_app` takes what the pages ask (a `LineupQueries`, or anything answering the same
methods) and what uploads (an `S3Uploader`); `festival serve` passes the deployed stack's,
tests pass moto-backed ones. Every answer comes from `LineupQueries`, so the pages and the
`festival` command cannot disagree.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from datetime import time as TimeOfDay
from typing import Any

from flask import Flask, Response, abort, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import InternalServerError, NotFound, RequestEntityTooLarge

from festival.calendars import CalendarError, Selection, calendar
from festival.explorer.clash_view import day_marks, rows_by_kind, set_key
from festival.explorer.paging import on_page, stages_page
from festival.explorer.stack import UNREACHABLE_ERRORS, Problem, explain
from festival.explorer.timeline import day_timeline
from festival.explorer.uploader import UploadNameError
from festival.nights import (
    DEFAULT_DAY_STARTS,
    DayStartsError,
    format_day_starts,
    night_of,
    night_window,
    parse_day_starts,
)
from festival.queries import QueryInputError, parse_local_datetime
from lineup_ingest import schema
from lineup_ingest.clashes import DEFAULT_CHANGEOVER_MINUTES

DEFAULT_MAX_UPLOAD_BYTES = 100 * 1024 * 1024
# Names the explorer answers to: a page fetched through another name (DNS rebinding by a
# web site the user visits) is refused.
LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "[::1]"]
LATEST_FILES_TRIED = 3
MAX_DAY_SHORTCUTS = 31
MAX_CHANGEOVER_MINUTES = 24 * 60
# Sets of each kind (added, removed, moved) an upload's change page shows before "all".
CHANGES_SHOWN = 100
# How long the follow page waits for the load to begin before saying what to check.
PICKUP_PATIENCE_S = 60
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; "
    # The timeline places sets with computed percentages in style attributes.
    "style-src-attr 'unsafe-inline'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def create_app(
    queries: Any,
    uploader: Any,
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
    at, or what reads it (the stack's output) when a page first needs it."""
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

    @app.context_processor
    def everywhere() -> dict:
        return {"stack": stack, "local": local, "max_upload_mb": max_upload_bytes / 2**20}

    known_day_starts: list[TimeOfDay] = [day_starts] if isinstance(day_starts, TimeOfDay) else []

    def default_day_starts() -> TimeOfDay:
        """The app's boundary hour, read once (again after a failed read)."""
        if not known_day_starts:
            assert callable(day_starts)
            known_day_starts.append(day_starts())
        return known_day_starts[0]

    app.add_template_filter(set_key, "set_key")

    @app.template_filter("hm")
    def hour_minute(moment: str) -> str:
        return moment[11:16]

    @app.template_filter("weekday")
    def weekday(moment: str) -> str:
        return datetime.fromisoformat(moment).strftime("%a")

    @app.template_filter("night")
    def night(moment: str) -> str:
        """The festival day a moment belongs to (a 01:00 start: the night before), ISO."""
        return night_of(datetime.fromisoformat(moment), default_day_starts()).isoformat()

    @app.template_filter("when")
    def when(moment: str) -> str:
        return datetime.fromisoformat(moment).strftime("%a %d %b %Y, %H:%M")

    @app.template_filter("until")
    def until(performance: dict) -> str:
        """The end as a time, with the day after when the set runs past midnight."""
        end = performance["end"][11:16]
        return f"{end} (next day)" if performance["end"][:10] > performance["start"][:10] else end

    @app.after_request
    def safe_headers(response):
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cache-Control"] = "no-store"
        return response

    def unreachable(error: Exception):
        return render_template("problem.html", problem=explain(error, local=local)), 503

    for error_class in UNREACHABLE_ERRORS:
        app.register_error_handler(error_class, unreachable)

    @app.errorhandler(CSRFError)
    def forged(error: CSRFError):
        return render_upload_form(
            "The upload was refused: the form's security token was missing or stale. "
            "Reload this page and choose the file again.",
            status=400,
        )

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(error: RequestEntityTooLarge):
        return render_upload_form(
            f"The file is larger than the {max_upload_bytes / 2**20:g} MB this page takes: "
            "upload it with aws s3 cp (see the Upload page's note), or start festival serve "
            "with a larger --max-upload-mb.",
            status=413,
        )

    @app.errorhandler(InternalServerError)
    def unexpected(error: InternalServerError):
        cause = error.original_exception or error
        return render_template(
            "problem.html",
            problem=Problem(
                "Something unexpected failed",
                f"{type(cause).__name__}: {cause}. The terminal running festival serve shows "
                "the details.",
                "Reloading this page runs it again; if it fails the same way, the details in "
                "that terminal say why.",
            ),
        ), 500

    @app.errorhandler(NotFound)
    def not_found(error: NotFound):
        return render_template("not_found.html"), 404

    # --- day view --------------------------------------------------------------------------

    @app.get("/")
    def home():
        return redirect(url_for("day"))

    @app.get("/day")
    def day():
        """A festival night: the sets starting from the boundary hour on the date to the
        same hour the next day (?day-starts=HH:MM overrides the boundary for the page); a
        night of more sets than a page holds, a page of its stages (?stages-page=N)."""
        current = now()
        errors = []
        boundary, carried = default_day_starts(), {}
        asked_boundary = request.args.get("day-starts", "").strip()
        if asked_boundary:
            try:
                boundary = parse_day_starts(asked_boundary)
                carried = {"day-starts": format_day_starts(boundary)}
            except DayStartsError as problem:
                errors.append(f"{problem}: festival days start at {format_day_starts(boundary)}")
        tonight = night_of(current, boundary)
        asked = request.args.get("date", "").strip()
        known_days = lineup_days(boundary)
        if asked:
            try:
                shown = date.fromisoformat(asked)
            except ValueError:
                errors.append(f"{asked!r} is not a date like 2025-07-12")
                shown = tonight
        else:
            shown = default_day(tonight, known_days, boundary)
        performances = queries.on_night(shown, boundary)
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

    def lineup_days(boundary: TimeOfDay) -> list[date]:
        """The festival days of the latest file that loaded rows: the day picker's
        shortcuts."""
        loaded = [
            record
            for record in queries.uploads()
            if record["status"] in {"OK", "PARTIAL"} and record["rows_loaded"]
        ]
        for record in loaded[:LATEST_FILES_TRIED]:  # a file's rows may be gone since
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
        if tonight in known_days or not known_days or queries.on_night(tonight, boundary):
            return tonight
        return known_days[0]

    # --- performer search -----------------------------------------------------------------

    @app.get("/performer")
    def performer():
        name = request.args.get("name", "")
        performances = queries.by_performer(name) if name.strip() else None
        return render_template("performer.html", name=name, performances=performances)

    # --- what's on ------------------------------------------------------------------------

    @app.get("/whats-on")
    def whats_on():
        asked = {
            field: request.args.get(field, "").strip() for field in ("at", "from", "to", "stage")
        }
        stage = asked["stage"] or None
        answer: dict[str, Any] = {}
        error = None
        try:
            if asked["at"]:
                moment = parse_local_datetime(asked["at"])
                answer = {"moment": moment, "stages": on_each_stage(moment, stage)}
            elif asked["from"] or asked["to"]:
                first = parse_local_datetime(asked["from"])
                last = parse_local_datetime(asked["to"])
                answer = {
                    "first": first,
                    "last": last,
                    "performances": queries.between(first, last, stage=stage),
                }
        except QueryInputError as problem:
            error = str(problem)
        return render_template("whats_on.html", asked=asked, answer=answer, error=error)

    def on_each_stage(moment: datetime, stage: str | None) -> list[tuple[str, list[dict]]]:
        """The set(s) running at a moment, by stage: `at` for one stage, else every set
        occurring in the minute [moment, moment + 1 min), which is what `at` answers on
        each stage."""
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

    # --- calendars ------------------------------------------------------------------------

    @app.get("/calendar/<any(performer, stage, night):kind>/<path:name>.ics")
    def calendar_feed(kind: str, name: str):
        """A performer's, a stage's or a festival night's sets as an RFC 5545 calendar to
        subscribe to (festival export --format ics gives the same). A night honours
        ?day-starts=HH:MM as the day page does."""
        try:
            selection = Selection(kind, name)
            boundary = default_day_starts
            asked = request.args.get("day-starts", "").strip()
            if asked:
                chosen = parse_day_starts(asked)
                boundary = lambda: chosen  # noqa: E731
            performances = selection.performances(queries, boundary)
            content = calendar(performances, selection.title(performances))
        except (ValueError, DayStartsError, CalendarError) as problem:
            return Response(f"{problem}\n", status=400, mimetype="text/plain")
        response = Response(content, content_type="text/calendar; charset=utf-8")
        response.headers["Content-Disposition"] = f'inline; filename="{selection.file_stem}.ics"'
        return response

    # --- clashes --------------------------------------------------------------------------

    @app.get("/clashes")
    def clashes():
        """Sets overlapping on a stage, performers on two stages at once and changeovers
        under a minimum (`LineupQueries.clashes`): of a festival day (?date=), or of the
        whole lineup; ?changeover=MINUTES, ?file=KEY."""
        asked = {
            name: request.args.get(name, "").strip() for name in ("date", "changeover", "file")
        }
        errors = []
        minimum = DEFAULT_CHANGEOVER_MINUTES
        if asked["changeover"]:
            try:
                minimum = int(asked["changeover"])
                if not 0 <= minimum <= MAX_CHANGEOVER_MINUTES:
                    raise ValueError
            except ValueError:
                errors.append(
                    f"{asked['changeover']!r} is not a changeover in minutes from 0 to"
                    f" {MAX_CHANGEOVER_MINUTES}"
                )
                minimum = DEFAULT_CHANGEOVER_MINUTES
        shown = window = None
        if asked["date"]:
            try:
                shown = date.fromisoformat(asked["date"])
                window = night_window(shown, default_day_starts())
            except ValueError:
                errors.append(f"{asked['date']!r} is not a date like 2025-07-12")
        found = None
        if not errors:
            try:
                found = queries.clashes(
                    window=window, file=asked["file"] or None, changeover_minutes=minimum
                )
            except QueryInputError as problem:
                errors.append(str(problem))
        return render_template(
            "clashes.html",
            asked=asked,
            shown=shown,
            window=window,
            minimum=minimum,
            found=found,
            kinds=rows_by_kind(found) if found else [],
            error="; ".join(errors) or None,
        )

    # --- uploads --------------------------------------------------------------------------

    @app.get("/uploads")
    def uploads():
        return render_template("uploads.html", records=queries.uploads())

    @app.get("/uploads/table")
    def uploads_table():
        return render_template("_uploads_table.html", records=queries.uploads())

    @app.get("/upload")
    def upload_form():
        return render_upload_form()

    def render_upload_form(error: str | None = None, status: int = 200):
        return render_template("upload.html", error=error), status

    @app.post("/upload")
    def upload():
        chosen = request.files.get("lineup")
        if chosen is None or not chosen.filename:
            return render_upload_form("Choose a CSV file first.", status=400)
        try:
            key = uploader.key_for(chosen.filename)
        except UploadNameError as problem:
            return render_upload_form(f"Not uploaded: {problem}.", status=400)
        # A load is followed by the file and its ETag: the newest version with that content.
        # The same content uploaded before has a version of its own, so the page waits for
        # a record other than the one there now.
        earlier = {record["etag"]: version_of(record) for record in queries.upload_versions(key)}
        try:
            uploaded = uploader.put(key, chosen.stream)
        except UNREACHABLE_ERRORS as problem:
            return render_template(
                "problem.html", problem=explain(problem, local=local, uploading=True)
            ), 503
        return redirect(
            url_for(
                "follow",
                file=uploaded.key,
                etag=uploaded.etag,
                after=earlier.get(uploaded.etag) or "",
                since=int(time.time()),
            ),
            code=303,
        )

    @app.get("/uploads/changes")
    def upload_changes():
        """One upload's change report: what it changed since the version it replaced; the
        first CHANGES_SHOWN of each kind unless ``all=1``."""
        file = request.args.get("file", "")
        if not file:
            abort(404)
        version = request.args.get("version") or None
        try:
            found = queries.changes(file, version)
        except QueryInputError as problem:
            return render_template("changes.html", file=file, found=None, error=str(problem)), 404
        everything = request.args.get("all") == "1"
        cut = any(len(found[kind]) > CHANGES_SHOWN for kind in ("added", "removed", "moved"))
        if not everything:
            found = {
                **found,
                **{kind: found[kind][:CHANGES_SHOWN] for kind in ("added", "removed", "moved")},
            }
        return render_template(
            "changes.html",
            file=file,
            found=found,
            error=None,
            cut=cut and not everything,
            shown=CHANGES_SHOWN,
        )

    @app.get("/uploads/follow")
    def follow():
        return render_template("follow.html", **following())

    @app.get("/uploads/follow/report")
    def follow_report():
        return render_template("_follow_report.html", **following())

    def following() -> dict:
        file, etag = request.args.get("file", ""), request.args.get("etag", "")
        if not file or not etag:
            abort(404)
        record = queries.upload(file, etag)
        if record is not None and version_of(record) == request.args.get("after"):
            record = None  # still the record of an earlier upload of the same content
        waited = time.time() - request.args.get("since", type=float, default=time.time())
        days = None
        if record and record["status"] in {"OK", "PARTIAL"} and record["rows_loaded"]:
            days = queries.nights_of(file, default_day_starts())
        return {
            "file": file,
            "etag": etag,
            "record": record,
            "days": days,
            "late": record is None and waited > PICKUP_PATIENCE_S,
            "query": request.args,
        }

    return app


def version_of(record: dict) -> str:
    """What tells one upload of a file from another of the same content: its version (S3's
    sequencer), or when its load started for a record written before versions were."""
    return str(record.get("version") or record.get("started_at") or "")
