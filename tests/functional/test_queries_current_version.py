"""The questions answer from the current version of each file only, switching at once to a
new one; a version's first and last starts are read once."""

from __future__ import annotations

import io
from datetime import date, time

import boto3
import pytest

from festival.queries import LineupQueries
from lineup_ingest import schema
from lineup_ingest.codec import to_attributes
from lineup_ingest.parsing import Performance, read_lineup
from tests.functional.conftest import REGION, TABLE
from tests.functional.test_queries_use_only_query import SEED_LINEUP
from tests.moto_aws import sent_operations

pytestmark = pytest.mark.functional


def test_only_the_current_version_of_a_file_answers_and_it_switches_at_once(aws):
    file = "uploads/lineup.csv"
    aws.invoke(aws.upload(file, SEED_LINEUP.read_bytes()))
    queries = LineupQueries(boto3.client("dynamodb", region_name=REGION), TABLE)
    ((old, current),) = queries.current_versions().items()
    assert old == file
    before = queries.on_night(date(2025, 7, 12), time(6, 0))
    # A newer version loading: its rows written under partitions of their own, not current.
    newer = schema.sequence_after(current)
    body = SEED_LINEUP.read_bytes().replace(b"Bonobo", b"Bonobo Live")
    rows = [row for row in read_lineup(io.BytesIO(body)) if isinstance(row, Performance)]
    for row in rows:
        item = schema.performance_item(
            row, source_key=file, load_id="newer", uploaded_at="", version=newer
        )
        aws.dynamodb.put_item(TableName=TABLE, Item=to_attributes(item))

    assert queries.on_night(date(2025, 7, 12), time(6, 0)) == before
    assert queries.by_performer("Bonobo Live") == []
    assert queries.nights_of(file, time(0, 0)) == (date(2025, 7, 12), date(2025, 7, 14))

    # The head names the newer version: it answers alone, the older rows still there.
    aws.dynamodb.update_item(
        TableName=TABLE,
        Key=to_attributes(schema.head_key(file)),
        UpdateExpression="SET #current = :v",
        ExpressionAttributeNames={"#current": "current"},
        ExpressionAttributeValues=to_attributes({":v": newer}),
    )
    assert len(aws.performances()) == 2 * len(rows)
    assert [p["performer"] for p in queries.by_performer("bonobo live")] == ["Bonobo Live"]
    assert queries.by_performer("Bonobo") == []
    assert len(queries.on_night(date(2025, 7, 12), time(6, 0))) == len(before)

    # No version current (the file deleted): nothing answers, whatever rows are left.
    aws.dynamodb.update_item(
        TableName=TABLE,
        Key=to_attributes(schema.head_key(file)),
        UpdateExpression="REMOVE #current",
        ExpressionAttributeNames={"#current": "current"},
    )
    assert queries.on_night(date(2025, 7, 12), time(6, 0)) == []
    assert queries.nights_of(file, time(6, 0)) is None


def test_a_versions_first_and_last_starts_are_read_once_and_a_new_version_again(aws):
    file = "uploads/lineup.csv"
    aws.invoke(aws.upload(file, SEED_LINEUP.read_bytes()))
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    operations = sent_operations(dynamodb)
    queries = LineupQueries(dynamodb, TABLE)
    first = queries.nights_of(file, time(6, 0))
    read_whole = len(operations)
    assert first == (date(2025, 7, 12), date(2025, 7, 14)) and read_whole > 2

    operations.clear()
    assert queries.nights_of(file, time(0, 0)) == (date(2025, 7, 12), date(2025, 7, 14))
    assert operations == ["Query"]  # the heads alone: the version's starts are known

    # A new upload of the file is a new version: its starts are read, not the old ones'.
    body = SEED_LINEUP.read_bytes().replace(b"2025-07-14", b"2025-07-15")
    aws.invoke(aws.upload(file, body))
    aws.deliver_parts()
    operations.clear()
    assert queries.nights_of(file, time(0, 0)) == (date(2025, 7, 12), date(2025, 7, 15))
    assert len(operations) == read_whole
