"""The day view of a festival night too big for one page, in process against in-memory AWS
(moto): a page of whole stages at a time, links through every page, the whole night's clash
marks on each. The page limit is lowered so that 302 sets (quick to load) span pages."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from festival.explorer import paging
from festival.nights import DEFAULT_DAY_STARTS
from tests.functional.moto_lineup import MotoLineup
from tests.functional.test_explorer import (  # noqa: F401 (fixtures)
    Element,
    _walk,
    as_shown,
    client_of,
    moto,
    page,
    shown_sets,
    words,
)
from tests.lineups import lineup_csv
from tests.moto_aws import moto_lineup

pytestmark = pytest.mark.functional

NIGHT = date(2025, 7, 12)
QUIET_NIGHT = date(2025, 7, 13)
DAY_STARTS = DEFAULT_DAY_STARTS  # the explorer's default
LIMIT = 40
# Sets of each of the night's 30 stages: 300, every stage within a page of LIMIT.
STAGE_SIZES = [4, 9, 14, 13, 10, 10] * 5
STAGES = [f"Stage {number:02d}" for number in range(1, len(STAGE_SIZES) + 1)]
# One performer on the first stage and the last at once: a clash across pages.
DOUBLE_BOOKED = "Double Booked"


def stage_rows(stage: str, count: int, first: datetime) -> list[list[str]]:
    """``count`` sets of 5 minutes, 20 minutes apart: no changeover under 15 minutes."""
    rows = []
    for number in range(count):
        start = first + timedelta(minutes=20 * number)
        end = start + timedelta(minutes=5)
        rows.append(
            [
                f"{stage} act {number:02d}",
                stage,
                start.strftime("%H:%M"),
                end.strftime("%H:%M"),
                start.date().isoformat(),
            ]
        )
    return rows


def big_night_rows() -> list[list[str]]:
    rows = []
    for stage, count in zip(STAGES, STAGE_SIZES, strict=True):
        rows += stage_rows(stage, count, datetime(2025, 7, 12, 6, 0))
    # After each stage's last set (22:25 at the latest), with changeovers of 15 minutes or more.
    rows.append([DOUBLE_BOOKED, STAGES[0], "23:00", "23:30", "2025-07-12"])
    rows.append([DOUBLE_BOOKED, STAGES[-1], "23:10", "23:40", "2025-07-12"])
    # Sunday: a night within the limit.
    rows += stage_rows("Main Stage", 3, datetime(2025, 7, 13, 18, 0))
    rows += stage_rows("Tent", 2, datetime(2025, 7, 13, 19, 0))
    return rows


@pytest.fixture(scope="module")
def big_night() -> Iterator[MotoLineup]:
    """302 sets on Saturday night over 30 stages and 5 on Sunday, loaded once: the tests
    only read them."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(paging, "MAX_SETS_PER_PAGE", LIMIT)
        with moto_lineup(monkeypatch) as lineup:
            report = lineup.load("uploads/big-night.csv", lineup_csv(big_night_rows()))
            assert (report.status.value, report.rows_loaded) == ("OK", 307)
            yield lineup


@pytest.fixture(autouse=True)
def small_pages(monkeypatch):
    monkeypatch.setattr(paging, "MAX_SETS_PER_PAGE", LIMIT)


@pytest.fixture(scope="module")
def big_pages(big_night) -> list[tuple[str, Element]]:
    """Saturday's pages, from the first by the next links, read once (each reads the night)."""
    return every_page(client_of(big_night), FIRST_PAGE)


def stages_drawn(root: Element) -> list[str]:
    return [words(line.find("stage-name")[0].text) for line in root.find("stage-line")]


def link(root: Element, css_class: str) -> str | None:
    found = root.find(css_class)
    return found[0].attrs["href"] if found else None


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def every_page(client, first_url: str) -> list[tuple[str, Element]]:
    """The pages of stages from the first, by their next links: (address, page)."""
    pages: list[tuple[str, Element]] = []
    url: str | None = first_url
    while url is not None:
        assert len(pages) < 100, "the next links go round"
        response = client.get(url)
        assert response.status_code == 200
        root = page(response)
        pages.append((url, root))
        url = link(root, "next-page")
    return pages


FIRST_PAGE = f"/day?date={NIGHT.isoformat()}&day-starts=06:00"


def test_a_big_night_is_shown_a_page_of_whole_stages_at_a_time(big_night, big_pages):
    night = big_night.queries.on_night(NIGHT, DAY_STARTS)
    pages = big_pages

    assert len(pages) > 5
    drawn: list[str] = []
    listed = []
    for number, (_, root) in enumerate(pages, start=1):
        stages = stages_drawn(root)
        in_table = shown_sets(root)
        assert {row[1] for row in in_table} == set(stages)
        on_timeline = sorted(words(block.find("name")[0].text) for block in root.find("set"))
        assert on_timeline == sorted(row[0] for row in in_table)
        sets = len(in_table)
        assert sets <= LIMIT
        line = words(root.find("stages-shown")[0].text)
        first = len(drawn) + 1
        assert line == (
            f"Stages {first}–{first + len(stages) - 1} of 30 ({sets:,} of 302 sets)."
        ), number
        drawn += stages
        listed += in_table
    # Each stage on one page, in the timeline's order, and every set of the night once: so
    # each stage's sets are all on its page.
    assert drawn == STAGES
    assert sorted(listed) == as_shown(night, on_day=NIGHT)
    # Each page took stages until the next would have passed the limit.
    sizes = dict(zip(STAGES, STAGE_SIZES, strict=True))
    sizes[STAGES[0]] += 1
    sizes[STAGES[-1]] += 1
    for (_, root), (_, following) in zip(pages, pages[1:], strict=False):
        held = sum(sizes[stage] for stage in stages_drawn(root))
        assert held + sizes[stages_drawn(following)[0]] > LIMIT


def test_the_page_links_lead_through_every_page_and_back_keeping_the_date_and_boundary(
    big_pages,
):
    pages = big_pages

    assert link(pages[0][1], "previous-page") is None
    assert link(pages[-1][1], "next-page") is None
    for number, (url, root) in enumerate(pages[1:], start=2):
        assert query_of(url) == {
            "date": [NIGHT.isoformat()],
            "day-starts": ["06:00"],
            "stages-page": [str(number)],
        }
        previous = link(root, "previous-page")
        assert previous is not None
        assert query_of(previous) == {**query_of(url), "stages-page": [str(number - 1)]}
    # The arrows to the day before and after start that day on its first page.
    arrows = [e.attrs["href"] for e in _walk(pages[1][1]) if e.attrs.get("rel") in ("prev", "next")]
    assert len(arrows) == 2
    assert all(query_of(arrow).keys() == {"date", "day-starts"} for arrow in arrows)


def test_every_page_keeps_the_whole_nights_hours_clash_count_and_now_line(big_pages):
    pages = big_pages

    def hours(root: Element) -> list[tuple[str, str]]:
        return [(words(tick.text), tick.style("left")) for tick in root.find("tick")]

    first = pages[0][1]
    assert hours(first)[0][0] == "06:00"  # the night's first set, on every page
    for _, root in pages:
        assert hours(root) == hours(first)
        (note,) = root.find("clash-note")
        assert words(note.text).startswith("1 clash this day: 0 stage overlaps, 1 double booking")
        now_lines = root.find("now")
        assert len(now_lines) == len(stages_drawn(root))
        assert {line.style("left") for line in now_lines} == {first.find("now")[0].style("left")}


def test_a_clash_between_stages_on_different_pages_marks_both_sets(big_pages):
    first, last = big_pages[0][1], big_pages[-1][1]

    assert STAGES[0] in stages_drawn(first) and STAGES[-1] in stages_drawn(last)
    for root in (first, last):
        marked = [
            (words(block.find("name")[0].text), "clash" in block.classes)
            for block in root.find("set")
        ]
        assert [name for name, clashing in marked if clashing] == [DOUBLE_BOOKED]


def test_a_night_within_the_limit_is_shown_whole_without_pages(big_night):
    client = client_of(big_night)
    response = client.get(f"/day?date={QUIET_NIGHT.isoformat()}")

    root = page(response)
    assert not root.find("stage-pages") and not root.find("error")
    assert "stages" not in words(root.find("print-note")[0].text)
    night = big_night.queries.on_night(QUIET_NIGHT, DAY_STARTS)
    assert shown_sets(root) == as_shown(night, on_day=QUIET_NIGHT)
    assert stages_drawn(root) == ["Main Stage", "Tent"]
    asked_a_page = client.get(f"/day?date={QUIET_NIGHT.isoformat()}&stages-page=3")
    assert asked_a_page.get_data() == response.get_data()  # nothing to page: as without


@pytest.mark.parametrize(("asked", "nearest"), [("0", "first"), ("999", "last"), ("x", "first")])
def test_a_page_that_is_not_one_says_why_and_shows_the_nearest(
    big_night, big_pages, asked, nearest
):
    response = client_of(big_night).get(f"/day?date={NIGHT.isoformat()}&stages-page={asked}")

    assert response.status_code == 200
    root = page(response)
    (error,) = root.find("error")
    number = 1 if nearest == "first" else len(big_pages)
    assert words(error.text) == (
        f"{asked!r} is not a page of stages from 1 to {len(big_pages)}: page {number} shown"
    )
    assert stages_drawn(root) == stages_drawn(big_pages[number - 1][1])


def test_a_stage_of_more_sets_than_a_page_holds_is_a_page_of_its_own(moto, monkeypatch):  # noqa: F811
    rows = [
        *stage_rows("Acoustic Barn", 5, datetime(2025, 7, 12, 12, 0)),
        *stage_rows("Big Top", 30, datetime(2025, 7, 12, 12, 0)),
        *stage_rows("Cellar", 5, datetime(2025, 7, 12, 12, 0)),
    ]
    assert moto.load("uploads/big-top.csv", lineup_csv(rows)).rows_loaded == 40
    monkeypatch.setattr(paging, "MAX_SETS_PER_PAGE", 10)

    pages = every_page(client_of(moto), f"/day?date={NIGHT.isoformat()}")

    assert [stages_drawn(root) for _, root in pages] == [["Acoustic Barn"], ["Big Top"], ["Cellar"]]
    assert [words(root.find("stages-shown")[0].text) for _, root in pages] == [
        "Stage 1 of 3 (5 of 40 sets).",
        "Stage 2 of 3 (30 of 40 sets).",
        "Stage 3 of 3 (5 of 40 sets).",
    ]
    assert len(shown_sets(pages[1][1])) == 30
