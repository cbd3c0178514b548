"""The day view's layout: where each set of a day sits on its stage's line. Pure.

The timeline runs from the hour before the day's first set to the hour after its last end,
cut at midnight: a set past midnight is drawn to the right edge and says when it ends.
Sets of one stage that overlap as drawn (the same set in two files, a clash in the lineup,
or a set too short to draw at its width) get lanes of their own, so none hides another.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from lineup_ingest import schema

MIN_WIDTH = 4.0  # percent of the timeline: about a name's first letters on a laptop


@dataclass(frozen=True)
class Block:
    """One set on the timeline; positions are percentages of the timeline's width."""

    performance: dict
    left: float
    width: float
    lane: int
    past_midnight: bool


@dataclass(frozen=True)
class StageLine:
    stage: str
    lanes: int
    blocks: list[Block]


@dataclass(frozen=True)
class Tick:
    label: str
    left: float


@dataclass(frozen=True)
class DayTimeline:
    day: date
    start: datetime
    end: datetime
    ticks: list[Tick]
    stages: list[StageLine]
    now_left: float | None  # the current-time line, when now is on the timeline


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


def day_timeline(day: date, performances: list[dict], now: datetime) -> DayTimeline:
    """Lay out the sets starting on ``day`` (``LineupQueries.on_day``), stage by stage."""
    midnight = datetime.combine(day, time())
    next_midnight = midnight + timedelta(days=1)
    if performances:
        first = min(_moment(p["start"]) for p in performances)
        last = max(_moment(p["end"]) for p in performances)
        start = first.replace(minute=0)
        end = min(next_midnight, last.replace(minute=0) + timedelta(hours=1))
    else:
        start, end = midnight, next_midnight
    span = (end - start).total_seconds()

    def position(moment: datetime) -> float:
        return round(100 * (min(moment, end) - start).total_seconds() / span, 3)

    ticks = []
    tick = start
    while tick <= end:
        ticks.append(
            Tick("24:00" if tick == next_midnight else tick.strftime("%H:%M"), position(tick))
        )
        tick += timedelta(hours=1)

    by_stage: dict[str, list[dict]] = {}
    names: dict[str, str] = {}
    for performance in performances:
        key = schema.name_key(performance["stage"])
        by_stage.setdefault(key, []).append(performance)
        names.setdefault(key, performance["stage"].strip())
    stages = []
    for key in sorted(by_stage):
        blocks = _in_lanes(by_stage[key], position, end)
        stages.append(StageLine(names[key], 1 + max(b.lane for b in blocks), blocks))

    now_left = position(now) if start <= now <= end else None
    return DayTimeline(day, start, end, ticks, stages, now_left)


def _in_lanes(performances: list[dict], position, end: datetime) -> list[Block]:
    """Each set in the first lane free where it is drawn.

    A set is drawn at least MIN_WIDTH wide (a name must fit), kept inside the timeline, so a
    short set may push the next one into another lane rather than cover it.
    """
    lane_ends: list[float] = []
    blocks = []
    for performance in sorted(performances, key=lambda p: (p["start"], p["end"])):
        set_start, set_end = _moment(performance["start"]), _moment(performance["end"])
        left = position(set_start)
        width = max(position(set_end) - left, MIN_WIDTH)
        left = round(min(left, 100 - width), 3)
        lane = next((n for n, drawn_to in enumerate(lane_ends) if drawn_to <= left), len(lane_ends))
        if lane == len(lane_ends):
            lane_ends.append(left + width)
        else:
            lane_ends[lane] = left + width
        blocks.append(Block(performance, left, round(width, 3), lane, past_midnight=set_end > end))
    return blocks
