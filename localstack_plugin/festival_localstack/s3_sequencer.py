"""Increasing ``sequencer`` values in LocalStack's S3 event notifications, as on AWS.

On AWS, the events of one key carry hexadecimal sequencers that increase with each PUT or
DELETE of that key, so a consumer can order them (compared as S3 says: the shorter left-padded
with zeros). LocalStack 4.14.0 writes one constant, ``0055AED6DCD90281E5``, into every record
(``BaseNotifier._get_event_payload`` in ``localstack/services/s3/notifications.py``), so
events of one key cannot be ordered locally. Two patches fix that:

- ``NotificationDispatcher.send_notifications`` runs once per S3 event, in the thread of the
  request that caused it, after the object store changed and before the event is handed to
  the notifiers' thread pool. There it stamps the event's context with the next value of
  one clock for the whole process, so the stamps follow the order in which S3 took the
  requests, not the order in which the pool's threads happen to build the records.
- ``BaseNotifier._get_event_payload`` builds the record for SQS, SNS and Lambda
  destinations. Wherever LocalStack put its constant, the record gets the event's stamp:
  every destination of one event sees the same value, as on AWS. Records LocalStack builds
  without a sequencer (tagging and ACL events) stay without. EventBridge events are built
  elsewhere and keep LocalStack's constant.

One clock for every key orders each key's events, which is all AWS promises. Its values are
``max(last + 1, time.time_ns())`` in ``WIDTH`` uppercase hex digits: strictly increasing
within the process even if the wall clock steps back, and above the values of an earlier run
of LocalStack, as long as the wall clock has not been set back across the restart.

Standard library only at import: the project's tests import this without LocalStack.
"""

from __future__ import annotations

import functools
import inspect
import logging
import threading
import time
from collections.abc import Callable
from types import ModuleType
from typing import Any

from festival_localstack import versions

PATCH = "increasing S3 event sequencers"
WIDTH = 20  # hex digits, 80 bits: time_ns needs 61 bits today and fits 64 until 2554
# The attribute of LocalStack's S3EventNotificationContext that carries an event's stamp.
STAMP = "festival_sequencer"
PATCHED = "__festival_sequencer__"
LOG = logging.getLogger(__name__)


def next_sequencer(last: int, now_ns: int) -> int:
    """The value after ``last``: the clock's time unless that is not above ``last``."""
    return max(last + 1, now_ns)


def format_sequencer(value: int) -> str:
    """``value`` as S3 writes a sequencer: uppercase hex, here of a fixed width."""
    if not 0 <= value < 16**WIDTH:
        raise ValueError(f"a sequencer must fit in {WIDTH} hex digits: {value}")
    return f"{value:0{WIDTH}X}"


class SequencerClock:
    """Hands out strictly increasing sequencers, from any thread."""

    def __init__(self, now_ns: Callable[[], int] = time.time_ns) -> None:
        self._now_ns = now_ns
        self._last = 0
        self._lock = threading.Lock()

    def next(self) -> str:
        with self._lock:
            return self._advance()

    def stamp(self, ctx: Any, *, again: bool = True) -> str:
        """Stamp an event's context (again, or only if it has no stamp yet); its stamp."""
        with self._lock:
            if again or getattr(ctx, STAMP, None) is None:
                setattr(ctx, STAMP, self._advance())
            return getattr(ctx, STAMP)

    def _advance(self) -> str:  # with the lock held
        self._last = next_sequencer(self._last, self._now_ns())
        return format_sequencer(self._last)


def _stamping_dispatch(send_notifications: Callable, clock: SequencerClock) -> Callable:
    @functools.wraps(send_notifications)
    def send_stamped(self: Any, ctx: Any, notification_config: Any) -> Any:
        # Always a new stamp: LocalStack copies a restore event's context for its second event.
        clock.stamp(ctx)
        return send_notifications(self, ctx, notification_config)

    setattr(send_stamped, PATCHED, True)
    return send_stamped


def _stamping_payload(get_event_payload: Callable, clock: SequencerClock) -> Callable:
    @functools.wraps(get_event_payload)
    def get_event_payload_stamped(ctx: Any, config_id: Any) -> Any:
        payload = get_event_payload(ctx, config_id)
        for record in payload.get("Records", ()):
            s3_object = record.get("s3", {}).get("object", {})
            if "sequencer" in s3_object:
                # Stamped by the dispatcher; a context that bypassed it is stamped once here.
                s3_object["sequencer"] = clock.stamp(ctx, again=False)
        return payload

    return get_event_payload_stamped


def _parameters(function: Callable) -> list[str]:
    return list(inspect.signature(function).parameters)


def apply(notifications: ModuleType | None = None, clock: SequencerClock | None = None) -> bool:
    """Patch LocalStack's S3 notifications once; whether the patch is in place.

    Only on the localstack-core release written for (``versions``) and for the signatures
    written against; otherwise LocalStack's constant sequencer is left, with a warning.
    ``notifications``: LocalStack's module unless a test hands in a stand-in.
    """
    if not versions.written_for(PATCH, "localstack-core"):
        return False
    if notifications is None:
        from localstack.services.s3 import notifications as localstack_notifications

        notifications = localstack_notifications
    base = notifications.BaseNotifier
    dispatcher = notifications.NotificationDispatcher
    payload = base.__dict__.get("_get_event_payload")
    send = dispatcher.__dict__.get("send_notifications")
    if getattr(send, PATCHED, False):
        return True
    if not (
        isinstance(payload, staticmethod)
        and _parameters(payload.__func__) == ["ctx", "config_id"]
        and callable(send)
        and _parameters(send) == ["self", "ctx", "notification_config"]
    ):
        LOG.warning(
            "festival plugin: %s is not applied: LocalStack's S3 notifications changed "
            "(BaseNotifier._get_event_payload or NotificationDispatcher.send_notifications)",
            PATCH,
        )
        return False
    clock = clock or SequencerClock()
    base._get_event_payload = staticmethod(_stamping_payload(payload.__func__, clock))
    dispatcher.send_notifications = _stamping_dispatch(send, clock)
    LOG.info("festival plugin: %s applied", PATCH)
    return True
