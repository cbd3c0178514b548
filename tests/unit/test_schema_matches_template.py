"""schema.py is the one source of the key design: the template's table must agree with it."""

from __future__ import annotations

import io

from lineup_ingest import schema
from lineup_ingest.parsing import read_lineup
from tests.cfn import table_definition


def test_every_index_in_the_template_has_the_key_attributes_schema_writes():
    indexes = {
        index["IndexName"]: tuple(
            key["AttributeName"]
            for key in sorted(index["KeySchema"], key=lambda k: k["KeyType"] != "HASH")
        )
        for index in table_definition()["GlobalSecondaryIndexes"]
    }

    assert indexes == schema.INDEX_KEYS


def test_a_performance_item_holds_every_index_key():

    (performance,) = read_lineup(
        io.BytesIO(b"Performer,Stage,Start,End,Date\nAct,Main,20:00,21:00,2025-07-12\n")
    )
    item = schema.performance_item(performance, source_key="k", load_id="e", uploaded_at="u")

    assert all(key in item for keys in schema.INDEX_KEYS.values() for key in keys)
