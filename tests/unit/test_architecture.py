"""The structure the style asks for, read from the sources with ``ast``: no import cycle,
no function over 80 lines, a Lambda that imports only the standard library and boto3, and a
picture of the packages in docs/architecture.md that is the one the imports draw.

Each check is also run once against a few files written here, so that it can fail.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import architecture
from tests.architecture import BOXES, DOCUMENT, LONGEST_FUNCTION, ROOT, Box

LAMBDA_SOURCES = sorted((ROOT / "lambda").rglob("*.py"))
SOURCES = [*LAMBDA_SOURCES, *sorted((ROOT / "src").rglob("*.py"))]


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return architecture.import_graph()


def listed(found: list[str]) -> str:
    return "".join(f"\n  {item}" for item in found)


def write_package(folder: Path, files: dict[str, str]) -> Path:
    for name, text in {"__init__.py": "", **files}.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    return folder


# --- Import cycles -----------------------------------------------------------------------------


def test_no_module_imports_itself_through_others(graph):
    found = [architecture.cycle_text(cycle) for cycle in architecture.cycles(graph)]

    assert not found, (
        "import cycles (imports inside functions count): move what both ends need into a "
        "module that imports neither, or pass it in, so that each arrow runs one way:"
        + listed(found)
    )


def test_a_cycle_through_a_function_level_import_or_a_submodule_is_found(tmp_path):
    package = write_package(
        tmp_path / "pkg",
        {
            "a.py": "def f():\n    from pkg.b import g\n",
            "b.py": "from pkg import c\n",
            "c.py": "from . import a\n",
            "d.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import pkg.a\n",
        },
    )
    graph = architecture.import_graph({"pkg": package})

    assert [architecture.cycle_text(c) for c in architecture.cycles(graph)] == [
        "pkg.a → pkg.b → pkg.c → pkg.a"
    ]
    assert graph["pkg.d"] == set(), "an import only type checkers run is no edge"


# --- Long functions and the Lambda's imports ---------------------------------------------------


def test_no_function_in_lambda_or_src_is_over_80_lines():
    found = [str(function) for function in architecture.long_functions(SOURCES)]

    assert not found, (
        f"functions over {LONGEST_FUNCTION} lines (def to last line): split each into steps "
        "with names that say what they do:" + listed(found)
    )


def test_a_long_method_is_found_with_its_place_and_length(tmp_path):
    body = "".join(f"        x = {n}\n" for n in range(LONGEST_FUNCTION))
    source = tmp_path / "long.py"
    source.write_text(
        f"class C:\n    def short(self):\n        pass\n\n    def long(self):\n{body}"
    )

    assert [str(f) for f in architecture.long_functions([source])] == [
        f"{source}:5 long is {LONGEST_FUNCTION + 1} lines"
    ]


def test_the_lambda_imports_only_the_standard_library_boto3_and_botocore():
    found = [
        f"{path.relative_to(ROOT)}:{outside}"
        for path in LAMBDA_SOURCES
        for outside in architecture.outside_imports(path)
    ]

    assert not found, (
        "the Lambda's runtime has only Python 3.10's standard library, boto3 and botocore: "
        "do it with those, or move the code to src/festival if only `festival` needs it:"
        + listed(found)
    )


def test_an_outside_import_is_found_but_not_a_relative_or_standard_one(tmp_path):
    source = tmp_path / "handler.py"
    source.write_text(
        "import json\nfrom . import schema\nimport boto3.session\n"
        "def f():\n    import yaml\n    from tomllib import loads\n"
    )

    assert architecture.outside_imports(source) == ["5: yaml", "6: tomllib"]


# --- The picture -------------------------------------------------------------------------------


def test_every_module_is_in_one_box_of_the_picture(graph):
    unmapped = architecture.unmapped(graph)
    stale = architecture.stale(graph)
    in_two = architecture.in_two_boxes(graph)

    assert not unmapped, (
        "modules in no box: add each to the box of tests/architecture.py BOXES it belongs "
        "to, then run `.venv/bin/python -m tests.architecture --write`:" + listed(unmapped)
    )
    assert not stale, "BOXES in tests/architecture.py names what no longer exists, remove:" + (
        listed(stale)
    )
    assert not in_two, "modules named by two boxes of BOXES, keep one:" + listed(in_two)


def test_the_boxes_import_one_another_in_one_direction(graph: dict[str, set[str]]) -> None:
    boxes: dict[str, set[str]] = {box.key: set() for box in BOXES}
    for source, target in architecture.box_edges(graph):
        boxes[source].add(target)

    found = [architecture.cycle_text(cycle) for cycle in architecture.cycles(boxes)]

    assert not found, (
        "arrows of the picture run in a circle: make the lower box stop importing the upper "
        "one (or move the module to its box in tests/architecture.py BOXES):" + listed(found)
    )


def test_a_module_in_no_box_is_found_and_arrows_join_boxes(tmp_path):
    package = write_package(
        tmp_path / "pkg",
        {
            "a.py": "import pkg.b\n",
            "b.py": "",
            "c.py": "from pkg import a\n",
            "sub/__init__.py": "",
            "sub/d.py": "from pkg.sub import e\n",
            "sub/e.py": "from ..b import f\n",
        },
    )
    graph = architecture.import_graph({"pkg": package})
    boxes = [
        Box("top", "top", "festival", ("pkg", "pkg.a", "pkg.sub.*")),
        Box("low", "low", "festival", ("pkg.b", "pkg.sub.e")),
    ]

    assert architecture.unmapped(graph, boxes) == ["pkg.c"]
    assert architecture.in_two_boxes(graph, boxes) == ["pkg.sub.e"]
    assert architecture.stale(["pkg.a"], boxes) == ["pkg", "pkg.b", "pkg.sub.*", "pkg.sub.e"]
    assert architecture.box_edges(
        graph, boxes[:1] + [Box("low", "low", "festival", ("pkg.b",))]
    ) == [("top", "low")]


def test_the_picture_in_the_architecture_doc_is_the_one_the_imports_draw(graph):
    text = DOCUMENT.read_text(encoding="utf-8")

    assert architecture.BLOCK.search(text), f"{DOCUMENT.name} lost its picture block"
    assert architecture.drawn(text, graph) == text, (
        "docs/architecture.md's picture is not what the imports draw: run "
        "`.venv/bin/python -m tests.architecture --write` and explain a new arrow or box "
        "in the page's text"
    )
