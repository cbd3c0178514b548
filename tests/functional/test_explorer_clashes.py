"""The explorer's Clashes page and the day view's clash marks (issue 20), in process against
in-memory AWS (moto): what the page lists is what `LineupQueries.clashes` answers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from festival.nights import night_window
from tests.functional.moto_lineup import MotoLineup
from tests.functional.test_explorer import (  # noqa: F401 (fixtures)
    HOSTILE,
    Tree,
    client_of,
    load_seed,
    moto,
    page,
    seeded,
    timeline_of,
    words,
)
from tests.lineups import CLASHING, lineup_csv
from tests.moto_aws import moto_lineup

pytestmark = pytest.mark.functional

KEY = "uploads/clashing.csv"


@pytest.fixture(scope="module")
def clashing() -> Iterator[MotoLineup]:
    """The seed lineup and a file of clashes, loaded once: the tests only read them."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        with moto_lineup(monkeypatch) as lineup:
            assert load_seed(lineup).load(KEY, lineup_csv(CLASHING)).rows_loaded == 5
            yield lineup


def listed(element) -> dict[str, list[tuple[str, str, str]]]:
    """Each kind's rows on the page: (where, minutes, the two performers)."""
    return {
        section.attrs["class"].split()[1]: [
            (
                words(row.find("clash-where")[0].text),
                words(row.find("minutes")[0].text),
                " / ".join(words(tagged(s, "a")[0].text) for s in row.find("clash-set")),
            )
            for row in section.find("clash-row")
        ]
        for section in element.find("clashes")
    }


def tagged(element, tag: str) -> list:
    """The elements of a tag in an element, itself included."""
    found = [element] if element.tag == tag else []
    for child in element.children:
        found += tagged(child, tag)
    return found


def test_the_clashes_page_of_a_file_lists_its_overlap_double_booking_and_changeover(clashing):
    shown = listed(page(client_of(clashing).get(f"/clashes?file={KEY}")))
    assert shown == {
        "stage-overlaps": [("Main", "30", "A / B")],
        "double-bookings": [("C", "15", "C / C")],
        "short-changeovers": [("Park", "5", "C / D")],
    }


def test_the_clashes_page_is_what_the_query_answers_for_a_day_and_a_changeover(clashing):
    response = client_of(clashing).get("/clashes?date=2025-07-12&changeover=20")
    found = clashing.queries.clashes(window=night_window(date(2025, 7, 12)), changeover_minutes=20)
    shown = listed(page(response))
    assert len(shown["short-changeovers"]) == len(found.short_changeovers) == 3
    assert [row[2] for row in shown["short-changeovers"]] == [
        f"{c.before.performer} / {c.after.performer}" for c in found.short_changeovers
    ]
    assert "Changeovers under 20 minutes (3)" in words(page(response).text)


def test_a_day_without_clashes_says_so(clashing):
    text = words(page(client_of(clashing).get("/clashes?date=2025-07-14")).text)
    assert "No clash this day" in text


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("date=12/07", "is not a date like 2025-07-12"),
        ("changeover=-5", "is not a changeover in minutes from 0 to 1440"),
        ("changeover=soon", "is not a changeover in minutes"),
        ("file=uploads/nope.csv", "has no loaded version"),
    ],
)
def test_a_bad_question_says_why(clashing, query, reason):
    response = client_of(clashing).get(f"/clashes?{query}")
    assert response.status_code == 200
    (error,) = page(response).find("error")
    assert reason in words(error.text)


def test_the_day_view_outlines_the_sets_that_clash_and_links_to_the_clashes(clashing):
    root = page(client_of(clashing).get("/day?date=2025-07-12"))
    drawn = timeline_of(root)
    outlined = sorted(name for name, (_, block) in drawn.items() if "clash" in block.classes)
    # The file's five sets, and the seed's 14- and 0-minute changeovers of that night.
    assert outlined == sorted(
        ["A", "B", "C", "D", "Olivia Rodrigo", "Kraftwerk", "Peggy Gou", "Fred again.."]
    )
    (note,) = root.find("clash-note")
    assert words(note.text).startswith("5 clashes this day: 1 stage overlap, 1 double booking,")
    assert tagged(note, "a")[0].attrs["href"] == "/clashes?date=2025-07-12"


def test_a_day_without_clashes_has_no_note_and_no_outline(seeded):  # noqa: F811
    root = page(client_of(seeded).get("/day?date=2025-07-13"))
    assert not root.find("clash-note")
    assert not [b for _, b in timeline_of(root).values() if "clash" in b.classes]


def test_hostile_names_are_shown_as_text_on_the_clashes_page(moto):  # noqa: F811
    body = lineup_csv(
        [
            [HOSTILE, "<img src=x onerror=alert(2)>", "20:00", "21:00", "2025-07-12"],
            [HOSTILE, "Main Stage", "20:30", "23:00", "2025-07-12"],
        ]
    )
    assert moto.load("uploads/hostile.csv", body).rows_loaded == 2
    html = client_of(moto).get("/clashes").get_data(as_text=True)
    assert "<script>" not in html.lower() and "<img" not in html
    assert HOSTILE in Tree(html).root.text
