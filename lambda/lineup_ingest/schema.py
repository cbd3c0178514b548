"""The table's key design: one place that turns a performance into a DynamoDB item.

Single table, generic key names, three sparse GSIs (docs/data-model.md):

=============  =================================  ==================================
index          partition key                      sort key
=============  =================================  ==================================
table          ``FILE#<s3 key>#V<version>#<00-15>``  ``PERF#<start>#<stage>#<performer>``
ByPerformer    ``PERFORMER#<performer>``          ``<start>#<stage>``
ByStage        ``STAGE#<stage>``                  ``<start>#<performer>``
ByTime         ``DAY#<start date>#<shard 0-3>``   ``<start>#<stage>#<performer>``
=============  =================================  ==================================

Each upload version of a file writes its rows under partitions of its own (the version is
S3's ``sequencer`` of the upload's event, see `sequence_key`), so no version can overwrite or
delete another's rows; the file's *head* item (``pk = HEADS``) says which version is current,
and queries keep only rows of current versions (docs/data-model.md).

Names in keys are *name keys* (case-folded, whitespace collapsed, NFC), so lookups match
regardless of case and spacing; items keep the names as written. The table's partition is
the source file, so a re-upload can find and replace that file's lineup; it is sharded so
that a 100,000-row file does not write to a single partition, as ByTime is sharded so
that a day's sets spread over several partitions.

Every key fits DynamoDB's limits (a partition key at most 2,048 bytes of UTF-8, a sort key
1,024) whatever the file and its S3 key: the parser rejects names whose name key is over
NAME_KEY_MAX_BYTES, and an S3 key too long to be read in the upload record's sort key is
hashed there (`upload_record_key`).
"""

from __future__ import annotations

import hashlib
import unicodedata
import zlib
from datetime import datetime, timezone
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # performances.py and times.py import this module (NAME_KEY_MAX_BYTES)
    from lineup_ingest.performances import Performance

FILE_SHARDS = 16
TIME_SHARDS = 4

PERFORMER_INDEX = "ByPerformer"
STAGE_INDEX = "ByStage"
TIME_INDEX = "ByTime"
# Each index's (partition key, sort key) attributes; the template defines the same (tested).
INDEX_KEYS = {
    PERFORMER_INDEX: ("gsi1pk", "gsi1sk"),
    STAGE_INDEX: ("gsi2pk", "gsi2sk"),
    TIME_INDEX: ("gsi3pk", "gsi3sk"),
}

UPLOADS_PARTITION = "UPLOADS"
# One head item per file: the newest event applied (upload or delete) and the current version.
HEADS_PARTITION = "HEADS"
# One sketch item per upload version that loaded rows (sketch_key): read at a load's end.
SKETCHES_PARTITION = "SKETCHES"
# A removed file's head is kept this long (then DynamoDB's TTL deletes it): events come late
# by minutes, and Lambda retries an event for at most 6 hours, so a week orders any of them.
# The heads read by every question stay those of live files and of the week's removals.
HEAD_KEPT_AFTER_REMOVAL_S = 7 * 24 * 60 * 60
# S3's sequencers are hexadecimal strings of varying length, compared after left-padding the
# shorter with zeros: padded to this width they compare as strings (in code and in DynamoDB).
SEQUENCE_WIDTH = 32
LONGEST_SET_KEY = {"pk": "META", "sk": "LONGEST_SET"}
# The sort keys of the performances (performance_item), in a file version's partitions.
PERFORMANCE_PREFIX = "PERF#"
# The sort keys of the parts loaded, in a load's partition (part_done_key): read together.
PART_DONE_PREFIX = "PART#"
# With no longest set recorded yet, a set can still be no longer than a day (End <= Start
# means the next day), so this is a safe look-back for time queries.
MAX_SET_MINUTES = 24 * 60

# DynamoDB's limits on a key attribute, in bytes of UTF-8.
PARTITION_KEY_MAX_BYTES = 2048
SORT_KEY_MAX_BYTES = 1024
# The longest name key (see name_key) of a performer or a stage, in bytes of UTF-8. The
# longest key holding names is the table's sort key, PERF#<start>#<stage>#<performer>:
# 5 ("PERF#") + 16 (start, "2025-07-12T20:00") + 1 + stage + 1 + performer <= 1,024, so
# stage + performer <= 1,001 bytes: 500 each. The others hold less: ByTime's sort key
# <start>#<stage>#<performer> 18 + 1,000; ByPerformer's and ByStage's sort keys 17 + 500;
# their partition keys PERFORMER#<performer> and STAGE#<stage> 10 + 500 of 2,048.
NAME_KEY_MAX_BYTES = (SORT_KEY_MAX_BYTES - len("PERF#YYYY-MM-DDTHH:MM##")) // 2
# The S3 key in the file partition, FILE#<s3 key>#<shard 00-15>, needs no such limit: S3
# keys are at most 1,024 bytes, and 5 + 1,024 + 3 bytes fit 2,048.
S3_KEY_MAX_BYTES = 1024
# S3's ETags are 32 hex digits, with "-" and a part count for a multipart upload: 38
# characters at most. A longer one (none is) is hashed in the upload record's sort key.
ETAG_MAX_BYTES = 64
# The upload record's sort key is FILE#<s3 key>#ETAG#<etag> while the S3 key is at most
# 1,024 - 5 - 6 - 64 = 949 bytes; a longer key is hashed, in a sort key of its own shape.
_READABLE_S3_KEY_BYTES = SORT_KEY_MAX_BYTES - len("FILE#") - len("#ETAG#") - ETAG_MAX_BYTES
_S3_KEY_PREFIX_BYTES = 800  # of a hashed key: 9 + 800 + 1 + 64 + 6 + 64 <= 1,024


def name_key(name: str) -> str:
    """The form of a performer or stage name used in keys: case and spacing don't matter."""
    return " ".join(unicodedata.normalize("NFC", name).split()).casefold()


def _shard(text: str, shards: int) -> int:
    # crc32 is stable across processes and Python versions, unlike hash().
    return zlib.crc32(text.encode("utf-8")) % shards


def sequence_key(sequencer: str) -> str:
    """An S3 event's ``sequencer`` in a form that orders as a string: upper-case hexadecimal,
    right-padded with zeros to SEQUENCE_WIDTH, as S3's "Event message structure" page says
    to compare sequencers of different lengths. A synthetic sequence (the reconcile sweep's,
    `after`) is a padded one with a suffix: it sorts after that one and before any greater."""
    text = sequencer.strip().upper()
    digits = len(text) - len(text.lstrip("0123456789ABCDEF"))
    head, tail = text[:digits], text[digits:]
    return head.ljust(SEQUENCE_WIDTH, "0") + tail


def sequence_after(sequence: str) -> str:
    """A sequence between ``sequence`` and any real sequencer greater than it: what the sweep
    gives an event S3 never delivered (a lost upload or delete), so a later real one wins."""
    return f"{sequence}R"


def sequence_from_time(moment: str) -> str:
    """An ordering for an event without a sequencer (one made by hand): the upload time in
    milliseconds, as hexadecimal. Real events carry S3's sequencer."""
    parsed = datetime.fromisoformat(moment.replace("Z", "+00:00")) if moment else None
    if parsed is None:
        return sequence_key("0")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    # Left-padded: it sorts before any real sequencer of the key (those are right-padded).
    return f"{int(parsed.timestamp() * 1000):X}".rjust(SEQUENCE_WIDTH, "0")


def file_partition(source_key: str, shard: int, version: str = "") -> str:
    return f"FILE#{source_key}#V{version}#{shard:02d}"


def file_partitions(source_key: str, version: str = "") -> list[str]:
    """The partitions of one version's rows: only that version writes or deletes them."""
    return [file_partition(source_key, shard, version) for shard in range(FILE_SHARDS)]


def day_partition(day: str, shard: int) -> str:
    return f"DAY#{day}#{shard}"


def day_partitions(day: str) -> list[str]:
    return [day_partition(day, shard) for shard in range(TIME_SHARDS)]


def performer_partition(performer: str) -> str:
    return f"PERFORMER#{name_key(performer)}"


def stage_partition(stage: str) -> str:
    return f"STAGE#{name_key(stage)}"


def set_minutes(performance: Performance) -> int:
    start = datetime.fromisoformat(performance.start)
    end = datetime.fromisoformat(performance.end)
    return int((end - start).total_seconds() // 60)


def performance_item(
    performance: Performance,
    *,
    source_key: str,
    load_id: str,
    uploaded_at: str,
    expires_at: int | None = None,
    version: str = "",
) -> dict[str, str | int]:
    """The item for one performance of one file version: the same row, the same item.

    Nothing in it depends on when it is written, so a duplicate delivery rewrites
    exactly the same items; ``expires_at`` too is the upload's (see `expires_at`).
    """
    performer = name_key(performance.performer)
    stage = name_key(performance.stage)
    sort_key = f"{PERFORMANCE_PREFIX}{performance.start}#{stage}#{performer}"
    by_performer, by_stage, by_time = (
        INDEX_KEYS[index] for index in (PERFORMER_INDEX, STAGE_INDEX, TIME_INDEX)
    )
    item: dict[str, str | int] = {
        "pk": file_partition(source_key, _shard(sort_key, FILE_SHARDS), version),
        "sk": sort_key,
        by_performer[0]: f"PERFORMER#{performer}",
        by_performer[1]: f"{performance.start}#{stage}",
        by_stage[0]: f"STAGE#{stage}",
        by_stage[1]: f"{performance.start}#{performer}",
        by_time[0]: day_partition(performance.start[:10], _shard(sort_key, TIME_SHARDS)),
        by_time[1]: f"{performance.start}#{stage}#{performer}",
        "performer": performance.performer,
        "stage": performance.stage,
        "date": performance.date,
        "start": performance.start,
        "end": performance.end,
        "raw_start": performance.raw_start,
        "raw_end": performance.raw_end,
        "minutes": set_minutes(performance),
        "source_key": source_key,
        "source_line": performance.line,
        "load_id": load_id,
        "version": version,
        "uploaded_at": uploaded_at,
    }
    if expires_at is not None:
        item["expires_at"] = expires_at
    return item


def expires_at(uploaded_at: str, retention_days: int) -> int | None:
    """When the table's TTL may delete an upload's items: ``retention_days`` after the
    upload time (ISO 8601, with its offset), in epoch seconds; None keeps them (0 days).

    The bucket's lifecycle rule deletes the uploaded file after as many days, counted
    from the same upload time.
    """
    if retention_days <= 0:
        return None
    uploaded = datetime.fromisoformat(uploaded_at.replace("Z", "+00:00"))
    if uploaded.tzinfo is None:  # S3's times are UTC
        uploaded = uploaded.replace(tzinfo=timezone.utc)
    return int(uploaded.timestamp()) + retention_days * 24 * 60 * 60


def expiry(expires: int | None) -> dict[str, int]:
    """The ``expires_at`` attribute of an item, or nothing when it never expires."""
    return {} if expires is None else {"expires_at": expires}


def upload_record_key(source_key: str, version: str) -> dict[str, str]:
    """One ingest record per upload version: a duplicate event finds the same record.

    The sort key is FILE#<s3 key>#V#<version>, readable, when the S3 key is at most 949
    bytes. A longer key (S3 allows 1,024) would not fit with the version; it is written as
    FILEHASH#<its first 800 bytes>#<sha256 of it>#V#<version>, whose FILEHASH# no readable
    sort key starts with, so no S3 key can take another's record. Whether a key is hashed
    depends on the key alone, so the record key with an empty version is a prefix of the
    record key of every version of the file (found with begins_with), in version order.
    """
    if len(version.encode("utf-8", "surrogatepass")) > ETAG_MAX_BYTES:
        version = hashlib.sha256(version.encode("utf-8", "surrogatepass")).hexdigest()
    return {"pk": UPLOADS_PARTITION, "sk": f"{_file_in_record_key(source_key)}#V#{version}"}


def removal_record_key(source_key: str, removal_id: str) -> dict[str, str]:
    """One record per removal of a file (a delete, or expiry by the lifecycle rule).

    FILE#<s3 key>#REMOVED#<removal id>, the S3 key hashed as in `upload_record_key`. A
    duplicate delivery of the removal's event has the same id, hence the same record. The
    begins_with(FILE#<s3 key>#V#) that finds a file's upload records does not find it.
    """
    return {
        "pk": UPLOADS_PARTITION,
        "sk": f"{_file_in_record_key(source_key)}#REMOVED#{removal_id}",
    }


def head_key(source_key: str) -> dict[str, str]:
    """The file's head: which version is current, and the newest event applied to it."""
    return {"pk": HEADS_PARTITION, "sk": _file_in_record_key(source_key)}


def sketch_key(source_key: str, version: str) -> dict[str, str]:
    """An upload version's bottom-k sketch of its sets (lineup_ingest.sketch), in the one
    SKETCHES partition that the end of a load reads whole to compare files. Written before
    the version can become current; collected with the version's rows."""
    return {"pk": SKETCHES_PARTITION, "sk": upload_record_key(source_key, version)["sk"]}


def _file_in_record_key(source_key: str) -> str:
    encoded = source_key.encode("utf-8", "surrogatepass")
    if len(encoded) <= _READABLE_S3_KEY_BYTES:
        return f"FILE#{source_key}"
    prefix = encoded[:_S3_KEY_PREFIX_BYTES].decode("utf-8", "ignore")  # whole characters
    return f"FILEHASH#{prefix}#{hashlib.sha256(encoded).hexdigest()}"


def load_partition(source_key: str, version: str) -> str:
    """Where the parts of one upload version keep their bookkeeping. The key is hashed: an
    S3 key may be 1,024 bytes, more than a key attribute may hold beside the rest."""
    digest = hashlib.sha256(source_key.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f"LOAD#{digest}#{version}"


def changes_partition(source_key: str, version: str) -> str:
    """Where an upload version keeps the whole list of what changed since the version it
    replaced (gzip-compressed JSON in chunks, changes.to_chunks). Not a version's rows:
    collection leaves it, and it expires with the version's record. Hashed like
    `load_partition`."""
    digest = hashlib.sha256(source_key.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f"CHANGES#{digest}#{version}"


def change_chunk_key(source_key: str, version: str, chunk: int) -> dict[str, str]:
    """One item per chunk of the change list, in order."""
    return {"pk": changes_partition(source_key, version), "sk": f"CHUNK#{chunk:05d}"}


def part_done_key(source_key: str, version: str, part: int) -> dict[str, str]:
    """One item per part loaded: its counts and first rejected rows."""
    return {"pk": load_partition(source_key, version), "sk": f"{PART_DONE_PREFIX}{part:06d}"}


def part_queued_key(source_key: str, version: str, part: int) -> dict[str, str]:
    """Marks that a part was handed to the parts queue, so a retry does not queue it again."""
    return {"pk": load_partition(source_key, version), "sk": f"QUEUED#{part:06d}"}
