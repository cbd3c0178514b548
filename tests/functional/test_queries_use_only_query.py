"""Every question the table answers is asked with DynamoDB Query, never Scan or anything else."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import boto3
import pytest

from festival.queries import LineupQueries
from tests.functional.conftest import REGION, TABLE

pytestmark = pytest.mark.functional

SEED_LINEUP = Path(__file__).resolve().parents[2] / "seed" / "lineup.csv"

QUERY_PATHS = {
    "by_performer": lambda q: q.by_performer("  olivia   RODRIGO "),
    "between": lambda q: q.between(datetime(2025, 7, 12, 23, 0), datetime(2025, 7, 14, 1, 0)),
    "between_on_a_stage": lambda q: q.between(
        datetime(2025, 7, 12, 23, 0), datetime(2025, 7, 14, 1, 0), stage="main stage"
    ),
    "at": lambda q: q.at("MAIN  stage", datetime(2025, 7, 13, 0, 30)),
    "uploads": lambda q: q.uploads(),
    "on_day": lambda q: q.on_day(date(2025, 7, 12)),
    "days_of": lambda q: q.days_of("uploads/lineup.csv"),
    "upload_versions": lambda q: q.upload_versions("uploads/lineup.csv"),
    "upload": lambda q: q.upload(
        "uploads/lineup.csv", q.upload_versions("uploads/lineup.csv")[0]["etag"]
    ),
    "longest_set_minutes": lambda q: q.longest_set_minutes(),
}


@pytest.mark.parametrize("ask", QUERY_PATHS.values(), ids=QUERY_PATHS.keys())
def test_query_path_calls_dynamodb_query_only(aws, ask):
    aws.invoke(aws.upload("uploads/lineup.csv", SEED_LINEUP.read_bytes()))
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    operations: list[str] = []
    dynamodb.meta.events.register(
        "before-call.dynamodb.*", lambda model, **_: operations.append(model.name)
    )

    answer = ask(LineupQueries(dynamodb, TABLE))

    assert answer, "the question found nothing in the seed lineup, so it proves little"
    assert set(operations) == {"Query"}
