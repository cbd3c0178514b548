"""The explorer in headless Chromium (Debian's package, driven by Playwright), served by
waitress as `festival serve` serves it, over in-memory AWS (moto).

What only a browser shows: the upload form's drop zone and the page following a load by
polling, sets drawn where they belong, the layout on a phone, and that no name runs as code.
"""

from __future__ import annotations

from datetime import datetime, time
from pathlib import Path

import pypdfium2 as pdfium
import pytest

from festival.explorer import create_app
from tests.browser import PHONE, serving
from tests.lineups import lineup_csv
from tests.moto_aws import lineup_of

pytestmark = pytest.mark.functional

SEED = Path(__file__).resolve().parents[2] / "seed" / "lineup.csv"
HOSTILE = "<script>alert(1)</script>"
NOW = datetime(2025, 7, 12, 22, 40)
A4_LANDSCAPE = (841.89, 595.28)  # points
# The page's 297 x 210 mm less the stylesheet's 10 mm margins, in CSS pixels (96 an inch).
A4_PRINTABLE_PX = {"width": round(277 / 25.4 * 96), "height": round(190 / 25.4 * 96)}
PRINT_DPI = 150


@pytest.fixture(scope="module")
def lineup():
    with lineup_of(("uploads/seed.csv", SEED.read_bytes())) as lineup:
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


def test_saturdays_page_shows_fred_again_and_draws_bonobo_and_kraftwerk_whole(
    lineup, explorer, page
):
    page.goto(f"{explorer}/day?date=2025-07-12")

    names = page.locator(".timeline .set .name").all_inner_texts()
    night = lineup.queries.on_night(NOW.date(), time(6, 0))
    assert sorted(names) == sorted(p["performer"] for p in night)
    assert "Fred again.." in names  # 00:00-02:00 on the 13th: Saturday night's
    # The timeline runs 15:00 to 02:00; each set is drawn from its start to its end.
    track = page.locator(".stage-line", has_text="Outdoor Stage").locator(".track").bounding_box()

    def x_at(hours_after_three_pm: float) -> float:
        return track["x"] + track["width"] * hours_after_three_pm / 11

    for name, start, end in [
        ("Bonobo", 7, 11),  # 22:00-02:00
        ("Kraftwerk", 8 + 59 / 60, 10.25),  # 23:59-01:15
        ("Fred again..", 9, 11),  # 00:00-02:00
    ]:
        block = page.locator(".set", has_text=name).first
        drawn = block.bounding_box()
        assert drawn["x"] == pytest.approx(x_at(start), abs=1.5), name
        assert drawn["x"] + drawn["width"] == pytest.approx(x_at(end), abs=1.5), name
        label = block.locator(".name")
        assert label.inner_text() == name
        assert label.evaluate("e => e.scrollWidth <= e.clientWidth"), f"{name} is cut"
        assert block.locator(".times").evaluate("e => e.scrollWidth <= e.clientWidth"), name
    assert page.locator(".set", has_text="Kraftwerk").first.locator(".times").inner_text() == (
        "23:59–01:15"
    )
    now_line = page.locator(".track .now").first.bounding_box()
    assert now_line["x"] == pytest.approx(x_at(7 + 40 / 60), abs=1.5)  # 22:40


def test_the_day_view_prints_on_one_a4_landscape_page_with_every_name_whole(
    lineup, explorer, page, tmp_path
):
    page.goto(f"{explorer}/day?date=2025-07-12")
    night = lineup.queries.on_night(NOW.date(), time(6, 0))

    pdf = pdfium.PdfDocument(page.pdf(prefer_css_page_size=True, print_background=True))
    assert len(pdf) == 1
    (printed,) = pdf
    width, height = printed.get_size()  # points
    assert (width, height) == (
        pytest.approx(A4_LANDSCAPE[0], abs=2),
        pytest.approx(A4_LANDSCAPE[1], abs=2),
    )
    text = " ".join(printed.get_textpage().get_text_range().split())
    assert text.startswith("Saturday 12 July 2025")
    for p in night:
        assert f"{p['performer']} {p['start'][11:16]}–{p['end'][11:16]}" in text
    for stage in ("Dance Tent", "Main Stage", "Outdoor Stage", "Side Stage"):
        assert stage in text
    for left_out in ("Now:", "Every set of", "Print running order", "Fri 11", "Calendar of"):
        assert left_out not in text  # the screen's controls, the now line and the table
    image = printed.render(scale=PRINT_DPI / 72).to_pil()
    image.save(tmp_path / "saturday.png")  # look at it: pytest's tmp_path keeps it
    assert image.width > image.height

    # Laid out as printed: every set's name and times inside its block, nothing clipped.
    page.emulate_media(media="print")
    page.set_viewport_size(A4_PRINTABLE_PX)
    clipped = page.evaluate(
        """() => [...document.querySelectorAll(".timeline .set")]
             .filter(set => set.scrollHeight > set.clientHeight + 1
                         || [...set.children].some(part => part.scrollWidth > part.clientWidth + 1))
             .map(set => set.querySelector(".name").innerText)"""
    )
    assert clipped == []


def test_the_print_button_prints_the_running_order(explorer, page):
    page.add_init_script("window.print = () => { window.printed = true; };")
    page.goto(f"{explorer}/day?date=2025-07-12")

    page.click("button[data-print]")
    assert page.evaluate("window.printed") is True


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
