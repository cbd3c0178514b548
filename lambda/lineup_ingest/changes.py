"""What changed between two versions of a lineup file: sets added, removed and moved (pure).

A *set* is a row as the table stores it: (performer, stage, start, end), names as written,
times normalized (``2025-07-12T23:59``). Between the version a file had (``old``) and the
version that replaces it (``new``):

- *added* are the sets of ``new`` not in ``old``, *removed* those of ``old`` not in ``new``
  (a set difference: a set whose performer, stage, start or end changed is in both);
- *moved* pairs a removed set with an added set of the same performer (the name exactly as
  written), one to one, nearest starts first: the pair is shown once, old stage and times
  beside the new ones, and counted neither as added nor as removed.

So ``old - removed - {m.old} + added + {m.new} == new`` (`Changes.applied_to`, a property
test). The pairing is greedy on the time line: of a performer's removed and added sets,
the two whose starts are nearest are paired first, then the nearest of the rest. The nearest
pair is always two neighbours in start order, so a heap of neighbouring pairs finds each in
O(log n): a performer with thousands of sets costs no more than thousands of performers.

The end of a load (outcome.py) keeps three things of it: counts and the first
`SHOWN_IN_EMAIL` of each kind on the upload's record (the email is written from them,
and sent again from them by the sweep), and the whole list as gzip-compressed JSON split in
chunks (`to_chunks`) in items of their own, for ``festival changes``. A version larger than
`MAX_ROWS` is not compared: the record says why (`skipped`).
"""

from __future__ import annotations

import gzip
import heapq
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple

from lineup_ingest import schema

# Rows of either version above which no change report is made: comparing reads both
# versions whole (a Query of each one's partitions, 4 attributes a row). 100,000 rows a
# version is about 60 MB read and 40 MB of memory, a few seconds in the function.
MAX_ROWS = 100_000
SHOWN_IN_EMAIL = 20  # of each kind, on the record and in the email
# Bytes of compressed JSON per chunk item: under DynamoDB's 400 KB item limit with the keys.
CHUNK_BYTES = 350_000

NEW = "new"  # no version of the file was current: every set is new
COMPARED = "compared"
SKIPPED = "skipped"


class Set(NamedTuple):
    """One set as stored: its identity in a change report."""

    performer: str
    stage: str
    start: str
    end: str

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> Set:
        return cls(str(row["performer"]), str(row["stage"]), str(row["start"]), str(row["end"]))

    def sort_key(self) -> tuple[str, str, str, str]:
        return self.start, self.stage.casefold(), self.performer, self.end


class Move(NamedTuple):
    """A set of one performer that changed stage or time: as it was and as it is."""

    old: Set
    new: Set


@dataclass
class Changes:
    """The whole difference of two versions, each list in time order (moves by new start)."""

    added: list[Set] = field(default_factory=list)
    removed: list[Set] = field(default_factory=list)
    moved: list[Move] = field(default_factory=list)

    def applied_to(self, old: Iterable[Set]) -> set[Set]:
        """The sets of the new version, from the old version's and this report."""
        result = set(old)
        result -= set(self.removed) | {move.old for move in self.moved}
        return result | set(self.added) | {move.new for move in self.moved}

    def counts(self) -> dict[str, int]:
        return {"added": len(self.added), "removed": len(self.removed), "moved": len(self.moved)}

    def to_data(self, limit: int | None = None) -> dict[str, list[list[str]]]:
        """Compact plain data (lists of strings): the first ``limit`` of each kind, or all."""
        return {
            "added": [list(s) for s in self.added[:limit]],
            "removed": [list(s) for s in self.removed[:limit]],
            "moved": [[*move.old, *move.new] for move in self.moved[:limit]],
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Changes:
        return cls(
            added=[Set(*map(str, s)) for s in data.get("added") or []],
            removed=[Set(*map(str, s)) for s in data.get("removed") or []],
            moved=[
                Move(Set(*map(str, m[:4])), Set(*map(str, m[4:8]))) for m in data.get("moved") or []
            ],
        )


def compare(old: Iterable[Set], new: Iterable[Set]) -> Changes:
    """What changed from ``old`` to ``new`` (each an iterable of sets; repeats count once)."""
    old_sets, new_sets = set(old), set(new)
    gone, came = old_sets - new_sets, new_sets - old_sets
    by_performer: dict[str, tuple[list[Set], list[Set]]] = {}
    for one in gone:
        by_performer.setdefault(one.performer, ([], []))[0].append(one)
    for one in came:
        by_performer.setdefault(one.performer, ([], []))[1].append(one)
    moved: list[Move] = []
    for removed, added in by_performer.values():
        if removed and added:
            moved += _pair_nearest(removed, added)
    paired_old = {move.old for move in moved}
    paired_new = {move.new for move in moved}
    return Changes(
        added=sorted(came - paired_new, key=Set.sort_key),
        removed=sorted(gone - paired_old, key=Set.sort_key),
        moved=sorted(moved, key=lambda move: (move.new.sort_key(), move.old.sort_key())),
    )


def as_loaded(performances: Iterable[Any]) -> list[Set]:
    """The sets a file's rows (performances.Performance) load as: a set repeated in the file
    (the same start, stage and performer, in any spelling: one item of the table) once,
    the last row winning, as the load writes it."""
    by_item: dict[tuple[str, str, str], Set] = {}
    for row in performances:
        item = (row.start, schema.name_key(row.stage), schema.name_key(row.performer))
        by_item[item] = Set(row.performer, row.stage, row.start, row.end)
    return list(by_item.values())


def _minutes(start: str) -> int:
    try:
        moment = datetime.fromisoformat(start)
    except ValueError:  # not a stored time: no nearness to speak of, still paired
        return 0
    return (moment.toordinal() * 24 + moment.hour) * 60 + moment.minute


def _pair_nearest(removed: list[Set], added: list[Set]) -> list[Move]:
    """Pair removed and added sets one to one, the nearest starts first (greedy).

    The sets, old and new, are put in one line by start. The pair of an old and a new set
    with the nearest starts is two neighbours of that line (anything between them would be
    nearer to one of them), so only neighbours are candidates: a heap of them, and when a
    pair is taken its two outer neighbours become neighbours. Ties go to the earlier pair.
    """
    line = sorted(
        [(_minutes(s.start), 0, s.sort_key(), s) for s in removed]
        + [(_minutes(s.start), 1, s.sort_key(), s) for s in added]
    )
    count = len(line)
    before = list(range(-1, count - 1))
    after = list(range(1, count + 1))
    taken = [False] * count
    heap: list[tuple[int, int, int]] = []

    def candidate(left: int, right: int) -> None:
        if 0 <= left and right < count and line[left][1] != line[right][1]:
            heapq.heappush(heap, (line[right][0] - line[left][0], left, right))

    for index in range(count - 1):
        candidate(index, index + 1)
    moves: list[Move] = []
    while heap:
        _, left, right = heapq.heappop(heap)
        if taken[left] or taken[right] or after[left] != right:
            continue
        taken[left] = taken[right] = True
        old, new = (line[left][3], line[right][3])
        if line[left][1] == 1:
            old, new = new, old
        moves.append(Move(old, new))
        outer_left, outer_right = before[left], after[right]
        if outer_left >= 0:
            after[outer_left] = outer_right
        if outer_right < count:
            before[outer_right] = outer_left
        candidate(outer_left, outer_right)
    return moves


# --- what is kept: the whole list in chunks, a summary on the record --------------------------


def to_chunks(changes: Changes, chunk_bytes: int | None = None) -> list[bytes]:
    """The whole list as gzip-compressed JSON, cut in pieces of at most ``chunk_bytes``
    (`CHUNK_BYTES`)."""
    chunk_bytes = chunk_bytes or CHUNK_BYTES
    data = json.dumps(changes.to_data(), ensure_ascii=False, separators=(",", ":"))
    packed = gzip.compress(data.encode("utf-8"), compresslevel=6, mtime=0)
    return [packed[at : at + chunk_bytes] for at in range(0, len(packed), chunk_bytes)] or [b""]


def from_chunks(chunks: Iterable[bytes]) -> Changes:
    """The whole list again from its chunks, in order."""
    packed = b"".join(chunks)
    if not packed:
        return Changes()
    return Changes.from_data(json.loads(gzip.decompress(packed).decode("utf-8")))


def plain(value: Any) -> Any:
    """A summary as read back from DynamoDB (numbers as Decimal) in plain JSON types, so
    that logs and reports can write it."""
    if isinstance(value, Mapping):
        return {str(name): plain(inner) for name, inner in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(inner) for inner in value]
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def new_file() -> dict[str, Any]:
    """The summary of a file's first version (no version was current before it)."""
    return {"state": NEW}


def skipped(
    rows: int,
    previous_rows: int,
    previous: Mapping[str, Any],
    limit: int,
    *,
    out_of_time: bool = False,
) -> dict:
    """The summary when either version is too large to compare, or when reading them
    would not end within the function's time left (``out_of_time``)."""
    return {
        **_previous(previous),
        "state": SKIPPED,
        "rows": rows,
        "previous_rows": previous_rows,
        "limit": limit,
        **({"out_of_time": True} if out_of_time else {}),
    }


def summary(
    changes: Changes, previous: Mapping[str, Any], chunks: int, shown: int = SHOWN_IN_EMAIL
) -> dict[str, Any]:
    """What the upload's record keeps: the counts, the first ``shown`` of each kind, and
    how many chunk items hold the whole list."""
    return {
        **_previous(previous),
        "state": COMPARED,
        **changes.counts(),
        "first": changes.to_data(shown),
        "chunks": chunks,
    }


def _previous(record: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "previous": str(record.get("version") or ""),
        "previous_uploaded_at": str(record.get("uploaded_at") or ""),
        "previous_etag": str(record.get("etag") or ""),
    }


# --- in words --------------------------------------------------------------------------------


def when(one: Set) -> str:
    """A set's stage and times, as the email and `festival changes` write them:
    ``Main Stage, 2025-07-12 23:59-01:15 (+1 day)``."""
    start, end = one.start.replace("T", " "), one.end.replace("T", " ")
    if end[:10] == start[:10]:
        span = f"{start}-{end[11:]}"
    elif len(end) >= 16 and len(start) >= 16:
        span = f"{start}-{end[11:]} (ends {end[:10]})"
    else:
        span = f"{start} to {end}"
    return f"{one.stage}, {span}"


def describe(one: Set) -> str:
    return f"{one.performer}: {when(one)}"


def describe_move(move: Move) -> str:
    return f"{move.old.performer}: {when(move.old)} -> {when(move.new)}"


def email_lines(facts: Mapping[str, Any] | None, file: str) -> list[str]:
    """The email's section on what changed, from the record's summary (none if absent)."""
    if not facts:
        return []
    state = facts.get("state")
    if state == NEW:
        return ["New file: no earlier upload of this key."]
    since = f"version {facts.get('previous') or 'unknown'}, uploaded " + (
        str(facts.get("previous_uploaded_at") or "at an unknown time").replace("T", " ")
    )
    if state == SKIPPED:
        rows, previous_rows = int(facts.get("rows", 0)), int(facts.get("previous_rows", 0))
        why = (
            "reading both versions' rows did not fit in the function's time left"
            if facts.get("out_of_time")
            else f"a change report reads at most {int(facts.get('limit', MAX_ROWS)):,} rows of each"
        )
        return [
            f"Changes since the previous upload ({since}): not compared. This version has"
            f" {rows:,} rows and the previous {previous_rows:,}; {why}.",
            "To see what changed, compare the two CSV files:"
            " `festival changes --files OLD.csv NEW.csv`.",
        ]
    counts = {kind: int(facts.get(kind, 0)) for kind in ("added", "removed", "moved")}
    lines = [
        f"Changes since the previous upload ({since}): {counts['added']} added,"
        f" {counts['removed']} removed, {counts['moved']} moved"
    ]
    if not any(counts.values()):
        lines[0] += " (the same sets)."
        return lines
    first = Changes.from_data(facts.get("first") or {})
    shown: dict[str, list[str]] = {
        "added": [describe(one) for one in first.added],
        "removed": [describe(one) for one in first.removed],
        "moved": [describe_move(move) for move in first.moved],
    }
    for kind, title in (("added", "Added"), ("removed", "Removed"), ("moved", "Moved")):
        if not counts[kind]:
            continue
        listed = shown[kind]
        more = f"first {len(listed)} of {counts[kind]}" if len(listed) < counts[kind] else ""
        lines.append(f"{title} ({more or counts[kind]}):")
        lines += [f"  {line}" for line in listed]
    if any(len(shown[kind]) < counts[kind] for kind in counts):
        lines.append(f"The whole list: `festival changes {file}`.")
    return lines
