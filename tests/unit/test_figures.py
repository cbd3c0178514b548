"""The figures committed under docs/img show what the code draws today."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from festival import figures

ROOT = Path(__file__).resolve().parents[2]
IMAGES = ROOT / "docs" / "img"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def committed_manifest() -> dict[str, str]:
    return json.loads((IMAGES / figures.MANIFEST).read_text(encoding="utf-8"))


def test_each_committed_figure_was_drawn_from_the_current_data_and_drawing_code():
    fresh = figures.manifest(figures.doc_figures())

    stale = [
        name for name, fingerprint in fresh.items() if committed_manifest().get(name) != fingerprint
    ]
    assert stale == [], f"{', '.join(stale)} stale: run `make figures` and commit docs/img"


def test_every_figure_is_a_committed_png_and_nothing_else_is_there():
    names = set(committed_manifest())

    assert names == {figure.name for figure in figures.doc_figures()}
    assert {path.name for path in IMAGES.glob("*.png")} == names
    for name in names:
        assert (IMAGES / name).read_bytes().startswith(PNG_SIGNATURE), name


def test_every_figure_is_shown_in_the_readme_or_the_docs():
    documents = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    text = "\n".join(path.read_text(encoding="utf-8") for path in documents)

    assert [name for name in committed_manifest() if f"img/{name})" not in text] == []


def test_the_figures_command_draws_every_figure_with_the_committed_manifest(tmp_path):
    assert figures.main(["--out", str(tmp_path)]) == 0

    assert json.loads((tmp_path / figures.MANIFEST).read_text()) == committed_manifest()
    for name in committed_manifest():
        assert (tmp_path / name).read_bytes().startswith(PNG_SIGNATURE)


@pytest.mark.parametrize(
    ("start", "end", "shown"),
    [
        ("2025-07-12T22:00", "2025-07-13T02:00", True),  # past midnight
        ("2025-07-12T03:00", "2025-07-12T06:30", True),  # the night before, still playing at 06:00
        ("2025-07-12T03:00", "2025-07-12T06:00", False),  # ended as the day began
        ("2025-07-13T06:00", "2025-07-13T07:00", False),  # the next festival day
    ],
)
def test_a_festival_day_runs_from_six_to_six_the_next_morning(start, end, shown):
    performance = {"performer": "Bonobo", "stage": "Outdoor Stage", "start": start, "end": end}

    assert bool(figures.sets_of_the_day([performance], "2025-07-12")) is shown


def test_the_timeline_shows_the_seed_lineups_day_as_the_queries_answer_it():
    sets = figures.lineup_file_sets(figures.SEED, "2025-07-12")

    assert {(s["performer"], s["end"]) for s in sets if s["start"] >= "2025-07-13"} == {
        ("Fred again..", "2025-07-13T02:00"),  # dated the 13th, at 00:00: the 12th's night
    }
    assert ("Kraftwerk", "2025-07-13T01:15") in {(s["performer"], s["end"]) for s in sets}
