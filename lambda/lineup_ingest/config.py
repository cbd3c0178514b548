"""Settings read once from the environment at cold start."""

from __future__ import annotations

import os
from dataclasses import dataclass

from lineup_ingest.zones import DEFAULT_TIME_ZONE

# BatchWriteItem requests in flight at once: a batch spends most of its time on the network.
WRITES_IN_FLIGHT = 4


class ConfigError(Exception):
    """A required environment variable is missing or not a number."""


@dataclass(frozen=True)
class Config:
    """The function's settings. Each default is what the function falls back on when its
    variable is not set, and it is the template's default for the parameter that sets the
    variable (cloudformation.yaml; tests/unit/test_defaults_once.py keeps them equal): the
    one place of these numbers on the function's side. Two fallbacks differ on purpose:
    retention_days and upload_prefix (below)."""

    table_name: str
    topic_arn: str
    parts_queue_url: str
    # The parts queue's failure queue (its DLQ) and the bucket: what the sweep reconciles;
    # without the prefix (the template's UploadPrefix) the sweep looks at the whole bucket.
    failure_queue_url: str = ""
    bucket_name: str = ""
    upload_prefix: str = ""
    # The function's timeout: no invocation outlives it (collection's fence).
    fence_s: int = 300
    # A load with no part counted for this long is ended FAILED by the sweep.
    stuck_after_s: int = 1800
    # Time kept back from the retry budget to record and report the outcome.
    reserve_ms: int = 10_000
    part_bytes: int = 16 * 1024 * 1024
    max_file_bytes: int = 2 * 1024**3
    # Deliveries of a part before it is counted as failed (the queue's maxReceiveCount).
    part_attempts: int = 3
    part_retry_s: int = 30
    # How times without AM/PM are read unless an upload says otherwise: auto, 24h or pm.
    clock: str = "auto"
    # The festival's time zone (an IANA name) unless an upload says otherwise; checked per
    # upload, so that a bad name fails uploads with an email rather than every invocation.
    time_zone: str = DEFAULT_TIME_ZONE
    # Days after its upload that a file's rows and records expire (DynamoDB TTL on
    # expires_at), as its CSV does in the bucket; 0 keeps them. Not the template's default
    # (90) on purpose: without the variable the function never lets data expire.
    retention_days: int = 0

    @classmethod
    def from_environment(cls, environ: dict[str, str] | None = None) -> Config:
        environ = dict(os.environ if environ is None else environ)
        required = ("TABLE_NAME", "TOPIC_ARN", "PARTS_QUEUE_URL")
        missing = [name for name in required if not environ.get(name)]
        if missing:
            raise ConfigError(f"missing environment variable(s): {', '.join(missing)}")
        numbers = {
            "reserve_ms": "REPORT_RESERVE_MS",
            "part_bytes": "PART_BYTES",
            "max_file_bytes": "MAX_FILE_BYTES",
            "part_attempts": "PART_ATTEMPTS",
            "part_retry_s": "PART_RETRY_SECONDS",
            "retention_days": "UPLOAD_RETENTION_DAYS",
            "fence_s": "FENCE_SECONDS",
            "stuck_after_s": "STUCK_LOAD_SECONDS",
        }
        settings = {}
        for field_name, variable in numbers.items():
            if environ.get(variable):
                try:
                    settings[field_name] = int(environ[variable])
                except ValueError:
                    raise ConfigError(f"{variable} must be a whole number") from None
        if settings.get("retention_days", 0) < 0:
            raise ConfigError("UPLOAD_RETENTION_DAYS must be 0 (keep forever) or more")
        return cls(
            clock=environ.get("UNMARKED_TIMES", cls.clock),
            time_zone=environ.get("FESTIVAL_TIME_ZONE") or cls.time_zone,
            table_name=environ["TABLE_NAME"],
            topic_arn=environ["TOPIC_ARN"],
            parts_queue_url=environ["PARTS_QUEUE_URL"],
            failure_queue_url=environ.get("FAILURE_QUEUE_URL", ""),
            bucket_name=environ.get("UPLOAD_BUCKET", ""),
            upload_prefix=environ.get("UPLOAD_PREFIX", ""),
            **settings,
        )
