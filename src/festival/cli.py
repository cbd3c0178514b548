"""`festival`: ask the lineup table its questions, from a terminal."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any

import boto3
import click
from botocore.config import Config as ClientConfig
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError
from tabulate import tabulate

from festival.queries import LineupQueries, QueryInputError, parse_local_datetime
from festival.settings import LOCAL_ENDPOINT, STACK_NAME, local_session


class CommandError(Exception):
    """A failure the user can act on, shown as one line."""


def aws_session(
    local: bool, profile: str | None, region: str | None
) -> tuple[boto3.Session, str | None]:
    if local:
        return local_session(region), LOCAL_ENDPOINT
    # Everything else comes from the standard configuration (profile, AWS_ENDPOINT_URL...).
    return boto3.Session(profile_name=profile, region_name=region), None


def stack_output(session: boto3.Session, endpoint: str | None, stack: str, name: str) -> str:
    cloudformation = session.client("cloudformation", endpoint_url=endpoint)
    try:
        described = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
    except ClientError as error:
        if "does not exist" in str(error):
            raise CommandError(
                f"stack {stack!r} does not exist here (deploy it with make up / make deploy-aws,"
                " or pass --stack)"
            ) from error
        raise
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}
    if name not in outputs:
        raise CommandError(f"stack {stack!r} has no output {name}: is it festival-lineup's?")
    return outputs[name]


def explained(command: Callable) -> Callable:
    """Turn expected failures into one clear line and exit status 1, never a traceback."""

    @wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (CommandError, QueryInputError) as error:
            message = str(error)
        except NoCredentialsError:
            message = "no AWS credentials found: configure a profile, or use --local"
        except (BotoCoreError, ClientError) as error:
            message = f"AWS call failed: {error}"
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
]


def _remember(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    """A global option given after the command: it wins over the same one given before."""
    if value:  # None or False: not on the command line
        ctx.find_root().obj["json" if param.name == "as_json" else param.name] = value


def _global_options(*, after_command: bool) -> Callable:
    """The global options of the group, or of a command (remembered in the group's settings)."""
    later: dict[str, Any] = {"default": None, "expose_value": False, "callback": _remember}

    def decorate(command: Callable) -> Callable:
        for declarations, attributes in reversed(GLOBAL_OPTIONS):
            extra = later if after_command else {}
            command = click.option(*declarations, **attributes, **extra)(command)
        return command

    return decorate


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
    }


def _queries(ctx: click.Context) -> LineupQueries:
    options = ctx.obj
    session, endpoint = aws_session(options["local"], options["profile"], options["region"])
    table = stack_output(session, endpoint, options["stack"], "TableName")
    return LineupQueries(session.client("dynamodb", endpoint_url=endpoint), table)


def _print_records(
    ctx: click.Context,
    records: list[dict],
    nothing: str,
    headers: list[str],
    row: Callable[[dict], list],
) -> None:
    """JSON with --json, else a table (or a sentence when there is nothing)."""
    if ctx.obj["json"]:
        click.echo(json.dumps(records, ensure_ascii=False, indent=2))
    elif not records:
        click.echo(nothing)
    else:
        click.echo(tabulate([row(record) for record in records], headers=headers))


def _print_performances(ctx: click.Context, performances: list[dict]) -> None:
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
@_global_options(after_command=True)
@click.pass_context
@explained
def performer(ctx: click.Context, name: str) -> None:
    """All performances of performer NAME (any case and spacing)."""
    _print_performances(ctx, _queries(ctx).by_performer(name))


@main.command()
@click.argument("start", metavar="FROM")
@click.argument("end", metavar="TO")
@click.option("--stage", default=None, help="Only this stage.")
@_global_options(after_command=True)
@click.pass_context
@explained
def between(ctx: click.Context, start: str, end: str, stage: str | None) -> None:
    """Performances occurring between FROM and TO (local times like 2025-07-12T19:00)."""
    first, last = parse_local_datetime(start), parse_local_datetime(end)
    _print_performances(ctx, _queries(ctx).between(first, last, stage=stage))


@main.command()
@click.argument("stage")
@click.argument("when")
@_global_options(after_command=True)
@click.pass_context
@explained
def at(ctx: click.Context, stage: str, when: str) -> None:
    """The performance on STAGE at WHEN (a local time like 2025-07-12T20:30)."""
    _print_performances(ctx, _queries(ctx).at(stage, parse_local_datetime(when)))


@main.command()
@_global_options(after_command=True)
@click.pass_context
@explained
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
    ]


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
@_global_options(after_command=True)
@click.pass_context
@explained
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
    click.echo(tabulate(rows, headers=["count", "what the sweep did"]))


@main.command()
@_global_options(after_command=True)
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=8000,
    show_default=True,
    help="Port on 127.0.0.1.",
)
@click.option(
    "--max-upload-mb",
    type=click.IntRange(1, 5 * 1024),
    default=100,
    show_default=True,
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
        )
    except PortInUseError as error:
        raise CommandError(str(error)) from error


@main.command()
@click.option(
    "--records-per-day", type=click.IntRange(min=1), required=True, help="Rows uploaded a day."
)
@click.option(
    "--files-per-day",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Files those rows come in.",
)
@click.option(
    "--architecture",
    type=click.Choice(["arm64", "x86_64"]),
    default="arm64",
    show_default=True,
    help="The Lambda's processor.",
)
@click.option(
    "--month",
    type=click.IntRange(1, 120),
    default=12,
    show_default=True,
    help="Month after launch (storage grows month over month).",
)
@click.option(
    "--memory",
    "memory_mb",
    type=click.IntRange(128, 10_240),
    default=None,
    help="The Lambda's memory in MB (default: the model's recommended size).",
)
@_global_options(after_command=True)
@click.pass_context
@explained
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
    click.echo(tabulate(rows, headers=["service", "item", "quantity / month", "USD"]))
    click.echo(
        f"\nMonth {month}, {records_per_day:,} records/day in {files_per_day} file(s)/day,"
        f" on-demand, {architecture} with {workload.lambda_memory_mb:,} MB: "
        f"${breakdown.monthly_total_usd:,.2f} a month"
    )
    click.echo(
        f"Prices: {model.PRICES['region']} as of {model.PRICES['as_of']}; "
        f"measurements of {measurements.measured_at}; DynamoDB latency assumed "
        f"{workload.batch_write_item_ms:g} ms a batch."
    )


if __name__ == "__main__":
    main()
