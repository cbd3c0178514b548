"""The lineup explorer's pages, in process (Flask's test client) against in-memory AWS (moto).

The lineup is loaded by the Lambda's own code into a table built from cloudformation.yaml;
every answer a page shows is compared with what `festival.queries` answers.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from html.parser import HTMLParser
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber

from festival.explorer import create_app
from festival.explorer.stack import DeployedStack, OnFirstUse
from festival.explorer.uploader import S3Uploader
from festival.queries import LineupQueries
from lineup_ingest import schema
from lineup_ingest.adapters import to_attributes
from tests.functional.moto_lineup import PREFIX, MotoLineup
from tests.lineups import lineup_csv
from tests.moto_aws import REGION, moto_lineup, sent_operations, without_aws_credentials

pytestmark = pytest.mark.functional

SEED = Path(__file__).resolve().parents[2] / "seed" / "lineup.csv"
HOSTILE = "<script>alert(1)</script>"
FESTIVAL_EVENING = datetime(2025, 7, 12, 22, 40)


# --- reading the pages ------------------------------------------------------------------------


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    text: str = ""
    children: list[Element] = field(default_factory=list)

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def find(self, css_class: str) -> list[Element]:
        found = [self] if css_class in self.classes else []
        for child in self.children:
            found += child.find(css_class)
        return found

    def style(self, name: str) -> str:
        styles = dict(
            part.split(":", 1) for part in self.attrs.get("style", "").split(";") if ":" in part
        )
        return styles[name]


VOID = {"input", "meta", "link", "br", "img", "hr", "source"}


class Tree(HTMLParser):
    """The page as elements with their classes and text (entities decoded, as shown)."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("root", {})
        self.open = [self.root]
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        element = Element(tag, {name: value or "" for name, value in attrs})
        self.open[-1].children.append(element)
        if tag not in VOID:
            self.open.append(element)

    def handle_endtag(self, tag):
        while len(self.open) > 1:
            if self.open.pop().tag == tag:
                break

    def handle_data(self, data):
        for element in self.open:
            element.text += data


def page(response) -> Element:
    return Tree(response.get_data(as_text=True)).root


def words(text: str) -> str:
    return " ".join(text.split())


def shown_sets(element: Element) -> list[tuple[str, str, str, str]]:
    """(performer, stage, start, end) of each row of the sets tables on a page."""
    return sorted(
        (
            words(row.find("performer")[0].text),
            words(row.find("stage")[0].text),
            words(row.find("start")[0].text),
            words(row.find("end")[0].text),
        )
        for row in element.find("set-row")
    )


def as_shown(
    performances: list[dict], on_day: date | None = None
) -> list[tuple[str, str, str, str]]:
    """What the sets tables show for these answers of festival.queries (on a festival day's
    page, a start after midnight says its weekday)."""

    def start(p: dict) -> str:
        moment = datetime.fromisoformat(p["start"])
        if on_day is None:
            return moment.strftime("%a %d %b %Y, %H:%M")
        later = f" ({moment.strftime('%a')})" if moment.date() != on_day else ""
        return moment.strftime("%H:%M") + later

    def end(p: dict) -> str:
        next_day = " (next day)" if p["end"][:10] > p["start"][:10] else ""
        return p["end"][11:16] + next_day

    return sorted((p["performer"], p["stage"], start(p), end(p)) for p in performances)


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture
def moto(monkeypatch):
    with moto_lineup(monkeypatch) as lineup:
        yield lineup


def load_seed(lineup: MotoLineup) -> MotoLineup:
    report = lineup.load("uploads/lineup.csv", SEED.read_bytes())
    assert (report.status.value, report.rows_loaded) == ("OK", 24)
    return lineup


def table_items(lineup: MotoLineup) -> list[dict]:
    return lineup.dynamodb.scan(TableName=lineup.name, ConsistentRead=True)["Items"]


@pytest.fixture(scope="module")
def seeded() -> Iterator[MotoLineup]:
    """The seed lineup, loaded once for the module's tests that only read it (a test that
    changes it takes ``seeded_to_change``): the table must be as loaded at the end."""
    with pytest.MonkeyPatch.context() as monkeypatch, moto_lineup(monkeypatch) as lineup:
        loaded = table_items(load_seed(lineup))
        yield lineup
        assert table_items(lineup) == loaded, "a test changed the shared seeded lineup"


@pytest.fixture
def seeded_to_change(moto) -> MotoLineup:
    """The seed lineup loaded for one test, which may change it."""
    return load_seed(moto)


def client_of(lineup: MotoLineup, now: datetime = FESTIVAL_EVENING, **options):
    return create_app(lineup.queries, lineup.uploader, now=lambda: now, **options).test_client()


def csrf_token(client) -> str:
    form = page(client.get("/upload"))
    (token,) = [e for e in _walk(form) if e.attrs.get("name") == "csrf_token"]
    return token.attrs["value"]


def _walk(element: Element):
    yield element
    for child in element.children:
        yield from _walk(child)


def upload(client, name: str, body: bytes, token: str | None = None):
    data: dict[str, object] = {"lineup": (io.BytesIO(body), name)}
    if token is not None:
        data["csrf_token"] = token
    return client.post("/upload", data=data, content_type="multipart/form-data")


# --- day view ---------------------------------------------------------------------------------


def timeline_of(element: Element) -> dict[str, tuple[str, Element]]:
    """Each set drawn on a day view's timeline, by performer: its stage and its block."""
    drawn = {}
    for line in element.find("stage-line"):
        stage = words(line.find("stage-name")[0].text)
        for block in line.find("set"):
            drawn[words(block.find("name")[0].text)] = (stage, block)
    return drawn


def drawn_at(block: Element) -> tuple[float, float]:
    """(left, right) of a block, in percent of the timeline."""
    left, width = (float(block.style(side).rstrip("%")) for side in ("left", "width"))
    return left, left + width


@pytest.mark.parametrize(
    ("path", "tab"),
    [
        ("/day", "Day"),
        ("/performer", "Performer"),
        ("/whats-on", "What's on"),
        ("/clashes", "Clashes"),
        ("/uploads", "Uploads"),
        ("/uploads/follow?file=uploads/new.csv&etag=abc", "Uploads"),
        ("/upload", "Upload"),
    ],
)
def test_the_header_marks_the_tab_of_the_page_shown_and_links_every_page(seeded, path, tab):
    (header,) = page(client_of(seeded).get(path)).find("top")
    (nav,) = [element for element in _walk(header) if element.tag == "nav"]
    links = {words(link.text): link.attrs for link in nav.children}

    assert {name: attrs["href"] for name, attrs in links.items()} == {
        "Day": "/day",
        "Performer": "/performer",
        "What's on": "/whats-on",
        "Clashes": "/clashes",
        "Uploads": "/uploads",
        "Upload": "/upload",
    }
    assert [name for name, attrs in links.items() if attrs.get("aria-current") == "page"] == [tab]


def test_saturdays_page_is_the_whole_festival_night_with_sets_past_midnight_drawn_whole(seeded):
    response = client_of(seeded).get("/day?date=2025-07-12")

    assert response.status_code == 200
    shown = page(response)
    night = seeded.queries.on_night(date(2025, 7, 12), time(6, 0))
    assert len(night) == 12  # the 11 sets dated the 12th, and Fred again.. at 00:00 on the 13th
    assert "Fred again.." in [p["performer"] for p in night]
    assert shown_sets(shown) == as_shown(night, on_day=date(2025, 7, 12))
    assert ("Fred again..", "Dance Tent", "00:00 (Sun)", "02:00") in shown_sets(shown)
    on_timeline = timeline_of(shown)
    assert {name: stage for name, (stage, _) in on_timeline.items()} == {
        p["performer"]: p["stage"] for p in night
    }
    # The timeline runs 15:00 (Khruangbin) to 02:00 (Bonobo, Fred again..): 11 hours.
    hours = 11
    for name, start, end in [
        ("Kraftwerk", 8 + 59 / 60, 10 + 15 / 60),  # 23:59-01:15
        ("Bonobo", 7, 11),  # 22:00-02:00
        ("Fred again..", 9, 11),  # 00:00-02:00
        ("Peggy Gou", 7, 9),  # 22:00-00:00
    ]:
        _, block = on_timeline[name]
        assert drawn_at(block) == (
            pytest.approx(100 * start / hours, abs=0.01),
            pytest.approx(100 * end / hours, abs=0.01),
        ), name
    assert "past-midnight" in on_timeline["Kraftwerk"][1].classes
    assert "past-midnight" not in on_timeline["Peggy Gou"][1].classes  # ends at midnight
    ticks = [words(tick.text) for tick in shown.find("tick")]
    assert ticks[0] == "15:00" and ticks[-1] == "02:00" and "Sun 00:00" in ticks
    assert "from 06:00 to 06:00 on Sun 13 Jul" in words(shown.find("night-span")[0].text)


def test_sundays_page_leaves_saturday_nights_sets_to_saturday(seeded):
    shown = page(client_of(seeded).get("/day?date=2025-07-13"))

    drawn = set(timeline_of(shown))
    assert drawn == {p["performer"] for p in seeded.queries.on_night(date(2025, 7, 13), time(6))}
    assert "Fred again.." not in drawn and "Kraftwerk" not in drawn
    assert "Disclosure" in drawn  # 23:00-03:00 on Sunday night


def test_a_day_starts_given_to_the_explorer_moves_the_boundary(seeded):
    calendar = page(client_of(seeded, day_starts=time(0, 0)).get("/day?date=2025-07-12"))

    assert "Fred again.." not in timeline_of(calendar)  # 00:00 on the 13th: the 13th's
    assert "from 00:00 to 00:00 on Sun 13 Jul" in words(calendar.find("night-span")[0].text)


def test_the_boundary_read_from_the_stack_is_read_once(seeded):
    reads = []

    def from_stack() -> time:
        reads.append(1)
        return time(0, 0)

    client = client_of(seeded, day_starts=from_stack)
    first = page(client.get("/day?date=2025-07-12"))
    client.get("/day?date=2025-07-13")

    assert "from 00:00 to 00:00" in words(first.find("night-span")[0].text)
    assert "Fred again.." not in timeline_of(first)  # 00:00 on the 13th: the 13th's
    assert len(reads) == 1


def test_a_page_may_ask_for_another_boundary_and_its_links_keep_it(seeded):
    shown = page(client_of(seeded).get("/day?date=2025-07-12&day-starts=00:00"))

    assert "Fred again.." not in timeline_of(shown)
    links = [e.attrs["href"] for e in _walk(shown) if e.attrs.get("rel") in ("prev", "next")]
    assert links and all("day-starts=00:00" in link for link in links)
    hidden = [e.attrs for e in _walk(shown) if e.attrs.get("type") == "hidden"]
    assert {"type": "hidden", "name": "day-starts", "value": "00:00"} in hidden


def test_a_page_asking_for_a_boundary_that_is_not_a_time_says_why_and_uses_the_default(seeded):
    shown = page(client_of(seeded).get("/day?date=2025-07-12&day-starts=25:00"))

    error = words(shown.find("error")[0].text)
    assert "'25:00' is not a time of day" in error and "start at 06:00" in error
    assert "Fred again.." in timeline_of(shown)


def test_day_view_draws_the_current_time_line_only_on_tonight(seeded):
    today = page(client_of(seeded, now=FESTIVAL_EVENING).get("/day?date=2025-07-12"))
    other_day = page(client_of(seeded, now=FESTIVAL_EVENING).get("/day?date=2025-07-13"))

    (line, *_) = today.find("now")
    # The timeline runs 15:00-02:00 (Khruangbin to Bonobo's end): 22:40 is 7h40 in, of 11h.
    assert float(line.style("left").rstrip("%")) == pytest.approx(100 * (7 + 40 / 60) / 11, 0.01)
    assert "today" in words(today.find("today")[0].text)
    assert other_day.find("now") == [] and other_day.find("today") == []


def test_after_midnight_the_day_view_opens_on_the_night_still_going(seeded):
    small_hours = datetime(2025, 7, 13, 1, 30)
    shown = page(client_of(seeded, now=small_hours).get("/day"))

    assert "Saturday 12 July 2025" in words(shown.find("day-head")[0].text)
    assert "today" in words(shown.find("today")[0].text)
    (line, *_) = shown.find("now")
    assert float(line.style("left").rstrip("%")) == pytest.approx(100 * 10.5 / 11, 0.01)


def test_day_view_without_a_date_opens_the_latest_lineups_first_day_and_offers_its_days(seeded):
    response = client_of(seeded, now=datetime(2026, 1, 5, 12, 0)).get("/day")

    shown = page(response)
    assert "Saturday 12 July 2025" in words(shown.find("day-head")[0].text)
    chips = [words(chip.text) for chip in shown.find("day-chips")[0].children]
    assert chips == ["Sat 12 Jul", "Sun 13 Jul", "Mon 14 Jul"]


def test_the_days_offered_are_festival_nights(moto):
    moto.load(
        "uploads/small-hours.csv",
        lineup_csv(
            [
                ["Early Bird", "Main Stage", "22:00", "23:00", "2025-07-12"],
                ["Night Owl", "Main Stage", "3:00", "4:00", "2025-07-14"],
            ]
        ),
    )
    shown = page(client_of(moto, now=datetime(2026, 1, 5, 12, 0)).get("/day"))

    chips = [words(chip.text) for chip in shown.find("day-chips")[0].children]
    assert chips == ["Sat 12 Jul", "Sun 13 Jul"]  # 03:00 on Monday is Sunday night's


def test_sets_listed_elsewhere_link_to_the_festival_night_they_belong_to(seeded):
    shown = page(client_of(seeded).get("/performer", query_string={"name": "Fred again.."}))

    links = [e.attrs["href"] for e in _walk(shown) if e.attrs.get("href", "").startswith("/day?")]
    assert links == ["/day?date=2025-07-12"]


def test_day_view_of_a_day_without_sets_says_so(seeded):
    shown = page(client_of(seeded).get("/day?date=2025-08-01"))

    assert "No set this festival day" in words(shown.find("empty")[0].text)
    assert shown.find("set") == []


def test_day_view_of_a_malformed_date_says_why(seeded):
    response = client_of(seeded).get("/day?date=12/07/2025")

    assert "is not a date like 2025-07-12" in words(page(response).find("error")[0].text)


# --- performer search -------------------------------------------------------------------------


def test_performer_search_finds_every_set_in_any_case_and_spacing(seeded):
    response = client_of(seeded).get("/performer", query_string={"name": "  sIGUR   RÓS "})

    assert shown_sets(page(response)) == as_shown(seeded.queries.by_performer("Sigur Rós"))
    assert [row[0] for row in shown_sets(page(response))] == ["Sigur Rós", "Sigur Rós"]


def test_performer_search_for_nobody_says_so(seeded):
    response = client_of(seeded).get("/performer", query_string={"name": "Nobody At All"})

    assert "No performer called “Nobody At All”" in words(page(response).find("empty")[0].text)


# --- what's on --------------------------------------------------------------------------------


def on_stages(element: Element) -> dict[str, list[tuple[str, str]]]:
    return {
        words(item.find("stage")[0].text): [
            (words(entry.find("performer")[0].text), words(entry.find("times")[0].text))
            for entry in item.find("on-set")
        ]
        for item in element.find("on-stage")
    }


def at_answers(performances: list[dict]) -> list[tuple[str, str]]:
    return [
        (
            p["performer"],
            f"{p['start'][11:16]}–{p['end'][11:16]}"
            + (" (next day)" if p["end"][:10] > p["start"][:10] else ""),
        )
        for p in performances
    ]


@pytest.mark.parametrize("moment", ["2025-07-12T22:30", "2025-07-13T00:30", "2025-07-13T01:59"])
def test_whats_on_at_a_time_shows_on_each_stage_what_lineup_queries_at_answers(seeded, moment):
    response = client_of(seeded).get("/whats-on", query_string={"at": moment})

    shown = on_stages(page(response))
    when = datetime.fromisoformat(moment)
    stages = {"Main Stage", "Side Stage", "Outdoor Stage", "Dance Tent"}
    expected = {stage: at_answers(seeded.queries.at(stage, when)) for stage in stages}
    assert shown == {stage: sets for stage, sets in expected.items() if sets}
    assert shown  # each moment has something on


def test_whats_on_at_a_time_on_one_stage_is_lineup_queries_at(seeded):
    response = client_of(seeded).get(
        "/whats-on", query_string={"at": "2025-07-13T00:30", "stage": "  main STAGE"}
    )

    assert on_stages(page(response)) == {
        "Main Stage": at_answers(seeded.queries.at("Main Stage", datetime(2025, 7, 13, 0, 30)))
    }


@pytest.mark.parametrize("stage", [None, "outdoor stage"])
def test_whats_on_over_a_range_is_lineup_queries_between(seeded, stage):
    first, last = datetime(2025, 7, 12, 23, 0), datetime(2025, 7, 13, 1, 0)
    asked = {"from": "2025-07-12T23:00", "to": "2025-07-13T01:00", "stage": stage or ""}

    response = client_of(seeded).get("/whats-on", query_string=asked)

    expected = seeded.queries.between(first, last, stage=stage)
    assert expected
    assert shown_sets(page(response)) == as_shown(expected)


def test_whats_on_an_empty_range_says_why(seeded):
    response = client_of(seeded).get(
        "/whats-on", query_string={"from": "2025-07-13T01:00", "to": "2025-07-12T23:00"}
    )

    assert "the range is empty" in words(page(response).find("error")[0].text)


# --- uploads ----------------------------------------------------------------------------------


def test_uploads_page_shows_status_counts_and_rejected_rows_with_line_and_reason(moto):
    body = lineup_csv(
        [
            ["Good Band", "Main Stage", "20:00", "21:00", "2025-07-12"],
            ["Bad Time Band", "Main Stage", "25:00", "26:00", "2025-07-12"],
            ["", "Main Stage", "20:00", "21:00", "2025-07-12"],
        ]
    )
    report = moto.load("uploads/partly-bad.csv", body)
    assert report.status.value == "PARTIAL"

    shown = page(client_of(moto).get("/uploads"))

    (row,) = shown.find("upload")
    assert words(row.find("file")[0].text) == "uploads/partly-bad.csv"
    assert words(row.find("status")[0].text) == "PARTIAL"
    rejected = shown.find("rejected")[0]
    lines = [
        (words(cells[0].text), words(cells[1].text))
        for cells in (
            [c for c in r.children if c.tag == "td"] for r in _walk(rejected) if r.tag == "tr"
        )
        if cells
    ]
    assert [line for line, _ in lines] == ["3", "4"]
    assert [reason for _, reason in lines] == [e.reason for e in report.rejected.first]


def set_record(lineup: MotoLineup, file: str, **values) -> None:
    """Change an ingest record as another writer would (the Lambda, or a newer version)."""
    (version,) = lineup.queries.upload_versions(file)
    names = {f"#a{n}": name for n, name in enumerate(values)}
    lineup.dynamodb.update_item(
        TableName=lineup.name,
        Key=to_attributes(schema.upload_record_key(file, version["version"])),
        UpdateExpression="SET " + ", ".join(f"#a{n} = :v{n}" for n in range(len(values))),
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=to_attributes(
            {f":v{n}": value for n, value in enumerate(values.values())}
        ),
    )


def test_uploads_page_shows_who_uploaded_when_the_record_has_it(seeded_to_change):
    assert "not recorded" in words(
        page(client_of(seeded_to_change).get("/uploads")).find("upload")[0].text
    )
    set_record(
        seeded_to_change,
        "uploads/lineup.csv",
        uploaded_by="arn:aws:iam::123456789012:user/alice",
        source_ip="203.0.113.7",
    )

    (row,) = page(client_of(seeded_to_change).get("/uploads")).find("upload")

    assert "arn:aws:iam::123456789012:user/alice" in row.text
    assert "from 203.0.113.7" in words(row.text)


def test_uploads_page_shows_a_loading_file_s_progress_and_keeps_polling(seeded_to_change):
    set_record(
        seeded_to_change,
        "uploads/lineup.csv",
        status="LOADING",
        parts_total=4,
        parts={
            "0": {"rows_read": 10, "rows_loaded": 9, "rows_rejected": 1},
            "1": {"rows_read": 12, "rows_loaded": 12, "rows_rejected": 0},
        },
    )

    shown = page(client_of(seeded_to_change).get("/uploads/table"))

    (progress,) = [e for e in _walk(shown) if e.tag == "progress"]
    assert (progress.attrs["value"], progress.attrs["max"]) == ("2", "4")
    assert "2 of 4 parts" in words(shown.text)
    assert [e for e in _walk(shown) if "data-loading" in e.attrs]
    numbers = [words(cell.text) for cell in shown.find("number") if cell.tag == "td"]
    assert numbers[:3] == ["22", "21", "1"]  # read, loaded, rejected so far


def test_uploads_page_stops_polling_when_nothing_loads(seeded):
    shown = page(client_of(seeded).get("/uploads"))

    assert not [e for e in _walk(shown) if "data-loading" in e.attrs]


# --- upload -----------------------------------------------------------------------------------


def follow(client, response):
    assert response.status_code == 303, response.get_data(as_text=True)
    location = response.headers["Location"]
    return location, page(client.get(location))


def test_upload_puts_the_file_under_the_prefix_and_follows_it_to_its_report(moto):
    client = client_of(moto)

    response = upload(client, "My Lineup.csv", SEED.read_bytes(), csrf_token(client))
    location, waiting = follow(client, response)

    assert moto.object_keys() == ["uploads/My Lineup.csv"]
    assert "Waiting for the load" in words(waiting.find("waiting")[0].text)
    moto.notify("uploads/My Lineup.csv")  # what S3's notification starts in the stack
    report = page(client.get(location.replace("/uploads/follow?", "/uploads/follow/report?")))
    (section,) = report.find("report")
    assert section.attrs["data-status"] == "OK"
    counts = dict(
        zip(
            (words(e.text) for e in _walk(section) if e.tag == "dt"),
            (words(e.text) for e in _walk(section) if e.tag == "dd"),
            strict=True,
        )
    )
    assert counts["Rows loaded"] == "24" and counts["Rows rejected"] == "0"
    assert "data-loading" not in section.attrs
    (link,) = [e for e in _walk(section) if e.tag == "a" and "button" in e.classes]
    assert link.attrs["href"] == "/day?date=2025-07-12"


def test_an_explorer_given_no_uploader_reads_but_takes_no_upload(moto):
    client = create_app(moto.queries, None).test_client()

    response = upload(client, "lineup.csv", SEED.read_bytes(), csrf_token(client))

    assert response.status_code == 404
    assert moto.object_keys() == []
    assert client.get("/uploads").status_code == 200


def test_uploading_the_same_content_again_waits_for_the_new_load(seeded_to_change):
    (earlier,) = seeded_to_change.queries.upload_versions("uploads/lineup.csv")
    client = client_of(seeded_to_change)

    response = upload(client, "lineup.csv", SEED.read_bytes(), csrf_token(client))
    location, shown = follow(client, response)

    # The earlier load's record (same file, same ETag) is not this upload's report.
    assert shown.find("report") == [] and shown.find("waiting")
    seeded_to_change.notify("uploads/lineup.csv")
    (report,) = page(client.get(location)).find("report")
    assert report.attrs["data-status"] == "OK"
    newer = seeded_to_change.queries.upload("uploads/lineup.csv", earlier["etag"])
    assert newer is not None and newer["version"] > earlier["version"]
    assert newer["version"].lstrip("0") in words(report.text)


def test_a_load_whose_outcome_is_being_reported_is_followed_as_still_running(seeded_to_change):
    # The outcome is decided (REPORTING), its email not yet sent: not the end of the load.
    set_record(seeded_to_change, "uploads/lineup.csv", status="REPORTING")
    (record,) = seeded_to_change.queries.upload_versions("uploads/lineup.csv")
    client = client_of(seeded_to_change)
    query = {"file": "uploads/lineup.csv", "etag": record["etag"], "since": "0"}

    (section,) = page(client.get("/uploads/follow/report", query_string=query)).find("report")
    table = page(client.get("/uploads/table"))

    assert section.attrs["data-status"] == "REPORTING" and "data-loading" in section.attrs
    assert not [e for e in _walk(section) if e.tag == "a" and "button" in e.classes]
    assert [e for e in _walk(table) if "data-loading" in e.attrs]


def test_uploads_page_shows_each_version_of_a_file_the_newest_first(seeded_to_change):
    seeded_to_change.load(
        "uploads/lineup.csv", SEED.read_bytes().replace(b"Bonobo", b"Bonobo Live")
    )
    versions = seeded_to_change.queries.upload_versions("uploads/lineup.csv")

    rows = page(client_of(seeded_to_change).get("/uploads")).find("upload")

    assert [words(row.find("version")[0].text) for row in rows] == [
        version["version"].lstrip("0") for version in reversed(versions)
    ]
    assert len(versions) == 2 and versions[0]["version"] < versions[1]["version"]
    assert [p["performer"] for p in seeded_to_change.queries.by_performer("bonobo live")] == [
        "Bonobo Live"
    ]
    assert seeded_to_change.queries.by_performer("bonobo") == []


def test_upload_without_the_csrf_token_is_refused_and_puts_nothing(moto):
    client = client_of(moto)

    response = upload(client, "lineup.csv", SEED.read_bytes())

    assert response.status_code == 400
    assert "security token" in words(page(response).find("error")[0].text)
    assert moto.object_keys() == []


def test_upload_with_another_sessions_token_is_refused(moto):
    token = csrf_token(client_of(moto, secret_key="one"))

    response = upload(client_of(moto, secret_key="two"), "lineup.csv", b"x", token)

    assert response.status_code == 400
    assert moto.object_keys() == []


def test_upload_over_the_size_limit_is_refused_and_puts_nothing(moto):
    client = client_of(moto, max_upload_bytes=2048)
    token = csrf_token(client)

    response = upload(client, "big.csv", b"Performer,Stage,Start,End,Date\n" + b"x" * 4096, token)

    assert response.status_code == 413
    assert "The file is larger than the" in words(page(response).find("error")[0].text)
    assert moto.object_keys() == []


@pytest.mark.parametrize("name", ["lineup.txt", "lineup", ".csv", "line\x1bup.csv"])
def test_upload_of_a_file_that_would_not_load_is_refused_and_puts_nothing(moto, name):
    client = client_of(moto)

    response = upload(client, name, SEED.read_bytes(), csrf_token(client))

    assert response.status_code == 400
    assert "Not uploaded" in words(page(response).find("error")[0].text)
    assert moto.object_keys() == []


def test_upload_keeps_only_the_file_name_and_writes_the_csv_suffix_in_lower_case(moto):
    client = client_of(moto)

    upload(client, "../../elsewhere/LINEUP.CSV", SEED.read_bytes(), csrf_token(client))

    assert moto.object_keys() == ["uploads/LINEUP.csv"]


def test_a_load_that_never_begins_gets_a_hint_after_a_minute(moto):
    client = client_of(moto)
    location, _ = follow(
        client, upload(client, "lineup.csv", SEED.read_bytes(), csrf_token(client))
    )
    since = re.search(r"since=(\d+)", location)
    assert since is not None
    late = location.replace(since.group(0), f"since={int(since.group(1)) - 61}")

    assert "Nothing has started" not in words(page(client.get(location)).text)
    assert "Nothing has started after a minute" in words(page(client.get(late)).text)


def test_an_upload_refused_by_aws_names_the_uploader_policy(moto):
    s3 = boto3.client("s3", region_name=REGION)
    stubber = Stubber(s3)
    stubber.add_client_error(
        "put_object",
        service_error_code="AccessDenied",
        service_message="Access Denied",
        http_status_code=403,
    )
    stubber.activate()
    client = create_app(moto.queries, S3Uploader(s3, moto.name, PREFIX)).test_client()

    response = upload(client, "lineup.csv", SEED.read_bytes(), csrf_token(client))

    problem = words(page(response).find("problem")[0].text)
    assert response.status_code == 503
    assert problem.startswith("Not allowed")
    assert "attach the stack's uploader policy (UploaderPolicyArn)" in problem


# --- safety -----------------------------------------------------------------------------------


@pytest.fixture
def hostile(moto) -> MotoLineup:
    body = lineup_csv(
        [
            [HOSTILE, "<img src=x onerror=alert(2)>", "20:00", "21:00", "2025-07-12"],
            [HOSTILE, "Main Stage", "22:00", "23:00", "2025-07-12"],
        ]
    )
    assert moto.load(f"uploads/{HOSTILE}.csv", body).rows_loaded == 2
    return moto


@pytest.mark.parametrize(
    "url",
    [
        "/day?date=2025-07-12",
        "/performer?name=%3CSCRIPT%3Ealert(1)%3C/script%3E",
        "/whats-on?at=2025-07-12T20:30",
        "/whats-on?from=2025-07-12T19:00&to=2025-07-12T23:30",
        "/uploads",
    ],
)
def test_a_hostile_name_is_shown_as_text_on_every_page(hostile, url):
    response = client_of(hostile).get(url)

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<script>" not in html.lower() and "<img" not in html
    assert HOSTILE in Tree(html).root.text  # shown, as text


def test_pages_send_a_content_security_policy_that_runs_no_inline_script(seeded):
    response = client_of(seeded).get("/day")

    policy = dict(
        directive.strip().split(" ", 1)
        for directive in response.headers["Content-Security-Policy"].split(";")
    )
    assert policy["script-src"] == "'self'" and policy["default-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert not re.search(r"<script(?![^>]*\bsrc=)", response.get_data(as_text=True))


def test_a_page_asked_for_under_another_host_name_is_refused(seeded):
    # A web page whose name was made to resolve to 127.0.0.1 (DNS rebinding) gets nothing.
    response = client_of(seeded).get("/day", headers={"Host": "attacker.example:8000"})

    assert response.status_code == 400


def test_pages_ask_dynamodb_with_query_only_and_the_upload_only_puts_the_object(seeded_to_change):
    # The app's own clients, so that the Lambda's calls (made here by notify) are not counted.
    dynamodb, s3 = (boto3.client(name, region_name=REGION) for name in ("dynamodb", "s3"))
    dynamodb_calls = sent_operations(dynamodb)
    s3_calls: list[str] = []
    s3.meta.events.register("before-call.s3.*", lambda model, **_: s3_calls.append(model.name))
    app = create_app(
        LineupQueries(dynamodb, seeded_to_change.name),
        S3Uploader(s3, seeded_to_change.name, PREFIX),
    )
    client = app.test_client()
    for url in [
        "/",
        "/day",
        "/day?date=2025-07-13",
        "/performer?name=bonobo",
        "/whats-on?at=2025-07-12T22:30",
        "/whats-on?at=2025-07-12T22:30&stage=Side+Stage",
        "/whats-on?from=2025-07-12T20:00&to=2025-07-13T02:00",
        "/uploads",
        "/uploads/table",
        "/upload",
        "/clashes",
        "/clashes?date=2025-07-12&changeover=20&file=uploads/lineup.csv",
    ]:
        assert client.get(url, follow_redirects=True).status_code == 200, url
    location, _ = follow(client, upload(client, "again.csv", SEED.read_bytes(), csrf_token(client)))
    seeded_to_change.notify("uploads/again.csv")
    assert page(client.get(location)).find("report")

    assert set(dynamodb_calls) == {"Query"}
    assert s3_calls == ["PutObject"]


# --- when AWS cannot answer -------------------------------------------------------------------


class StackMissingSession:
    """A session whose CloudFormation says, as AWS does, that the stack does not exist."""

    def __init__(self) -> None:
        self.cloudformation = boto3.client("cloudformation", region_name=REGION)
        stubber = Stubber(self.cloudformation)
        for _ in range(4):
            stubber.add_client_error(
                "describe_stacks",
                service_error_code="ValidationError",
                http_status_code=400,
                service_message="Stack with id lineup-stack does not exist",
            )
        stubber.activate()

    def client(self, service: str, endpoint_url: str | None = None):
        assert service == "cloudformation", "nothing else is asked before the stack's outputs"
        return self.cloudformation


def deployed_app(session, local: bool = False):
    stack = DeployedStack(session, None, "lineup-stack")
    return create_app(OnFirstUse(stack.queries), OnFirstUse(stack.uploader), local=local)


def test_a_stack_not_deployed_gets_a_page_saying_so_not_a_traceback(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    client = deployed_app(StackMissingSession()).test_client()

    for response in (client.get("/day"), client.get("/uploads")):
        shown = page(response)
        assert response.status_code == 503
        assert words(shown.find("problem")[0].text).startswith("The stack is not deployed here")
        assert "deploy it with make up" in words(shown.text)
        assert "Traceback" not in response.get_data(as_text=True)


def test_missing_credentials_get_a_page_saying_what_to_do(monkeypatch, tmp_path):
    without_aws_credentials(monkeypatch, tmp_path)
    client = deployed_app(boto3.Session(region_name=REGION)).test_client()

    response = client.get("/day")

    assert response.status_code == 503
    problem = words(page(response).find("problem")[0].text)
    assert problem.startswith("No AWS credentials")
    assert "configure a profile" in problem and "--local" in problem


def test_a_local_stack_that_is_not_running_gets_a_page_saying_to_start_it(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    # Port 9 (discard) on 127.0.0.1: nothing answers there.
    stack = DeployedStack(boto3.Session(region_name=REGION), "http://127.0.0.1:9", "x")
    app = create_app(OnFirstUse(stack.queries), OnFirstUse(stack.uploader), local=True)

    response = app.test_client().get("/performer?name=x")

    assert response.status_code == 503
    assert "Is the local stack running? Start it with make up." in words(page(response).text)


def test_static_assets_are_served_from_the_package(seeded):
    client = client_of(seeded)
    for asset, kind in (("explorer.css", "text/css"), ("explorer.js", "text/javascript")):
        response = client.get(f"/static/{asset}")
        assert response.status_code == 200 and response.mimetype == kind
        assert len(response.data) > 500
