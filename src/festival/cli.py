"""`festival`: ask the lineup table its questions, from a terminal."""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Callable
from datetime import date, time
from functools import partial, wraps
from typing import Any

import click
from botocore.config import Config as ClientConfig
from tabulate import tabulate

from festival.calendars import KINDS, CalendarError, Selection, calendar, csv_cell, csv_text
from festival.nights import DayStartsError, format_day_starts, night_window, parse_day_starts
from festival.queries import (
    MINUTE_FORMAT,
    LineupQueries,
    QueryInputError,
    parse_local_datetime,
)
from festival.settings import DEFAULT_MAX_UPLOAD_MB, LOCAL_ENDPOINT, STACK_NAME
from festival.stack import (
    READER_POLICY,
    STACK_ERRORS,
    aws_session,
    lineup_queries,
    stack_day_starts,
    stack_error,
    stack_output,
)
from lineup_ingest.clashes import DEFAULT_CHANGEOVER_MINUTES, Clashes, Slot

# An option whose --help says its default.
shown_option = partial(click.option, show_default=True)


class CommandError(Exception):
    """A failure the user can act on, shown as one line."""


# The stack's managed policies do not allow these (festival reconcile invokes the function).
OPERATOR_COMMANDS = frozenset({"reconcile"})


class DayStartsType(click.ParamType):
    """--day-starts HH:MM, read as a time of day."""

    name = "HH:MM"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, time):
            return value
        try:
            return parse_day_starts(str(value))
        except DayStartsError as error:
            self.fail(str(error), param, ctx)


def explained(command: Callable) -> Callable:
    """Turn expected failures into one clear line and exit status 1, never a traceback."""

    @wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        ctx = click.get_current_context()
        try:
            _as_csv(ctx)  # --json with --csv: refused, whatever the command
            return command(*args, **kwargs)
        except (CommandError, QueryInputError) as error:
            message = str(error)
        except STACK_ERRORS as error:
            local = bool((ctx.find_root().obj or {}).get("local"))
            policy = None if ctx.info_name in OPERATOR_COMMANDS else READER_POLICY
            message = str(stack_error(error, local=local, policy=policy))
        click.secho(f"festival: {message}", fg="red", err=True)
        sys.exit(1)

    return run


# The options of the whole command, each as (declarations, attributes). They are accepted
# before the command (festival --local performer X) and after it (festival performer X
# --local): users type them wherever they remember them.
GLOBAL_OPTIONS: list[tuple[tuple[str, ...], dict[str, Any]]] = [
    (
        ("--stack",),
        {
            "metavar": "NAME",
            "help": f"CloudFormation stack whose outputs name the table [default: {STACK_NAME}].",
        },
    ),
    (("--local",), {"is_flag": True, "help": f"Use the local stack at {LOCAL_ENDPOINT}."}),
    (
        ("--profile",),
        {"metavar": "PROFILE", "help": "AWS profile (else the standard configuration)."},
    ),
    (("--region",), {"metavar": "REGION", "help": "AWS region (else the standard configuration)."}),
    (("--json", "as_json"), {"is_flag": True, "help": "Print JSON instead of a table."}),
    (
        ("--csv", "as_csv"),
        {"is_flag": True, "help": "Print CSV (a header row, then one row each) instead."},
    ),
    (
        ("--day-starts", "day_starts"),
        {
            "type": DayStartsType(),
            "help": "The hour a festival day starts, HH:MM: earlier sets belong to the night "
            "before [default: the stack's FestivalDayStarts, else 06:00].",
        },
    ),
]


def _remember(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    """A global option given after the command: it wins over the same one given before."""
    if value:  # None or False: not on the command line
        name = str(param.name)
        ctx.find_root().obj[name.removeprefix("as_")] = value


def _global_options(*, after_command: bool) -> Callable:
    """The global options of the group, or of a command (remembered in the group's settings)."""
    later: dict[str, Any] = {"default": None, "expose_value": False, "callback": _remember}

    def decorate(command: Callable) -> Callable:
        for declarations, attributes in reversed(GLOBAL_OPTIONS):
            extra = later if after_command else {}
            command = click.option(*declarations, **attributes, **extra)(command)
        return command

    return decorate


def a_command(function: Callable) -> Callable:
    """A command's body: given the context, AWS errors explained, and the group's options
    taken after the command's name too."""
    return _global_options(after_command=True)(click.pass_context(explained(function)))


@click.group()
@_global_options(after_command=False)
@click.pass_context
def main(
    ctx: click.Context,
    stack: str | None,
    local: bool,
    profile: str | None,
    region: str | None,
    as_json: bool,
    as_csv: bool,
    day_starts: time | None,
) -> None:
    """Query the festival lineup loaded from uploaded CSV files.

    Every option may also follow the command: festival performer NAME --local.
    """
    ctx.obj = {
        "stack": stack or STACK_NAME,
        "local": local,
        "profile": profile,
        "region": region,
        "json": as_json,
        "csv": as_csv,
        "day_starts": day_starts,
    }


def _queries(ctx: click.Context) -> LineupQueries:
    options = ctx.obj
    session, endpoint = aws_session(options["local"], options["profile"], options["region"])
    return lineup_queries(session, endpoint, options["stack"])


def day_starts(ctx: click.Context) -> time:
    """The hour festival days start at: --day-starts, else the stack's FestivalDayStarts
    output, else 06:00."""
    options = ctx.find_root().obj
    if options.get("day_starts") is None:
        session, endpoint = aws_session(options["local"], options["profile"], options["region"])
        options["day_starts"] = stack_day_starts(session, endpoint, options["stack"])
    return options["day_starts"]


def _print_records(
    ctx: click.Context,
    records: list[dict],
    nothing: str,
    headers: list[str],
    row: Callable[[dict], list],
) -> None:
    """JSON with --json, CSV with --csv, else a table (or a sentence when there is
    nothing)."""
    if _as_csv(ctx):
        _print_table(ctx, headers, [row(record) for record in records])
    elif ctx.obj["json"]:
        click.echo(json.dumps(records, ensure_ascii=False, indent=2))
    elif not records:
        click.echo(nothing)
    else:
        click.echo(tabulate([row(record) for record in records], headers=headers))


def _as_csv(ctx: click.Context) -> bool:
    """--csv was given (and not --json too: one format at a time)."""
    options = ctx.find_root().obj or {}
    if options.get("csv") and options.get("json"):
        raise CommandError("--json and --csv ask for two formats: give one")
    return bool(options.get("csv"))


def _print_table(ctx: click.Context, headers: list[str], rows: list[list]) -> None:
    """Rows as CSV with --csv (a header row first, text a spreadsheet would run as a
    formula behind an apostrophe), else as a table."""
    if not _as_csv(ctx):
        click.echo(tabulate(rows, headers=headers))
        return
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180, as csv_text
    writer.writerow(headers)
    writer.writerows([[csv_cell(value) for value in row] for row in rows])
    click.echo(out.getvalue(), nl=False)


def _print_performances(ctx: click.Context, performances: list[dict]) -> None:
    if _as_csv(ctx):  # the columns of festival export --format csv
        click.echo(csv_text(performances), nl=False)
        return
    _print_records(
        ctx,
        performances,
        "No performance found.",
        ["performer", "stage", "start", "end"],
        lambda p: [
            p["performer"],
            p["stage"],
            p["start"].replace("T", " "),
            p["end"].replace("T", " "),
        ],
    )


@main.command()
@click.argument("name")
@a_command
def performer(ctx: click.Context, name: str) -> None:
    """All performances of performer NAME (any case and spacing)."""
    _print_performances(ctx, _queries(ctx).by_performer(name))


@main.command()
@click.argument("start", metavar="FROM")
@click.argument("end", metavar="TO")
@click.option("--stage", default=None, help="Only this stage.")
@a_command
def between(ctx: click.Context, start: str, end: str, stage: str | None) -> None:
    """Performances occurring between FROM and TO (local times like 2025-07-12T19:00)."""
    first, last = parse_local_datetime(start), parse_local_datetime(end)
    _print_performances(ctx, _queries(ctx).between(first, last, stage=stage))


@main.command()
@click.argument("stage")
@click.argument("when")
@a_command
def at(ctx: click.Context, stage: str, when: str) -> None:
    """The performance on STAGE at WHEN (a local time like 2025-07-12T20:30)."""
    _print_performances(ctx, _queries(ctx).at(stage, parse_local_datetime(when)))


@main.command()
@click.argument("night", metavar="DATE")
@a_command
def day(ctx: click.Context, night: str) -> None:
    """The sets of festival day DATE (like 2025-07-12): starting from --day-starts on DATE
    to the same hour the next day, so a 01:00 set belongs to the night before."""
    try:
        shown = date.fromisoformat(night.strip())
    except ValueError:
        raise CommandError(f"{night!r} is not a date like 2025-07-12") from None
    boundary = day_starts(ctx)
    performances = _queries(ctx).on_night(shown, boundary)
    start, end = night_window(shown, boundary)
    if ctx.obj["json"]:
        click.echo(
            json.dumps(
                {
                    "day": shown.isoformat(),
                    "day_starts": format_day_starts(boundary),
                    "from": start.strftime(MINUTE_FORMAT),
                    "to": end.strftime(MINUTE_FORMAT),
                    "performances": performances,
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    if not _as_csv(ctx):  # CSV is the rows alone
        click.echo(
            f"{shown.strftime('%A %d %B %Y')}, from {start.strftime('%H:%M')} to "
            f"{end.strftime('%H:%M')} on {end.strftime('%a %d %b')}:\n"
        )
    _print_performances(ctx, performances)


@main.command()
@click.option(
    "--day",
    "night",
    metavar="DATE",
    default=None,
    help="Only the clashes of festival day DATE (like 2025-07-12, from --day-starts on DATE "
    "to the same hour the next day): those whose later set starts then.",
)
@shown_option(
    "--changeover",
    type=click.IntRange(0, 24 * 60),
    default=DEFAULT_CHANGEOVER_MINUTES,
    metavar="MINUTES",
    help="The shortest changeover between two sets on a stage: less is listed.",
)
@click.option(
    "--file",
    "source",
    metavar="KEY",
    default=None,
    help="Only the sets of this uploaded file (its S3 key, like uploads/lineup.csv).",
)
@a_command
def clashes(ctx: click.Context, night: str | None, changeover: int, source: str | None) -> None:
    """Sets overlapping on a stage, a performer on two stages at once, and changeovers
    shorter than --changeover: a report of the lineup as loaded, nothing is rejected."""
    window = None
    answer: dict[str, Any] = {}
    if night is not None:
        try:
            shown = date.fromisoformat(night.strip())
        except ValueError:
            raise CommandError(f"{night!r} is not a date like 2025-07-12") from None
        boundary = day_starts(ctx)
        window = night_window(shown, boundary)
        answer = {
            "day": shown.isoformat(),
            "day_starts": format_day_starts(boundary),
            "from": window[0].strftime(MINUTE_FORMAT),
            "to": window[1].strftime(MINUTE_FORMAT),
        }
    found = _queries(ctx).clashes(window=window, file=source, changeover_minutes=changeover)
    if ctx.obj["json"] and not _as_csv(ctx):
        answer.update(file=source, **clashes_json(found))
        click.echo(json.dumps(answer, ensure_ascii=False, indent=2))
        return
    if _as_csv(ctx):
        _print_table(ctx, CLASH_COLUMNS, clash_rows(found))
        return
    counts = found.counts()
    if not counts.total:
        click.echo(
            "No clash: no sets overlapping on a stage, no performer on two stages at once, "
            f"no changeover under {changeover} minutes."
        )
        return
    for kind, title in CLASH_TITLES.items():
        rows = [row[1:] for row in clash_rows(found) if row[0] == kind]
        click.echo(f"{title.format(minutes=changeover)} ({len(rows)})")
        if rows:
            click.echo(tabulate(rows, headers=CLASH_COLUMNS[1:]))
        click.echo("")


CLASH_TITLES = {
    "stage overlap": "Sets overlapping on a stage",
    "double booking": "Performers on two stages at once",
    "short changeover": "Changeovers under {minutes} minutes",
}
CLASH_COLUMNS = ["kind", "where", "minutes", "first set", "from", "to", "next set", "from", "to"]


def clash_rows(found: Clashes) -> list[list]:
    """Every clash as a row: its kind, the stage (or performer), its minutes (overlapping,
    or the changeover's), and the two sets, in time order."""

    def moment(text: str) -> str:
        return text.replace("T", " ")

    def both(first: Slot, second: Slot) -> list:
        return [
            first.performer + ("" if first.stage == second.stage else f" ({first.stage})"),
            moment(first.start),
            moment(first.end),
            second.performer + ("" if first.stage == second.stage else f" ({second.stage})"),
            moment(second.start),
            moment(second.end),
        ]

    rows = [
        ["stage overlap", o.first.stage, o.minutes, *both(o.first, o.second)]
        for o in found.stage_overlaps
    ]
    rows += [
        ["double booking", o.first.performer, o.minutes, *both(o.first, o.second)]
        for o in found.double_bookings
    ]
    rows += [
        ["short changeover", c.before.stage, c.minutes, *both(c.before, c.after)]
        for c in found.short_changeovers
    ]
    return rows


def clashes_json(found: Clashes) -> dict[str, Any]:
    """The clashes as `festival clashes --json` prints them."""

    def one(slot: Slot) -> dict[str, Any]:
        return {
            "performer": slot.performer,
            "stage": slot.stage,
            "start": slot.start,
            "end": slot.end,
            "source_file": slot.file or None,
            "source_line": slot.line or None,
        }

    return {
        "changeover_minutes": found.changeover_minutes,
        "counts": found.counts()._asdict(),
        "stage_overlaps": [
            {"stage": o.first.stage, "minutes": o.minutes, "sets": [one(o.first), one(o.second)]}
            for o in found.stage_overlaps
        ],
        "double_bookings": [
            {
                "performer": o.first.performer,
                "minutes": o.minutes,
                "sets": [one(o.first), one(o.second)],
            }
            for o in found.double_bookings
        ],
        "short_changeovers": [
            {
                "stage": c.before.stage,
                "minutes": c.minutes,
                "before": one(c.before),
                "after": one(c.after),
            }
            for c in found.short_changeovers
        ],
    }


@main.command()
@shown_option(
    "--format",
    "output_format",
    type=click.Choice(["ics", "csv"]),
    default="ics",
    help="ics: an RFC 5545 calendar, times in the festival's zone (TZID); csv: a spreadsheet.",
)
@click.option("--performer", metavar="NAME", help="The sets of this performer.")
@click.option("--stage", metavar="NAME", help="The sets on this stage.")
@click.option("--night", metavar="DATE", help="The sets of this festival night (see --day-starts).")
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, writable=True, allow_dash=True),
    default="-",
    help="Write to this file [default: standard output].",
)
@a_command
def export(
    ctx: click.Context,
    output_format: str,
    performer: str | None,
    stage: str | None,
    night: str | None,
    out: str,
) -> None:
    """Write the sets of one performer, stage or festival night as a calendar (ics) to
    import or subscribe to, or as CSV. Give one of --performer, --stage, --night."""
    asked = {"performer": performer, "stage": stage, "night": night}
    chosen = [kind for kind in KINDS if asked[kind] is not None]
    if len(chosen) != 1:
        raise CommandError("say whose sets to export: one of --performer, --stage or --night")
    try:
        selection = Selection(chosen[0], str(asked[chosen[0]]))
        performances = selection.performances(_queries(ctx), lambda: day_starts(ctx))
        title = selection.title(performances)
        content = (
            calendar(performances, title)
            if output_format == "ics"
            else csv_text(performances).encode("utf-8")
        )
    except (CalendarError, ValueError) as error:
        raise CommandError(str(error)) from error
    with click.open_file(out, "wb") as stream:
        stream.write(content)
    if not performances:
        click.echo(f"festival: no set found for {title}", err=True)
    elif out != "-":
        sets = f"{len(performances)} set{'' if len(performances) == 1 else 's'}"
        click.echo(f"{sets} of {title} written to {out}", err=True)


@main.command()
@a_command
def uploads(ctx: click.Context) -> None:
    """Every upload and removal: file, status, parts, counts, by whom and when."""
    _print_records(
        ctx,
        _queries(ctx).uploads(),
        "No upload yet.",
        [
            "file",
            "status",
            "parts",
            "loaded",
            "rejected",
            "removed",
            "by",
            "from",
            "finished (UTC)",
            "same lineup as",
        ],
        _upload_row,
    )


def _upload_row(record: dict) -> list:
    """A line of `festival uploads`: a removal has no parts nor rows loaded."""
    removal = record.get("kind") == "removal"
    return [
        record["file"],
        record["status"],
        "" if removal else f"{record['parts_done']}/{record['parts_total']}",
        "" if removal else record["rows_loaded"],
        "" if removal else record["rows_rejected"],
        record["rows_removed"],
        record.get("removed_by" if removal else "uploaded_by") or "",
        record.get("source_ip") or "",
        (record["finished_at"] or "").replace("T", " "),
        same_lineup(record),
    ]


def same_lineup(record: dict) -> str:
    """The other file that held most of an upload's sets when it became current, and the
    share (~ an estimate): "uploads/lineup.csv (~93%)"; "" for none."""
    if not record.get("same_lineup_file"):
        return ""
    about = "" if record.get("same_lineup_exact") else "~"
    return f"{record['same_lineup_file']} ({about}{record.get('same_lineup_percent')}%)"


@main.command()
@click.argument("file", required=False)
@click.option(
    "--version",
    "version",
    metavar="V",
    default=None,
    help="That upload of FILE (its version, or a prefix of it) [default: the newest].",
)
@click.option(
    "--files",
    nargs=2,
    type=click.Path(exists=True, dir_okay=False),
    metavar="OLD.csv NEW.csv",
    default=None,
    help="Compare two CSV files on this machine instead (no AWS needed).",
)
@a_command
def changes(
    ctx: click.Context, file: str | None, version: str | None, files: tuple[str, str] | None
) -> None:
    """What an upload of FILE (an S3 key, like uploads/lineup.csv) changed since the version
    it replaced: sets added, removed and moved (same performer, another stage or time)."""
    if files:
        if file or version:
            raise CommandError("give FILE (and --version) or --files, not both")
        found = _changes_between_files(*files)
    elif not file:
        raise CommandError("give FILE, the S3 key of an upload (festival uploads lists them)")
    else:
        found = _queries(ctx).changes(file, version)
    if ctx.obj["json"]:
        click.echo(json.dumps(found, ensure_ascii=False, indent=2))
        return
    if _as_csv(ctx):  # one row a change, the old and the new side by side
        _print_table(ctx, CHANGE_COLUMNS, _change_rows(found))
        return
    _print_changes(found)


CHANGE_COLUMNS = [
    "change",
    "performer",
    "old_stage",
    "old_start",
    "old_end",
    "new_stage",
    "new_start",
    "new_end",
]


def _change_rows(found: dict) -> list[list]:
    """A change report as rows: an added set has no old side, a removed one no new side."""

    def side(one: dict | None) -> list:
        return [one["stage"], one["start"], one["end"]] if one else ["", "", ""]

    rows = [["added", s["performer"], *side(None), *side(s)] for s in found["added"]]
    rows += [["removed", s["performer"], *side(s), *side(None)] for s in found["removed"]]
    rows += [["moved", m["performer"], *side(m["from"]), *side(m["to"])] for m in found["moved"]]
    return rows


def _changes_between_files(old_path: str, new_path: str) -> dict:
    """The change report of two CSV files, read as the Lambda reads them (each file's clock
    decided from its head, a set repeated in a file kept once, the last row winning)."""
    from lineup_ingest import changes as change_report
    from lineup_ingest.parsing import (
        LineupFileError,
        Performance,
        decide_clock_from_head,
        read_lineup,
    )

    def sets_of(path: str) -> list[change_report.Set]:
        with open(path, "rb") as stream:
            clock = decide_clock_from_head(stream).clock
            stream.seek(0)
            try:
                read = read_lineup(stream, clock=clock)
                rows = [row for row in read if isinstance(row, Performance)]
            except LineupFileError as error:
                raise CommandError(f"{path}: {error}") from error
        return change_report.as_loaded(rows)

    whole = change_report.compare(sets_of(old_path), sets_of(new_path))
    return {
        "file": new_path,
        "version": None,
        "status": None,
        "uploaded_at": None,
        "state": change_report.COMPARED,
        "previous": {"file": old_path},
        "counts": whole.counts(),
        "added": [one._asdict() for one in whole.added],
        "removed": [one._asdict() for one in whole.removed],
        "moved": [
            {
                "performer": move.new.performer,
                "from": {"stage": move.old.stage, "start": move.old.start, "end": move.old.end},
                "to": {"stage": move.new.stage, "start": move.new.start, "end": move.new.end},
            }
            for move in whole.moved
        ],
        "note": f"Compared with {old_path}.",
    }


def _print_changes(found: dict) -> None:
    """A change report for a person: a headline, then a table of each kind."""
    what = found["file"]
    if found["version"] is not None:
        what += f" version {found['version']}"
    if found["status"]:
        what += f" ({found['status']}, uploaded {(found['uploaded_at'] or '?').replace('T', ' ')})"
    click.echo(f"{what}: {found['note']}")
    previous, counts = found["previous"] or {}, found["counts"]
    if counts is None:
        return
    since = previous.get("file") or (
        f"version {previous.get('version')}, uploaded "
        f"{(previous.get('uploaded_at') or '?').replace('T', ' ')}"
    )
    click.echo(
        f"Changes since {since}: {counts['added']} added, {counts['removed']} removed,"
        f" {counts['moved']} moved"
    )

    def at(start: str, end: str) -> list[str]:
        return [start.replace("T", " "), end.replace("T", " ")]

    for kind in ("added", "removed"):
        if found[kind]:
            click.echo(f"\n{kind}:")
            rows = [[s["performer"], s["stage"], *at(s["start"], s["end"])] for s in found[kind]]
            click.echo(tabulate(rows, headers=["performer", "stage", "start", "end"]))
    if found["moved"]:
        click.echo("\nmoved:")
        rows = [
            [
                m["performer"],
                m["from"]["stage"],
                *at(m["from"]["start"], m["from"]["end"]),
                "->",
                m["to"]["stage"],
                *at(m["to"]["start"], m["to"]["end"]),
            ]
            for m in found["moved"]
        ]
        headers = ["performer", "stage", "start", "end", "", "new stage", "new start", "new end"]
        click.echo(tabulate(rows, headers=headers))


# What the sweep reports, in the order it does it, with what each count means.
SWEEP_COUNTS = {
    "ended_stuck": "loads stuck in LOADING ended FAILED",
    "reported": "outcomes left unreported, reported",
    "collecting": "old versions' rows queued for collection",
    "removals_resumed": "removals resumed",
    "missing": "files found gone (removed if still gone next time)",
    "lost_removals": "files deleted without an event, removed",
    "lost_uploads": "uploads whose event was lost, loaded",
    "failed_parts": "parts in the failure queue, reported failed",
    "redriven_events": "S3 events in the failure queue, handled again",
    "unreadable": "messages in the failure queue it could not read, left there",
}
# The sweep runs within the function's timeout (at most 900 s): wait that long, and never
# send it twice (a retried timeout would run a second sweep beside the first).
SWEEP_CLIENT = ClientConfig(read_timeout=960, retries={"total_max_attempts": 1})


def run_sweep(lambda_client: Any, function: str) -> dict[str, int]:
    """Invoke the function with the sweep's event and wait; what the sweep did."""
    response = lambda_client.invoke(
        FunctionName=function,
        InvocationType="RequestResponse",
        Payload=json.dumps({"reconcile": True}).encode(),
    )
    body = response["Payload"].read().decode("utf-8", "replace")
    if response.get("FunctionError"):
        try:
            error = json.loads(body)
            detail = f"{error.get('errorType', 'Error')}: {error.get('errorMessage', '')}"
        except (ValueError, AttributeError):
            detail = body.strip() or response["FunctionError"]
        raise CommandError(
            f"the reconcile sweep failed in {function} ({detail}); see the function's logs"
        )
    try:
        return dict(json.loads(body)["reconciled"])
    except (ValueError, KeyError, TypeError) as error:
        raise CommandError(
            f"{function} did not answer as the ingest function does: {body[:200]!r}"
        ) from error


@main.command()
@a_command
def reconcile(ctx: click.Context) -> None:
    """Run the reconcile sweep now (the schedule runs it too) and print what it did."""
    options = ctx.obj
    session, endpoint = aws_session(options["local"], options["profile"], options["region"])
    function = stack_output(session, endpoint, options["stack"], "FunctionName")
    client = session.client("lambda", endpoint_url=endpoint, config=SWEEP_CLIENT)
    done = run_sweep(client, function)
    if ctx.obj["json"]:
        click.echo(json.dumps({"reconciled": done}, indent=2))
        return
    rows = [[done.get(name, 0), what] for name, what in SWEEP_COUNTS.items()]
    # A count a newer function reports that this command does not know yet: by its name.
    rows += [[count, name] for name, count in done.items() if name not in SWEEP_COUNTS]
    _print_table(ctx, ["count", "what the sweep did"], rows)


@main.command()
@_global_options(after_command=True)
@shown_option("--port", type=click.IntRange(1, 65535), default=8000, help="Port on 127.0.0.1.")
@shown_option(
    "--max-upload-mb",
    type=click.IntRange(1, 5 * 1024),
    default=DEFAULT_MAX_UPLOAD_MB,
    help="The largest file the Upload page takes.",
)
@click.pass_context
@explained
def serve(ctx: click.Context, port: int, max_upload_mb: int) -> None:
    """The lineup explorer: web pages over the same queries, on http://127.0.0.1:PORT/."""
    from festival.explorer.server import PortInUseError  # Flask is loaded for this only
    from festival.explorer.server import serve as run_explorer

    options = ctx.obj
    session, endpoint = aws_session(options["local"], options["profile"], options["region"])
    try:
        run_explorer(
            session,
            endpoint,
            options["stack"],
            local=options["local"],
            port=port,
            max_upload_bytes=max_upload_mb * 2**20,
            announce=click.echo,
            day_starts=options["day_starts"],
        )
    except PortInUseError as error:
        raise CommandError(str(error)) from error


@main.command()
@click.option(
    "--records-per-day", type=click.IntRange(min=1), required=True, help="Rows uploaded a day."
)
@shown_option(
    "--files-per-day", type=click.IntRange(min=1), default=1, help="Files those rows come in."
)
@shown_option(
    "--architecture",
    type=click.Choice(["arm64", "x86_64"]),
    default="arm64",
    help="The Lambda's processor.",
)
@shown_option(
    "--month",
    type=click.IntRange(1, 120),
    default=12,
    help="Month after launch (storage grows month over month).",
)
@click.option(
    "--memory",
    "memory_mb",
    type=click.IntRange(128, 10_240),
    default=None,
    help="The Lambda's memory in MB (default: the model's recommended size).",
)
@a_command
def cost(
    ctx: click.Context,
    records_per_day: int,
    files_per_day: int,
    architecture: str,
    month: int,
    memory_mb: int | None,
) -> None:
    """What a month costs on AWS (us-east-1) for a daily volume, by service."""
    from festival import cost as model  # the model is only needed here

    try:
        measurements = model.load_measurements()
    except model.MeasurementsError as error:
        raise CommandError(str(error)) from error
    workload = model.Workload(
        records_per_day=records_per_day,
        files_per_day=files_per_day,
        lambda_memory_mb=memory_mb or model.RECOMMENDED_MEMORY_MB,
    )
    breakdown = model.monthly_cost(workload, measurements, architecture=architecture, month=month)
    if ctx.obj["json"]:
        click.echo(json.dumps(breakdown.to_json(), indent=2))
        return
    rows = [
        [line.service, line.item, f"{line.quantity:,.2f} {line.unit}", f"${line.monthly_usd:,.4f}"]
        for line in breakdown.lines
    ]
    _print_table(ctx, ["service", "item", "quantity / month", "USD"], rows)
    if _as_csv(ctx):
        return
    click.echo(
        f"\nMonth {month}, {records_per_day:,} records/day in {files_per_day} file(s)/day,"
        f" on-demand, {architecture} with {workload.lambda_memory_mb:,} MB: "
        f"${breakdown.monthly_total_usd:,.2f} a month, uploads and rows expiring after "
        f"{model.RETENTION_DAYS} days (UploadRetentionDays, the template's default)"
    )
    kept = model.monthly_cost_keeping_everything(
        workload, measurements, architecture=architecture, month=month
    )
    click.echo(
        f"Keeping everything (UploadRetentionDays 0): ${kept.monthly_total_usd:,.2f} a month"
    )
    click.echo(
        f"Prices: {model.PRICES['region']} as of {model.PRICES['as_of']}; "
        f"measurements of {measurements.measured_at}; DynamoDB latency assumed "
        f"{workload.batch_write_item_ms:g} ms a batch."
    )


if __name__ == "__main__":
    main()
