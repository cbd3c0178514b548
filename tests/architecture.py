"""The repository's structure, read from its imports with ``ast`` (nothing is imported).

- the import graph of ``src/festival``, ``lambda/lineup_ingest`` and the emulator plugin,
  and the cycles in it;
- the functions longer than the style allows, and what ``lambda/`` imports from outside the
  standard library;
- the picture in docs/architecture.md: every module belongs to one box of ``BOXES``, and
  the picture's arrows are the imports between boxes.

``.venv/bin/python -m tests.architecture --write`` redraws the picture in
docs/architecture.md; ``tests/unit/test_architecture.py`` fails when it is out of date.
"""

from __future__ import annotations

import argparse
import ast
import functools
import os
import re
import sys
import textwrap
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCUMENT = ROOT / "docs" / "architecture.md"
# The packages whose modules the graph holds, by import name.
PACKAGES = {
    "lineup_ingest": ROOT / "lambda" / "lineup_ingest",
    "festival": ROOT / "src" / "festival",
    "festival_localstack": ROOT / "localstack_plugin" / "festival_localstack",
}
LONGEST_FUNCTION = 80  # lines, from the def line to the last line
# What the Lambda may import beside the standard library and itself: its runtime has these.
LAMBDA_RUNTIME_PACKAGES = {"boto3", "botocore", "lineup_ingest"}
# In the standard library of the Python this runs on, but not of 3.10, the Lambda's oldest.
STANDARD_LIBRARY_SINCE_3_11 = {"tomllib"}


# --- The import graph --------------------------------------------------------------------------


def modules(packages: dict[str, Path] = PACKAGES) -> dict[str, Path]:
    """Every module of the packages, by dotted name (a package by its own name)."""
    found: dict[str, Path] = {}
    for name, folder in packages.items():
        for path in sorted(folder.rglob("*.py")):
            parts = [name, *path.relative_to(folder).with_suffix("").parts]
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


@functools.cache
def _syntax_tree(path: Path) -> ast.Module:
    """A source file's syntax tree, read once a run: the checks walk the same files."""
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node of the tree but those under ``if TYPE_CHECKING:``, which never run."""
    for child in ast.iter_child_nodes(tree):
        if isinstance(child, ast.If) and _is_type_checking(child.test):
            for node in child.orelse:
                yield node
                yield from _runtime_nodes(node)
            continue
        yield child
        yield from _runtime_nodes(child)


def _known_prefix(name: str, known: dict[str, Path]) -> str | None:
    """The longest dotted prefix of name that is a module of ours (``festival.cost``)."""
    parts = name.split(".")
    for length in range(len(parts), 0, -1):
        if (prefix := ".".join(parts[:length])) in known:
            return prefix
    return None


def imported_modules(module: str, known: dict[str, Path]) -> set[str]:
    """The modules of ours a module imports when it runs, at the top or inside a function.
    ``from x import y`` imports the submodule x.y if there is one, else x; relative imports
    are read from the module's package."""
    path = known[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names: list[str] = []
    for node in _runtime_nodes(_syntax_tree(path)):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, *([node.module] if node.module else [])])
            names += [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                for alias in node.names
            ]
    return {prefix for name in names if (prefix := _known_prefix(name, known))} - {module}


def import_graph(packages: dict[str, Path] = PACKAGES) -> dict[str, set[str]]:
    """Module → the modules of the packages it imports."""
    known = modules(packages)
    return {module: imported_modules(module, known) for module in known}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle of each strongly connected part of the graph, as a path that ends where it
    starts (``[a, b, a]``), shortest first from the part's first module in sorted order."""
    found = []
    for part in _strongly_connected(graph):
        start = min(part)
        if len(part) > 1 or start in graph[start]:
            found.append(_shortest_cycle(graph, start, part))
    return sorted(found)


def _strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm, iterative so that a long chain cannot reach the recursion limit."""
    index: dict[str, int] = {}
    lowest: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    parts: list[set[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = lowest[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, successors = work[-1]
            for successor in successors:
                if successor not in index:
                    index[successor] = lowest[successor] = len(index)
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(sorted(graph.get(successor, ())))))
                    break
                if successor in on_stack:
                    lowest[node] = min(lowest[node], index[successor])
            else:
                work.pop()
                if work:
                    lowest[work[-1][0]] = min(lowest[work[-1][0]], lowest[node])
                if lowest[node] == index[node]:
                    part = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        part.add(member)
                        if member == node:
                            break
                    parts.append(part)
    return parts


def _shortest_cycle(graph: dict[str, set[str]], start: str, part: set[str]) -> list[str]:
    """The shortest path from start back to start within one strongly connected part."""
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for successor in sorted(graph[node] & part):
                if successor == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return [start, *reversed(path[:-1]), start] if node != start else [start] * 2
                if successor not in previous:
                    previous[successor] = node
                    following.append(successor)
        frontier = following
    raise AssertionError(f"{start} is in a strongly connected part but on no cycle")


def cycle_text(cycle: list[str]) -> str:
    return " → ".join(cycle)


# --- Long functions and the Lambda's imports ---------------------------------------------------


@dataclass(frozen=True)
class LongFunction:
    path: Path
    line: int
    name: str
    length: int

    def __str__(self) -> str:
        place = self.path.relative_to(ROOT) if self.path.is_relative_to(ROOT) else self.path
        return f"{place}:{self.line} {self.name} is {self.length} lines"


def long_functions(paths: Iterable[Path], limit: int = LONGEST_FUNCTION) -> list[LongFunction]:
    """Functions and methods (nested ones too) longer than ``limit`` lines, def to end."""
    found = []
    for path in paths:
        for node in ast.walk(_syntax_tree(path)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > limit:
                    found.append(LongFunction(path, node.lineno, node.name, length))
    return found


def outside_imports(path: Path, allowed: set[str] = LAMBDA_RUNTIME_PACKAGES) -> list[str]:
    """What a module imports that is neither the standard library of Python 3.10 nor one
    of ``allowed``, as ``line: name``. Relative imports are the package's own."""
    standard = set(sys.stdlib_module_names) - STANDARD_LIBRARY_SINCE_3_11
    found = []
    for node in ast.walk(_syntax_tree(path)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level:
            names = [node.module or ""]
        else:
            continue
        found += [
            f"{node.lineno}: {name}"
            for name in names
            if name.partition(".")[0] not in standard | allowed | {"__future__"}
        ]
    return found


# --- The picture -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Box:
    """A box of the picture: a layer of the Lambda or a part of ``src/festival``. Its
    modules are named one by one, or as ``package.*``: the package and all below it."""

    key: str
    title: str
    group: str
    modules: tuple[str, ...]

    def members(self, known: Iterable[str]) -> list[str]:
        """The modules of ``known`` in this box, in the order the box names them."""
        found: list[str] = []
        for name in self.modules:
            if name.endswith(".*"):
                package = name.removesuffix(".*")
                found += sorted(m for m in known if m == package or m.startswith(f"{package}."))
            elif name in known:
                found.append(name)
        return found


@dataclass(frozen=True)
class Group:
    """A frame of the picture: one package's boxes."""

    package: str
    title: str


GROUPS = {
    "lambda": Group("lineup_ingest", "lambda/lineup_ingest: the ingest Lambda"),
    "festival": Group(
        "festival", "src/festival: the festival command, explorer, cost model and local stack"
    ),
    "plugin": Group("festival_localstack", "localstack_plugin: the emulator's patches"),
}


def box(key: str, title: str, group: str, names: str) -> Box:
    """A box of the group's modules, named in its package: ``.`` the package itself,
    ``x.*`` the subpackage x and all below it, ``*`` everything."""
    package = GROUPS[group].package
    return Box(
        key,
        title,
        group,
        tuple(package if name == "." else f"{package}.{name}" for name in names.split()),
    )


# Every module is in one box: a module no box names fails a test, so add it where it
# belongs (and explain a new box in docs/architecture.md).
BOXES = [
    box("handler", "hands each event to the service", "lambda", "handler"),
    box("bootstrap", "wires the adapters, once a process", "lambda", "bootstrap"),
    box("service", "what an event means", "lambda", "service"),
    box(
        "steps", "a step per state of a file", "lambda", "ingest outcome removal collect reconcile"
    ),
    box("ports", "what the steps need of AWS", "lambda", "ports"),
    box("adapters", "every AWS call", "lambda", "adapters dynamodb_http retry memory"),
    box(
        "rules",
        "pure rules: the CSV, keys, reports",
        "lambda",
        ". parsing lines csv_records columns performances times text splitting compression"
        " schema codec parts lifecycle events filenames changes clashes sketch report config"
        " zones",
    ),
    box("cli", "the festival command", "festival", ". cli"),
    box("explorer", "festival serve: the explorer", "festival", "explorer.*"),
    box("stack", "the deployed stack and its template", "festival", "stack settings templates"),
    box("queries", "reading the table", "festival", "queries nights calendars"),
    box("cost", "festival cost: the cost model", "festival", "cost.*"),
    box("figures", "the docs' figures", "festival", "figures"),
    box("local", "make up: the local stack", "festival", "local.*"),
    box("aws_deploy", "make deploy-aws", "festival", "aws_deploy"),
    box("plugin", "LocalStack without Docker", "plugin", "*"),
]


def box_of_module(known: Iterable[str], boxes: list[Box] = BOXES) -> dict[str, str]:
    known = list(known)
    return {module: box.key for box in boxes for module in box.members(known)}


def unmapped(known: Iterable[str], boxes: list[Box] = BOXES) -> list[str]:
    """Modules no box names."""
    known = list(known)
    mapped = box_of_module(known, boxes)
    return sorted(module for module in known if module not in mapped)


def in_two_boxes(known: Iterable[str], boxes: list[Box] = BOXES) -> list[str]:
    known = list(known)
    named = [module for box in boxes for module in box.members(known)]
    return sorted({module for module in named if named.count(module) > 1})


def stale(known: Iterable[str], boxes: list[Box] = BOXES) -> list[str]:
    """What a box names that is no module (moved or removed): a name, or a ``package.*``
    with nothing in it."""
    known = list(known)
    return sorted(
        name for box in boxes for name in box.modules if not Box("", "", "", (name,)).members(known)
    )


def box_edges(graph: dict[str, set[str]], boxes: list[Box] = BOXES) -> list[tuple[str, str]]:
    """The imports between boxes, in the boxes' order: one arrow per pair."""
    box = box_of_module(graph, boxes)
    order = {b.key: position for position, b in enumerate(boxes)}
    pairs = {
        (box[module], box[imported])
        for module, imports in graph.items()
        for imported in imports
        if module in box and imported in box and box[module] != box[imported]
    }
    return sorted(pairs, key=lambda pair: (order[pair[0]], order[pair[1]]))


def _files(box: Box, known: dict[str, Path]) -> str:
    """Where the box's modules are, in their package: ``explorer/: app, pages/day``."""
    paths = [
        known[module].relative_to(PACKAGES[module.partition(".")[0]]).with_suffix("")
        for module in box.members(known)
        if known[module].name != "__init__.py"
    ]
    if not paths:
        return ""
    folder = Path(os.path.commonpath([path.parent for path in paths]))
    if folder == Path("."):
        return ", ".join(f"{path}.py" for path in paths)
    return f"{folder}/: " + ", ".join(str(path.relative_to(folder)) for path in paths)


def _label(box: Box, known: dict[str, Path]) -> str:
    """The title, then where its modules are, a few a line."""
    files = _files(box, known)
    return "<br>".join([box.title, *textwrap.wrap(files, 44)] if files else [box.title])


def picture(graph: dict[str, set[str]], boxes: list[Box] = BOXES) -> str:
    """The mermaid flowchart of the boxes and the imports between them."""
    known = modules()
    lines = ["```mermaid", "flowchart TB"]
    for group, frame in GROUPS.items():
        lines.append(f'  subgraph {group}_group["{frame.title}"]')
        lines += [f'    {b.key}["{_label(b, known)}"]' for b in boxes if b.group == group]
        lines.append("  end")
    lines += [f"  {source} --> {target}" for source, target in box_edges(graph, boxes)]
    lines.append("```")
    return "\n".join(lines)


BEGIN = "<!-- picture: made by `.venv/bin/python -m tests.architecture --write` -->"
END = "<!-- end of picture -->"
BLOCK = re.compile(re.escape(BEGIN) + r"\n.*?\n" + re.escape(END), re.S)


def drawn(text: str, graph: dict[str, set[str]]) -> str:
    """The document with its picture redrawn from the graph."""
    return BLOCK.sub(lambda _: f"{BEGIN}\n{picture(graph)}\n{END}", text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.architecture",
        description="Print the picture of docs/architecture.md, drawn from the imports.",
    )
    parser.add_argument("--write", action="store_true", help="redraw it in the document")
    arguments = parser.parse_args(argv)
    graph = import_graph()
    if missing := unmapped(graph):
        print(f"modules in no box of tests/architecture.py BOXES: {missing}", file=sys.stderr)
        return 1
    if not arguments.write:
        print(picture(graph))
        return 0
    text = DOCUMENT.read_text(encoding="utf-8")
    if not BLOCK.search(text):
        print(f"{DOCUMENT} has no picture block between {BEGIN} and {END}", file=sys.stderr)
        return 1
    DOCUMENT.write_text(drawn(text, graph), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
