"""The Lambda entry point: the service, built by `bootstrap` at a cold start, gets each
event. `service` decides what an event means."""

from __future__ import annotations

import logging
import os

from lineup_ingest import bootstrap
from lineup_ingest.config import Config
from lineup_ingest.service import IngestService, Invocation

logging.getLogger("lineup_ingest").setLevel(logging.INFO)

_service: IngestService | None = None


def service() -> IngestService:
    """Built on the first invocation and kept while the process stays warm."""
    global _service
    if _service is None:
        _service = bootstrap.build_service(Config.from_environment())
    return _service


def lambda_handler(event: dict, context) -> dict:
    invocation = Invocation(
        request_id=context.aws_request_id,
        remaining_ms=context.get_remaining_time_in_millis,
        log_group=os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", ""),
    )
    return service().handle(event, invocation)
