"""The other side of test_plugin_dynamodb_index.py: runs on the emulator's own interpreter.

The plugin's index patches moto-ext as LocalStack bundles it (5.1.54), which the project's
environment does not have (it has moto 5.2, whose Query differs). So the tests generate
scenarios with hypothesis here and hand each, as one JSON line, to this process, started
with the emulator's Python: it plays the writes through moto's own request handler with
the plugin applied, and answers every Query twice, with the index and with moto's own
code (``moto_index.moto_only``), page by page. No tests here: imports are inside ``serve``.
"""

from __future__ import annotations

import json
import sys
import threading
import traceback

ACCOUNT, REGION = "000000000000", "eu-west-1"


def serve() -> None:
    from moto.dynamodb.responses import DynamoHandler

    from festival_localstack import moto_index, moto_speedups, versions
    from festival_localstack.moto_index import INDEXES

    if not versions.written_for("the index under test", "moto-ext"):
        raise SystemExit("the emulator's environment does not hold the moto-ext written for")
    moto_speedups.apply()
    if not getattr(moto_index.Table.query, "__festival_indexed__", False):
        raise SystemExit("the index was not applied")

    def call(operation: str, body: dict) -> dict:
        handler = DynamoHandler()
        handler.current_account, handler.region = ACCOUNT, REGION
        handler.body = body
        method = getattr(handler, _snake(operation))
        try:
            answer = method()
        except Exception as error:  # the error is part of the answer compared
            name = getattr(error, "error_type", None) or type(error).__name__
            return {"error": name}
        if isinstance(answer, tuple):  # (status, headers, body) on moto's errors
            return {"error": json.loads(answer[2]).get("__type", "?").rpartition("#")[2]}
        return json.loads(answer) if answer else {}

    def pages(body: dict) -> list[dict]:
        found, start = [], None
        for _ in range(200):
            page = call("Query", {**body, **({"ExclusiveStartKey": start} if start else {})})
            found.append(page)
            start = page.get("LastEvaluatedKey")
            if not start:
                break
        return found

    def scenario(request: dict) -> dict:
        table = request["table"]
        created = call("CreateTable", table)
        if "error" in created:
            return {"error": f"CreateTable: {created['error']}"}
        answers = []
        before = dict(moto_index.ANSWERED)
        try:
            for step in request["steps"]:
                if step["op"] == "Query":
                    body = {"TableName": table["TableName"], **step["body"]}
                    indexed = pages(body)
                    with moto_index.moto_only():
                        reference = pages(body)
                    answers.append({"indexed": indexed, "moto": reference})
                else:
                    call(step["op"], {"TableName": table["TableName"], **step["body"]})
        finally:
            call("DeleteTable", {"TableName": table["TableName"]})
        answered = {way: count - before.get(way, 0) for way, count in moto_index.ANSWERED.items()}
        return {"answers": answers, "answered": answered, "indexes_left": len(INDEXES.by_table)}

    def hammer(request: dict) -> dict:
        """Writers, queriers and scanners on one table at once, through moto's handler."""
        table = request["table"]
        call("CreateTable", table)
        name = table["TableName"]
        failures: list[str] = []
        seen: list[int] = []

        def writer(number: int) -> None:
            for batch in range(request["batches"]):
                items = [
                    {
                        "PutRequest": {
                            "Item": {
                                "pk": {"S": f"p{number}"},
                                "sk": {"S": f"{batch:04d}#{row:02d}"},
                                "g": {"S": "all"},
                                "gs": {"S": f"{batch:04d}#{number}#{row:02d}"},
                            }
                        }
                    }
                    for row in range(25)
                ]
                answer = call("BatchWriteItem", {"RequestItems": {name: items}})
                if "error" in answer:
                    failures.append(f"BatchWriteItem: {answer['error']}")

        def reader(kind: str) -> None:
            for _ in range(request["reads"]):
                if kind == "Query":
                    body = {
                        "TableName": name,
                        "IndexName": "ByG",
                        "KeyConditionExpression": "g = :g",
                        "ExpressionAttributeValues": {":g": {"S": "all"}},
                    }
                else:
                    body = {"TableName": name}
                answer = call(kind, body)
                if "error" in answer:
                    failures.append(f"{kind}: {answer['error']}")
                    continue
                keys = [item.get("gs", {}).get("S", "") for item in answer["Items"]]
                if kind == "Query" and keys != sorted(keys):
                    failures.append("Query: out of order")
                seen.append(answer["Count"])

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(request["writers"])]
        threads += [threading.Thread(target=reader, args=(kind,)) for kind in ("Query", "Scan")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        final = call("Scan", {"TableName": name, "Select": "COUNT"})
        call("DeleteTable", {"TableName": name})
        return {"failures": failures, "counts": seen, "final": final.get("Count")}

    for line in sys.stdin:
        request = json.loads(line)
        try:
            kind = request.pop("kind", "scenario")
            answer = hammer(request) if kind == "hammer" else scenario(request)
        except Exception:
            answer = {"crash": traceback.format_exc()}
        sys.stdout.write(json.dumps(answer, sort_keys=True) + "\n")
        sys.stdout.flush()


def _snake(operation: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in operation).lstrip("_")


if __name__ == "__main__":
    serve()
