"""A bottom-k sketch of an upload's sets, to tell the same lineup under two names (pure).

Each set's identity (performer, stage, start, end: name keys, so case and spacing do not
matter) is hashed to 64 bits (BLAKE2b); a version's sketch is the K smallest hashes of its
distinct sets. Each part computes the sketch of its rows; the sketches of the parts merge
into the file's (the K smallest of their union) whatever the order, and a part resumed
after a hand-over carries its sketch so far. A file of at most K distinct sets is its
sketch whole: comparisons with it are exact.

``containment(upload, other)`` estimates the share of the upload's sets that are also in
the other file: the upload's sketch is a uniform sample of its sets, and a sampled hash at
or below the other sketch's largest (its threshold) is in the other file exactly when it
is in the other sketch. The estimate counts only those samples, so it needs enough of
them (``MIN_SAMPLES``); docs/ingest.md states the rule and the error.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass
from hashlib import blake2b

from lineup_ingest import schema

# Hashes kept per version: 128 of 16 hex digits, about 2 KB.
K = 128
HASH_DIGITS = 16
# Sampled sets the estimate needs, unless one of the two sketches is its file whole.
MIN_SAMPLES = 32
# The share of an upload's sets already in another file that makes it "the same lineup".
SAME_LINEUP_SHARE = 0.8


def set_hash(performer: str, stage: str, start: str, end: str) -> int:
    """The 64-bit hash of a set's identity: names as name keys, times as stored."""
    return _hash(schema.performer_partition(performer), schema.stage_partition(stage), start, end)


def _hash(performer_partition: str, stage_partition: str, start: str, end: str) -> int:
    identity = "\x1f".join((performer_partition, stage_partition, start, end))
    return int.from_bytes(blake2b(identity.encode("utf-8"), digest_size=8).digest(), "big")


class Sketch:
    """The K smallest distinct hashes seen so far, in constant memory."""

    __slots__ = ("_heap", "_kept")

    def __init__(self, hashes: Iterable[int] = ()) -> None:
        self._heap: list[int] = []  # negated: the largest kept hash on top
        self._kept: set[int] = set()
        for value in hashes:
            self.add(value)

    def add(self, value: int) -> None:
        heap = self._heap
        if len(heap) < K:
            if value not in self._kept:
                heapq.heappush(heap, -value)
                self._kept.add(value)
        elif value < -heap[0] and value not in self._kept:  # most rows stop at the first test
            dropped = -heapq.heappushpop(heap, -value)
            self._kept.discard(dropped)
            self._kept.add(value)

    def merge(self, other: Sketch) -> Sketch:
        for value in other._kept:
            self.add(value)
        return self

    def hashes(self) -> list[int]:
        return sorted(self._kept)

    def encode(self) -> str:
        """The sorted hashes as one string of 16 hex digits each ("" when empty)."""
        return "".join(f"{value:0{HASH_DIGITS}x}" for value in self.hashes())

    @classmethod
    def decode(cls, text: str) -> Sketch:
        if len(text) % HASH_DIGITS:
            raise ValueError(f"a sketch is a multiple of {HASH_DIGITS} hex digits")
        return cls(int(text[i : i + HASH_DIGITS], 16) for i in range(0, len(text), HASH_DIGITS))

    def __len__(self) -> int:
        return len(self._kept)

    @property
    def whole(self) -> bool:
        """Fewer than K distinct sets were seen: the sketch is the whole set."""
        return len(self._kept) < K


@dataclass(frozen=True)
class Containment:
    share: float  # the estimated share of the upload's sets in the other file, 0 to 1
    samples: int  # the upload's sampled sets the estimate rests on
    exact: bool  # both sketches were their files whole


def containment(upload: Sketch, other: Sketch) -> Containment | None:
    """The estimated share of ``upload``'s sets that are in ``other``'s file; None when
    the sketches cannot tell (an empty one, or too few samples)."""
    if not len(upload) or not len(other):
        return None
    mine = upload.hashes()
    theirs = set(other.hashes())
    # Every hash of the other file up to its sketch's largest is in its sketch.
    threshold = None if other.whole else max(theirs)
    sampled = [value for value in mine if threshold is None or value <= threshold]
    exact = upload.whole and other.whole
    if not exact and len(sampled) < MIN_SAMPLES:
        return None
    found = sum(1 for value in sampled if value in theirs)
    return Containment(share=found / len(sampled), samples=len(sampled), exact=exact)


def item_hash(item: dict) -> int:
    """``set_hash`` of a performance item, from the name keys it already holds."""
    identity = f"{item[_PERFORMER_KEY]}\x1f{item[_STAGE_KEY]}\x1f{item['start']}\x1f{item['end']}"
    return int.from_bytes(blake2b(identity.encode("utf-8"), digest_size=8).digest(), "big")


_PERFORMER_KEY = schema.INDEX_KEYS[schema.PERFORMER_INDEX][0]
_STAGE_KEY = schema.INDEX_KEYS[schema.STAGE_INDEX][0]


def same_lineup(upload: Sketch, others: dict[str, Sketch]) -> tuple[str, Containment] | None:
    """The other file holding the largest share of the upload's sets, if that share is at
    least SAME_LINEUP_SHARE (ties: the first name); None otherwise."""
    best: tuple[str, Containment] | None = None
    for name in sorted(others):
        found = containment(upload, others[name])
        if found is None or found.share < SAME_LINEUP_SHARE:
            continue
        if best is None or found.share > best[1].share:
            best = (name, found)
    return best
