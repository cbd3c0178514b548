"""The emulator's DynamoDB index answers every Query exactly as moto's own code does.

``festival_localstack.moto_index`` keeps moto's tables sorted per index so a Query costs
what it returns. It patches moto-ext 5.1.54, which lives in the emulator's environment
(``make setup`` builds it), not in this one: hypothesis writes random tables, writes and
queries here, and test_plugin_dynamodb_worker.py plays them there, answering each Query
page by page with the index and with moto's unpatched code. Any difference fails, shrunk.
"""

from __future__ import annotations

import json
import random
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from festival.local.paths import LocalPaths
from festival_localstack import moto_index

WORKER = Path(__file__).with_name("test_plugin_dynamodb_worker.py")
PLUGIN = Path(__file__).resolve().parents[2] / "localstack_plugin"


class Oracle:
    """The worker process on the emulator's interpreter: one JSON line in, one out."""

    def __init__(self, python: Path) -> None:
        self.process = subprocess.Popen(
            [str(python), str(WORKER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={"PYTHONPATH": str(PLUGIN), "PATH": "/usr/bin:/bin"},
        )

    def ask(self, request: dict) -> dict:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        assert line, f"the worker ended (exit code {self.process.poll()})"
        answer = json.loads(line)
        assert "crash" not in answer, answer["crash"]
        return answer

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=30)


@pytest.fixture(scope="module")
def oracle():
    python = LocalPaths.default().emulator_venv / "bin" / "python"
    if not python.exists():
        pytest.fail(
            "these tests run moto-ext from the emulator's environment: "
            f"run `make setup` ({python} is missing)"
        )
    worker = Oracle(python)
    yield worker
    worker.close()


# --- random tables, writes and queries ------------------------------------------------------

KEY_TEXT = st.text(alphabet="ab#", min_size=1, max_size=3)
# A value of any type DynamoDB stores, numbers in forms moto rewrites ("1.50", "-0"). Not a
# binary set: moto cannot project an item holding one, whatever is asked for (TypeError),
# and the plugin leaves items holding binaries to moto.
ANY_VALUE = st.sampled_from(
    [
        {"S": "text"},
        {"N": "1.50"},
        {"N": "-0"},
        {"B": "AAEC"},
        {"BOOL": True},
        {"NULL": True},
        {"SS": ["a", "b"]},
        {"NS": ["1", "2.0"]},
        {"L": [{"S": "a"}, {"N": "2"}]},
        {"M": {"k": {"S": "a"}, "n": {"N": "3"}}},
    ]
)
KEY_NUMBER = st.sampled_from(["-2", "0", "1", "1.5", "2", "10", "11"])
PADDING = st.sampled_from([0, 0, 0, 100, 120_000, 300_000])


KEY_BINARY = st.sampled_from(["AA==", "AQ==", "/w==", "YQ==", "YWI="])  # base64, as sent


def typed(kind: str):
    if kind == "B":
        return KEY_BINARY.map(lambda b: {"B": b})
    return KEY_TEXT.map(lambda t: {"S": t}) if kind == "S" else KEY_NUMBER.map(lambda n: {"N": n})


@st.composite
def tables(draw) -> dict:
    range_type = draw(st.sampled_from(["S", "N", "B", None]))
    index_range_type = draw(st.sampled_from(["S", "N"]))
    attributes = {"pk": "S", "gh": "S", "gr": index_range_type}
    keys = [{"AttributeName": "pk", "KeyType": "HASH"}]
    if range_type:
        attributes["sk"] = range_type
        keys.append({"AttributeName": "sk", "KeyType": "RANGE"})
    table = {
        "TableName": f"t{draw(st.integers(0, 10**9))}",
        "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": keys,
        "GlobalSecondaryIndexes": [
            {
                "IndexName": "WithRange",
                "KeySchema": [
                    {"AttributeName": "gh", "KeyType": "HASH"},
                    {"AttributeName": "gr", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            },
            {
                "IndexName": "HashOnly",
                "KeySchema": [{"AttributeName": "gh", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            },
        ],
    }
    if range_type:
        attributes["lr"] = "S"
        table["LocalSecondaryIndexes"] = [
            {
                "IndexName": "Local",
                "KeySchema": [
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "lr", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["v"]},
            }
        ]
    table["AttributeDefinitions"] = [
        {"AttributeName": name, "AttributeType": kind} for name, kind in attributes.items()
    ]
    return table


def key_of(draw, table: dict) -> dict:
    kinds = {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]}
    key = {"pk": draw(st.sampled_from([{"S": "p"}, {"S": "q"}]))}
    if "sk" in kinds:
        key["sk"] = draw(typed(kinds["sk"]))
    return key


def item_of(draw, table: dict) -> dict:
    kinds = {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]}
    item = {**key_of(draw, table), "v": {"N": str(draw(st.integers(0, 9)))}}
    if draw(st.booleans()):
        item["w.x"] = draw(ANY_VALUE)  # a name with a dot, asked for as #w
    if draw(st.booleans()):
        item["gh"] = draw(st.sampled_from([{"S": "x"}, {"S": "y"}]))
    if draw(st.integers(0, 3)):
        item["gr"] = draw(typed(kinds["gr"]))
    if "lr" in kinds and draw(st.booleans()):
        item["lr"] = draw(typed("S"))
    padding = draw(PADDING)
    if padding:
        item["pad"] = {"S": "z" * padding}
    return item


@st.composite
def steps(draw, table: dict) -> list[dict]:
    kinds = {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]}
    found = []
    for _ in range(draw(st.integers(1, 40))):
        op = draw(
            st.sampled_from(
                ["PutItem", "PutItem", "BatchWriteItem", "DeleteItem", "UpdateItem"]
                + ["TransactWriteItems", "Query", "Query", "Query"]
            )
        )
        if op == "PutItem":
            found.append({"op": op, "body": {"Item": item_of(draw, table)}})
        elif op == "DeleteItem":
            found.append({"op": op, "body": {"Key": key_of(draw, table)}})
        elif op == "BatchWriteItem":
            writes, keys = [], set()
            for _ in range(draw(st.integers(1, 25))):
                if draw(st.integers(0, 3)):
                    item = item_of(draw, table)
                    request = {"PutRequest": {"Item": item}}
                    key = {k: item[k] for k in ("pk", "sk") if k in item}
                else:
                    key = key_of(draw, table)
                    request = {"DeleteRequest": {"Key": key}}
                if json.dumps(key, sort_keys=True) not in keys:
                    keys.add(json.dumps(key, sort_keys=True))
                    writes.append(request)
            found.append({"op": op, "body": {"RequestItems": {table["TableName"]: writes}}})
        elif op == "UpdateItem":
            update = draw(
                st.sampled_from(
                    ["SET gh = :h, gr = :r", "REMOVE gr", "SET v = :v", "REMOVE gh, lr"]
                )
            )
            values = {
                ":h": draw(st.sampled_from([{"S": "x"}, {"S": "y"}])),
                ":r": draw(typed(kinds["gr"])),
                ":v": {"N": str(draw(st.integers(0, 9)))},
            }
            body = {
                "Key": key_of(draw, table),
                "UpdateExpression": update,
                "ExpressionAttributeValues": {k: v for k, v in values.items() if k in update},
            }
            if draw(st.booleans()):
                body["ConditionExpression"] = "attribute_exists(pk)"
            if not body["ExpressionAttributeValues"]:
                del body["ExpressionAttributeValues"]
            found.append({"op": op, "body": body})
        elif op == "TransactWriteItems":
            first, second = item_of(draw, table), key_of(draw, table)
            if {k: first[k] for k in second} == second:
                continue
            condition = draw(st.sampled_from(["attribute_exists(pk)", "attribute_not_exists(pk)"]))
            name = table["TableName"]
            found.append(
                {
                    "op": op,
                    "body": {
                        "TransactItems": [
                            {"Put": {"TableName": name, "Item": first}},
                            {
                                "Delete": {
                                    "TableName": name,
                                    "Key": second,
                                    "ConditionExpression": condition,
                                }
                            },
                        ]
                    },
                }
            )
        else:
            found.append({"op": op, "body": draw(queries(table))})
    return found


@st.composite
def queries(draw, table: dict) -> dict:
    kinds = {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]}
    choices = [None, "WithRange", "HashOnly"] + (["Local"] if "lr" in kinds else [])
    index = draw(st.sampled_from(choices))
    hash_attr, range_attr = {
        None: ("pk", "sk" if "sk" in kinds else None),
        "WithRange": ("gh", "gr"),
        "HashOnly": ("gh", None),
        "Local": ("pk", "lr"),
    }[index]
    values = {":h": draw(st.sampled_from([{"S": "p"}, {"S": "q"}, {"S": "x"}, {"S": "y"}]))}
    condition = f"{hash_attr} = :h"
    if range_attr and draw(st.booleans()):
        operator = draw(st.sampled_from(["=", "<", "<=", ">", ">=", "BETWEEN", "begins_with"]))
        kind = kinds[range_attr]
        if operator == "begins_with" and kind != "S":
            operator = ">="
        values[":a"] = draw(typed(kind))
        if operator == "BETWEEN":
            values[":b"] = draw(typed(kind))
            condition += f" AND {range_attr} BETWEEN :a AND :b"
        elif operator == "begins_with":
            condition += f" AND begins_with({range_attr}, :a)"
        else:
            condition += f" AND {range_attr} {operator} :a"
    body: dict = {"KeyConditionExpression": condition, "ExpressionAttributeValues": values}
    if index:
        body["IndexName"] = index
    if draw(st.booleans()):
        body["ScanIndexForward"] = False
    if draw(st.booleans()):
        body["Limit"] = draw(st.integers(1, 4))
    if draw(st.booleans()):
        body["FilterExpression"] = "v > :f"
        values[":f"] = {"N": str(draw(st.integers(0, 9)))}
    selection = draw(st.sampled_from(["all", "count", "projection"]))
    if selection == "count":
        body["Select"] = "COUNT"
    elif selection == "projection":
        # Top-level names (the plugin projects these itself), one an item may lack, one
        # with a dot through ExpressionAttributeNames, and a path into a list (left to moto).
        projection = draw(st.sampled_from(["pk, v", "v, absent", "#w, v", "v[0]"]))
        body["ProjectionExpression"] = projection
        if "#w" in projection:
            body["ExpressionAttributeNames"] = {"#w": "w.x"}
    return body


# --- the comparisons --------------------------------------------------------------------------


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_every_query_answers_as_moto_does_page_by_page(oracle, data):
    table = data.draw(tables())
    scenario = {"table": table, "steps": data.draw(steps(table))}

    answer = oracle.ask(scenario)

    assert "error" not in answer, answer
    asked = [s for s in scenario["steps"] if s["op"] == "Query"]
    for step, pages in zip(asked, answer["answers"], strict=True):
        assert pages["indexed"] == pages["moto"], step
    # Every page of these came from the index: none was left to moto's walk of the table.
    assert answer["answered"].get("moto", 0) == 0
    assert answer["answered"].get("index", 0) >= len(asked)
    assert answer["indexes_left"] == 0


def table_indexed_by_g(name: str, index_hash: str, index_range: str) -> dict:
    """A table keyed by text pk and sk, with one index ``ByG`` keyed by two text attributes."""
    attributes = ("pk", "sk", index_hash, index_range)
    return {
        "TableName": name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": a, "AttributeType": "S"} for a in attributes],
        "KeySchema": [
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": "ByG",
                "KeySchema": [
                    {"AttributeName": index_hash, "KeyType": "HASH"},
                    {"AttributeName": index_range, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    }


def test_a_query_of_a_large_partition_reads_only_its_page(oracle):
    """Big enough that walking the partition would show: 12,000 items, pages of 5."""
    table = table_indexed_by_g("big", "gh", "gr")
    shuffled = random.Random(7).sample(range(12_000), 12_000)
    steps = [
        {
            "op": "BatchWriteItem",
            "body": {
                "RequestItems": {
                    "big": [
                        {
                            "PutRequest": {
                                "Item": {
                                    "pk": {"S": f"p{n % 3}"},
                                    "sk": {"S": f"{n:06d}"},
                                    "gh": {"S": f"g{n % 2}"},
                                    "gr": {"S": f"{n:06d}"},
                                }
                            }
                        }
                        for n in shuffled[start : start + 25]
                    ]
                }
            },
        }
        for start in range(0, 12_000, 25)
    ]
    query = {
        "IndexName": "ByG",
        "KeyConditionExpression": "gh = :g AND gr BETWEEN :a AND :b",
        "ExpressionAttributeValues": {
            ":g": {"S": "g1"},
            ":a": {"S": "010000"},
            ":b": {"S": "010019"},
        },
        "Limit": 5,
        "ScanIndexForward": False,
    }

    answer = oracle.ask({"table": table, "steps": [*steps, {"op": "Query", "body": query}]})
    (pages,) = answer["answers"]

    assert pages["indexed"] == pages["moto"]
    assert answer["answered"] == {"index": len(pages["indexed"])}
    returned = [item["gr"]["S"] for page in pages["indexed"] for item in page["Items"]]
    assert returned == [f"{n:06d}" for n in range(10_019, 9_999, -2)]


def test_concurrent_batch_writes_queries_and_scans_all_succeed(oracle):
    table = table_indexed_by_g("hammered", "g", "gs")

    answer = oracle.ask(
        {"kind": "hammer", "table": table, "writers": 4, "batches": 10, "reads": 20}
    )

    assert answer["failures"] == []
    assert answer["final"] == 4 * 10 * 25
    assert len(answer["counts"]) == 2 * 20


# --- the sorted lists themselves (run here: they need no moto-ext) ----------------------------


@settings(max_examples=200, deadline=None)
@given(
    initial=st.sets(st.integers(0, 400), max_size=60),
    operations=st.lists(st.tuples(st.booleans(), st.integers(0, 400)), max_size=3000),
    probe=st.integers(-1, 401),
)
def test_sorted_entries_keep_order_through_adds_and_removals(initial, operations, probe):
    # Small blocks, so that blocks split and empty often; built whole, then changed.
    model = [(value,) for value in initial]
    entries = moto_index.SortedEntries.of(list(model), block=4)
    for adding, value in operations:
        if adding and (value,) not in model:
            entries.add((value,))
            model.append((value,))
        elif not adding:
            assert entries.discard((value,)) == ((value,) in model)
            if (value,) in model:
                model.remove((value,))
    model.sort()

    assert list(entries.forward((0, 0))) == model
    assert len(entries) == len(model)
    position = entries.first_position(lambda entry: entry < (probe,))
    assert list(entries.forward(position)) == [e for e in model if e >= (probe,)]
    assert list(entries.backward(position)) == [e for e in reversed(model) if e < (probe,)]
