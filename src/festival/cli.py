"""`festival`: ask the lineup table its questions, from a terminal."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any

import boto3
import click
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError
from tabulate import tabulate

from festival.queries import LineupQueries, QueryInputError, parse_local_datetime

LOCAL_ENDPOINT = "http://127.0.0.1:4566"
DEFAULT_STACK = "festival-lineup"


class CommandError(Exception):
    """A failure the user can act on, shown as one line."""


def aws_session(
    local: bool, profile: str | None, region: str | None
) -> tuple[boto3.Session, str | None]:
    if local:
        session = boto3.Session(
            aws_access_key_id="test",
            aws_secret_access_key="test",
            region_name=region or "us-east-1",
        )
        return session, LOCAL_ENDPOINT
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


@click.group()
@click.option(
    "--stack",
    default=DEFAULT_STACK,
    show_default=True,
    help="CloudFormation stack whose outputs name the table.",
)
@click.option("--local", is_flag=True, help=f"Use the local stack at {LOCAL_ENDPOINT}.")
@click.option("--profile", default=None, help="AWS profile (else the standard configuration).")
@click.option("--region", default=None, help="AWS region (else the standard configuration).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
def main(
    ctx: click.Context,
    stack: str,
    local: bool,
    profile: str | None,
    region: str | None,
    as_json: bool,
) -> None:
    """Query the festival lineup loaded from uploaded CSV files."""
    ctx.obj = {
        "stack": stack,
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


def _json_option(command: Callable) -> Callable:
    """Accept --json after the subcommand too (festival performer X --json)."""

    def remember(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
        if value:
            ctx.find_root().obj["json"] = True

    return click.option(
        "--json",
        "as_json_late",
        is_flag=True,
        expose_value=False,
        callback=remember,
        help="Print JSON instead of a table.",
    )(command)


@main.command()
@click.argument("name")
@_json_option
@click.pass_context
@explained
def performer(ctx: click.Context, name: str) -> None:
    """All performances of performer NAME (any case and spacing)."""
    _print_performances(ctx, _queries(ctx).by_performer(name))


@main.command()
@click.argument("start", metavar="FROM")
@click.argument("end", metavar="TO")
@click.option("--stage", default=None, help="Only this stage.")
@_json_option
@click.pass_context
@explained
def between(ctx: click.Context, start: str, end: str, stage: str | None) -> None:
    """Performances occurring between FROM and TO (local times like 2025-07-12T19:00)."""
    first, last = parse_local_datetime(start), parse_local_datetime(end)
    _print_performances(ctx, _queries(ctx).between(first, last, stage=stage))


@main.command()
@click.argument("stage")
@click.argument("when")
@_json_option
@click.pass_context
@explained
def at(ctx: click.Context, stage: str, when: str) -> None:
    """The performance on STAGE at WHEN (a local time like 2025-07-12T20:30)."""
    _print_performances(ctx, _queries(ctx).at(stage, parse_local_datetime(when)))


@main.command()
@_json_option
@click.pass_context
@explained
def uploads(ctx: click.Context) -> None:
    """Every upload: file, status, parts done, counts and time; loads going on first."""
    _print_records(
        ctx,
        _queries(ctx).uploads(),
        "No upload yet.",
        ["file", "status", "parts", "loaded", "rejected", "removed", "finished (UTC)"],
        lambda r: [
            r["file"],
            r["status"],
            f"{r['parts_done']}/{r['parts_total']}",
            r["rows_loaded"],
            r["rows_rejected"],
            r["rows_removed"],
            (r["finished_at"] or "").replace("T", " "),
        ],
    )


def _global_options_here(command: Callable) -> Callable:
    """Accept the global options after the subcommand too (festival serve --local)."""

    def remember(name: str) -> Callable:
        def store(ctx: click.Context, _param: click.Parameter, value: Any) -> None:
            if value not in (None, False):
                ctx.find_root().obj[name] = value

        return store

    helps = {
        "region": "AWS region.",
        "profile": "AWS profile.",
        "stack": "CloudFormation stack whose outputs name the table and bucket.",
    }
    for name, text in helps.items():
        command = click.option(
            f"--{name}", f"{name}_here", expose_value=False, callback=remember(name), help=text
        )(command)
    return click.option(
        "--local",
        "local_here",
        is_flag=True,
        expose_value=False,
        callback=remember("local"),
        help=f"Use the local stack at {LOCAL_ENDPOINT}.",
    )(command)


@main.command()
@_global_options_here
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
@click.option("--records-per-day", type=click.IntRange(min=1), required=True)
@click.option("--files-per-day", type=click.IntRange(min=1), default=1, show_default=True)
@click.option(
    "--architecture", type=click.Choice(["arm64", "x86_64"]), default="arm64", show_default=True
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
@_json_option
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
