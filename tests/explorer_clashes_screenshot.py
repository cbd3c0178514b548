"""Make docs/explorer-clashes.png: the explorer's Clashes page for a festival day, in headless
Chromium.

    .venv/bin/python -m tests.explorer_clashes_screenshot

The seed lineup and a file of late additions that clash with it are loaded into in-memory
AWS (moto) by the Lambda's own code, as tests/explorer_screenshot.py does for the day view.
"""

from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path

from tests.browser import LAPTOP, chromium, explorer_of
from tests.lineups import lineup_csv

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "seed" / "lineup.csv"
DAY = "2025-07-12"
NOW = datetime(2025, 7, 12, 18, 0)
# Bonobo added to the Dance Tent while still on the Outdoor Stage (a double booking, and an
# overlap with Peggy Gou), and a set on the Side Stage 10 minutes after Rosalía.
LATE_ADDITIONS = [
    ["Bonobo", "Dance Tent", "23:30", "1:00", DAY],
    ["Arlo Parks", "Side Stage", "23:10", "0:10", DAY],
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "explorer-clashes.png")
    arguments = parser.parse_args()
    seed = ("uploads/lineup.csv", SEED.read_bytes())
    late = ("uploads/late-additions.csv", lineup_csv(LATE_ADDITIONS))
    with explorer_of(NOW, seed, late) as url, chromium() as browser:
        page = browser.new_page(viewport=LAPTOP)
        page.goto(f"{url}/clashes?date={DAY}")
        page.screenshot(path=str(arguments.out), full_page=True)
        page.close()
        print(f"wrote {arguments.out}")


if __name__ == "__main__":
    main()
