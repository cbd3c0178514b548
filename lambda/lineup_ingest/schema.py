"""The table's key design: one place that turns a performance into a DynamoDB item.

Single table, generic key names, three sparse GSIs (see README "Data model"):

=============  =================================  ==================================
index          partition key                      sort key
=============  =================================  ==================================
table          ``FILE#<s3 key>#<shard 00-15>``    ``PERF#<start>#<stage>#<performer>``
ByPerformer    ``PERFORMER#<performer>``          ``<start>#<stage>``
ByStage        ``STAGE#<stage>``                  ``<start>#<performer>``
ByTime         ``DAY#<start date>#<shard 0-3>``   ``<start>#<stage>#<performer>``
=============  =================================  ==================================

Names in keys are *name keys* (case-folded, whitespace collapsed, NFC), so lookups match
regardless of case and spacing; items keep the names as written. The table's partition is
the source file, so a re-upload can find and replace that file's lineup; it is sharded so
that a 100,000-row file does not write to a single partition, as ByTime is sharded so
that a day's sets spread over several partitions.
"""

from __future__ import annotations

import hashlib
import unicodedata
import zlib
from datetime import datetime

from lineup_ingest.parsing import Performance

FILE_SHARDS = 16
TIME_SHARDS = 4

PERFORMER_INDEX = "ByPerformer"
STAGE_INDEX = "ByStage"
TIME_INDEX = "ByTime"

UPLOADS_PARTITION = "UPLOADS"
LONGEST_SET_KEY = {"pk": "META", "sk": "LONGEST_SET"}
# With no longest set recorded yet, a set can still be no longer than a day (End <= Start
# means the next day), so this is a safe look-back for time queries.
MAX_SET_MINUTES = 24 * 60


def name_key(name: str) -> str:
    """The form of a performer or stage name used in keys: case and spacing don't matter."""
    return " ".join(unicodedata.normalize("NFC", name).split()).casefold()


def _shard(text: str, shards: int) -> int:
    # crc32 is stable across processes and Python versions, unlike hash().
    return zlib.crc32(text.encode("utf-8")) % shards


def file_partition(source_key: str, shard: int) -> str:
    return f"FILE#{source_key}#{shard:02d}"


def file_partitions(source_key: str) -> list[str]:
    return [file_partition(source_key, shard) for shard in range(FILE_SHARDS)]


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
    performance: Performance, *, source_key: str, load_id: str, uploaded_at: str
) -> dict[str, str | int]:
    """The item for one performance of one file version: the same row, the same item.

    Nothing in it depends on when it is written, so a duplicate delivery rewrites
    exactly the same items.
    """
    performer = name_key(performance.performer)
    stage = name_key(performance.stage)
    sort_key = f"PERF#{performance.start}#{stage}#{performer}"
    return {
        "pk": file_partition(source_key, _shard(sort_key, FILE_SHARDS)),
        "sk": sort_key,
        "gsi1pk": f"PERFORMER#{performer}",
        "gsi1sk": f"{performance.start}#{stage}",
        "gsi2pk": f"STAGE#{stage}",
        "gsi2sk": f"{performance.start}#{performer}",
        "gsi3pk": day_partition(performance.start[:10], _shard(sort_key, TIME_SHARDS)),
        "gsi3sk": f"{performance.start}#{stage}#{performer}",
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
        "uploaded_at": uploaded_at,
    }


def upload_record_key(source_key: str, etag: str) -> dict[str, str]:
    """One ingest record per file version: a duplicate event rewrites the same record."""
    return {"pk": UPLOADS_PARTITION, "sk": f"FILE#{source_key}#ETAG#{etag}"}


def load_partition(source_key: str, etag: str, uploaded_at: str) -> str:
    """Where the parts of one load of a file keep their bookkeeping.

    A load is one upload: the object's ETag and its upload time (the same content uploaded
    again is a new upload, and is loaded and reported again). The key is hashed: an S3 key
    may be 1,024 bytes, more than a key attribute may hold.
    """
    digest = hashlib.sha256(source_key.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f"LOAD#{digest}#{etag}#{uploaded_at}"


def part_done_key(source_key: str, etag: str, uploaded_at: str, part: int) -> dict[str, str]:
    """One item per part loaded: its counts and first rejected rows."""
    return {"pk": load_partition(source_key, etag, uploaded_at), "sk": f"PART#{part:06d}"}


def part_queued_key(source_key: str, etag: str, uploaded_at: str, part: int) -> dict[str, str]:
    """Marks that a part was handed to the parts queue, so a retry does not queue it again."""
    return {"pk": load_partition(source_key, etag, uploaded_at), "sk": f"QUEUED#{part:06d}"}
