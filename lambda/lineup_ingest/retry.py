"""Retrying within the time the Lambda has left (pure)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lineup_ingest.config import Config

if TYPE_CHECKING:
    from botocore.exceptions import ClientError

# DynamoDB's answers that a later attempt of the same request may not meet.
RETRYABLE_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
    }
)


def is_retryable(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") in RETRYABLE_CODES


class BudgetExhaustedError(Exception):
    """Retrying any longer would run past the time kept for reporting the outcome."""


@dataclass
class RetryBudget:
    """Exponential backoff with full jitter, bounded by the invocation's remaining time.

    ``remaining_ms`` is the Lambda context's ``get_remaining_time_in_millis``; ``reserve_ms``
    is kept back so that the function can still record and report the outcome.
    """

    remaining_ms: Callable[[], int]
    reserve_ms: int = Config.reserve_ms
    base_s: float = 0.05
    cap_s: float = 5.0
    sleep: Callable[[float], None] = time.sleep
    random: Callable[[], float] = field(default=random.random)
    retries: int = 0

    def wait(self, attempt: int, what: str) -> None:
        """Sleep before retry number ``attempt`` (0-based) of ``what``, or give up loudly."""
        delay = self.random() * min(self.cap_s, self.base_s * 2**attempt)
        spare_ms = self.remaining_ms() - self.reserve_ms
        if spare_ms < delay * 1000:
            raise BudgetExhaustedError(
                f"gave up retrying {what} after {attempt} retries: "
                f"{max(spare_ms, 0) / 1000:.1f} s left before the time kept for reporting"
            )
        self.retries += 1
        self.sleep(delay)
