"""Calendars, CSV and the same lineup under two names, on in-memory AWS (moto).

The lineup is loaded by the Lambda's own service into a table built from
cloudformation.yaml, with the stack's time zone Europe/Amsterdam; `festival` (click's
CliRunner) finds the table from the stack's outputs (a fake DescribeStacks, as in
test_cli.py) and the explorer (Flask's test client) asks the same queries. Every calendar
is read back with the `icalendar` library, as a calendar application would.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date, datetime, time
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

import botocore.handlers
import pytest
from icalendar import Calendar

from festival.calendars import CSV_COLUMNS
from festival.explorer import create_app
from festival.settings import STACK_NAME
from lineup_ingest.ingest import LoadSettings
from tests.functional.moto_lineup import MotoLineup
from tests.functional.test_cli import FakeStacks, failed_with, festival, table_rows
from tests.functional.test_explorer import table_items
from tests.moto_aws import moto_lineup

pytestmark = pytest.mark.functional

REGION = "us-east-1"
SEED = Path(__file__).resolve().parents[2] / "seed" / "lineup.csv"
SEED_KEY = "uploads/lineup.csv"
AMSTERDAM = ZoneInfo("Europe/Amsterdam")


@pytest.fixture(scope="module")
def lineup() -> Iterator[MotoLineup]:
    """The seed lineup loaded with the stack's time zone Europe/Amsterdam, and a deployed
    stack naming its table: loaded once for the module's tests that only read it (a test
    that changes it takes ``lineup_to_change``)."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        for loaded in seed_in_amsterdam(monkeypatch):
            items = table_items(loaded)
            yield loaded
            assert table_items(loaded) == items, "a test changed the shared lineup"


@pytest.fixture
def lineup_to_change(monkeypatch) -> Iterator[MotoLineup]:
    yield from seed_in_amsterdam(monkeypatch)


def seed_in_amsterdam(monkeypatch: pytest.MonkeyPatch) -> Iterator[MotoLineup]:
    settings = LoadSettings(time_zone="Europe/Amsterdam")
    with moto_lineup(monkeypatch, settings=settings) as loaded:
        report = loaded.load(SEED_KEY, SEED.read_bytes())
        assert (report.status.value, report.rows_loaded) == ("OK", 24)
        stacks = FakeStacks()
        stacks.deploy(STACK_NAME, {"TableName": loaded.name})
        others = [h for h in botocore.handlers.BUILTIN_HANDLERS if not isinstance(h[1], FakeStacks)]
        monkeypatch.setattr(
            botocore.handlers,
            "BUILTIN_HANDLERS",
            [*others, ("before-call.cloudformation.DescribeStacks", stacks)],
        )
        monkeypatch.setattr("festival.stack.LOCAL_ENDPOINT", None)
        yield loaded


def events(ics: bytes) -> list[dict]:
    """Each VEVENT of a calendar as a calendar application reads it."""
    calendar = Calendar.from_ical(ics)
    return sorted(
        (
            {
                "summary": str(event["summary"]),
                "location": str(event["location"]),
                "start": event.decoded("dtstart"),
                "end": event.decoded("dtend"),
                "tzid": event["dtstart"].params.get("TZID"),
                "uid": str(event["uid"]),
            }
            for event in calendar.walk("VEVENT")
        ),
        key=lambda event: (event["start"], event["location"]),
    )


def expected_events(performances: list[dict]) -> list[tuple]:
    return sorted(
        (
            p["performer"],
            p["stage"],
            datetime.fromisoformat(p["start"]).replace(tzinfo=ZoneInfo(p["zone"])),
            datetime.fromisoformat(p["end"]).replace(tzinfo=ZoneInfo(p["zone"])),
        )
        for p in performances
    )


def as_tuples(found: list[dict]) -> list[tuple]:
    return sorted((e["summary"], e["location"], e["start"], e["end"]) for e in found)


# --- festival export --format ics ------------------------------------------------------------


def test_a_performers_calendar_holds_their_sets_in_the_festivals_time_zone(lineup):
    result = festival("export", "--performer", "  sigur   RÓS ")

    assert result.exit_code == 0, result.output
    found = events(result.stdout_bytes)
    assert [(e["summary"], e["location"], e["start"], e["end"], e["tzid"]) for e in found] == [
        (
            "Sigur Rós",
            "Main Stage",
            datetime(2025, 7, 13, 23, 0, tzinfo=AMSTERDAM),
            datetime(2025, 7, 14, 0, 30, tzinfo=AMSTERDAM),
            "Europe/Amsterdam",
        ),
        (
            "Sigur Rós",
            "Outdoor Stage",
            datetime(2025, 7, 14, 12, 0, tzinfo=AMSTERDAM),
            datetime(2025, 7, 14, 13, 30, tzinfo=AMSTERDAM),
            "Europe/Amsterdam",
        ),
    ]
    # 23:00 in Amsterdam in July is 21:00 UTC: what a phone in another zone converts from.
    assert found[0]["start"].astimezone(ZoneInfo("UTC")).hour == 21
    calendar = Calendar.from_ical(result.stdout_bytes)
    assert [str(tz["tzid"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/Amsterdam"]
    assert str(calendar["x-wr-calname"]) == "Sigur Rós (performer)"


def test_a_calendar_written_to_a_file_says_how_many_sets_it_holds(lineup, tmp_path):
    out = tmp_path / "olivia.ics"

    result = festival("export", "--performer", "Olivia Rodrigo", "--out", str(out))

    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert result.stderr == f"2 sets of Olivia Rodrigo (performer) written to {out}\n"
    assert as_tuples(events(out.read_bytes())) == expected_events(
        lineup.queries.by_performer("Olivia Rodrigo")
    )


def test_a_stages_calendar_holds_every_set_on_that_stage(lineup):
    result = festival("export", "--stage", "dance tent", "--format", "ics")

    found = events(result.stdout_bytes)
    assert as_tuples(found) == expected_events(lineup.queries.by_stage("Dance Tent"))
    assert {e["location"] for e in found} == {"Dance Tent"} and len(found) == 5
    assert len({e["uid"] for e in found}) == 5


def test_a_nights_calendar_holds_the_sets_starting_that_festival_night(lineup):
    result = festival("export", "--night", "2025-07-12", "--day-starts", "06:00")

    found = events(result.stdout_bytes)
    assert as_tuples(found) == expected_events(
        lineup.queries.on_night(date(2025, 7, 12), time(6, 0))
    )
    # Fred again.. starts at 00:00 on the 13th: Saturday night's.
    assert "Fred again.." in {e["summary"] for e in found}
    assert "Beyoncé" not in {e["summary"] for e in found}


def test_an_uploads_timezone_metadata_is_the_zone_of_its_sets_in_calendars(lineup_to_change):
    lineup_to_change.s3.put_object(
        Bucket=lineup_to_change.name,
        Key="uploads/new-york.csv",
        Body=b"Performer,Stage,Start,End,Date\nSigur Ros NYC,Pier,20:00,21:00,2025-08-01\n",
        Metadata={"timezone": "America/New_York"},
    )
    report = lineup_to_change.notify("uploads/new-york.csv")
    assert report.time_zone == "America/New_York"

    result = festival("export", "--performer", "Sigur Ros NYC")

    [event] = events(result.stdout_bytes)
    assert event["tzid"] == "America/New_York"
    assert event["start"] == datetime(2025, 8, 1, 20, 0, tzinfo=ZoneInfo("America/New_York"))
    assert lineup_to_change.queries.by_performer("Sigur Ros NYC")[0]["zone"] == "America/New_York"
    assert lineup_to_change.queries.by_performer("Sigur Rós")[0]["zone"] == "Europe/Amsterdam"


def test_the_same_set_in_two_files_is_one_event(lineup_to_change):
    lineup_to_change.load("uploads/lineup-v2.csv", SEED.read_bytes())

    result = festival("export", "--performer", "Sigur Rós")

    assert len(lineup_to_change.queries.by_performer("Sigur Rós")) == 4  # each set twice
    assert len(events(result.stdout_bytes)) == 2


def test_a_performer_with_no_set_gets_an_empty_calendar_and_a_note(lineup):
    result = festival("export", "--performer", "Nobody")

    assert result.exit_code == 0
    assert events(result.stdout_bytes) == []
    assert result.stderr == "festival: no set found for Nobody (performer)\n"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ((), "one of --performer, --stage or --night"),
        (("--performer", "Björk", "--stage", "Side Stage"), "one of --performer, --stage"),
        (("--night", "Saturday"), "'Saturday' is not a date like 2025-07-12"),
    ],
)
def test_export_says_what_is_wrong_with_what_it_was_asked(lineup, arguments, message):
    assert failed_with(festival("export", *arguments), message)


# --- CSV -----------------------------------------------------------------------------------


def csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_export_as_csv_gives_the_sets_with_their_zone_and_source(lineup):
    result = festival("export", "--format", "csv", "--stage", "Side Stage")

    header, *rows = csv_rows(result.stdout)
    assert header == list(CSV_COLUMNS)
    answer = lineup.queries.by_stage("Side Stage")
    assert rows == [[str(p[column]) for column in CSV_COLUMNS] for p in answer]
    assert rows[0][:5] == [
        "Rene Rapp",
        "Side Stage",
        "2025-07-12T16:30",
        "2025-07-12T17:30",
        "Europe/Amsterdam",
    ]


def test_csv_of_any_question_is_the_export_csv_of_the_same_sets(lineup):
    exported = festival("export", "--format", "csv", "--performer", "Olivia Rodrigo")
    asked = festival("performer", "Olivia Rodrigo", "--csv")
    between = festival("--csv", "between", "2025-07-12T23:00", "2025-07-13T01:00")

    assert asked.stdout == exported.stdout
    header, *rows = csv_rows(between.stdout)
    assert header == list(CSV_COLUMNS)
    assert [row[0] for row in rows] == [
        p["performer"]
        for p in lineup.queries.between(datetime(2025, 7, 12, 23), datetime(2025, 7, 13, 1))
    ]


def test_csv_of_a_festival_day_is_its_rows_alone(lineup):
    header, *rows = csv_rows(festival("day", "2025-07-12", "--day-starts", "06:00", "--csv").stdout)

    assert header == list(CSV_COLUMNS)
    assert [row[0] for row in rows] == [
        p["performer"] for p in lineup.queries.on_night(date(2025, 7, 12), time(6, 0))
    ]


def test_csv_of_uploads_has_the_tables_columns(lineup):
    header, *rows = csv_rows(festival("uploads", "--csv").stdout)

    assert header[:3] == ["file", "status", "parts"] and header[-1] == "same lineup as"
    assert [row[:4] for row in rows] == [[SEED_KEY, "OK", "1/1", "24"]]


def test_a_cell_a_spreadsheet_would_run_is_written_as_text(lineup_to_change):
    lineup_to_change.load(
        "uploads/hostile.csv",
        b"Performer,Stage,Start,End,Date\n=HYPERLINK(1),@Stage,20:00,21:00,2025-07-12\n",
    )

    [_, row] = csv_rows(festival("--csv", "performer", "=HYPERLINK(1)").stdout)

    assert row[:2] == ["'=HYPERLINK(1)", "'@Stage"]


def test_csv_of_the_cost_is_its_lines_alone():
    result = festival("cost", "--records-per-day", "100000", "--csv")

    header, *rows = csv_rows(result.stdout)
    assert header == ["service", "item", "quantity / month", "USD"]
    assert rows and all(len(row) == 4 and row[3].startswith("$") for row in rows)


@pytest.mark.parametrize("command", [("performer", "Björk"), ("uploads",), ("reconcile",)])
def test_json_and_csv_together_are_refused(lineup, command):
    assert failed_with(festival("--json", *command, "--csv"), "--json and --csv")


# --- the same lineup under two names ---------------------------------------------------------


def test_the_same_lineup_under_a_second_name_is_reported_listed_and_shown(lineup_to_change):
    report = lineup_to_change.load("uploads/lineup-v2.csv", SEED.read_bytes())

    assert (report.same_lineup_file, report.same_lineup_percent) == (SEED_KEY, 100)
    rows = table_rows(festival("uploads"))
    assert [(row[0], row[-1]) for row in rows if row[0] == "uploads/lineup-v2.csv"] == [
        ("uploads/lineup-v2.csv", f"{SEED_KEY} (100%)")
    ]
    client = create_app(lineup_to_change.queries, lineup_to_change.uploader).test_client()
    text = client.get("/uploads").get_data(as_text=True)
    assert "Same lineup:</strong> most of these sets (100%) are already in" in text
    assert f"aws s3 rm s3://{lineup_to_change.name}/{SEED_KEY}" in text
    followed = client.get(
        "/uploads/follow/report", query_string={"file": report.key, "etag": report.etag}
    ).get_data(as_text=True)
    assert f"most of these sets (100%) are already in <code>{SEED_KEY}</code>" in followed
    first = client.get(
        "/uploads/follow/report", query_string={"file": SEED_KEY, "etag": report.etag}
    ).get_data(as_text=True)
    assert "Same lineup" not in first


# --- the explorer's subscription URLs --------------------------------------------------------


def test_the_explorer_serves_the_same_calendars_as_festival_export(lineup):
    client = create_app(lineup.queries, lineup.uploader).test_client()

    for kind, name, arguments in [
        ("performer", "Sigur Rós", ("--performer", "Sigur Rós")),
        ("stage", "Main Stage", ("--stage", "Main Stage")),
        ("night", "2025-07-12", ("--night", "2025-07-12", "--day-starts", "06:00")),
    ]:
        response = client.get(f"/calendar/{kind}/{quote(name)}.ics")

        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.mimetype == "text/calendar"
        exported = festival("export", *arguments)
        assert as_tuples(events(response.data)) == as_tuples(events(exported.stdout_bytes))
        assert events(response.data)


def test_a_calendar_url_for_a_night_that_is_not_a_date_says_why(lineup):
    client = create_app(lineup.queries, lineup.uploader).test_client()

    response = client.get("/calendar/night/saturday.ics")

    assert response.status_code == 400
    assert "'saturday' is not a date like 2025-07-12" in response.get_data(as_text=True)


def test_pages_link_to_their_calendars(lineup):
    client = create_app(
        lineup.queries, lineup.uploader, now=lambda: datetime(2025, 7, 12, 22, 40)
    ).test_client()

    performer = client.get("/performer?name=sigur+r%C3%B3s").get_data(as_text=True)
    day = client.get("/day?date=2025-07-12").get_data(as_text=True)
    stage = client.get(
        "/whats-on?from=2025-07-12T19:00&to=2025-07-12T23:00&stage=Side+Stage"
    ).get_data(as_text=True)

    assert 'href="/calendar/performer/Sigur%20R%C3%B3s.ics"' in performer
    assert 'href="/calendar/night/2025-07-12.ics"' in day
    assert 'href="/calendar/stage/Side%20Stage.ics"' in stage
