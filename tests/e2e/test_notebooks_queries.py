"""notebooks/queries.ipynb runs from top to bottom against the local stack."""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import pytest
from ipykernel.kernelspec import RESOURCES, get_kernel_dict
from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

pytestmark = pytest.mark.e2e

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "queries.ipynb"


class ThisInterpreter(KernelSpecManager):
    """The python3 kernel on the interpreter running the tests (.venv's), whatever other
    kernel specs the machine has."""

    def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
        spec = get_kernel_dict()
        return KernelSpec(
            argv=spec["argv"],
            display_name=spec["display_name"],
            language=spec["language"],
            resource_dir=RESOURCES,
        )


def outputs_of(notebook, output_type: str) -> list[dict]:
    return [
        output
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.output_type == output_type
    ]


def test_queries_notebook_runs_and_shows_the_key_conditions_and_the_timeline(local_stack):
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert not any(cell.outputs for cell in code_cells), "commit the notebook without outputs"
    notebook.cells.append(nbformat.v4.new_code_cell("import sys; print(sys.executable)"))
    kernel = KernelManager(kernel_name="python3", kernel_spec_manager=ThisInterpreter())

    NotebookClient(
        notebook,
        km=kernel,
        timeout=300,
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    ).execute()

    printed = [output.text for output in outputs_of(notebook, "stream")]
    assert printed[-1].strip() == sys.executable
    text = "".join(printed)
    assert "uploads/notebook-lineup.csv: OK" in text
    for condition in (
        "gsi1pk = :pk",
        "gsi3pk = :pk AND gsi3sk BETWEEN :lo AND :hi",
        "gsi2pk = :pk AND gsi2sk BETWEEN :lo AND :hi",
    ):
        assert f"KeyConditionExpression: {condition}" in text
    assert any("image/png" in output.data for output in outputs_of(notebook, "display_data"))
