"""The explorer in headless Chromium (Debian's package, driven by Playwright), served by
waitress as `festival serve` serves it, over in-memory AWS (moto).

What only a browser shows: the upload form's drop zone and the page following a load by
polling, sets drawn where they belong, the layout on a phone, and that no name runs as code.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from festival.explorer import create_app
from tests.browser import PHONE, serving
from tests.functional.moto_lineup import MotoLineup
from tests.lineups import lineup_csv

pytestmark = pytest.mark.functional

REGION = "us-east-1"
SEED = Path(__file__).resolve().parents[2] / "seed" / "lineup.csv"
HOSTILE = "<script>alert(1)</script>"
NOW = datetime(2025, 7, 12, 22, 40)


@pytest.fixture(scope="module")
def lineup():
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_ACCESS_KEY_ID", "testing")
        patch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        patch.delenv("AWS_ENDPOINT_URL", raising=False)
        patch.delenv("AWS_PROFILE", raising=False)
        with mock_aws():
            lineup = MotoLineup(
                boto3.client("s3", region_name=REGION), boto3.client("dynamodb", region_name=REGION)
            )
            lineup.load("uploads/seed.csv", SEED.read_bytes())
            yield lineup


@pytest.fixture(scope="module")
def explorer(lineup):
    app = create_app(lineup.queries, lineup.uploader, now=lambda: NOW)
    with serving(app) as url:
        yield url


def test_a_dropped_seed_lineup_is_uploaded_and_followed_to_its_report(lineup, explorer, page):
    page.goto(f"{explorer}/upload")
    dropped = page.evaluate_handle(
        """(text) => { const transfer = new DataTransfer();
             transfer.items.add(new File([text], "lineup.csv", {type: "text/csv"}));
             return transfer; }""",
        SEED.read_text(encoding="utf-8"),
    )
    page.dispatch_event(".drop-zone", "drop", {"dataTransfer": dropped})
    assert page.inner_text(".chosen").startswith("lineup.csv (")

    page.click("button[type=submit]")
    page.wait_for_selector(".waiting")
    assert page.url.startswith(f"{explorer}/uploads/follow?")
    lineup.notify("uploads/lineup.csv")  # what S3's notification starts in the stack

    report = page.wait_for_selector(".report[data-status=OK]", timeout=10_000)
    assert "Rows loaded 24" in " ".join(report.inner_text().split())
    assert "uploads/lineup.csv" in lineup.object_keys()


def test_the_day_view_draws_every_set_with_one_past_midnight_spanning_to_the_end(
    lineup, explorer, page
):
    page.goto(f"{explorer}/day?date=2025-07-12")

    names = page.locator(".timeline .set .name").all_inner_texts()
    assert sorted(names) == sorted(p["performer"] for p in lineup.queries.on_day(NOW.date()))
    bonobo = page.locator(".set", has_text="Bonobo").first.bounding_box()
    track = page.locator(".stage-line", has_text="Outdoor Stage").locator(".track").bounding_box()
    assert bonobo["x"] + bonobo["width"] == pytest.approx(track["x"] + track["width"], abs=1)
    now_line = page.locator(".track .now").first.bounding_box()
    assert track["x"] < now_line["x"] < track["x"] + track["width"]


def test_on_a_phone_the_page_fits_and_the_timeline_scrolls_to_now(explorer, browser):
    phone = browser.new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    phone.goto(f"{explorer}/day?date=2025-07-12")

    overflow = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    scroller = phone.locator(".timeline-scroll")
    assert overflow <= 0
    assert scroller.evaluate("element => element.scrollLeft") > 0  # brought to 22:40
    assert phone.locator(".now").first.is_visible()
    phone.close()


def test_a_performer_found_in_another_case_and_a_hostile_name_shown_as_text(
    lineup, explorer, page, dialogs
):
    lineup.load(
        f"uploads/{HOSTILE}.csv",
        lineup_csv(
            [
                [HOSTILE, "Main Stage", "20:00", "21:00", "2025-07-20"],
                ["Night Owl", "Main Stage", "23:00", "1:00", "2025-07-20"],
            ]
        ),
    )
    page.goto(f"{explorer}/performer")
    page.fill("input[name=name]", "  NIGHT   owl")
    page.click("button[type=submit]")
    assert page.locator(".set-row .performer").all_inner_texts() == ["Night Owl"]

    for url in (
        "/day?date=2025-07-20",
        "/performer?name=%3Cscript%3Ealert(1)%3C/script%3E",
        "/whats-on?at=2025-07-20T20:30",
        "/uploads",
    ):
        page.goto(f"{explorer}{url}")
        assert HOSTILE in page.inner_text("main"), url
    assert dialogs == []


def test_a_file_over_the_limit_is_stopped_in_the_browser(lineup, browser):
    app = create_app(lineup.queries, lineup.uploader, max_upload_bytes=1024)
    with serving(app) as url:
        small = browser.new_page()
        small.goto(f"{url}/upload")
        small.set_input_files(
            "input[name=lineup]",
            files=[
                {"name": "big.csv", "mimeType": "text/csv", "buffer": b"x" * 2048},
            ],
        )
        small.click("button[type=submit]")

        assert "larger than this page takes" in small.inner_text(".chosen")
        assert small.url == f"{url}/upload"
        small.close()
    assert "uploads/big.csv" not in lineup.object_keys()
