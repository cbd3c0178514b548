"""A lineup in in-memory AWS (moto) for the explorer: the bucket, and the table built from
cloudformation.yaml, with files loaded by the Lambda's own code as S3's notification would.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from festival.explorer.uploader import S3Uploader
from festival.queries import LineupQueries
from lineup_ingest.adapters import LineupTable, PartsQueue, UploadBucket
from lineup_ingest.config import WRITES_IN_FLIGHT
from lineup_ingest.events import UploadedObject
from lineup_ingest.ingest import Ingestion, LoadSettings
from lineup_ingest.report import IngestReport
from lineup_ingest.retry import RetryBudget
from tests.cfn import table_definition

PREFIX = "uploads/"


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

    def __post_init__(self) -> None:
        self.s3.create_bucket(Bucket=self.name)
        self.dynamodb.create_table(TableName=self.name, **table_definition())
        table = LineupTable(
            self.dynamodb, self.name, RetryBudget(lambda: 300_000), self.writes_in_flight
        )
        # Files this small load in one part: no part is ever queued.
        self.ingestion = Ingestion(
            UploadBucket(self.s3), table, PartsQueue(None, ""), self.reports.append, self.settings
        )

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
        """Load an object already uploaded: what S3's notification starts in the stack."""
        self.ingestion.start(UploadedObject(self.name, key, "", 0))
        return self.reports[-1]

    def object_keys(self) -> list[str]:
        return [o["Key"] for o in self.s3.list_objects_v2(Bucket=self.name).get("Contents", [])]

    def remove(self) -> None:
        """Delete the table, the objects and the bucket."""
        self.dynamodb.delete_table(TableName=self.name)
        for key in self.object_keys():
            self.s3.delete_object(Bucket=self.name, Key=key)
        self.s3.delete_bucket(Bucket=self.name)
