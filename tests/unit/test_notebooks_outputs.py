"""The notebooks as a reader sees them: the cost notebook is committed with the outputs it
draws now (so the code host shows its tables and plots), and `make notebooks` gives
JupyterLab the project's interpreter as the notebooks' kernel."""

from __future__ import annotations

import base64
import io
import json
import sys
from pathlib import Path

import nbformat
import numpy as np
from jupyter_client.kernelspec import KernelSpecManager
from matplotlib import image

from festival.local import notebooks

ROOT = Path(__file__).resolve().parents[2]
COST = ROOT / "notebooks" / "cost_model.ipynb"
QUERIES = ROOT / "notebooks" / "queries.ipynb"
REDO = (
    "run `.venv/bin/python -m festival.local.notebooks execute notebooks/cost_model.ipynb` "
    "(make figures runs it) and commit the notebook"
)
# Largest mean difference of two renderings' pixels (0 to 1) still taken as the same plot:
# a matplotlib on another machine may anti-alias an edge differently, never more.
PIXEL_TOLERANCE = 0.002


def outputs(notebook) -> list[list[dict]]:
    return [cell.get("outputs", []) for cell in notebook.cells if cell.cell_type == "code"]


def pixels(png_base64: str) -> np.ndarray:
    return image.imread(io.BytesIO(base64.b64decode(png_base64)), format="png")


def same_output(committed: dict, drawn: dict) -> str | None:
    """None if the two outputs show the same, else what differs."""
    if committed.get("output_type") != drawn.get("output_type"):
        return f"{committed.get('output_type')} became {drawn.get('output_type')}"
    if "text" in drawn and committed.get("text") != drawn["text"]:
        return f"printed {drawn['text']!r}, committed {committed.get('text')!r}"
    old, new = committed.get("data", {}), drawn.get("data", {})
    if set(old) != set(new):
        return f"shows {sorted(new)}, committed {sorted(old)}"
    for kind, value in new.items():
        if kind == "image/png":
            if value == old[kind]:
                continue
            before, after = pixels(old[kind]), pixels(value)
            if before.shape != after.shape:
                return f"a plot of {after.shape[:2]} pixels, committed {before.shape[:2]}"
            if float(np.abs(before - after).mean()) > PIXEL_TOLERANCE:
                return "a plot differs from the committed one"
        elif value != old[kind]:
            return f"{kind} differs: {str(value)[:300]!r}"
    return None


def test_the_cost_notebook_is_committed_with_the_outputs_it_draws_now():
    committed = nbformat.read(COST, as_version=4)
    assert any(outputs(committed)), f"the cost notebook has no outputs: {REDO}"

    drawn = notebooks.run(COST)

    differences = []
    for number, (old, new) in enumerate(zip(outputs(committed), outputs(drawn), strict=True)):
        if len(old) != len(new):
            differences.append(f"cell {number}: {len(new)} outputs, committed {len(old)}")
            continue
        for before, after in zip(old, new, strict=True):
            difference = same_output(before, after)
            if difference:
                differences.append(f"cell {number}: {difference}")
    assert not differences, f"{'; '.join(differences)}: {REDO}"
    plots = [o for cell in outputs(committed) for o in cell if "image/png" in o.get("data", {})]
    assert len(plots) >= 3
    assert not [o for cell in outputs(committed) for o in cell if o["output_type"] == "error"]


def test_a_changed_plot_or_number_is_told_apart_from_the_committed_one():
    committed = nbformat.read(COST, as_version=4)
    plot = next(o for cell in outputs(committed) for o in cell if "image/png" in o.get("data", {}))
    png = pixels(plot["data"]["image/png"])
    blank = io.BytesIO()
    image.imsave(blank, np.ones_like(png), format="png")
    changed = {
        **plot,
        "data": {**plot["data"], "image/png": base64.b64encode(blank.getvalue()).decode()},
    }

    assert same_output(plot, plot) is None
    assert same_output(plot, changed) == "a plot differs from the committed one"
    table = next(o for cell in outputs(committed) for o in cell if "text/markdown" in o["data"])
    more = {
        **table,
        "data": {**table["data"], "text/markdown": table["data"]["text/markdown"] + "1"},
    }
    assert "text/markdown differs" in (same_output(table, more) or "")


def test_the_queries_notebook_is_committed_without_outputs_as_it_needs_the_local_stack():
    # Its answers depend on what the running stack's table holds; tests/e2e runs it.
    assert not any(outputs(nbformat.read(QUERIES, as_version=4)))


def test_jupyterlab_finds_the_projects_interpreter_as_the_notebooks_kernel(tmp_path, monkeypatch):
    spec_file = notebooks.write_kernelspec(tmp_path, "/project/.venv/bin/python")
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))  # what `make notebooks` sets

    spec = KernelSpecManager().get_kernel_spec("python3")  # the notebooks' kernel name

    assert spec.argv[:3] == ["/project/.venv/bin/python", "-m", "ipykernel_launcher"]
    assert "{connection_file}" in spec.argv
    assert json.loads(spec_file.read_text())["language"] == "python"
    for notebook in (COST, QUERIES):
        kernel = nbformat.read(notebook, as_version=4).metadata["kernelspec"]["name"]
        assert kernel == notebooks.KERNEL_NAME


def test_the_default_kernel_is_the_interpreter_running_the_kit():
    assert notebooks.kernelspec()["argv"][0] == sys.executable
