"""`festival-local`: bring the local stack up and down, see its state and its mail."""

from __future__ import annotations

import sys

import click
import requests
from tabulate import tabulate

from festival.local import setup, stack
from festival.local.deploy import DeployError
from festival.local.paths import LOCAL_EMAIL, MAIL_WEB_URL, LocalPaths
from festival.local.processes import ProcessError
from festival.local.setup import SetupError
from festival.local.state import StateError
from festival.settings import LOCAL_ENDPOINT, STACK_NAME
from festival.stack import outputs_of

FAILURES = (SetupError, ProcessError, DeployError, StateError, FileNotFoundError)
# `up` and `reset` deploy the stack, which subscribes this address to the reports.
EMAIL_OPTION = click.option(
    "--email",
    default=LOCAL_EMAIL,
    show_default=True,
    help="Address subscribed to the upload reports.",
)


def _fail(error: Exception) -> None:
    click.secho(f"festival-local: {error}", fg="red", err=True)
    sys.exit(1)


@click.group()
def main() -> None:
    """The local stack: LocalStack on the host, MailDev and the deployed template."""


@main.command()
def install() -> None:
    """Install the emulator, the Lambda runtime and MailDev (no process is started)."""
    try:
        setup.install(LocalPaths.default())
    except FAILURES as error:
        _fail(error)


@main.command()
@EMAIL_OPTION
@click.option("--docker", is_flag=True, help="Run docker-compose.yml instead of host processes.")
def up(email: str, docker: bool) -> None:
    """Start what is not running and deploy cloudformation.yaml as stack festival-lineup."""
    try:
        result = stack.up(LocalPaths.default(), email=email, docker=docker)
    except FAILURES as error:
        _fail(error)
    _announce(result)


def _announce(result: stack.UpResult) -> None:
    if result.restored is not None:
        click.echo(f"Restored what `make down` saved: {result.restored}.")
        for note in result.restored.notes:
            click.secho(f"  {note}", fg="yellow")
    started = ", ".join(result.started) or "nothing (all were running)"
    click.echo(f"Started: {started}. Stack: {'deployed' if result.deployed else 'unchanged'}.")
    bucket = result.outputs.get("UploadBucketName", "?")
    prefix = result.outputs.get("UploadPrefix", "uploads/")
    click.echo(
        f"""
The local stack is up (AWS at {LOCAL_ENDPOINT}, stack {STACK_NAME}).

  Upload a lineup:   .venv/bin/awslocal s3 cp seed/lineup.csv s3://{bucket}/{prefix}lineup.csv
  Read the email:    {MAIL_WEB_URL}   (or: make mail)
  Query the lineup:  .venv/bin/festival --local performer "Olivia Rodrigo"
  Stop everything:   make down
"""
    )


@main.command()
@click.option("--docker", is_flag=True, help="Stop the docker-compose.yml services.")
@click.option(
    "--discard",
    is_flag=True,
    help="Do not save the buckets, tables and mail for the next `up` (the last save stays).",
)
def down(docker: bool, discard: bool) -> None:
    """Save the stacks' data under .local/state, then stop exactly the processes `up` started."""
    if docker:
        try:
            stack.compose(LocalPaths.default(), "down")
        except FAILURES as error:
            _fail(error)
        return
    try:
        result = stack.down(LocalPaths.default(), save=not discard)
    except FAILURES as error:
        _fail(
            StateError(
                f"{error}\nNothing was stopped. `festival-local down --discard` stops without "
                "saving."
            )
        )
    if result.saved is not None:
        click.echo(f"Saved for the next `make up` (in .local/state): {result.saved}.")
    click.echo(f"Stopped: {', '.join(result.stopped) or 'nothing was running'}.")


@main.command()
@EMAIL_OPTION
def reset(email: str) -> None:
    """Stop everything without saving, forget the saved state and mail, start empty."""
    try:
        result = stack.reset(LocalPaths.default(), email=email)
    except FAILURES as error:
        _fail(error)
    click.echo("Removed the saved state (.local/state): the stack starts empty.")
    _announce(result)


@main.command()
def status() -> None:
    """Which of our processes run, and whether the stack is deployed."""
    paths = LocalPaths.default()
    rows = [
        [name, pid or "-", "running" if pid else "stopped"]
        for name, pid in stack.status(paths).items()
    ]
    click.echo(tabulate(rows, headers=["process", "pid", "state"]))
    if stack.localstack_healthy():
        try:
            outputs = outputs_of(stack.local_client("cloudformation"), STACK_NAME)
            click.echo(f"\nStack {STACK_NAME}: deployed, bucket {outputs['UploadBucketName']}")
        except Exception:  # noqa: BLE001 - any failure here means "not deployed"
            click.echo(f"\nStack {STACK_NAME}: not deployed (run make up)")


@main.command()
@click.option("--limit", default=20, show_default=True)
def mail(limit: int) -> None:
    """List the emails MailDev captured, newest first."""
    try:
        emails = requests.get(f"{MAIL_WEB_URL}/api/email", timeout=5).json()
    except requests.RequestException:
        _fail(RuntimeError(f"MailDev is not running at {MAIL_WEB_URL}: run make up"))
    emails = sorted(emails, key=lambda email: email.get("time", ""), reverse=True)[:limit]
    rows = [
        [
            email.get("time", "")[:19].replace("T", " "),
            ", ".join(to.get("address", "") for to in email.get("to", [])),
            email.get("subject", ""),
        ]
        for email in emails
    ]
    click.echo(
        tabulate(rows, headers=["received (UTC)", "to", "subject"]) if rows else "No email yet."
    )
    click.echo(f"\nRead them at {MAIL_WEB_URL}")


if __name__ == "__main__":
    main()
