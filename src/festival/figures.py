"""The project's figures: drawn by the notebooks, and committed under docs/img for the docs.

Each figure is two steps: its *data* (plain numbers and names, from the cost model or a
lineup) and its *drawing* (matplotlib). The notebooks call both with their parameters;
``python -m festival.figures`` (``make figures``) draws the documents' figures from the
seed lineup and the benchmark's measurements, and writes beside the images a manifest
with a hash of each figure's data and of this module. A test recomputes the hashes, so an
image that no longer shows what the code would draw fails the tests without being redrawn.

matplotlib is a development dependency (``pip install -e '.[dev]'``): the ``festival``
command does not import this module.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import matplotlib
import matplotlib.dates as mdates
from matplotlib.figure import Figure

from festival import cost
from festival.nights import night_window
from lineup_ingest.parsing import Performance, decide_clock_from_head, read_lineup

ROOT = Path(__file__).resolve().parents[2]
IMAGES = ROOT / "docs" / "img"
MANIFEST = "figures.json"
SEED = ROOT / "seed" / "lineup.csv"
SEED_DAY = "2025-07-12"
DPI = 110


def png_bytes(figure: Figure) -> bytes:
    """The figure as PNG, without the metadata that changes from one matplotlib to another."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight", metadata={"Software": None})
    return buffer.getvalue()


# --- A festival day, stage by stage ------------------------------------------------------------


def festival_day(day: str) -> tuple[datetime, datetime]:
    """From the default boundary hour (06:00) on ``day`` to the same hour the next morning."""
    return night_window(date.fromisoformat(day))


def sets_of_the_day(performances: Iterable[dict[str, Any]], day: str) -> list[dict[str, str]]:
    """The sets occurring in the festival day ``day`` (starting before it ends, ending after
    it starts), as the queries answer them: performer, stage, ISO start and end."""
    first, last = (moment.strftime("%Y-%m-%dT%H:%M") for moment in festival_day(day))
    found = {
        (p["performer"], p["stage"], p["start"], p["end"])
        for p in performances
        if p["start"] < last and p["end"] > first
    }
    return [
        dict(zip(("performer", "stage", "start", "end"), s, strict=True))
        for s in sorted(found, key=lambda s: (s[2], s[1].casefold(), s[0]))
    ]


def lineup_file_sets(path: Path, day: str) -> list[dict[str, str]]:
    """The sets of a lineup file occurring on ``day``, read by the Lambda's own parser."""
    with path.open("rb") as stream:
        clock = decide_clock_from_head(stream).clock
    with path.open("rb") as stream:
        rows = [
            row._asdict()
            for row in read_lineup(stream, clock=clock)
            if isinstance(row, Performance)
        ]
    return sets_of_the_day(rows, day)


def stage_timeline_data(sets: Sequence[dict[str, str]], day: str, source: str) -> dict:
    return {"sets": list(sets), "day": day, "source": source}


def draw_stage_timeline(data: dict) -> Figure:
    """One row per stage; a set past midnight is drawn through it, to its real end."""
    sets = [
        {**p, "start": datetime.fromisoformat(p["start"]), "end": datetime.fromisoformat(p["end"])}
        for p in data["sets"]
    ]
    stages = sorted({p["stage"] for p in sets}, key=str.casefold)
    figure = Figure(figsize=(13, 1 + 0.9 * len(stages)))
    axes = figure.subplots()
    colours = matplotlib.colormaps["tab10"]
    for row, stage in enumerate(stages):
        on_stage = [p for p in sets if p["stage"] == stage]
        axes.broken_barh(
            [
                (
                    mdates.date2num(p["start"]),
                    mdates.date2num(p["end"]) - mdates.date2num(p["start"]),
                )
                for p in on_stage
            ],
            (row - 0.4, 0.8),
            facecolors=colours(row % 10),
            edgecolor="white",
            alpha=0.85,
        )
        for p in on_stage:
            middle = p["start"] + (p["end"] - p["start"]) / 2
            label = f"{p['performer']}\n{p['start']:%H:%M}-{p['end']:%H:%M}"
            axes.text(mdates.date2num(middle), row, label, ha="center", va="center", fontsize=8)
    midnight = datetime.fromisoformat(data["day"]) + timedelta(days=1)
    axes.axvline(mdates.date2num(midnight), color="black", linestyle="--", linewidth=1, zorder=0)
    axes.text(mdates.date2num(midnight), -0.6, " midnight", va="bottom", fontsize=8)
    first = min(p["start"] for p in sets) - timedelta(minutes=30)
    last = max(p["end"] for p in sets) + timedelta(minutes=30)
    axes.set_xlim(mdates.date2num(first), mdates.date2num(last))
    axes.set_ylim(len(stages) - 0.4, -0.8)
    axes.set_yticks(range(len(stages)), stages)
    axes.xaxis.set_major_locator(mdates.HourLocator())
    axes.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M"))
    axes.grid(axis="x", alpha=0.3)
    axes.set_title(f"Festival day {data['day']} (06:00 to 06:00), from {data['source']}")
    figure.tight_layout()
    return figure


# --- The cost model ----------------------------------------------------------------------------


def volume_grid(low: float, high: float, steps: int = 40) -> list[float]:
    """Records a day from ``low`` to ``high``, evenly spaced on a log scale."""
    return [low * (high / low) ** (i / steps) for i in range(steps + 1)]


def cost_by_service(
    measurements: cost.Measurements,
    base: cost.Workload,
    grid: Sequence[float],
    marks: Sequence[int] = (),
    **options: Any,
) -> dict:
    """The monthly cost of each service at each daily volume of ``grid``."""
    by_service: dict[str, list[float]] = {service: [] for service in cost.SERVICES}
    for records in grid:
        load = replace(base, records_per_day=round(records))
        totals = cost.monthly_cost(load, measurements, **options).by_service()
        for service in cost.SERVICES:
            by_service[service].append(totals[service])
    return {
        "grid": list(grid),
        "by_service": by_service,
        "marks": list(marks),
        "month": options.get("month", 12),
        "setting": f"{options.get('architecture', 'arm64')}, {options.get('gsis', 3)} GSIs, "
        "on-demand",
    }


def draw_cost_by_service(data: dict) -> Figure:
    """Stacked, to see the total; and each service alone on a log scale."""
    grid, month = data["grid"], data["month"]
    labels = [cost.SERVICE_TITLES[s] for s in cost.SERVICES]
    figure = Figure(figsize=(12, 4.5))
    usd, alone = figure.subplots(1, 2)
    usd.stackplot(grid, *(data["by_service"][s] for s in cost.SERVICES), labels=labels)
    usd.set_ylabel(f"USD in month {month}")
    usd.set_title(f"Monthly cost by service ({data['setting']})")
    for service, label in zip(cost.SERVICES, labels, strict=True):
        alone.plot(grid, data["by_service"][service], label=label)
    alone.set_yscale("log")
    alone.set_ylabel(f"USD in month {month} (log scale)")
    alone.set_title("Each service alone: all but DynamoDB are pennies")
    for axes in (usd, alone):
        axes.set_xscale("log")
        axes.set_xlabel("records per day")
        for records in data["marks"]:
            axes.axvline(records, color="grey", linewidth=0.6, linestyle=":")
        axes.grid(True, which="both", alpha=0.3)
    usd.legend(loc="upper left")
    return figure


CAPACITY_CURVES = {
    "on-demand": "on_demand_usd",
    "provisioned, always on": "provisioned_always_on_usd",
    "provisioned, 1 h/day": "provisioned_scheduled_usd",
    "provisioned, smoothed": "provisioned_smoothed_usd",
}


def capacity_modes(
    measurements: cost.Measurements,
    base: cost.Workload,
    grid: Sequence[float],
    *,
    gsis: int = 3,
    month: int = 12,
) -> dict:
    """DynamoDB's throughput cost on-demand and in three provisioned strategies, and the
    largest file one invocation loads, as marks."""
    curves: dict[str, list[float]] = {name: [] for name in CAPACITY_CURVES}
    for records in grid:
        load = replace(base, records_per_day=round(records))
        comparison = cost.provisioned_vs_on_demand(load, measurements, gsis=gsis, month=month)
        for name, key in CAPACITY_CURVES.items():
            curves[name].append(comparison[key])
    limits = cost.scalability(measurements, workload=base, gsis=gsis)
    marks = [
        [limits[key] * base.files_per_day, label]
        for key, label in (
            ("max_rows_template_timeout", "one file in 300 s"),
            ("max_rows_15_minutes", "one file in 15 min"),
        )
        if grid[0] <= limits[key] * base.files_per_day <= grid[-1]
    ]
    return {"grid": list(grid), "curves": curves, "marks": marks}


def draw_capacity_modes(data: dict) -> Figure:
    figure = Figure(figsize=(8, 4.5))
    axes = figure.subplots()
    for name, values in data["curves"].items():
        axes.plot(data["grid"], values, label=name, linewidth=2 if name == "on-demand" else 1.2)
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("records per day")
    axes.set_ylabel("USD per month (DynamoDB reads and writes)")
    for records, label in data["marks"]:
        axes.axvline(records, color="grey", linestyle=":")
        axes.annotate(
            label, (records, axes.get_ylim()[0]), rotation=90, fontsize=8, va="bottom", ha="right"
        )
    axes.set_title("On-demand against provisioned capacity")
    axes.legend()
    axes.grid(True, which="both", alpha=0.3)
    return figure


def cost_over_the_year(
    measurements: cost.Measurements, base: cost.Workload, volumes: Sequence[int], **options: Any
) -> dict:
    """The monthly total of months 1 to 12 at each daily volume, with the template's
    retention (rows and uploads expire after ``UploadRetentionDays``) or everything kept."""
    options = {
        key: value for key, value in options.items() if key not in ("month", "expire_after_days")
    }
    priced = (
        (f"{cost.RETENTION_DAYS}-day retention", "--", cost.monthly_cost),
        ("kept", "-", cost.monthly_cost_keeping_everything),
    )
    series = []
    for records in volumes:
        load = replace(base, records_per_day=records)
        for setting, style, monthly_cost in priced:
            usd = [
                monthly_cost(load, measurements, month=month, **options).monthly_total_usd
                for month in range(1, 13)
            ]
            series.append({"label": f"{records:,}/day, {setting}", "style": style, "usd": usd})
    return {"series": series}


def draw_cost_over_the_year(data: dict) -> Figure:
    figure = Figure(figsize=(8, 4))
    axes = figure.subplots()
    for line in data["series"]:
        axes.plot(range(1, len(line["usd"]) + 1), line["usd"], line["style"], label=line["label"])
    axes.set_yscale("log")
    axes.set_xlabel("month after launch")
    axes.set_ylabel("USD per month")
    axes.set_title("Monthly total as the table fills up")
    axes.legend(fontsize=8, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.18))
    axes.grid(True, which="both", alpha=0.3)
    return figure


# --- The documents' figures --------------------------------------------------------------------


@dataclass(frozen=True)
class DocFigure:
    """A figure committed under docs/img: what it shows, and how it is drawn."""

    name: str
    data: Callable[[], dict]
    draw: Callable[[dict], Figure]


def doc_figures(measurements: cost.Measurements | None = None) -> list[DocFigure]:
    """The figures of the README and the docs, with the notebooks' default parameters."""
    m = measurements or cost.load_measurements()
    base = cost.Workload(records_per_day=0)
    grid = volume_grid(1_000, 10_000_000)
    volumes = cost.DOC_RECORDS
    return [
        DocFigure(
            "stage-timeline.png",
            lambda: stage_timeline_data(
                lineup_file_sets(SEED, SEED_DAY), SEED_DAY, "seed/lineup.csv"
            ),
            draw_stage_timeline,
        ),
        DocFigure(
            "cost-by-volume.png",
            lambda: cost_by_service(m, base, grid, volumes),
            draw_cost_by_service,
        ),
        DocFigure("capacity-modes.png", lambda: capacity_modes(m, base, grid), draw_capacity_modes),
        DocFigure(
            "cost-over-the-year.png",
            lambda: cost_over_the_year(m, base, volumes),
            draw_cost_over_the_year,
        ),
    ]


def fingerprint(data: dict) -> str:
    """What a figure depends on: its data (rounded, so that the last bits of a float don't
    matter), the drawing code (this module) and matplotlib's version."""

    def rounded(value: Any) -> Any:
        if isinstance(value, float):
            return float(f"{value:.9g}") if math.isfinite(value) else str(value)
        if isinstance(value, dict):
            return {key: rounded(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [rounded(item) for item in value]
        return value

    digest = hashlib.sha256()
    digest.update(json.dumps(rounded(data), sort_keys=True, ensure_ascii=False).encode())
    digest.update(Path(__file__).read_bytes())
    digest.update(matplotlib.__version__.encode())
    return digest.hexdigest()


def manifest(figures: Sequence[DocFigure]) -> dict[str, str]:
    """The fingerprint of each figure, by file name."""
    return {figure.name: fingerprint(figure.data()) for figure in figures}


def draw_all(folder: Path = IMAGES) -> list[Path]:
    """Draw every document figure into ``folder``, with the manifest beside them."""
    folder.mkdir(parents=True, exist_ok=True)
    written, fingerprints = [], {}
    for figure in doc_figures():
        data = figure.data()
        path = folder / figure.name
        path.write_bytes(png_bytes(figure.draw(data)))
        fingerprints[figure.name] = fingerprint(data)
        written.append(path)
    (folder / MANIFEST).write_text(json.dumps(fingerprints, indent=2) + "\n", encoding="utf-8")
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m festival.figures [--out FOLDER]``: draw the documents' figures."""
    parser = argparse.ArgumentParser(prog="python -m festival.figures", description=main.__doc__)
    parser.add_argument(
        "--out", type=Path, default=IMAGES, help="where to write the images (default: docs/img)"
    )
    args = parser.parse_args(argv)
    for path in draw_all(args.out):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
