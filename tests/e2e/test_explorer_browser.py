"""`festival --local serve` in headless Chromium (Debian's package, driven by Playwright),
through the running local stack: the page uploads to the stack's bucket, the Lambda loads
the file and emails, and the pages answer what the `festival` command answers.

The lineup the pages are read on is the seed's, moved to dates and names no other test
uses, so that its day holds its sets only.
"""

from __future__ import annotations

import csv
import io
import json
import socket
import subprocess
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from tests.e2e.conftest import Pipeline, wait_for
from tests.e2e.test_cli import FESTIVAL, festival, festival_json

pytestmark = pytest.mark.e2e

SEED = Path(__file__).resolve().parents[2] / "seed" / "lineup.csv"
SEED_DAYS = ("2025-07-12", "2025-07-13", "2025-07-14")
HOSTILE = "<script>alert(1)</script>"
LOAD_DEADLINE_S = 180.0
START_DEADLINE_S = 30.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def explorer(local_stack, tmp_path_factory):
    """`festival --local serve` on a free port, stopped (this process only) at the end."""
    port = free_port()
    log = tmp_path_factory.mktemp("explorer") / "serve.log"
    with open(log, "w", encoding="utf-8") as output:
        server = subprocess.Popen(
            [str(FESTIVAL), "--local", "serve", "--port", str(port)],
            stdout=output,
            stderr=subprocess.STDOUT,
            text=True,
        )
    url = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        if server.poll() is not None:
            pytest.fail(f"festival serve ended: {log.read_text(encoding='utf-8')}")
        try:
            with urllib.request.urlopen(f"{url}/upload", timeout=2) as response:
                return response.status == 200
        except (urllib.error.URLError, ConnectionError):
            return False

    try:
        wait_for("festival serve to answer", answers, deadline_s=START_DEADLINE_S)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@dataclass
class MovedLineup:
    key: str
    tag: str
    first_day: date
    rows: list[dict]

    def name(self, seed_name: str) -> str:
        return f"{seed_name} {self.tag}"


@pytest.fixture(scope="module")
def moved(pipeline: Pipeline) -> MovedLineup:
    """The seed lineup on days and with names of its own, plus a hostile name; loaded."""
    tag = uuid.uuid4().hex[:8]
    first_day = date(2040, 1, 1) + timedelta(days=int(tag, 16) % 3650)
    days = {seed: (first_day + timedelta(days=n)).isoformat() for n, seed in enumerate(SEED_DAYS)}
    with open(SEED, encoding="utf-8", newline="") as seed:
        rows = [
            {**row, "Performer": f"{row['Performer']} {tag}", "Date": days[row["Date"]]}
            for row in csv.DictReader(seed)
        ]
    rows.append(
        {
            "Performer": f"{HOSTILE} {tag}",
            "Stage": "Main Stage",
            "Start": "12:00",
            "End": "13:00",
            "Date": first_day.isoformat(),
        }
    )
    body = io.StringIO()
    writer = csv.DictWriter(body, fieldnames=list(rows[0]), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    key = pipeline.unique_key("explorer.csv")
    pipeline.upload(key, body.getvalue().encode("utf-8"))
    wait_for(
        f"the ingest record of {key}",
        lambda: pipeline.upload_records(key),
        deadline_s=LOAD_DEADLINE_S,
    )
    return MovedLineup(key, tag, first_day, rows)


def test_the_seed_lineup_uploaded_from_the_page_is_followed_to_its_report(pipeline, explorer, page):
    name = f"lineup-{uuid.uuid4().hex[:10]}.csv"
    key = f"{pipeline.prefix}{name}"
    page.goto(f"{explorer}/upload")
    page.set_input_files(
        "input[name=lineup]",
        files=[
            {"name": name, "mimeType": "text/csv", "buffer": SEED.read_bytes()},
        ],
    )
    page.click("button[type=submit]")

    report = page.wait_for_selector(".report[data-status=OK]", timeout=LOAD_DEADLINE_S * 1000)
    text = " ".join(report.inner_text().split())
    assert key in text
    assert "Rows loaded 24" in text and "Rows rejected 0" in text
    email = pipeline.wait_for_email(key)
    assert "Rows loaded:   24" in email["text"]
    assert len(pipeline.emails_about(key)) == 1


def test_the_day_view_is_the_festival_night_with_the_sets_past_midnight_drawn_whole(
    moved, local_stack, explorer, page
):
    day = moved.first_day.isoformat()
    page.goto(f"{explorer}/day?date={day}")

    # The deployed stack's boundary, read from its output by the page and by festival alike.
    assert local_stack.outputs["FestivalDayStarts"] == "06:00"
    answer = festival("--local", "--json", "day", day)
    assert answer.returncode == 0, answer.stderr
    night = json.loads(answer.stdout)
    assert night["from"] == f"{day}T06:00"
    names = page.locator(".timeline .set .name").all_inner_texts()
    assert sorted(names) == sorted(p["performer"] for p in night["performances"])
    assert moved.name("Fred again..") in names  # 00:00-02:00 on the next date
    # The timeline runs 12:00 (the hostile name's set) to 02:00: 14 hours.
    track = page.locator(".stage-line", has_text="Outdoor Stage").locator(".track")
    edge = track.bounding_box()
    for name, start, end in [("Bonobo", 10, 14), ("Kraftwerk", 11 + 59 / 60, 13.25)]:
        block = page.locator(".set", has_text=moved.name(name))
        drawn = block.bounding_box()
        assert drawn["x"] == pytest.approx(edge["x"] + edge["width"] * start / 14, abs=1.5)
        right = edge["x"] + edge["width"] * end / 14
        assert drawn["x"] + drawn["width"] == pytest.approx(right, abs=1.5)
    assert "22:00–02:00" in page.locator(".set", has_text=moved.name("Bonobo")).inner_text()


def test_a_performer_search_finds_the_performer_written_in_another_case(moved, explorer, page):
    asked = f"  {moved.name('Sigur Rós').upper()}  "
    page.goto(f"{explorer}/performer")
    page.fill("input[name=name]", asked)
    page.click("button[type=submit]")

    shown = page.locator(".set-row .performer").all_inner_texts()
    assert shown == [moved.name("Sigur Rós")] * 2
    assert len(festival_json("performer", asked)) == 2


def test_whats_on_at_a_time_is_what_festival_at_answers_on_each_stage(moved, explorer, page):
    when = datetime.combine(moved.first_day, datetime.min.time()) + timedelta(hours=22, minutes=30)
    page.goto(f"{explorer}/whats-on")
    page.fill("input[name=at]", when.strftime("%Y-%m-%dT%H:%M"))
    page.click("form:has(input[name=at]) button[type=submit]")
    page.wait_for_selector(".answer")

    shown = {
        stage.locator(".stage").inner_text(): sorted(stage.locator(".performer").all_inner_texts())
        for stage in page.locator(".on-stage").all()
    }
    stages = sorted({row["Stage"] for row in moved.rows})
    answered = {
        stage: sorted(
            p["performer"] for p in festival_json("at", stage, when.strftime("%Y-%m-%dT%H:%M"))
        )
        for stage in stages
    }
    assert shown == {stage: names for stage, names in answered.items() if names}
    assert len(shown) == 4  # every stage has a set on at 22:30 on the seed's first day


def test_a_hostile_performer_name_renders_as_text(moved, explorer, page, dialogs):
    hostile = f"{HOSTILE} {moved.tag}"
    day = moved.first_day.isoformat()
    for url in (f"/day?date={day}", f"/whats-on?at={day}T12:30"):
        page.goto(f"{explorer}{url}")
        assert hostile in page.inner_text("main"), url
    page.goto(f"{explorer}/performer")
    page.fill("input[name=name]", hostile.upper())
    page.click("button[type=submit]")

    assert page.locator(".set-row .performer").all_inner_texts() == [hostile]
    assert page.locator("main script").count() == 0
    assert dialogs == []
