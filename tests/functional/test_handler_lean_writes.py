"""Under moto the handler's batch writes take the lean path too (botocore's before-send)."""

from __future__ import annotations

import pytest

from lineup_ingest.dynamodb_http import DynamoDBHttp
from tests.lineups import lineup_csv, lineup_rows

pytestmark = pytest.mark.functional


def test_handler_batch_writes_go_through_the_lean_sender_and_land_in_the_table(aws, monkeypatch):
    sent = []
    original = DynamoDBHttp.batch_write_item

    def counted(self, **kwargs):
        sent.append(len(next(iter(kwargs["RequestItems"].values()))))
        return original(self, **kwargs)

    monkeypatch.setattr(DynamoDBHttp, "batch_write_item", counted)
    rows = lineup_rows(60)

    aws.invoke(aws.upload("uploads/lineup.csv", lineup_csv(rows)))

    assert sorted(sent) == [10, 25, 25]
    loaded = aws.performances()
    assert sorted(item["performer"]["S"] for item in loaded) == sorted(row[0] for row in rows)
    assert {item["minutes"]["N"] for item in loaded} == {"120"}
