"""The cost notebook runs top to bottom, headless, against given measurements."""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "cost_model.ipynb"
# The notebook's figures come from festival.cost, whatever the numbers; this test does not
# depend on benchmarks/results.json, so it gives the notebook measurements of its own.
MEASUREMENTS = {
    "lambda_cpu_ms_per_1000_rows": 200.0,
    "write_requests_per_1000_rows": 40.0,
    "table_write_units_per_1000_rows": 1000.0,
    "item_bytes": 400,
    "measured_at": "test fixture",
}


def test_cost_notebook_runs_without_errors_and_draws_its_plots(tmp_path, monkeypatch):
    results = tmp_path / "results.json"
    results.write_text(json.dumps(MEASUREMENTS), encoding="utf-8")
    monkeypatch.setenv("FESTIVAL_BENCH_RESULTS", str(results))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("MPLCONFIGDIR", str(tmp_path / "matplotlib"))
    # The kernel is another process: give it the sources, in case the project is not installed.
    paths = [str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(path for path in paths if path))
    notebook = nbformat.read(NOTEBOOK, as_version=4)

    NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=300,
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    ).execute()  # raises CellExecutionError on the first failing cell

    outputs = [output for cell in notebook.cells for output in cell.get("outputs", [])]
    assert not [output for output in outputs if output.get("output_type") == "error"]
    images = [output for output in outputs if "image/png" in output.get("data", {})]
    assert len(images) >= 3  # cost by service, capacity modes, storage over the year
