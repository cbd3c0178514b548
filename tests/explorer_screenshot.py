"""Make docs/explorer-day.png: the day view of the seed lineup, in headless Chromium.

    .venv/bin/python -m tests.explorer_screenshot [--phone docs/explorer-day-phone.png]

The lineup is loaded into in-memory AWS (moto) by the Lambda's own code, and the page's
clock is set to 22:40 on the seed's first day, so the current-time line shows.
"""

from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path

from tests.browser import LAPTOP, PHONE, chromium, explorer_of

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "seed" / "lineup.csv"
DAY = "2025-07-12"
NOW = datetime(2025, 7, 12, 22, 40)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "explorer-day.png")
    parser.add_argument("--phone", type=Path, default=None, help="Also a phone-sized shot.")
    arguments = parser.parse_args()
    seed = ("uploads/lineup.csv", SEED.read_bytes())
    with explorer_of(NOW, seed) as url, chromium() as browser:
        shots = [(arguments.out, LAPTOP)] + ([(arguments.phone, PHONE)] if arguments.phone else [])
        for path, viewport in shots:
            page = browser.new_page(viewport=viewport)
            page.goto(f"{url}/day?date={DAY}")
            page.screenshot(path=str(path), full_page=viewport is PHONE)
            page.close()
            print(f"wrote {path}")


if __name__ == "__main__":
    main()
