"""Clashes in a lineup: what a planner wants to know, never a reason to reject a row (pure).

The service stores a lineup as given (overlapping sets too); this module finds, in any
collection of sets, three kinds of clash:

- **stage overlaps**: two sets on the same stage at overlapping times;
- **double bookings**: one performer on two different stages at overlapping times;
- **short changeovers**: a stage standing empty for less than a minimum (15 minutes by
  default) between one set and the next. A set's changeover is the time from the latest
  end of the sets on its stage that come before it (in time order: by start, then end) to
  its start; when that end is after its start, the set overlaps, which is a stage overlap
  instead. Back to back (the end equal to the next start) is a changeover of 0 minutes.

Sets are half-open ``[start, end)``: a set ending at 21:00 does not overlap one starting
at 21:00. Stages and performers are told apart by their name keys (schema.name_key: case
and spacing do not matter), and the same performer on the same stage at the same start is
one set (as one file loads it), whichever files list it: only the first given is kept.

Each kind is a sort and a sweep per stage or per performer: O(n log n), plus the pairs
listed (`find_clashes`); `count_clashes` counts them in O(n log n) however many there are,
since a few hundred sets all on one stage at once would be tens of thousands of pairs.
Standard library only, so the ingest Lambda and the `festival` command share it.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from lineup_ingest.schema import name_key

DEFAULT_CHANGEOVER_MINUTES = 15
KINDS = ("stage_overlaps", "double_bookings", "short_changeovers")


class Slot(NamedTuple):
    """One set: its names as written, its start and end as 'YYYY-MM-DDTHH:MM'; where it
    comes from (a file and a line), to show a person."""

    performer: str
    stage: str
    start: str
    end: str
    file: str = ""
    line: int = 0

    @classmethod
    def of(cls, item: Mapping[str, Any]) -> Slot:
        """A set from a stored row or a query's answer (``source_key`` or ``source_file``,
        ``source_line`` when it has them)."""
        line = item.get("source_line")
        return cls(
            str(item["performer"]),
            str(item["stage"]),
            str(item["start"]),
            str(item["end"]),
            str(item.get("source_key") or item.get("source_file") or ""),
            int(line) if line is not None else 0,
        )


class Overlap(NamedTuple):
    """Two sets at overlapping times: ``first`` starts first (time order)."""

    first: Slot
    second: Slot
    minutes: int  # how long both run


class Changeover(NamedTuple):
    """A stage empty for less than the minimum between ``before`` ends and ``after`` starts."""

    before: Slot
    after: Slot
    minutes: int  # 0: back to back


class ClashCounts(NamedTuple):
    stage_overlaps: int
    double_bookings: int
    short_changeovers: int

    @property
    def total(self) -> int:
        return self.stage_overlaps + self.double_bookings + self.short_changeovers


@dataclass(frozen=True)
class Clashes:
    """Every clash among some sets, each list in time order (by the later set's start)."""

    changeover_minutes: int
    stage_overlaps: list[Overlap]
    double_bookings: list[Overlap]
    short_changeovers: list[Changeover]

    def counts(self) -> ClashCounts:
        return ClashCounts(
            len(self.stage_overlaps), len(self.double_bookings), len(self.short_changeovers)
        )

    def starting_in(self, start: str, end: str) -> Clashes:
        """The clashes whose later set starts in [start, end) ('YYYY-MM-DDTHH:MM'): each
        clash belongs to one such window, as each set belongs to the night it starts in."""
        return Clashes(
            self.changeover_minutes,
            [o for o in self.stage_overlaps if start <= o.second.start < end],
            [o for o in self.double_bookings if start <= o.second.start < end],
            [c for c in self.short_changeovers if start <= c.after.start < end],
        )


class _Set(NamedTuple):
    """A set in the sweep: its minutes, the keys of its names, its place in time order."""

    start: int
    end: int
    stage: str
    performer: str
    order: int
    slot: Slot


def _minutes(moment: str) -> int:
    parsed = datetime.fromisoformat(moment)
    return parsed.toordinal() * 1440 + parsed.hour * 60 + parsed.minute


def _in_time_order(slots: Iterable[Slot]) -> list[_Set]:
    """The sets, one per (performer, stage, start), in time order: by start, end, stage
    and performer (keys), which is a total order once duplicates are dropped."""
    seen: set[tuple[str, str, str]] = set()
    sets = []
    for slot in slots:
        stage, performer = name_key(slot.stage), name_key(slot.performer)
        identity = (performer, stage, slot.start)
        if identity in seen:
            continue
        seen.add(identity)
        sets.append(_Set(_minutes(slot.start), _minutes(slot.end), stage, performer, 0, slot))
    sets.sort(key=lambda s: (s.start, s.end, s.stage, s.performer))
    return [s._replace(order=n) for n, s in enumerate(sets)]


def _grouped(sets: list[_Set], by: str) -> Iterator[list[_Set]]:
    """The sets of each stage (or performer), each group in time order."""
    groups: dict[str, list[_Set]] = {}
    for s in sets:
        groups.setdefault(getattr(s, by), []).append(s)
    return iter(groups.values())


def _running(group: list[_Set]) -> Iterator[tuple[_Set, list[tuple[int, int, _Set]]]]:
    """Each set of a group, with the earlier sets of the group still running at its start
    (a heap by end): sort and sweep. The list is the sweep's own: read it, don't keep it."""
    heap: list[tuple[int, int, _Set]] = []
    for s in group:
        while heap and heap[0][0] <= s.start:
            heapq.heappop(heap)
        yield s, heap
        heapq.heappush(heap, (s.end, s.order, s))


def _stage_overlaps(sets: list[_Set]) -> Iterator[tuple[_Set, _Set]]:
    for group in _grouped(sets, "stage"):
        for s, running in _running(group):
            for _, _, earlier in running:
                yield earlier, s


def _double_bookings(sets: list[_Set]) -> Iterator[tuple[_Set, _Set]]:
    for group in _grouped(sets, "performer"):
        for s, running in _running(group):
            for _, _, earlier in running:
                if earlier.stage != s.stage:
                    yield earlier, s


def _changeovers(sets: list[_Set], minimum: int) -> Iterator[tuple[_Set, _Set, int]]:
    for group in _grouped(sets, "stage"):
        latest: _Set | None = None  # the earliest in time order of those ending latest
        for s in group:
            if latest is not None and latest.end <= s.start and s.start - latest.end < minimum:
                yield latest, s, s.start - latest.end
            if latest is None or s.end > latest.end:
                latest = s


def _in_time_order_checked(slots: Iterable[Slot], changeover_minutes: int) -> list[_Set]:
    """The sets in time order, once the changeover asked for is known to make sense."""
    if changeover_minutes < 0:
        raise ValueError(f"a changeover is at least 0 minutes, not {changeover_minutes}")
    return _in_time_order(slots)


def find_clashes(
    slots: Iterable[Slot], changeover_minutes: int = DEFAULT_CHANGEOVER_MINUTES
) -> Clashes:
    """Every clash among the sets (see the module's docstring), each kind in time order."""
    sets = _in_time_order_checked(slots, changeover_minutes)

    def overlap(pair: tuple[_Set, _Set]) -> Overlap:
        first, second = pair
        return Overlap(first.slot, second.slot, min(first.end, second.end) - second.start)

    def in_order(pairs: Iterable[tuple[_Set, _Set]]) -> list[Overlap]:
        return [overlap(p) for p in sorted(pairs, key=lambda p: (p[1].order, p[0].order))]

    changeovers = sorted(_changeovers(sets, changeover_minutes), key=lambda c: c[1].order)
    return Clashes(
        changeover_minutes,
        in_order(_stage_overlaps(sets)),
        in_order(_double_bookings(sets)),
        [Changeover(before.slot, after.slot, gap) for before, after, gap in changeovers],
    )


def count_clashes(
    slots: Iterable[Slot], changeover_minutes: int = DEFAULT_CHANGEOVER_MINUTES
) -> ClashCounts:
    """How many clashes of each kind `find_clashes` lists, in O(n log n) however many."""
    sets = _in_time_order_checked(slots, changeover_minutes)
    stage_overlaps = sum(
        len(running) for group in _grouped(sets, "stage") for _, running in _running(group)
    )
    double_bookings = 0
    for group in _grouped(sets, "performer"):
        on_stage: Counter[str] = Counter()  # the running sets of the group, by stage
        heap: list[tuple[int, int, str]] = []
        for s in group:
            while heap and heap[0][0] <= s.start:
                on_stage[heapq.heappop(heap)[2]] -= 1
            double_bookings += len(heap) - on_stage[s.stage]
            heapq.heappush(heap, (s.end, s.order, s.stage))
            on_stage[s.stage] += 1
    short = sum(1 for _ in _changeovers(sets, changeover_minutes))
    return ClashCounts(stage_overlaps, double_bookings, short)


# --- what an upload's record keeps, and its email says --------------------------------------

# A version of more rows than this is not read back at the end of its load to count its
# clashes (docs/ingest.md, "Clashes"): its email says to run `festival clashes`.
MAX_ROWS = 100_000


def counted(counts: ClashCounts, changeover_minutes: int) -> dict[str, int]:
    """The clash counts as an upload's record keeps them."""
    return {**counts._asdict(), "changeover_minutes": changeover_minutes}


def not_counted(rows: int, limit: int = MAX_ROWS, *, out_of_time: bool = False) -> dict[str, Any]:
    """What the record keeps for a version too large to count at the end of its load, or
    whose rows could not be read back within the function's time left."""
    if out_of_time:
        return {"not_counted": f"{rows:,} rows, not read back within the function's time"}
    return {"not_counted": f"{rows:,} rows, more than the {limit:,} counted as a file loads"}


def from_record(facts: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """What `counted` or `not_counted` made, as read back from a record (numbers are
    Decimals there): plain ints and strings, or None."""
    if not facts:
        return None
    if "not_counted" in facts:
        return {"not_counted": str(facts["not_counted"])}
    return {name: int(value) for name, value in facts.items()}


def summary_line(facts: Mapping[str, Any] | None) -> str | None:
    """The email's one line about clashes, from what the record keeps; None without."""
    if not facts:
        return None
    if "not_counted" in facts:
        return f"Clashes:       not counted ({facts['not_counted']}): run festival clashes"
    counts = ClashCounts(*(int(facts.get(kind, 0)) for kind in KINDS))
    minimum = int(facts.get("changeover_minutes", DEFAULT_CHANGEOVER_MINUTES))
    if not counts.total:
        return (
            "Clashes:       none (no stage overlap, no double booking, no changeover under"
            f" {minimum} min)"
        )
    return (
        f"Clashes:       {_many(counts.stage_overlaps, 'stage overlap', 'stage overlaps')},"
        f" {_many(counts.double_bookings, 'double booking', 'double bookings')},"
        f" {_many(counts.short_changeovers, 'changeover', 'changeovers')} under {minimum} min"
        " (festival clashes lists them)"
    )


def _many(count: int, one: str, several: str) -> str:
    return f"{count} {one if count == 1 else several}"
