"""A lineup in in-memory AWS (moto) for the explorer: the bucket, and the table built from
cloudformation.yaml, with files loaded through the Lambda's own service as S3's
notification would: each upload an event with a sequencer of its own (its version), the
file's head made current by the load, and what a load queues (parts, the collection of the
version it replaced) delivered before `load` returns.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote_plus

from festival.explorer.uploader import S3Uploader
from festival.queries import LineupQueries
from lineup_ingest.adapters import LineupTable, UploadBucket
from lineup_ingest.config import WRITES_IN_FLIGHT
from lineup_ingest.ingest import LoadSettings
from lineup_ingest.reconcile import SweepSettings
from lineup_ingest.report import IngestReport, RemovalReport
from lineup_ingest.retry import RetryBudget
from lineup_ingest.service import IngestService, Invocation, wire_steps
from tests.cfn import table_definition
from tests.fakes import MemoryQueue
from tests.pipeline import PART_ATTEMPTS, deliver_queued

PREFIX = "uploads/"
# S3's sequencers are hexadecimal and grow with each event of a key; this one is made up.
FIRST_SEQUENCER = 0x0055AED6DCD90281E5


@dataclass
class MotoLineup:
    """A bucket and a table of their own (inside moto's mock_aws, or against a moto server
    through the clients given)."""

    s3: Any
    dynamodb: Any
    settings: LoadSettings = field(default_factory=LoadSettings)
    writes_in_flight: int = WRITES_IN_FLIGHT
    name: str = field(default_factory=lambda: f"lineup-{uuid.uuid4().hex[:12]}")
    reports: list[IngestReport] = field(default_factory=list)
    removals: list[RemovalReport] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.s3.create_bucket(Bucket=self.name)
        self.dynamodb.create_table(TableName=self.name, **table_definition())
        # The parts queue, in memory: `deliver` hands its messages to the service.
        self.queue = MemoryQueue()
        self._sequencers = itertools.count(FIRST_SEQUENCER)
        self._invocations = 0

        def steps_for(invocation: Invocation):
            table = LineupTable(
                self.dynamodb,
                self.name,
                RetryBudget(invocation.remaining_ms),
                self.writes_in_flight,
            )
            return wire_steps(
                bucket=UploadBucket(self.s3),
                table=table,
                queue=self.queue,
                failures=self.queue,
                notify=self.reports.append,
                notify_removal=self.removals.append,
                settings=self.settings,
                sweep_settings=SweepSettings(prefix=PREFIX),
                bucket_name=self.name,
                remaining_ms=invocation.remaining_ms,
            )

        self.service = IngestService(steps_for, self.queue, PART_ATTEMPTS)

    @property
    def queries(self) -> LineupQueries:
        return LineupQueries(self.dynamodb, self.name)

    @property
    def uploader(self) -> S3Uploader:
        return S3Uploader(self.s3, self.name, PREFIX)

    def load(self, key: str, body: bytes) -> IngestReport:
        """Upload a file and load it, as the stack does."""
        self.s3.put_object(Bucket=self.name, Key=key, Body=body)
        return self.notify(key)

    def notify(self, key: str) -> IngestReport:
        """Load the object uploaded last under ``key``: the event S3's notification sends
        for that upload (call it once per upload: each call is another event, a version of
        its own), then whatever the load queued. The load's report."""
        head = self.s3.head_object(Bucket=self.name, Key=key)
        self.invoke(
            {
                "Records": [
                    {
                        "eventSource": "aws:s3",
                        "eventName": "ObjectCreated:Put",
                        "s3": {
                            "bucket": {"name": self.name, "arn": f"arn:aws:s3:::{self.name}"},
                            "object": {
                                "key": quote_plus(key, safe="/"),
                                "eTag": str(head["ETag"]).strip('"'),
                                "size": int(head["ContentLength"]),
                                "sequencer": f"{next(self._sequencers):X}",
                            },
                        },
                    }
                ]
            }
        )
        self.deliver()
        return self.reports[-1]

    def invoke(self, event: dict) -> dict:
        """The function's handling of one event, as Lambda invokes it."""
        self._invocations += 1
        return self.service.handle(
            event, Invocation(f"request-{self._invocations}", lambda: 300_000)
        )

    def deliver(self, limit: int = 10_000) -> int:
        """Hand the parts queue's messages to the function one at a time, as the event
        source mapping does, until it is empty. The number of deliveries."""
        return deliver_queued(self.queue, self.invoke, limit)

    def object_keys(self) -> list[str]:
        return [o["Key"] for o in self.s3.list_objects_v2(Bucket=self.name).get("Contents", [])]

    def remove(self) -> None:
        """Delete the table, the objects and the bucket."""
        self.dynamodb.delete_table(TableName=self.name)
        for key in self.object_keys():
            self.s3.delete_object(Bucket=self.name, Key=key)
        self.s3.delete_bucket(Bucket=self.name)
