"""``python -m festival.cost [--results FILE] [--doc FILE]``: print or regenerate."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from festival.cost.measurements import MeasurementsError, load_measurements
from festival.cost.rendering import markdown_cost_table, render_doc


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m festival.cost [--results FILE] [--doc FILE]``: print or regenerate."""
    parser = argparse.ArgumentParser(prog="python -m festival.cost", description=main.__doc__)
    parser.add_argument(
        "--results",
        type=Path,
        default=None,
        help="benchmark results (default: benchmarks/results.json)",
    )
    parser.add_argument(
        "--doc",
        type=Path,
        default=None,
        help="rewrite the generated blocks of this Markdown file in place",
    )
    args = parser.parse_args(argv)
    try:
        measurements = load_measurements(args.results)
    except MeasurementsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if args.doc:
        args.doc.write_text(
            render_doc(args.doc.read_text(encoding="utf-8"), measurements), encoding="utf-8"
        )
        print(f"updated {args.doc} from measurements of {measurements.measured_at}")
    else:
        print(markdown_cost_table(measurements))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
