"""The `festival` command, run as a user runs it, against the running local stack."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from festival.settings import LOCAL_CREDENTIALS
from tests.e2e.conftest import Pipeline, wait_for

pytestmark = pytest.mark.e2e

# The console script installed next to the interpreter running the tests.
FESTIVAL = Path(sys.executable).with_name("festival")
ROOT = Path(__file__).resolve().parents[2]
PUBLIC_FIELDS = ("performer", "stage", "start", "end", "date")
LOAD_DEADLINE_S = 180.0


def festival(*arguments: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(FESTIVAL), *arguments], capture_output=True, text=True, env=env, timeout=120
    )


def festival_json(*arguments: str) -> list[dict]:
    result = festival("--local", "--json", *arguments)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def public(performances: list[dict]) -> list[dict]:
    return [{name: p[name] for name in PUBLIC_FIELDS} for p in performances]


@dataclass
class Lineup:
    key: str
    night_owl: str
    early_bird: str
    stage: str
    other_stage: str


@pytest.fixture(scope="module")
def lineup(pipeline: Pipeline) -> Lineup:
    """A loaded lineup whose names no other test uses; Night Owl plays past midnight.

    The tests only read it, so they share one upload: on a local stack whose table holds
    many uploads, one load can take the Lambda half a minute.
    """
    tag = uuid.uuid4().hex[:8]
    names = Lineup(
        key=pipeline.unique_key("cli.csv"),
        night_owl=f"Night Owl {tag}",
        early_bird=f"Early Bird {tag}",
        stage=f"Stage {tag}",
        other_stage=f"Other Stage {tag}",
    )
    body = (
        "Performer,Stage,Start,End,Date\n"
        f"{names.early_bird},{names.stage},20:00,21:00,2025-08-01\n"
        f"{names.night_owl},{names.stage},23:30,1:00,2025-08-01\n"
        f"{names.night_owl},{names.other_stage},6:00 PM,7:00 PM,2025-08-02\n"
    )
    pipeline.upload(names.key, body.encode("utf-8"))
    wait_for(
        f"the ingest record of {names.key}",
        lambda: pipeline.upload_records(names.key),
        deadline_s=LOAD_DEADLINE_S,
    )
    return names


def test_performer_json_gives_each_set_with_the_next_day_as_end_of_a_set_past_midnight(lineup):
    found = festival_json("performer", f"  {lineup.night_owl.upper()}   ")

    assert public(found) == [
        {
            "performer": lineup.night_owl,
            "stage": lineup.stage,
            "start": "2025-08-01T23:30",
            "end": "2025-08-02T01:00",
            "date": "2025-08-01",
        },
        {
            "performer": lineup.night_owl,
            "stage": lineup.other_stage,
            "start": "2025-08-02T18:00",
            "end": "2025-08-02T19:00",
            "date": "2025-08-02",
        },
    ]


def test_between_on_a_stage_finds_the_set_that_began_the_day_before(lineup):
    found = festival_json(
        "between", "2025-08-02T00:00", "2025-08-02T23:00", "--stage", lineup.stage.lower()
    )

    assert [(p["performer"], p["start"], p["end"]) for p in found] == [
        (lineup.night_owl, "2025-08-01T23:30", "2025-08-02T01:00")
    ]


def test_between_on_a_stage_over_two_days_finds_every_set_of_that_stage_in_time_order(lineup):
    found = festival_json(
        "between", "2025-08-01T00:00", "2025-08-03T00:00", "--stage", lineup.stage
    )

    assert [p["performer"] for p in found] == [lineup.early_bird, lineup.night_owl]


def test_at_gives_the_set_running_on_the_stage_until_its_last_minute(lineup):
    running = festival_json("at", f" {lineup.stage.upper()} ", "2025-08-02T00:59")
    over = festival_json("at", lineup.stage, "2025-08-02T01:00")

    assert [(p["performer"], p["stage"]) for p in running] == [(lineup.night_owl, lineup.stage)]
    assert over == []


def test_uploads_lists_the_file_with_its_status_and_counts(lineup):
    records = [record for record in festival_json("uploads") if record["file"] == lineup.key]

    assert [(r["status"], r["rows_loaded"], r["rows_rejected"]) for r in records] == [("OK", 3, 0)]


def test_the_clients_example_finds_olivia_rodrigo_in_the_evening(pipeline):
    key = pipeline.unique_key("client-example.csv")
    pipeline.upload(key, (ROOT / "seed" / "music-festival-example-data.csv").read_bytes())
    pipeline.wait_for_email(key)

    found = festival_json(
        "between", "2025-07-12T19:00", "2025-07-12T21:00", "--stage", "side stage"
    )

    olivia = [p for p in found if p["performer"] == "Olivia Rodrigo" and p["source_file"] == key]
    assert [(p["start"], p["end"]) for p in olivia] == [("2025-07-12T19:00", "2025-07-12T21:00")]


def test_default_output_is_a_table_with_headers_and_the_names_as_written(lineup):
    result = festival("--local", "performer", lineup.night_owl.lower())

    assert result.returncode == 0, result.stderr
    header, rule, *rows = result.stdout.splitlines()
    assert header.split() == ["performer", "stage", "start", "end"]
    assert set(rule) <= {"-", " "}
    assert len(rows) == 2
    assert lineup.night_owl in rows[0] and lineup.stage in rows[0]
    assert "2025-08-01 23:30" in rows[0] and "2025-08-02 01:00" in rows[0]


def test_a_question_with_no_answer_says_so(lineup):
    result = festival("--local", "at", lineup.stage, "2025-08-01T19:59")

    assert (result.returncode, result.stdout.strip()) == (0, "No performance found.")


def unreachable_aws_environment() -> dict[str, str]:
    """The standard AWS configuration pointing at a port nobody listens on."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    return {
        **env,
        **LOCAL_CREDENTIALS,
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }


@pytest.mark.parametrize(
    ("arguments", "environment", "explanation"),
    [
        pytest.param(
            ["--local", "between", "2025-08-01 8pm", "2025-08-02T01:00"],
            None,
            "'2025-08-01 8pm' is not a local date and time like 2025-07-12T19:00",
            id="bad datetime",
        ),
        pytest.param(
            ["--local", "--stack", "does-not-exist", "performer", "anyone"],
            None,
            "stack 'does-not-exist' does not exist here",
            id="unknown stack",
        ),
        pytest.param(
            ["performer", "anyone"],
            unreachable_aws_environment(),
            'Could not connect to the endpoint URL: "http://127.0.0.1:9/"',
            id="unreachable endpoint",
        ),
    ],
)
def test_a_failure_is_one_line_on_stderr_with_a_nonzero_exit_and_no_traceback(
    local_stack, arguments, environment, explanation
):
    result = festival(*arguments, env=environment)

    assert result.returncode != 0
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.startswith("festival: ")
    assert explanation in result.stderr
    assert "Traceback" not in result.stderr
