"""The day view's pages of stages for a night too big for one page: whole stages, in order,
each page within the limit unless one stage alone passes it."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from festival.explorer.paging import on_page, stage_pages, stages_page
from festival.explorer.timeline import day_timeline

sizes_of_stages = st.lists(st.integers(min_value=1, max_value=60), max_size=40)
limits = st.integers(min_value=1, max_value=120)


@given(sizes_of_stages, limits)
def test_pages_cut_the_stages_in_order_into_whole_stages_within_the_limit(sizes, limit):
    pages = stage_pages(sizes, limit)

    assert [index for page in pages for index in page] == list(range(len(sizes)))
    assert all(page for page in pages)
    for page in pages:
        held = sum(sizes[index] for index in page)
        assert held <= limit or len(page) == 1
    for page, following in zip(pages, pages[1:], strict=False):
        # a page ends only where the next stage would take it past the limit
        assert sum(sizes[index] for index in page) + sizes[following[0]] > limit


@given(sizes_of_stages, limits, st.integers(min_value=-3, max_value=50))
def test_the_page_asked_for_or_the_nearest_is_shown(sizes, limit, asked):
    shown = stages_page(sizes, str(asked), limit)

    if sum(sizes) <= limit:
        assert shown is None
        return
    assert shown is not None
    pages = stage_pages(sizes, limit)
    assert shown.count == len(pages)
    assert shown.number == min(max(asked, 1), len(pages))
    assert shown.stages == pages[shown.number - 1]
    assert shown.sets == sum(sizes[index] for index in shown.stages)
    assert (shown.stage_count, shown.set_count) == (len(sizes), sum(sizes))
    assert (shown.error is None) == (1 <= asked <= len(pages))


def test_a_night_within_the_limit_has_no_pages():
    assert stages_page([200, 200], "", limit=400) is None
    assert stages_page([200, 200], "7", limit=400) is None  # nothing to page: as before


def test_a_stage_larger_than_the_limit_is_a_page_of_its_own():
    assert stage_pages([50, 500, 50, 50], 400) == [range(0, 1), range(1, 2), range(2, 4)]


def test_the_first_page_is_shown_unless_another_is_asked():
    shown = stages_page([300, 300, 300], "", limit=400)

    assert shown is not None
    assert (shown.number, shown.count, shown.previous, shown.next) == (1, 3, None, 2)
    assert shown.error is None
    last = stages_page([300, 300, 300], " 3 ", limit=400)
    assert last is not None and (last.previous, last.next) == (2, None)


@pytest.mark.parametrize(
    ("asked", "number", "error"),
    [
        ("0", 1, "'0' is not a page of stages from 1 to 3: page 1 shown"),
        ("-2", 1, "'-2' is not a page of stages from 1 to 3: page 1 shown"),
        ("999", 3, "'999' is not a page of stages from 1 to 3: page 3 shown"),
        ("x", 1, "'x' is not a page of stages from 1 to 3: page 1 shown"),
        ("2.5", 1, "'2.5' is not a page of stages from 1 to 3: page 1 shown"),
    ],
)
def test_a_page_that_is_not_one_shows_the_nearest_and_says_why(asked, number, error):
    shown = stages_page([300, 300, 300], asked, limit=400)

    assert shown is not None
    assert (shown.number, shown.error) == (number, error)


def test_a_page_draws_its_stages_on_the_whole_nights_hours_and_lists_their_sets():
    night = [
        {
            "performer": "A",
            "stage": "Arena",
            "start": "2025-07-12T14:00",
            "end": "2025-07-12T15:00",
        },
        {"performer": "B", "stage": "Barn", "start": "2025-07-12T20:00", "end": "2025-07-13T02:00"},
        {
            "performer": "C",
            "stage": " arena ",
            "start": "2025-07-12T16:00",
            "end": "2025-07-12T17:00",
        },
        {"performer": "D", "stage": "Cave", "start": "2025-07-12T18:00", "end": "2025-07-12T19:00"},
    ]
    timeline = day_timeline(date(2025, 7, 12), night, datetime(2025, 7, 12, 18, 30))
    shown = stages_page([len(line.blocks) for line in timeline.stages], "2", limit=2)
    assert shown is not None and shown.stages == range(1, 3)

    paged, sets = on_page(timeline, night, shown)

    assert [line.stage for line in paged.stages] == ["Barn", "Cave"]
    assert [p["performer"] for p in sets] == ["B", "D"]
    assert (paged.start, paged.end, paged.ticks, paged.now_left) == (
        timeline.start,
        timeline.end,
        timeline.ticks,
        timeline.now_left,
    )
