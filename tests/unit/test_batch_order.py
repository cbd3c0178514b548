"""Batches go out four at a time, yet the last row of a file wins when it repeats a
performance: a batch holding a key of a batch in flight waits for it to land."""

from __future__ import annotations

import threading
import time

from lineup_ingest.adapters import LineupTable
from lineup_ingest.retry import RetryBudget


class SlowFirstBatch:
    """A DynamoDB client whose first batch write lands last unless it is waited for."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], str] = {}
        self.calls = 0
        self.lock = threading.Lock()

    def batch_write_item(self, RequestItems: dict) -> dict:  # noqa: N803 (boto3's name)
        with self.lock:
            self.calls += 1
            first = self.calls == 1
        if first:
            time.sleep(0.3)
        for (request,) in ([r] for r in RequestItems["lineup"]):
            item = request["PutRequest"]["Item"]
            with self.lock:
                self.items[(item["pk"]["S"], item["sk"]["S"])] = item["performer"]["S"]
        return {}


def batch(spelling: str, *others: str) -> list[dict]:
    names = [spelling, *others]
    return [{"pk": "FILE#f#00", "sk": f"PERF#{name.lower()}", "performer": name} for name in names]


def test_a_repeated_performance_keeps_the_spelling_of_the_last_row():
    client = SlowFirstBatch()
    table = LineupTable(client, "lineup", RetryBudget(lambda: 300_000))

    table.put_items(batch("Peggy Gou", "Bonobo"))
    table.put_items(batch("Other Act"))
    table.put_items(batch("PEGGY GOU"))  # the same set, written again further down
    table.drain()

    assert client.items[("FILE#f#00", "PERF#peggy gou")] == "PEGGY GOU"
    assert client.items[("FILE#f#00", "PERF#bonobo")] == "Bonobo"


def test_batches_without_a_shared_key_still_overlap():
    client = SlowFirstBatch()
    table = LineupTable(client, "lineup", RetryBudget(lambda: 300_000))
    started = time.monotonic()

    table.put_items(batch("A"))
    table.put_items(batch("B"))
    sent = time.monotonic() - started
    table.drain()

    assert sent < 0.2  # the second batch did not wait for the slow first one
