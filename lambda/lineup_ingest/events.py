"""Decoding S3 event notifications (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote_plus


class EventError(Exception):
    """The event is not an S3 object-created notification we can act on."""


@dataclass(frozen=True)
class UploadedObject:
    bucket: str
    key: str
    etag: str
    size: int

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def uploaded_objects(event: dict) -> list[UploadedObject]:
    """The objects an S3 notification announces; keys arrive URL-encoded (space as + or %20)."""
    records = event.get("Records")
    if not isinstance(records, list) or not records:
        raise EventError("not an S3 event notification: no Records")
    objects = []
    for record in records:
        s3 = record.get("s3") if isinstance(record, dict) else None
        if not isinstance(s3, dict) or "bucket" not in s3 or "object" not in s3:
            raise EventError("not an S3 event notification: a record has no s3.bucket/s3.object")
        obj = s3["object"]
        objects.append(
            UploadedObject(
                bucket=s3["bucket"]["name"],
                key=unquote_plus(obj["key"]),
                etag=str(obj.get("eTag", "")).strip('"'),
                size=int(obj.get("size", 0)),
            )
        )
    return objects
