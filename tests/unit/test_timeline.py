"""The day view's layout of a festival night: every set drawn whole, past midnight too."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest

from festival.explorer.timeline import day_timeline

SATURDAY = date(2025, 7, 12)
EVENING = datetime(2025, 7, 12, 22, 40)


def performance(performer: str, stage: str, start: str, end: str) -> dict:
    return {"performer": performer, "stage": stage, "start": start, "end": end}


def blocks(timeline) -> dict[str, tuple[float, float, int]]:
    """(left, right, lane) of each set, by performer."""
    return {
        block.performance["performer"]: (block.left, block.left + block.width, block.lane)
        for line in timeline.stages
        for block in line.blocks
    }


def test_a_night_runs_past_midnight_and_draws_each_set_whole():
    timeline = day_timeline(
        SATURDAY,
        [
            performance("Opener", "Main", "2025-07-12T20:00", "2025-07-12T21:00"),
            performance("Kraftwerk", "Main", "2025-07-12T23:59", "2025-07-13T01:15"),
            performance("Fred again..", "Tent", "2025-07-13T00:00", "2025-07-13T02:00"),
        ],
        EVENING,
    )

    assert (timeline.start, timeline.end) == (
        datetime(2025, 7, 12, 20, 0),
        datetime(2025, 7, 13, 2, 0),
    )
    drawn = blocks(timeline)
    hours = 6
    assert drawn["Kraftwerk"][:2] == (
        pytest.approx(100 * (3 + 59 / 60) / hours, abs=0.01),
        pytest.approx(100 * 5.25 / hours, abs=0.01),
    )
    assert drawn["Fred again.."][:2] == (pytest.approx(100 * 4 / hours, abs=0.01), 100)
    assert [(tick.weekday + " " + tick.label).strip() for tick in timeline.ticks] == [
        "20:00",
        "21:00",
        "22:00",
        "23:00",
        "Sun 00:00",
        "01:00",
        "02:00",
    ]
    assert [tick.midnight for tick in timeline.ticks].index(True) == 4
    assert {
        b.performance["performer"]: b.past_midnight for line in timeline.stages for b in line.blocks
    } == {
        "Opener": False,
        "Kraftwerk": True,
        "Fred again..": True,
    }


def test_a_set_running_past_the_next_boundary_is_drawn_to_its_end():
    timeline = day_timeline(
        SATURDAY,
        [performance("Sunrise", "Main", "2025-07-13T05:00", "2025-07-13T07:30")],
        EVENING,
    )

    assert (timeline.start, timeline.end) == (
        datetime(2025, 7, 13, 5, 0),
        datetime(2025, 7, 13, 8, 0),
    )
    assert blocks(timeline)["Sunrise"][:2] == (0, pytest.approx(100 * 2.5 / 3, abs=0.01))


def test_a_night_without_sets_spans_its_window_from_the_boundary():
    timeline = day_timeline(SATURDAY, [], EVENING, day_starts=time(5, 0))

    assert (timeline.start, timeline.end) == (
        datetime(2025, 7, 12, 5, 0),
        datetime(2025, 7, 13, 5, 0),
    )
    assert timeline.stages == []
    assert timeline.now_left == pytest.approx(100 * (17 + 40 / 60) / 24, abs=0.01)


def test_a_long_timeline_puts_its_ticks_hours_apart_so_labels_never_meet():
    day_long = [performance("All Day", "Main", "2025-07-12T06:00", "2025-07-13T06:00")]
    ticks = day_timeline(SATURDAY, day_long, EVENING).ticks

    assert len(ticks) == 13  # every 2 hours from 06:00 to 06:00
    assert ticks[0].label == "06:00" and ticks[-1].label == "06:00"
    assert [tick.weekday for tick in ticks if tick.midnight] == ["Sun"]


def test_the_now_line_is_drawn_only_when_now_is_on_the_timeline():
    sets = [performance("Late", "Main", "2025-07-12T23:00", "2025-07-13T01:00")]

    assert day_timeline(SATURDAY, sets, datetime(2025, 7, 13, 0, 30)).now_left == 75
    assert day_timeline(SATURDAY, sets, EVENING).now_left is None


def test_sets_overlapping_as_drawn_get_lanes_of_their_own():
    timeline = day_timeline(
        SATURDAY,
        [
            performance("A", "Main", "2025-07-12T22:00", "2025-07-13T01:00"),
            performance("B", "main ", "2025-07-13T00:00", "2025-07-13T02:00"),
        ],
        EVENING,
    )

    (line,) = timeline.stages
    assert line.lanes == 2
    assert {name: lane for name, (_, _, lane) in blocks(timeline).items()} == {"A": 0, "B": 1}
