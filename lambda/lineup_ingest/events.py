"""Decoding S3 event notifications (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import unquote_plus

from lineup_ingest.schema import sequence_from_time, sequence_key


class EventError(Exception):
    """The event is not an S3 object notification we can act on."""


def s3_uri(bucket: str, key: str) -> str:
    return f"s3://{bucket}/{key}"


class InBucket:
    """An object named by its bucket and key (an upload, a removal, or the report of
    either), and the ``s3://`` URI that names it in emails and logs."""

    bucket: str
    key: str

    @property
    def uri(self) -> str:
        return s3_uri(self.bucket, self.key)


@dataclass(frozen=True)
class AnnouncedObject(InBucket):
    """The object an S3 notification names (its key URL-decoded)."""

    bucket: str
    key: str


@dataclass(frozen=True)
class UploadedObject(AnnouncedObject):
    etag: str
    size: int
    # Who made the request, as S3 names them in the event: the principal ID (e.g.
    # "AWS:AIDA...", or "AWS:AROA...:session" for an assumed role) and the client's IP.
    uploaded_by: str = ""
    source_ip: str = ""
    # S3's sequencer of the event: it orders the events of one key (an upload's version).
    sequencer: str = ""


@dataclass(frozen=True)
class RemovedObject(AnnouncedObject):
    """An object deleted (``ObjectRemoved:*``) or expired by the bucket's lifecycle rule
    (``LifecycleExpiration:*``). S3 names no ETag for a removal: only the key and when."""

    event_name: str  # "ObjectRemoved:Delete", "LifecycleExpiration:Delete", ...
    removed_at: str  # the event's time, UTC, to the millisecond
    sequencer: str = ""
    removed_by: str = ""
    source_ip: str = ""

    @property
    def by_lifecycle(self) -> bool:
        return self.event_name.startswith("LifecycleExpiration")

    @property
    def sequence(self) -> str:
        """Where the removal falls among the key's events: S3's sequencer (removal.py
        orders a removal without one by what the bucket holds)."""
        return sequence_key(self.sequencer) if self.sequencer else ""

    @property
    def removal_id(self) -> str:
        """The same for every delivery of this event, another for any other removal: its
        sequence, or for an event without a sequencer its time."""
        return self.sequence or sequence_from_time(self.removed_at)

    @property
    def uploaded_no_later_than(self) -> str:
        """The removal's time in the form of an upload time (S3's LastModified, ISO to the
        second): a version uploaded at or before it was removed by this event."""
        return datetime.fromisoformat(self.removed_at).isoformat(timespec="seconds")


def _event_time(text: object) -> str:
    """S3's eventTime ("2025-07-12T20:00:00.123Z") as ISO UTC to the millisecond."""
    try:
        moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        raise EventError(f"a removal event has no usable eventTime: {text!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds")


def object_events(event: dict) -> list[UploadedObject | RemovedObject]:
    """The objects an S3 notification announces as uploaded or removed.

    Keys arrive URL-encoded (space as + or %20). A record without an eventName (one made by
    hand) is an upload.
    """
    records = event.get("Records")
    if not isinstance(records, list) or not records:
        raise EventError("not an S3 event notification: no Records")
    objects: list[UploadedObject | RemovedObject] = []
    for record in records:
        s3 = record.get("s3") if isinstance(record, dict) else None
        if not isinstance(s3, dict) or "bucket" not in s3 or "object" not in s3:
            raise EventError("not an S3 event notification: a record has no s3.bucket/s3.object")
        obj = s3["object"]
        name = str(record.get("eventName", "ObjectCreated:"))
        who = record.get("userIdentity") or {}
        request = record.get("requestParameters") or {}
        principal = str(who.get("principalId", "")) if isinstance(who, dict) else ""
        source_ip = str(request.get("sourceIPAddress", "")) if isinstance(request, dict) else ""
        bucket, key = s3["bucket"]["name"], unquote_plus(obj["key"])
        if name.startswith("ObjectCreated:"):
            objects.append(
                UploadedObject(
                    bucket=bucket,
                    key=key,
                    etag=str(obj.get("eTag", "")).strip('"'),
                    size=int(obj.get("size", 0)),
                    uploaded_by=principal,
                    source_ip=source_ip,
                    sequencer=str(obj.get("sequencer", "")),
                )
            )
        elif name.startswith(("ObjectRemoved:", "LifecycleExpiration:")):
            objects.append(
                RemovedObject(
                    bucket=bucket,
                    key=key,
                    event_name=name,
                    removed_at=_event_time(record.get("eventTime")),
                    sequencer=str(obj.get("sequencer", "")),
                    removed_by=principal,
                    source_ip=source_ip,
                )
            )
        else:
            raise EventError(f"not an upload or a removal: S3 event {name!r}")
    return objects
