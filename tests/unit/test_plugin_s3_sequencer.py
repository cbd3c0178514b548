"""S3 event records get increasing sequencers, and only on the LocalStack release written for.

Run here without LocalStack: a stand-in module with the shape of 4.14.0's
``localstack.services.s3.notifications`` (the classes and signatures patched) is handed in.
"""

from __future__ import annotations

import copy
import logging
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import pytest

from festival_localstack import s3_sequencer, versions

LOCALSTACK_CONSTANT = "0055AED6DCD90281E5"


@dataclass
class EventContext:
    """The fields of LocalStack's S3EventNotificationContext that the record uses here."""

    event_type: str
    bucket_name: str
    key_name: str


def stand_in_notifications() -> SimpleNamespace:
    """Classes shaped as LocalStack 4.14.0's, building records as it does (constant sequencer)."""

    class BaseNotifier:
        @staticmethod
        def _get_event_payload(ctx, config_id):
            record = {
                "eventName": ctx.event_type.removeprefix("s3:"),
                "s3": {
                    "configurationId": config_id,
                    "bucket": {"name": ctx.bucket_name},
                    "object": {"key": ctx.key_name, "sequencer": LOCALSTACK_CONSTANT},
                },
            }
            if "ObjectTagging" in ctx.event_type or "ObjectAcl" in ctx.event_type:
                record["s3"]["object"].pop("sequencer")
            return {"Records": [record]}

        def notify(self, ctx, config):
            return self._get_event_payload(ctx, config.get("Id"))

    class NotificationDispatcher:
        """As LocalStack's: each record is built later, by a thread pool, in any order."""

        notifiers = {"QueueConfigurations": BaseNotifier(), "LambdaConfigurations": BaseNotifier()}

        def __init__(self) -> None:
            self.submitted: list[tuple] = []

        def send_notifications(self, ctx, notification_config):
            for key, configurations in notification_config.items():
                for config in configurations:
                    self.submitted.append((self.notifiers[key], ctx, config))

        def build(self, reverse: bool = False) -> list[dict]:
            """The pool's work: the records, built in submission order or reversed."""
            work = reversed(self.submitted) if reverse else self.submitted
            return [notifier.notify(ctx, config) for notifier, ctx, config in work]

    return SimpleNamespace(BaseNotifier=BaseNotifier, NotificationDispatcher=NotificationDispatcher)


def sequencers_of(payloads: list[dict]) -> list[str | None]:
    return [
        record["s3"]["object"].get("sequencer")
        for payload in payloads
        for record in payload["Records"]
    ]


def padded(sequencer: str, width: int = 32) -> str:
    """Comparable as S3 says: the shorter right-padded with zeros."""
    return sequencer.ljust(width, "0")


@pytest.fixture
def pinned(monkeypatch):
    """The installed releases are the ones the plugin was written for."""
    monkeypatch.setattr(versions, "installed_release", versions.WRITTEN_FOR.get)


def one_config(name: str = "QueueConfigurations") -> dict:
    return {name: [{"Id": "uploads"}]}


# The next sequencer, as a pure function.


def test_the_next_sequencer_is_the_clock_time_when_that_is_later():
    assert s3_sequencer.next_sequencer(last=100, now_ns=5_000) == 5_000


def test_the_next_sequencer_still_increases_within_one_clock_tick_or_when_the_clock_goes_back():
    assert s3_sequencer.next_sequencer(last=5_000, now_ns=5_000) == 5_001
    assert s3_sequencer.next_sequencer(last=5_000, now_ns=10) == 5_001


def test_a_fresh_clock_starts_from_the_time_so_a_restart_continues_above_the_last_run():
    last_of_previous_run = s3_sequencer.SequencerClock(now_ns=lambda: 1_000).next()

    after_restart = s3_sequencer.SequencerClock(now_ns=lambda: 2_000).next()

    assert padded(after_restart) > padded(last_of_previous_run)


def test_a_sequencer_is_fixed_width_uppercase_hex():
    assert s3_sequencer.format_sequencer(0x18EED727A3AB554B) == "000018EED727A3AB554B"
    assert len(s3_sequencer.format_sequencer(1)) == s3_sequencer.WIDTH
    with pytest.raises(ValueError, match="hex digits"):
        s3_sequencer.format_sequencer(16**s3_sequencer.WIDTH)


def test_sequencers_compare_as_strings_because_they_have_one_width():
    clock = s3_sequencer.SequencerClock(now_ns=iter([0xF, 0x10, 0x10, 0xFFF]).__next__)

    issued = [clock.next() for _ in range(4)]

    assert issued == sorted(issued)
    assert len(set(issued)) == 4
    assert [int(value, 16) for value in issued] == [0xF, 0x10, 0x11, 0xFFF]


def test_a_clock_shared_by_threads_never_hands_out_a_value_twice():
    frozen = s3_sequencer.SequencerClock(now_ns=lambda: 1_000)

    with ThreadPoolExecutor(8) as pool:
        issued = list(pool.map(lambda _: frozen.next(), range(2_000)))

    assert len(set(issued)) == 2_000


# The patch, on a stand-in of LocalStack's notifications module.


def test_events_of_one_key_get_strictly_increasing_sequencers(pinned):
    notifications = stand_in_notifications()
    assert s3_sequencer.apply(notifications) is True
    dispatcher = notifications.NotificationDispatcher()

    for event_type in ("s3:ObjectCreated:Put", "s3:ObjectCreated:Put", "s3:ObjectRemoved:Delete"):
        dispatcher.send_notifications(
            EventContext(event_type, "uploads", "lineup.csv"), one_config()
        )

    sequencers = sequencers_of(dispatcher.build())
    assert LOCALSTACK_CONSTANT not in sequencers
    assert all(len(value) == s3_sequencer.WIDTH for value in sequencers)
    assert [padded(value) for value in sequencers] == sorted(map(padded, sequencers))
    assert len(set(sequencers)) == 3


def test_every_destination_of_one_event_sees_the_same_sequencer(pinned):
    notifications = stand_in_notifications()
    s3_sequencer.apply(notifications)
    dispatcher = notifications.NotificationDispatcher()
    both = {**one_config("QueueConfigurations"), **one_config("LambdaConfigurations")}

    dispatcher.send_notifications(EventContext("s3:ObjectCreated:Put", "b", "k"), both)
    dispatcher.send_notifications(EventContext("s3:ObjectCreated:Put", "b", "k"), both)

    first_queue, first_lambda, second_queue, second_lambda = sequencers_of(dispatcher.build())
    assert first_queue == first_lambda < second_queue == second_lambda


def test_the_stamp_is_taken_when_the_event_is_dispatched_not_when_a_thread_builds_the_record(
    pinned,
):
    notifications = stand_in_notifications()
    s3_sequencer.apply(notifications)
    dispatcher = notifications.NotificationDispatcher()
    dispatcher.send_notifications(EventContext("s3:ObjectCreated:Put", "b", "k"), one_config())
    dispatcher.send_notifications(EventContext("s3:ObjectRemoved:Delete", "b", "k"), one_config())

    removed, created = sequencers_of(dispatcher.build(reverse=True))

    assert created < removed


def test_a_copied_event_context_gets_a_stamp_of_its_own(pinned):
    # LocalStack sends a restore's Completed event with a copy of the Post event's context.
    notifications = stand_in_notifications()
    s3_sequencer.apply(notifications)
    dispatcher = notifications.NotificationDispatcher()
    initiated = EventContext("s3:ObjectRestore:Post", "b", "k")
    dispatcher.send_notifications(initiated, one_config())
    completed = copy.copy(initiated)
    completed.event_type = "s3:ObjectRestore:Completed"

    dispatcher.send_notifications(completed, one_config())

    first, second = sequencers_of(dispatcher.build())
    assert first < second


def test_tagging_and_acl_records_stay_without_a_sequencer(pinned):
    notifications = stand_in_notifications()
    s3_sequencer.apply(notifications)
    dispatcher = notifications.NotificationDispatcher()

    for event_type in ("s3:ObjectTagging:Put", "s3:ObjectAcl:Put"):
        dispatcher.send_notifications(EventContext(event_type, "b", "k"), one_config())

    assert sequencers_of(dispatcher.build()) == [None, None]


def test_a_record_built_for_an_event_that_was_not_dispatched_is_stamped_once(pinned):
    notifications = stand_in_notifications()
    s3_sequencer.apply(notifications)
    ctx = EventContext("s3:ObjectCreated:Put", "b", "k")
    notifier = notifications.BaseNotifier()

    first = notifier.notify(ctx, {"Id": "a"})
    second = notifier.notify(ctx, {"Id": "b"})

    assert sequencers_of([first]) == sequencers_of([second]) != [LOCALSTACK_CONSTANT]


def test_applying_twice_patches_once(pinned):
    notifications = stand_in_notifications()
    s3_sequencer.apply(notifications)
    patched = (
        notifications.BaseNotifier.__dict__["_get_event_payload"],
        notifications.NotificationDispatcher.send_notifications,
    )

    assert s3_sequencer.apply(notifications) is True

    assert (
        notifications.BaseNotifier.__dict__["_get_event_payload"],
        notifications.NotificationDispatcher.send_notifications,
    ) == patched


# Only on the release written for.


def originals(notifications) -> tuple:
    return (
        notifications.BaseNotifier.__dict__["_get_event_payload"],
        notifications.NotificationDispatcher.__dict__["send_notifications"],
    )


def test_on_another_localstack_release_the_constant_is_left_with_a_warning(monkeypatch, caplog):
    monkeypatch.setattr(
        versions, "installed_release", {**versions.WRITTEN_FOR, "localstack-core": "4.15.0"}.get
    )
    notifications = stand_in_notifications()
    before = originals(notifications)

    with caplog.at_level(logging.WARNING):
        assert s3_sequencer.apply(notifications) is False

    assert originals(notifications) == before
    assert "increasing S3 event sequencers is not applied" in caplog.text
    assert "localstack-core 4.15.0 (written for 4.14.0)" in caplog.text


def test_without_localstack_nothing_is_imported_or_patched(caplog):
    # This environment has no localstack-core: apply must not even import LocalStack.
    with caplog.at_level(logging.WARNING):
        assert s3_sequencer.apply() is False
    assert "localstack-core not installed" in caplog.text


@pytest.mark.parametrize(
    "change",
    ["payload_takes_another_argument", "payload_is_a_method", "dispatch_takes_other_arguments"],
)
def test_on_the_pinned_release_with_changed_signatures_the_constant_is_left(pinned, change, caplog):
    notifications = stand_in_notifications()
    if change == "payload_takes_another_argument":
        notifications.BaseNotifier._get_event_payload = staticmethod(
            lambda ctx, config_id, partition: {}
        )
    elif change == "payload_is_a_method":
        notifications.BaseNotifier._get_event_payload = lambda self, ctx, config_id: {}
    else:
        notifications.NotificationDispatcher.send_notifications = lambda self, ctx: None
    before = originals(notifications)

    with caplog.at_level(logging.WARNING):
        assert s3_sequencer.apply(notifications) is False

    assert originals(notifications) == before
    assert "LocalStack's S3 notifications changed" in caplog.text


def test_the_patch_is_applied_when_localstack_starts():
    """Wired as an on_infra_start hook, so it is in place before the first S3 request."""
    plugin = Path(s3_sequencer.__file__).resolve().parents[1] / "pyproject.toml"
    section = re.search(
        r'^\[project\.entry-points\."localstack\.hooks\.on_infra_start"\]\n(.*?)(?:\n\[|\Z)',
        plugin.read_text(),
        re.M | re.S,
    )

    assert section is not None
    assert (
        'festival_s3_sequencers = "festival_localstack.hooks:festival_s3_sequencers"'
        in section.group(1)
    )
