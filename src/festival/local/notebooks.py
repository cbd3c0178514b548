"""The notebooks' kernel, and the committed outputs of the cost notebook.

`make notebooks` runs JupyterLab from a virtualenv of its own (``.local/jupyterlab``: its
dependencies are not the project's) with a kernel spec written here, named ``python3`` as
the notebooks ask, that starts the kernel on the project's interpreter (``.venv``), where
``festival`` and the test tools are installed.

``notebooks/cost_model.ipynb`` is committed with its outputs (tables and plots), so the
code host shows them; ``execute`` runs it again and writes them (`make figures` does, and
tests/unit/test_notebooks_outputs.py fails when they are not current).
``notebooks/queries.ipynb`` is committed without outputs: it loads the seed lineup through
the running local stack, whose table other uploads share, and runs in the end-to-end tests.

    python -m festival.local.notebooks kernelspec FOLDER
    python -m festival.local.notebooks execute NOTEBOOK...
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

KERNEL_NAME = "python3"  # what the notebooks' metadata names
EXECUTE_TIMEOUT_S = 300
# Outputs that hold a path or a time of this machine and run, never committed.
VOLATILE_CELL_METADATA = ("execution",)


def kernelspec(python: str | os.PathLike[str] = sys.executable) -> dict[str, Any]:
    """A kernel spec that runs ipykernel on ``python`` (the project's interpreter)."""
    return {
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (festival-lineup .venv)",
        "language": "python",
        "metadata": {"debugger": True},
    }


def write_kernelspec(folder: Path, python: str | os.PathLike[str] = sys.executable) -> Path:
    """Write ``kernels/python3/kernel.json`` under ``folder`` (put on JUPYTER_PATH)."""
    spec = folder / "kernels" / KERNEL_NAME / "kernel.json"
    spec.parent.mkdir(parents=True, exist_ok=True)
    spec.write_text(json.dumps(kernelspec(python), indent=2) + "\n", encoding="utf-8")
    return spec


def run(path: Path, env: dict[str, str] | None = None) -> Any:
    """The notebook executed top to bottom on this interpreter (an nbformat node)."""
    import nbformat
    from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    class ThisInterpreter(KernelSpecManager):
        def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
            return KernelSpec(resource_dir="", **kernelspec())

    notebook = nbformat.read(path, as_version=4)
    saved = dict(os.environ)
    os.environ.update({"MPLBACKEND": "Agg", **(env or {})})
    try:
        NotebookClient(
            notebook,
            km=KernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=ThisInterpreter()),
            timeout=EXECUTE_TIMEOUT_S,
            record_timing=False,
            # The kernel's own start-up warnings (plain TCP on 127.0.0.1) are not news.
            extra_arguments=["--IPKernelApp.log_level=ERROR"],
            resources={"metadata": {"path": str(path.parent)}},
        ).execute()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    for cell in notebook.cells:
        for key in VOLATILE_CELL_METADATA:
            cell.metadata.pop(key, None)
    return notebook


def execute(path: Path) -> None:
    """Run the notebook and write it back with its outputs."""
    import nbformat

    nbformat.write(run(path), path)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    spec = commands.add_parser("kernelspec", help="write the project's kernel spec")
    spec.add_argument("folder", type=Path)
    run_them = commands.add_parser("execute", help="run notebooks and save their outputs")
    run_them.add_argument("notebooks", type=Path, nargs="+")
    arguments = parser.parse_args(argv)
    if arguments.command == "kernelspec":
        print(write_kernelspec(arguments.folder))
    else:
        for notebook in arguments.notebooks:
            execute(notebook)
            print(f"executed {notebook}")


if __name__ == "__main__":
    main()
