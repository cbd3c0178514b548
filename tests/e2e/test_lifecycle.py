"""A file's lifecycle on the real path (docs/ingest.md, "A file's lifecycle"): S3 upload or
delete -> notification -> Lambda -> DynamoDB -> SNS -> MailDev, and the reconcile sweep.

Each test uploads a file of ROWS rows (FESTIVAL_E2E_ROWS, 6,000 by default; `make
test-large` runs them with 300,000) whose sets all fall on a day of their own in the 23rd
century, so that `between` over that day sees this file's rows and no other's. Deadlines
grow with ROWS. Faults are injected at the emulator's DynamoDB (our LocalStack plugin): a
BatchWriteItem holding a chosen performer fails, once or every time.
"""

from __future__ import annotations

import json
import os
import time
from datetime import date, datetime, timedelta

import pytest
import requests

from festival.local import stack
from festival.queries import LineupQueries
from festival.settings import LOCAL_ENDPOINT
from tests.e2e.conftest import PARTS_STACK, RUNNING, Pipeline, wait_for
from tests.e2e.test_cli import festival
from tests.lineups import lineup_csv, tricky_csv

pytestmark = pytest.mark.e2e

ROWS = int(os.environ.get("FESTIVAL_E2E_ROWS", "6000"))
FAULTS_URL = f"{LOCAL_ENDPOINT}/_festival/dynamodb/faults"
STATS_URL = f"{LOCAL_ENDPOINT}/_festival/dynamodb/stats"
STAGES = ("Main Stage", "Side Stage", "Tent", "Forest", "Lake", "Dome")
# Seconds the local stack may take per 1,000 rows to load them, or to collect them, on top
# of a fixed allowance: generous, since the emulator slows as the table grows.
SECONDS_PER_1000_ROWS = 6.0


def deadline_s(rows: int = ROWS, fixed: float = 60.0) -> float:
    return fixed + SECONDS_PER_1000_ROWS * rows / 1000


# The deadlines the tests promise, stated once (docs/testing.md repeats them).
LOAD_DEADLINE_S = deadline_s()
REMOVAL_DEADLINE_S = deadline_s()  # delete -> the REMOVED email, rows already collected
COLLECT_DEADLINE_S = deadline_s()  # a version no longer current -> none of its rows left


# --- the files --------------------------------------------------------------------------------


def tag_of(key: str) -> str:
    return key.rsplit("-", 1)[-1].split(".")[0]


def day_of(key: str) -> date:
    """A day no other test's rows fall on: between(day) sees this file's rows only."""
    return date(2200, 1, 1) + timedelta(days=int(tag_of(key), 16) % 36_000)


def rows_of(key: str, count: int = ROWS, name: str = "Act", notes: str = "") -> list[list[str]]:
    """``count`` sets on the file's day, on a 24-hour clock, performers named ``name``."""
    day = day_of(key).isoformat()
    rows = []
    for number in range(count):
        hour, minute = 10 + number // 60 % 12, number % 60
        rows.append(
            [
                f"{name} {number:07d} {tag_of(key)}",
                STAGES[number % len(STAGES)],
                f"{hour}:{minute:02d}",
                f"{hour + 1}:{minute:02d}",
                day,
                *([notes] if notes else []),
            ]
        )
    return rows


def performers(items: list[dict]) -> list[str]:
    return sorted(item["performer"]["S"] for item in items)


# --- what the stack says ----------------------------------------------------------------------


def queries(pipeline: Pipeline) -> LineupQueries:
    return LineupQueries(pipeline.dynamodb, pipeline.table)


def answered_on_the_day(pipeline: Pipeline, key: str) -> list[str]:
    """`between` over the file's day, as planners ask it: the performers of this file."""
    day = datetime.combine(day_of(key), datetime.min.time())
    found = queries(pipeline).between(day, day + timedelta(days=1))
    return sorted(p["performer"] for p in found if p["source_file"] == key)


def answered_at_opening(pipeline: Pipeline, key: str) -> list[str]:
    """`between` over the first minute of the file's day: the sets starting at 10:00, one
    in 720 of each version (a sample whose answer stays small at 300,000 rows)."""
    opening = datetime.combine(day_of(key), datetime.min.time()) + timedelta(hours=10)
    found = queries(pipeline).between(opening, opening + timedelta(minutes=1))
    return sorted(p["performer"] for p in found if p["source_file"] == key)


def at_opening(rows: list[list[str]]) -> list[str]:
    return sorted(row[0] for row in rows if row[2] == "10:00")


def emails_with(pipeline: Pipeline, key: str, subject: str) -> list[dict]:
    name = key.rsplit("/", 1)[-1]
    return [
        e
        for e in pipeline.emails_about(key)
        if e["subject"] == f"festival-lineup {subject}: {name}"
    ]


def subjects(pipeline: Pipeline, key: str) -> list[str]:
    return sorted(email["subject"].split(":")[0] for email in pipeline.emails_about(key))


def statuses(pipeline: Pipeline, key: str) -> dict[str, str]:
    """Each record of the file (upload versions and removals): its status."""
    return {record["sk"]["S"]: record["status"]["S"] for record in pipeline.records(key)}


def running(pipeline: Pipeline, key: str) -> dict[str, str]:
    return {sk: status for sk, status in statuses(pipeline, key).items() if status in RUNNING}


def reconcile(stack_name: str | None = None) -> dict[str, int]:
    """`festival reconcile`, as an operator runs it: the sweep's counts."""
    result = festival(
        "--local", "--json", "reconcile", *(["--stack", stack_name] if stack_name else [])
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["reconciled"]


def upload_and_wait_loaded(pipeline: Pipeline, key: str, rows: list[list[str]], csv=lineup_csv):
    """Upload, then wait for the OK email and the version to be current: (version, seconds)."""
    began = time.monotonic()
    pipeline.upload(key, csv(rows))
    (email,) = wait_for(
        f"the OK email about {key}",
        lambda: emails_with(pipeline, key, "OK"),
        LOAD_DEADLINE_S,
    )
    assert f"Rows loaded:   {len(rows)}" in email["text"]
    version = wait_for(f"a current version of {key}", lambda: pipeline.current_version(key))
    return version, time.monotonic() - began


@pytest.fixture
def faults():
    """Inject DynamoDB faults at the emulator (they apply to both stacks); always cleared."""
    requests.delete(STATS_URL, timeout=5)

    def inject(**settings) -> None:
        requests.put(FAULTS_URL, json=settings, timeout=5).raise_for_status()

    yield inject
    requests.delete(FAULTS_URL, timeout=5)


def failed_requests() -> int:
    return int(requests.get(STATS_URL, timeout=5).json()["injected"].get("failed_requests", 0))


def show_figures(**figures: float) -> None:
    """Printed for `make test-large` (pytest -rA shows it): seconds, rounded."""
    print("figures:", json.dumps({k: round(v, 1) for k, v in {"rows": ROWS, **figures}.items()}))


# --- a. delete ----------------------------------------------------------------------------------


def test_deleting_a_loaded_file_removes_every_row_with_one_removed_email(pipeline):
    key = pipeline.unique_key("deleted.csv")
    rows = rows_of(key)
    version, load_s = upload_and_wait_loaded(pipeline, key, rows)
    assert pipeline.version_count(key, version) == ROWS
    sample = rows[ROWS // 2][0]
    assert [p["performer"] for p in queries(pipeline).by_performer(sample)] == [sample]

    began = time.monotonic()
    pipeline.s3.delete_object(Bucket=pipeline.bucket, Key=key)
    (email,) = wait_for(
        f"the REMOVED email about {key}",
        lambda: emails_with(pipeline, key, "REMOVED"),
        REMOVAL_DEADLINE_S,
    )
    removal_s = time.monotonic() - began
    show_figures(load_s=load_s, removal_s=removal_s)

    # The email is sent once the rows are gone: none is left when it arrives.
    assert pipeline.version_count(key, version) == 0
    assert f"/{key} was deleted: {ROWS} rows removed." in email["text"]
    assert f"Rows removed:  {ROWS} " in email["text"]
    assert pipeline.current_version(key) is None
    assert queries(pipeline).by_performer(sample) == []
    assert answered_on_the_day(pipeline, key) == []
    shown = festival("--local", "--json", "performer", sample)
    assert shown.returncode == 0 and json.loads(shown.stdout) == [], shown.stderr
    assert pipeline.count_of_every_version(key) == 0
    wait_for(f"every record of {key} final", lambda: running(pipeline, key) == {}, 30)
    assert subjects(pipeline, key) == ["festival-lineup OK", "festival-lineup REMOVED"]


# --- b. re-upload with every key changed ------------------------------------------------------


def phase(head: dict, old_version: str) -> str:
    """Where the new version is, by the file's head: the newest event applied (``latest``)
    is the new upload from its load's start, and ``current`` moves to it when it is done."""
    if head["latest"]["S"] == old_version:
        return "NOT STARTED"
    return "LOADING" if head.get("current", {}).get("S") == old_version else "CURRENT"


# What by_performer answers, asked for an old, a new, an old and a new performer in turn:
# the old version throughout, the switch after the first, second or third question, or the
# new version throughout.
BY_PERFORMER_ANSWERS = {(1, 0, 1, 0), (1, 1, 0, 1), (1, 0, 0, 1), (1, 0, 1, 1), (0, 1, 0, 1)}


def test_a_reupload_with_every_performer_renamed_switches_at_once_from_the_old_rows_to_the_new(
    pipeline,
):
    key = pipeline.unique_key("renamed.csv")
    old_rows, new_rows = rows_of(key, name="Old"), rows_of(key, name="New")
    old, new = at_opening(old_rows), at_opening(new_rows)
    old_version, _ = upload_and_wait_loaded(pipeline, key, old_rows)
    assert answered_at_opening(pipeline, key) == old
    probes = [old_rows[0][0], new_rows[0][0], old_rows[-1][0], new_rows[-1][0]]

    began = time.monotonic()
    pipeline.upload(key, lineup_csv(new_rows))
    # Poll the queries until the new version answers and its email came: every answer is
    # one version whole, the old one until the switch and the new one after it. Each asks
    # a sample of the day (its first minute), so that a question stays quick at any size.
    seen: list[tuple[str, str]] = []  # (the new version's phase before the question, answer)
    lacking: list[tuple[str, int]] = []  # answers that lacked sets of the version answering
    deadline = time.monotonic() + LOAD_DEADLINE_S
    while True:
        status = phase(pipeline.head(key) or {}, old_version)
        while status == "NOT STARTED" and time.monotonic() < deadline:
            # Ask the first questions as soon as the load begins (a GetItem of the head is
            # quick; the emulator's index queries take seconds with a big table).
            time.sleep(0.05)
            status = phase(pipeline.head(key) or {}, old_version)
        on_the_day = answered_at_opening(pipeline, key)
        for _ in range(2):
            if not on_the_day or set(on_the_day) < set(old) or set(on_the_day) < set(new):
                # The emulator's index queries once answered a part of the old version
                # while the new one was written beside it (5,820 of 6,000 sets; asked again,
                # whole): counted, asked again, and a mix of versions still fails below.
                lacking.append((status, len(on_the_day)))
                on_the_day = answered_at_opening(pipeline, key)
        by_performer = [len(queries(pipeline).by_performer(name)) for name in probes]
        if on_the_day == old:
            answer = "old"
        elif on_the_day == new:
            answer = "new"
        else:
            mixed = len(set(on_the_day) & set(old)), len(set(on_the_day) & set(new))
            pytest.fail(
                f"while {key} was {status}, between() answered {len(on_the_day)} sets at 10:00:"
                f" {mixed[0]} of the old version, {mixed[1]} of the new"
            )
        # Asked old, new, old, new: one performer of a version at a time, the switch at most
        # once in between, and never nothing.
        assert tuple(by_performer) in BY_PERFORMER_ANSWERS, (
            f"by_performer answered {by_performer} for {probes} while {key} was {status}"
        )
        seen.append((status, answer))
        if (
            answer == "new"
            and emails_with(pipeline, key, "OK")
            and len(pipeline.emails_about(key)) >= 2
        ):
            break
        assert time.monotonic() < deadline, f"{key}: the new version never answered: {seen[-3:]}"
    switch_s = time.monotonic() - began
    answers = [answer for _, answer in seen]
    assert answers == sorted(answers, key=["old", "new"].index), f"answered old after new: {seen}"
    assert any(status == "LOADING" and answer == "old" for status, answer in seen), (
        f"no question was asked while the new version loaded: {seen}"
    )

    new_version = pipeline.current_version(key)
    assert new_version not in (None, old_version)
    # One OK email a version; the new one's counts the previous version's rows as removed.
    assert subjects(pipeline, key) == ["festival-lineup OK", "festival-lineup OK"]
    removed = sorted(
        email["text"].split("Rows removed:  ")[1].split()[0] for email in pipeline.emails_about(key)
    )
    assert removed == sorted(["0", str(ROWS)])
    assert performers(pipeline.version_items(key, new_version, only="performer")) == sorted(
        row[0] for row in new_rows
    )
    wait_for(
        f"the old version of {key} collected",
        lambda: not pipeline.version_left(key, old_version),
        COLLECT_DEADLINE_S,
    )
    collect_s = time.monotonic() - began
    every_new = sorted(row[0] for row in new_rows)
    assert performers(pipeline.items_of_every_version(key, only="performer")) == every_new
    assert answered_on_the_day(pipeline, key) == every_new
    wait_for(f"every record of {key} final", lambda: running(pipeline, key) == {}, 30)
    show_figures(switch_s=switch_s, collected_s=collect_s, questions=len(seen))
    print("answers asked again (phase, sets):", lacking)


# --- c. delete while a part waits for its retry -------------------------------------------------


def test_a_file_deleted_while_a_part_waits_for_its_retry_ends_with_one_email_each_and_no_row(
    pipeline, faults
):
    key = pipeline.unique_key("retrying.csv")
    rows = rows_of(key)
    # The batch holding this row fails once: the part has written the rows before it, and
    # is queued again for after the retry delay (PartRetrySeconds, 30 s on this stack).
    faults(fail_batches_with=rows[ROWS // 2][0], fail_times=1)
    pipeline.upload(key, lineup_csv(rows))
    wait_for("the part to fail once", lambda: failed_requests() >= 1, LOAD_DEADLINE_S)
    (loading,) = pipeline.upload_records(key, loading=True)
    assert loading["status"]["S"] == "LOADING"

    pipeline.s3.delete_object(Bucket=pipeline.bucket, Key=key)

    (removed,) = wait_for(
        f"the REMOVED email about {key}",
        lambda: emails_with(pipeline, key, "REMOVED"),
        REMOVAL_DEADLINE_S,
    )
    # The version never became current: the removal had no rows to remove.
    assert "Rows removed:  0 " in removed["text"]
    (failed,) = wait_for(
        f"the FAILED email about {key} after its retry",
        lambda: emails_with(pipeline, key, "FAILED"),
        LOAD_DEADLINE_S + 60,
    )
    done = reconcile()
    assert done is not None
    wait_for(
        f"the rows {key} wrote before its part failed collected",
        lambda: not pipeline.any_version_left(key),
        COLLECT_DEADLINE_S,
    )
    wait_for(f"every record of {key} final", lambda: running(pipeline, key) == {}, 30)
    assert sorted(statuses(pipeline, key).values()) == ["FAILED", "REMOVED"]
    assert subjects(pipeline, key) == ["festival-lineup FAILED", "festival-lineup REMOVED"]
    assert pipeline.current_version(key) is None


# --- d. a part in the failure queue -------------------------------------------------------------


def failure_queue_holds(pipeline, key: str) -> bool:
    """Whether a message of this file waits in the failure queue (looked at, left visible)."""
    sqs = stack.local_client("sqs")
    messages = sqs.receive_message(
        QueueUrl=pipeline.failure_queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0
    ).get("Messages", [])
    return any(json.loads(m["Body"]).get("key") == key for m in messages)


def test_a_part_that_fails_every_delivery_ends_failed_with_one_email_by_the_next_sweep(
    parts_pipeline, faults
):
    pipeline = parts_pipeline
    key = pipeline.unique_key("doomed-part.csv")
    # Notes make a row about 125 bytes: 6,000 rows are 3 of the parts stack's 256 KiB parts.
    rows = rows_of(key, notes="n" * 70)
    faults(fail_batches_with=rows[-1][0])  # in the last part, every time

    pipeline.upload(key, tricky_csv(rows))
    wait_for(
        f"the part of {key} in the failure queue, or already counted failed",
        lambda: failure_queue_holds(pipeline, key) or emails_with(pipeline, key, "FAILED"),
        LOAD_DEADLINE_S + 60,
    )
    requests.delete(FAULTS_URL, timeout=5)
    reconcile(PARTS_STACK)

    (email,) = wait_for(
        f"the FAILED email about {key}",
        lambda: emails_with(pipeline, key, "FAILED"),
        60,
    )
    assert "parts could not be loaded" in email["text"]
    assert "Injected fault: this batch always fails" in email["text"] or (
        "failed every delivery" in email["text"]
    )
    (record,) = pipeline.upload_records(key)
    assert record["status"]["S"] == "FAILED"
    assert not failure_queue_holds(pipeline, key)  # the sweep took it
    wait_for(f"every record of {key} final", lambda: running(pipeline, key) == {}, 30)
    assert pipeline.current_version(key) is None
    wait_for(
        f"the rows of the failed {key} collected",
        lambda: not pipeline.any_version_left(key),
        COLLECT_DEADLINE_S,
    )
    assert len(pipeline.emails_about(key)) == 1
