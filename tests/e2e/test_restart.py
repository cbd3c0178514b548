"""`make down` then `make up` keeps what the stack held: files, rows, records and emails.

The emulator starts empty and the stack is deployed again (new bucket and table names); the
saved data goes back without the pipeline running again. This test restarts the shared
stack, so it runs after every other end-to-end test (RUNS_LAST, tests/e2e/conftest.py):
their session fixtures hold the names the restart replaces.
"""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest

from festival.local import stack
from festival.queries import LineupQueries
from festival.settings import STACK_NAME
from festival.stack import outputs_of
from tests.e2e.conftest import PARTS_STACK, Pipeline, wait_for

pytestmark = pytest.mark.e2e
RUNS_LAST = True

FESTIVAL_LOCAL = Path(sys.executable).with_name("festival-local")
SEED = Path(__file__).resolve().parents[2] / "seed" / "lineup.csv"
# Time for an S3 event of a restored object, if one were sent, to reach the function.
EVENT_GRACE_S = 5.0


def festival_local(*arguments: str) -> str:
    done = subprocess.run(
        [str(FESTIVAL_LOCAL), *arguments], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def answers(queries: LineupQueries, key: str) -> dict:
    """The walk-through's questions, and this file's own rows."""
    return {
        "performer": queries.by_performer("Olivia Rodrigo"),
        "between": queries.between(datetime(2025, 7, 12, 23), datetime(2025, 7, 13, 1)),
        "at": queries.at("Main Stage", datetime(2025, 7, 13, 0, 30)),
        "uploads": [upload for upload in queries.uploads() if upload["file"] == key],
    }


def objects(s3, bucket: str) -> dict[str, tuple]:
    """Each object's modification time and ETag: the reconcile sweep loads again any object
    newer than its record, so these must survive the restart."""
    found = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for listed in page.get("Contents", []):
            found[listed["Key"]] = (listed["LastModified"], listed["ETag"], listed["Size"])
    return found


def test_down_then_up_keeps_files_rows_and_emails_without_loading_anything_again(
    pipeline: Pipeline,
):
    key = pipeline.unique_key("restart.csv")
    pipeline.upload(key, SEED.read_bytes())
    pipeline.wait_for_email(key)
    wait_for("its record", lambda: pipeline.upload_records(key))
    before = answers(LineupQueries(pipeline.dynamodb, pipeline.table), key)
    assert key in {performance["source_file"] for performance in before["performer"]}
    files_before = objects(pipeline.s3, pipeline.bucket)
    items_before = len(pipeline.items_of(key))

    # The parts stack is the suite's own (tests/e2e/conftest.py deploys it again when a
    # test needs it): saved and restored, its 150,000 rows would take minutes of this test.
    cloudformation = stack.local_client("cloudformation")
    cloudformation.delete_stack(StackName=PARTS_STACK)
    cloudformation.get_waiter("stack_delete_complete").wait(
        StackName=PARTS_STACK, WaiterConfig={"Delay": 1, "MaxAttempts": 120}
    )
    said_down = festival_local("down")
    started = time.monotonic()
    said_up = festival_local("up")
    up_s = time.monotonic() - started

    assert "Saved for the next `make up`" in said_down
    assert "Restored what `make down` saved" in said_up, said_up
    outputs = outputs_of(stack.local_client("cloudformation"), STACK_NAME)
    after = Pipeline(
        bucket=outputs["UploadBucketName"],
        prefix=outputs["UploadPrefix"],
        table=outputs["TableName"],
        function=outputs["FunctionName"],
    )
    time.sleep(EVENT_GRACE_S)
    queries = LineupQueries(after.dynamodb, after.table)

    assert answers(queries, key) == before
    assert len(after.items_of(key)) == items_before == 24
    assert objects(after.s3, after.bucket) == files_before
    # Still one record and one email: no event of a restored file loaded it again, and
    # MailDev kept its messages.
    assert len(after.upload_records(key, loading=True)) == 1
    assert len(after.emails_about(key)) == 1
    # The bucket notifies the function again: a new upload loads, with its email.
    fresh = after.unique_key("after-restart.csv")
    after.upload(fresh, SEED.read_bytes())
    assert "Rows loaded:   24" in after.wait_for_email(fresh)["text"]
    print(f"\n  {said_down.strip()}\n  {said_up.splitlines()[0]} (up took {up_s:.1f} s)")
