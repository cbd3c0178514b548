"""Every question the table answers is asked with DynamoDB Query, never Scan or anything
else (test_queries_current_version.py: and answers from the current version of each file
only)."""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path

import boto3
import pytest

from festival.queries import LineupQueries
from tests.functional.conftest import REGION
from tests.moto_aws import lineup_of, sent_operations

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
    "on_night": lambda q: q.on_night(date(2025, 7, 12), time(6, 0)),
    "nights_of": lambda q: q.nights_of("uploads/lineup.csv", time(6, 0)),
    "upload_versions": lambda q: q.upload_versions("uploads/lineup.csv"),
    "upload": lambda q: q.upload(
        "uploads/lineup.csv", q.upload_versions("uploads/lineup.csv")[0]["etag"]
    ),
    "longest_set_minutes": lambda q: q.longest_set_minutes(),
    "changes": lambda q: q.changes("uploads/lineup.csv"),
    # The seed's changeovers of 14 and 0 minutes (Olivia Rodrigo to Kraftwerk, Peggy Gou
    # to Fred again..): the whole lineup, one file, one night.
    "clashes": lambda q: q.clashes().short_changeovers,
    "clashes_of_a_file": lambda q: q.clashes(file="uploads/lineup.csv").short_changeovers,
    "clashes_of_a_night": lambda q: (
        q.clashes(window=(datetime(2025, 7, 12, 6), datetime(2025, 7, 13, 6))).short_changeovers
    ),
}


@pytest.fixture(scope="module")
def seeded():
    """The seed lineup loaded once for the module's questions, which only read it."""
    with lineup_of(("uploads/lineup.csv", SEED_LINEUP.read_bytes())) as lineup:
        yield lineup


@pytest.mark.parametrize("ask", QUERY_PATHS.values(), ids=QUERY_PATHS.keys())
def test_query_path_calls_dynamodb_query_only(seeded, ask):
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    operations = sent_operations(dynamodb)

    answer = ask(LineupQueries(dynamodb, seeded.name))

    assert answer, "the question found nothing in the seed lineup, so it proves little"
    assert set(operations) == {"Query"}
