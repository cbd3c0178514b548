"""Collecting the rows of a version that is no longer current, in bounded steps (pure).

A version's rows live under partitions of their own (schema.file_partitions), so collecting
them needs no condition: BatchWriteItem deletes 25 keys a request. A step deletes at most
STEP_KEYS keys, or stops when its time runs short, and queues itself again on the parts
queue; a file of any size is collected, however long it takes.

No delivery can start writing a version's rows once its load has ended (a part writes
under a lease taken only while the version is LOADING: ingest.LEASE). A delivery that took
its lease before may still be writing: if the version's record shows leases held when a
pass finds nothing left, one more pass runs after the fence (the function's timeout, by
which any such delivery has ended) before the version counts as collected.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass, replace

from lineup_ingest import schema
from lineup_ingest.lifecycle import Collection, Status, status_of
from lineup_ingest.parts import CollectTask
from lineup_ingest.ports import CollectionStore, PartQueue

# Keys deleted by one step at most: about 2 s of BatchWriteItem at 25 keys a request.
STEP_KEYS = 5_000
PAGE_KEYS = 1_000


@dataclass(eq=False)
class Collector:
    table: CollectionStore
    queue: PartQueue
    fence_s: int
    finish_removal: Callable[[dict[str, str]], str]
    _: KW_ONLY
    clock: Callable[[], str]

    def step(self, task: CollectTask, remaining_ms: Callable[[], int] | None = None) -> str:
        """Delete a bounded number of the version's keys; queue the next step, or end."""
        head = self.table.head(task.key) or {}
        if head.get("current") == task.version:
            return "CURRENT"  # never collect what queries answer from
        key = schema.upload_record_key(task.key, task.version)
        record = self.table.record(key)
        if status_of(record) == Status.LOADING.value:
            return Status.LOADING.value  # its own end has it collected
        if record is not None and record.get("gc") != Collection.COLLECTED.value:
            self.table.update_record(
                key, {"gc": Collection.COLLECTING.value, "gc_at": self.clock()}, {}
            )
        deleted = 0
        while deleted < STEP_KEYS and not self._short_of_time(remaining_ms):
            keys = self.table.version_keys(
                task.key, task.version, min(PAGE_KEYS, STEP_KEYS - deleted)
            )
            if not keys:
                break
            deleted += self.table.delete_keys(keys)
        else:
            self.queue.send(task)  # more to do: the next step
            return Collection.COLLECTING.value
        # Its sketch of its sets goes with its rows: a load that ends compares with current
        # versions' only, but the SKETCHES partition it reads stays that small.
        self.table.delete_keys([schema.sketch_key(task.key, task.version)])
        if not task.final and int((record or {}).get("active", 0)) > 0:
            # A delivery that took its lease before the load ended may still be writing.
            self.queue.send(replace(task, final=True), delay_s=self.fence_s)
            return Collection.COLLECTING.value
        if record is not None:
            self.table.update_record(key, {"gc": Collection.COLLECTED.value}, {})
        if task.removal:
            self.finish_removal(schema.removal_record_key(task.key, task.removal))
        return Collection.COLLECTED.value

    def _short_of_time(self, remaining_ms: Callable[[], int] | None) -> bool:
        # Leave time to queue the next step and for the reserve.
        return remaining_ms is not None and remaining_ms() < self.table.budget.reserve_ms + 5_000
