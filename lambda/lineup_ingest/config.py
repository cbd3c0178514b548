"""Settings read once from the environment at cold start."""

from __future__ import annotations

import os
from dataclasses import dataclass


class ConfigError(Exception):
    """A required environment variable is missing."""


@dataclass(frozen=True)
class Config:
    table_name: str
    topic_arn: str
    # Time kept back from the retry budget to record and report the outcome.
    reserve_ms: int = 10_000

    @classmethod
    def from_environment(cls, environ: dict[str, str] | None = None) -> Config:
        environ = dict(os.environ if environ is None else environ)
        missing = [name for name in ("TABLE_NAME", "TOPIC_ARN") if not environ.get(name)]
        if missing:
            raise ConfigError(f"missing environment variable(s): {', '.join(missing)}")
        return cls(
            table_name=environ["TABLE_NAME"],
            topic_arn=environ["TOPIC_ARN"],
            reserve_ms=int(environ.get("REPORT_RESERVE_MS", "10000")),
        )
