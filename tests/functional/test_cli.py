"""The `festival` command in process (click's CliRunner), against in-memory AWS.

The seed lineup is loaded by the Lambda's handler into moto's DynamoDB (the `aws` fixture);
the command then finds the table from the stack's outputs and asks its questions. moto's
CloudFormation needs extras the project does not install, so the stacks' outputs come from
a small fake answering DescribeStacks as AWS does (including the error for a missing
stack); every DynamoDB call goes to moto.

moto cannot run a Lambda function without Docker, so `festival reconcile`'s Invoke is
answered by the Lambda's own handler in this process (`InProcessFunctions`), over the same
moto resources: the sweep it prints is the real one.

Every command, the global options before and after the command, and every error a user
can meet: a stack that is not deployed, no credentials, a time in the wrong format, an
empty range, no answer, an AWS failure, no measurements for `cost`, a sweep that failed.
"""

from __future__ import annotations

import io
import json
import os
import shlex
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import boto3
import botocore.handlers
import pytest
from botocore.awsrequest import AWSResponse
from botocore.response import StreamingBody
from click.testing import CliRunner, Result

from festival import cli
from festival.cost import measurements as cost_measurements
from festival.settings import STACK_NAME
from lineup_ingest import handler
from tests.cfn import table_definition
from tests.docs import DOCUMENTS, shell_lines
from tests.functional.conftest import BUCKET, REGION, TABLE, FakeAws, LambdaContext, fake_aws

pytestmark = pytest.mark.functional

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "seed" / "lineup.csv"
SEED_KEY = "uploads/lineup.csv"
STACK = STACK_NAME
FUNCTION = f"{STACK}-ingest"
# No credentials, profile or configuration from the machine running the tests.
NO_MACHINE_CONFIGURATION = {
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_PROFILE": None,
    "AWS_EC2_METADATA_DISABLED": "true",
}
NO_CREDENTIALS = {
    **NO_MACHINE_CONFIGURATION,
    "AWS_ACCESS_KEY_ID": None,
    "AWS_SECRET_ACCESS_KEY": None,
    "AWS_SESSION_TOKEN": None,
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": None,
    "AWS_CONTAINER_CREDENTIALS_FULL_URI": None,
    "AWS_WEB_IDENTITY_TOKEN_FILE": None,
}


class FakeStacks:
    """DescribeStacks of the deployed stacks, by region and name, as AWS answers it."""

    def __init__(self) -> None:
        self.outputs: dict[tuple[str, str], dict[str, str]] = {}

    def deploy(self, name: str, outputs: dict[str, str], region: str = REGION) -> None:
        self.outputs[(region, name)] = outputs

    def __call__(self, params: dict, request_signer, **_: object) -> tuple[AWSResponse, dict]:
        name, region = params["body"]["StackName"], request_signer.region_name
        if (region, name) not in self.outputs:
            error = {"Code": "ValidationError", "Message": f"Stack with id {name} does not exist"}
            return AWSResponse("https://cloudformation", 400, {}, None), {"Error": error}
        outputs = [
            {"OutputKey": key, "OutputValue": value}
            for key, value in self.outputs[(region, name)].items()
        ]
        stack = {"StackName": name, "StackStatus": "CREATE_COMPLETE", "Outputs": outputs}
        return AWSResponse("https://cloudformation", 200, {}, None), {"Stacks": [stack]}


class InProcessFunctions:
    """Lambda's Invoke of the deployed functions, by name, run in this process: as Lambda
    answers a RequestResponse invoke (the function's result, or its error with
    FunctionError), and the events each was sent."""

    def __init__(self) -> None:
        self.functions: dict[str, Callable[[dict, LambdaContext], dict]] = {}
        self.events: dict[str, list[dict]] = {}

    def deploy(self, name: str, function: Callable[[dict, LambdaContext], dict]) -> None:
        self.functions[name] = function
        self.events[name] = []

    def __call__(self, params: dict, **_: object) -> tuple[AWSResponse, dict]:
        name = params["url_path"].split("/functions/")[1].split("/")[0]
        if name not in self.functions:
            error = {"Code": "ResourceNotFoundException", "Message": f"Function not found: {name}"}
            return AWSResponse("https://lambda", 404, {}, None), {"Error": error}
        event = json.loads(params["body"] or b"{}")
        self.events[name].append(event)
        answer: dict = {"StatusCode": 200, "ExecutedVersion": "$LATEST"}
        try:
            result = self.functions[name](event, LambdaContext())
        except Exception as error:  # what Lambda does with an exception: FunctionError
            result = {"errorType": type(error).__name__, "errorMessage": str(error)}
            answer["FunctionError"] = "Unhandled"
        payload = json.dumps(result).encode()
        answer["Payload"] = StreamingBody(io.BytesIO(payload), len(payload))
        return AWSResponse("https://lambda", 200, {}, None), answer


@dataclass
class Deployed:
    aws: FakeAws
    stacks: FakeStacks
    functions: InProcessFunctions


@pytest.fixture(scope="module")
def deployed() -> Iterator[Deployed]:
    """The festival-lineup stack with the seed lineup loaded by the Lambda's handler, and
    `empty-lineup`, a stack whose table holds nothing. The tests only read them."""
    with pytest.MonkeyPatch.context() as monkeypatch, contextmanager(fake_aws)(monkeypatch) as aws:
        stacks = FakeStacks()
        stacks.deploy(
            STACK, {"TableName": TABLE, "UploadBucketName": BUCKET, "FunctionName": FUNCTION}
        )
        # What the reconcile sweep reads, as the template sets it.
        failures_url = aws.sqs.get_queue_url(QueueName="failures")["QueueUrl"]
        for name, value in {
            "FAILURE_QUEUE_URL": failures_url,
            "UPLOAD_BUCKET": BUCKET,
            "UPLOAD_PREFIX": "uploads/",
        }.items():
            monkeypatch.setenv(name, value)
        aws.rewire()
        functions = InProcessFunctions()
        functions.deploy(FUNCTION, handler.lambda_handler)
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        dynamodb.create_table(TableName="empty-table", **table_definition())
        stacks.deploy("empty-lineup", {"TableName": "empty-table"})
        # Every boto3 session the command creates registers botocore's built-in handlers.
        monkeypatch.setattr(
            botocore.handlers,
            "BUILTIN_HANDLERS",
            [
                *botocore.handlers.BUILTIN_HANDLERS,
                ("before-call.cloudformation.DescribeStacks", stacks),
                ("before-call.lambda.Invoke", functions),
            ],
        )
        # --local talks to moto here, never to a local stack this machine may be running.
        monkeypatch.setattr("festival.stack.LOCAL_ENDPOINT", None)
        aws.invoke(aws.upload(SEED_KEY, SEED.read_bytes()))
        [email] = aws.emails()
        assert email["subject"].startswith("festival-lineup OK"), email
        yield Deployed(aws, stacks, functions)


@pytest.fixture
def stacks(deployed: Deployed) -> FakeStacks:
    return deployed.stacks


@pytest.fixture
def functions(deployed: Deployed) -> InProcessFunctions:
    return deployed.functions


def festival(*arguments: str, env: dict[str, str | None] | None = None) -> Result:
    runner = CliRunner()
    return runner.invoke(cli.main, list(arguments), env={**NO_MACHINE_CONFIGURATION, **(env or {})})


def table_rows(result: Result) -> list[list[str]]:
    """The rows of a printed table, cells split on runs of two or more spaces."""
    assert result.exit_code == 0, result.output
    header, rule, *rows = result.stdout.splitlines()
    assert set(rule) <= {"-", " "}
    return [[cell.strip() for cell in row.split("  ") if cell.strip()] for row in rows]


def failed_with(result: Result, message: str) -> bool:
    """One line on stderr naming the problem, nothing on stdout, exit status 1."""
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("festival: "), result.stderr
    return message in result.stderr


# --- The questions -----------------------------------------------------------------------------


def test_performer_prints_every_set_of_the_performer_whatever_the_case_and_spacing(stacks):
    rows = table_rows(festival("performer", "  sigur   RÓS "))

    assert rows == [
        ["Sigur Rós", "Main Stage", "2025-07-13 23:00", "2025-07-14 00:30"],
        ["Sigur Rós", "Outdoor Stage", "2025-07-14 12:00", "2025-07-14 13:30"],
    ]


def test_between_prints_the_sets_occurring_in_the_range_including_those_past_midnight(stacks):
    rows = table_rows(festival("between", "2025-07-13T01:00", "2025-07-13T02:00"))

    assert [row[0] for row in rows] == ["Bonobo", "Kraftwerk", "Fred again.."]


def test_between_with_a_stage_keeps_only_that_stage(stacks):
    rows = table_rows(
        festival("between", "2025-07-12T19:00", "2025-07-12T23:00", "--stage", "side stage")
    )

    assert [(row[0], row[1]) for row in rows] == [
        ("Björk", "Side Stage"),
        ("Rosalía", "Side Stage"),
    ]


def test_at_prints_the_set_on_the_stage_at_that_time(stacks):
    rows = table_rows(festival("at", "MAIN STAGE", "2025-07-13T00:30"))

    assert rows == [["Kraftwerk", "Main Stage", "2025-07-12 23:59", "2025-07-13 01:15"]]


def test_uploads_prints_each_upload_with_its_status_parts_and_counts(stacks):
    rows = table_rows(festival("uploads"))

    assert [row[:6] for row in rows] == [[SEED_KEY, "OK", "1/1", "24", "0", "0"]]


def test_json_prints_each_set_as_an_object_with_where_it_came_from(stacks):
    result = festival("--json", "at", "Dance Tent", "2025-07-13 01:00")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [
        {
            "performer": "Fred again..",
            "stage": "Dance Tent",
            "start": "2025-07-13T00:00",
            "end": "2025-07-13T02:00",
            "date": "2025-07-13",
            "raw_start": "0:00",
            "raw_end": "2:00",
            "source_file": SEED_KEY,
            "source_line": 20,
            "zone": "UTC",
        }
    ]


def test_json_of_uploads_gives_the_counts_and_how_times_were_read(stacks):
    result = festival("uploads", "--json")

    assert result.exit_code == 0, result.output
    [upload] = json.loads(result.stdout)
    assert (upload["file"], upload["status"], upload["rows_loaded"], upload["clock"]) == (
        SEED_KEY,
        "OK",
        24,
        "24h",
    )


# --- Global options, before or after the command -----------------------------------------------


@pytest.mark.parametrize(
    "arguments",
    [
        ["--json", "performer", "kraftwerk"],
        ["performer", "kraftwerk", "--json"],
        ["performer", "--json", "kraftwerk"],
    ],
)
def test_json_is_accepted_before_or_after_the_command(stacks, arguments):
    result = festival(*arguments)

    assert result.exit_code == 0, result.output
    assert [p["performer"] for p in json.loads(result.stdout)] == ["Kraftwerk"]


@pytest.mark.parametrize(
    "arguments",
    [
        ["--local", "performer", "kraftwerk"],
        ["performer", "kraftwerk", "--local"],
    ],
)
def test_local_before_or_after_the_command_uses_the_test_credentials(stacks, arguments):
    result = festival(*arguments, env={**NO_CREDENTIALS, "AWS_DEFAULT_REGION": "eu-west-1"})

    assert [row[0] for row in table_rows(result)] == ["Kraftwerk"]


@pytest.mark.parametrize(
    "arguments",
    [
        ["--stack", "empty-lineup", "performer", "kraftwerk"],
        ["performer", "kraftwerk", "--stack", "empty-lineup"],
        ["--stack", "does-not-exist", "performer", "kraftwerk", "--stack", "empty-lineup"],
    ],
)
def test_stack_before_or_after_the_command_names_the_stack_the_last_one_wins(stacks, arguments):
    result = festival(*arguments)

    # Kraftwerk plays in festival-lineup's table, not in empty-lineup's.
    assert (result.exit_code, result.stdout.strip()) == (0, "No performance found."), result.output


@pytest.mark.parametrize(
    "arguments",
    [
        ["--region", "eu-west-1", "uploads"],
        ["uploads", "--region", "eu-west-1"],
    ],
)
def test_region_before_or_after_the_command_is_where_the_stack_is_looked_up(stacks, arguments):
    result = festival(*arguments)

    assert failed_with(result, f"stack '{STACK}' does not exist here")


@pytest.mark.parametrize(
    "arguments",
    [
        ["--profile", "nobody", "uploads"],
        ["uploads", "--profile", "nobody"],
    ],
)
def test_profile_before_or_after_the_command_is_the_profile_used(stacks, arguments):
    result = festival(*arguments)

    assert failed_with(result, "The config profile (nobody) could not be found")


def documented_commands() -> list[tuple[str, ...]]:
    """The arguments of every `festival` command line in the README's and docs' blocks."""
    lines = [
        shlex.split(line)
        for document in DOCUMENTS
        for line in shell_lines(document.read_text(encoding="utf-8"))
    ]
    commands = [words[1:] for words in lines if words and Path(words[0]).name == "festival"]
    # `serve` runs until Ctrl-C: test_explorer_serve.py starts and stops it instead.
    commands = [words for words in commands if "serve" not in words]
    return list(dict.fromkeys(map(tuple, commands)))  # each once, in order


@pytest.mark.parametrize("arguments", documented_commands(), ids=" ".join)
def test_every_festival_command_in_the_docs_runs_as_written(stacks, arguments):
    result = festival(*arguments)

    assert result.exit_code != 2, result.output  # the command line is one festival reads
    if "--local" in arguments or arguments[0] == "cost":
        assert result.exit_code == 0, result.output


# --- What goes wrong ---------------------------------------------------------------------------


def test_a_stack_that_is_not_deployed_says_how_to_deploy_it(stacks):
    result = festival("--stack", "festival-test", "performer", "anyone")

    assert failed_with(
        result,
        "stack 'festival-test' does not exist here (deploy it with "
        "make up / make deploy-aws, or pass --stack)",
    )


def test_a_stack_without_the_table_output_is_not_festival_lineups(stacks):
    stacks.deploy("someone-else", {"BucketName": "theirs"})

    result = festival("--stack", "someone-else", "uploads")

    assert failed_with(
        result, "stack 'someone-else' has no output TableName: is it festival-lineup's?"
    )


def test_no_credentials_says_to_configure_a_profile_or_use_local(stacks):
    result = festival("performer", "kraftwerk", env=NO_CREDENTIALS)

    assert failed_with(result, "no AWS credentials found: configure a profile, or use --local")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            ["between", "2025-07-12 8pm", "2025-07-13T01:00"],
            "'2025-07-12 8pm' is not a local date and time like 2025-07-12T19:00",
        ),
        (
            ["between", "2025-07-12T19:00", "tomorrow"],
            "'tomorrow' is not a local date and time like 2025-07-12T19:00",
        ),
        (
            ["at", "Main Stage", "2025-07-32T20:00"],
            "'2025-07-32T20:00' is not a local date and time like 2025-07-12T19:00",
        ),
    ],
)
def test_a_time_in_another_format_is_refused_with_an_example(stacks, arguments, message):
    assert failed_with(festival(*arguments), message)


def test_an_empty_range_is_refused(stacks):
    result = festival("between", "2025-07-12T23:00", "2025-07-12T19:00")

    assert failed_with(result, "the range is empty: 2025-07-12T19:00 is not after 2025-07-12T23:00")


@pytest.mark.parametrize(
    ("arguments", "sentence"),
    [
        (["performer", "Nobody Famous"], "No performance found."),
        (["at", "Main Stage", "2025-07-12T12:00"], "No performance found."),
        (["between", "2025-07-15T00:00", "2025-07-16T00:00"], "No performance found."),
        (["--stack", "empty-lineup", "uploads"], "No upload yet."),
    ],
)
def test_no_answer_is_a_sentence_and_success(stacks, arguments, sentence):
    result = festival(*arguments)

    assert (result.exit_code, result.stdout.strip()) == (0, sentence)


def test_no_answer_in_json_is_an_empty_array(stacks):
    result = festival("performer", "Nobody Famous", "--json")

    assert (result.exit_code, json.loads(result.stdout)) == (0, [])


def test_an_aws_error_is_one_line_without_a_traceback(stacks):
    stacks.deploy("broken-lineup", {"TableName": "a-table-that-was-deleted"})

    result = festival("uploads", "--stack", "broken-lineup")

    assert failed_with(result, "AWS call failed: An error occurred (ResourceNotFoundException)")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["performer"], "Missing argument 'NAME'"),
        (["between", "2025-07-12T19:00"], "Missing argument 'TO'"),
        (["at", "Main Stage"], "Missing argument 'WHEN'"),
        (["cost"], "Missing option '--records-per-day'"),
        (["cost", "--records-per-day", "0"], "0 is not in the range x>=1"),
        (["cost", "--records-per-day", "10", "--architecture", "sparc"], "'sparc' is not one of"),
        (["lineup"], "No such command 'lineup'"),
    ],
)
def test_a_command_line_it_cannot_read_is_a_usage_error(arguments, message):
    result = CliRunner().invoke(cli.main, arguments)

    assert result.exit_code == 2
    assert message in result.stderr


# --- reconcile ----------------------------------------------------------------------------------

SWEEP_COUNTS = [
    "ended_stuck",
    "reported",
    "collecting",
    "removals_resumed",
    "missing",
    "lost_removals",
    "lost_uploads",
    "failed_parts",
    "redriven_events",
    "unreadable",
]


def test_reconcile_runs_the_sweep_in_the_stacks_function_and_prints_what_it_did(stacks, functions):
    result = festival("reconcile", "--json")

    assert result.exit_code == 0, result.output
    assert functions.events[FUNCTION][-1] == {"reconcile": True}
    # The seed lineup was loaded by its event: nothing was lost, nothing to repair.
    assert json.loads(result.stdout) == {"reconciled": dict.fromkeys(SWEEP_COUNTS, 0)}


def test_reconcile_prints_each_count_with_what_it_means(stacks, functions):
    counts = dict(zip(SWEEP_COUNTS, range(1, len(SWEEP_COUNTS) + 1), strict=True))
    functions.deploy("other-ingest", lambda event, context: {"reconciled": counts})
    stacks.deploy("other-lineup", {"TableName": TABLE, "FunctionName": "other-ingest"})

    rows = table_rows(festival("reconcile", "--stack", "other-lineup"))

    assert rows == [
        ["1", "loads stuck in LOADING ended FAILED"],
        ["2", "outcomes left unreported, reported"],
        ["3", "old versions' rows queued for collection"],
        ["4", "removals resumed"],
        ["5", "files found gone (removed if still gone next time)"],
        ["6", "files deleted without an event, removed"],
        ["7", "uploads whose event was lost, loaded"],
        ["8", "parts in the failure queue, reported failed"],
        ["9", "S3 events in the failure queue, handled again"],
        ["10", "messages in the failure queue it could not read, left there"],
    ]


def test_a_sweep_that_failed_is_one_line_naming_the_function_and_its_error(stacks, functions):
    def broken(event: dict, context: LambdaContext) -> dict:
        raise RuntimeError("the table is gone")

    functions.deploy("broken-ingest", broken)
    stacks.deploy("broken-sweep", {"TableName": TABLE, "FunctionName": "broken-ingest"})

    result = festival("reconcile", "--stack", "broken-sweep")

    assert failed_with(
        result,
        "the reconcile sweep failed in broken-ingest (RuntimeError: the table is gone);"
        " see the function's logs",
    )


def test_reconcile_on_a_stack_without_the_function_output_is_not_festival_lineups(stacks):
    result = festival("reconcile", "--stack", "empty-lineup")

    assert failed_with(
        result, "stack 'empty-lineup' has no output FunctionName: is it festival-lineup's?"
    )


# --- cost ---------------------------------------------------------------------------------------


def test_cost_prints_each_line_and_the_monthly_total():
    result = festival("cost", "--records-per-day", "100000")

    assert result.exit_code == 0, result.output
    assert "dynamodb" in result.stdout and "lambda" in result.stdout
    assert "Month 12, 100,000 records/day in 1 file(s)/day, on-demand, arm64 with 512 MB" in (
        result.stdout
    )


def test_cost_json_has_the_total_and_the_assumptions():
    result = festival(
        "cost",
        "--records-per-day",
        "1000",
        "--files-per-day",
        "2",
        "--architecture",
        "x86_64",
        "--month",
        "3",
        "--memory",
        "1024",
        "--json",
    )

    assert result.exit_code == 0, result.output
    breakdown = json.loads(result.stdout)
    assumptions = breakdown["assumptions"]
    assert breakdown["monthly_total_usd"] > 0
    assert (assumptions["architecture"], assumptions["month"]) == ("x86_64", 3)
    assert assumptions["workload"]["files_per_day"] == 2
    assert assumptions["workload"]["lambda_memory_mb"] == 1024


def test_cost_without_measurements_says_to_run_the_benchmarks(tmp_path, monkeypatch):
    monkeypatch.setattr(cost_measurements, "DEFAULT_RESULTS", tmp_path / "results.json")

    result = festival("cost", "--records-per-day", "1000")

    assert failed_with(result, "results.json does not exist: run `make bench`")
