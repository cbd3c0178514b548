"""The day view's layout: where each set of a festival night sits on its stage's line. Pure.

A festival day runs from its boundary hour (06:00 unless the stack or the page says
otherwise) to the same hour the next day (``festival.nights``), so Saturday's page holds
the sets that start after midnight too. The timeline runs from the hour of the night's
first set to the hour after its last end, past midnight and, for a set running past the
next boundary, past that too: every set is drawn whole, none is cut. Sets of one stage
that overlap as drawn (the same set in two files, a clash in the lineup, or a set too short
to draw at its width) get lanes of their own, so none hides another.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from festival.nights import DEFAULT_DAY_STARTS, night_window
from lineup_ingest import schema

MIN_WIDTH = 4.0  # percent of the timeline: about a name's first letters on a laptop
# Ticks an hour apart, or two or three hours on a longer timeline, so their labels never meet.
TICK_HOURS = ((18, 1), (36, 2))
LONG_TICK_HOURS = 3


@dataclass(frozen=True)
class Block:
    """One set on the timeline; positions are percentages of the timeline's width."""

    performance: dict
    left: float
    width: float
    lane: int
    past_midnight: bool  # it ends on a later calendar day than the night's date


@dataclass(frozen=True)
class StageLine:
    stage: str
    lanes: int
    blocks: list[Block]


@dataclass(frozen=True)
class Tick:
    label: str
    left: float
    midnight: bool = False  # the tick where the next calendar day begins
    weekday: str = ""  # that tick's day ("Sun"), so 01:00 reads as the night's


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


def _hour_floor(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def _hour_ceiling(moment: datetime) -> datetime:
    floor = _hour_floor(moment)
    return floor if floor == moment else floor + timedelta(hours=1)


def day_timeline(
    day: date,
    performances: list[dict],
    now: datetime,
    day_starts: time = DEFAULT_DAY_STARTS,
) -> DayTimeline:
    """Lay out the sets of the festival night ``day`` (``LineupQueries.on_night``), stage by
    stage, each drawn whole from its start to its end."""
    if performances:
        start = _hour_floor(min(_moment(p["start"]) for p in performances))
        end = _hour_ceiling(max(_moment(p["end"]) for p in performances))
        end = max(end, start + timedelta(hours=1))
    else:
        start, end = night_window(day, day_starts)
    span = (end - start).total_seconds()

    def position(moment: datetime) -> float:
        return round(100 * (min(max(moment, start), end) - start).total_seconds() / span, 3)

    ticks = _ticks(start, end, position)

    by_stage: dict[str, list[dict]] = {}
    names: dict[str, str] = {}
    for performance in performances:
        key = schema.name_key(performance["stage"])
        by_stage.setdefault(key, []).append(performance)
        names.setdefault(key, performance["stage"].strip())
    midnight = datetime.combine(day + timedelta(days=1), time())
    stages = []
    for key in sorted(by_stage):
        blocks = _in_lanes(by_stage[key], position, midnight)
        stages.append(StageLine(names[key], 1 + max(b.lane for b in blocks), blocks))

    now_left = position(now) if start <= now <= end else None
    return DayTimeline(day, start, end, ticks, stages, now_left)


def _ticks(start: datetime, end: datetime, position) -> list[Tick]:
    """A tick every hour (or every few on a long timeline), on whole hours of the clock;
    the one where a calendar day begins is marked, so 01:00 reads as the night's."""
    hours = (end - start).total_seconds() / 3600
    step = next((every for most, every in TICK_HOURS if hours <= most), LONG_TICK_HOURS)
    ticks = []
    tick = start
    while tick <= end:
        is_midnight = tick.time() == time()
        weekday = tick.strftime("%a") if is_midnight and tick != start else ""
        ticks.append(Tick(tick.strftime("%H:%M"), position(tick), is_midnight, weekday))
        tick += timedelta(hours=step)
    return ticks


def _in_lanes(performances: list[dict], position, midnight: datetime) -> list[Block]:
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
        blocks.append(
            Block(performance, left, round(width, 3), lane, past_midnight=set_end > midnight)
        )
    return blocks
