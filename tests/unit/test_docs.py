"""The README and docs/ say what the code does: every `festival` command and option is in
docs/cli.md, every `make` target and module named exists, every relative link and anchor
resolves, and the benchmark table is what benchmarks/results.json gives.

Every `festival` command line of the docs is also run, against the seed lineup in moto, by
tests/functional/test_cli.py.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shlex
from pathlib import Path
from types import ModuleType

import click
import pytest

from festival import cli
from tests.docs import DOCUMENTS, ROOT, shell_lines

CLI_DOC = ROOT / "docs" / "cli.md"
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#{1,6} (.+)$", re.M)


def relative(path: Path) -> str:
    return str(path.relative_to(ROOT))


def sections(text: str) -> dict[str, str]:
    """The text under each level-2 heading, by heading."""
    parts = re.split(r"^## (.+)$", text, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def options_of(command: click.Command) -> list[str]:
    return [
        name
        for param in command.params
        if isinstance(param, click.Option)
        for name in param.opts
        if name != "--help"
    ]


GLOBAL_OPTIONS = options_of(cli.main)


# --- The festival command ----------------------------------------------------------------------


def test_every_global_option_is_in_the_cli_docs_global_options():
    documented = sections(CLI_DOC.read_text(encoding="utf-8"))["Global options"]

    assert [option for option in GLOBAL_OPTIONS if f"`{option}" not in documented] == []


@pytest.mark.parametrize("name", sorted(cli.main.commands))
def test_every_command_has_a_section_in_the_cli_docs_with_its_arguments_and_options(name):
    command = cli.main.commands[name]
    found = {
        heading: body
        for heading, body in sections(CLI_DOC.read_text("utf-8")).items()
        if heading.startswith(f"`festival {name}")
    }

    assert found, f"docs/cli.md has no section `## \\`festival {name} ...\\``"
    [(heading, body)] = found.items()
    arguments = [
        param.human_readable_name for param in command.params if isinstance(param, click.Argument)
    ]
    assert heading == "`" + " ".join(["festival", name, *arguments]) + "`"
    own_options = [option for option in options_of(command) if option not in GLOBAL_OPTIONS]
    assert [option for option in own_options if f"`{option}" not in body] == []


def test_the_cli_docs_name_no_command_or_option_that_does_not_exist():
    text = CLI_DOC.read_text(encoding="utf-8")
    commands = set(re.findall(r"^## `festival (\w+)", text, flags=re.M))
    known = set(GLOBAL_OPTIONS).union(*(options_of(c) for c in cli.main.commands.values()))

    assert commands == set(cli.main.commands)
    assert set(re.findall(r"`(--[a-z-]+)", text)) - known == set()


# --- Commands, modules and links named in the docs ---------------------------------------------


def make_targets() -> set[str]:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    return set(re.findall(r"^([a-z][a-z0-9-]*):", makefile, flags=re.M))


@pytest.mark.parametrize("document", DOCUMENTS, ids=relative)
def test_every_make_target_in_the_docs_exists(document):
    text = document.read_text(encoding="utf-8")
    named = set(re.findall(r"`make ([a-z][a-z0-9-]*)", text))
    for line in shell_lines(text):
        for command in line.split("&&"):
            words = shlex.split(command)
            if words[:1] == ["make"]:
                named.update(word for word in words[1:] if "=" not in word)

    assert named - make_targets() == set()


@pytest.mark.parametrize("document", DOCUMENTS, ids=relative)
def test_every_python_module_the_docs_run_exists(document):
    modules = re.findall(r"python -m ([\w.]+)", document.read_text(encoding="utf-8"))

    assert [module for module in modules if importlib.util.find_spec(module) is None] == []


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to '-'."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


@pytest.mark.parametrize("document", DOCUMENTS, ids=relative)
def test_every_relative_link_and_anchor_resolves(document):
    broken = []
    for target in LINK.findall(document.read_text(encoding="utf-8")):
        if re.match(r"[a-z]+:", target):  # http:, https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        linked = (document.parent / path).resolve() if path else document
        if not linked.exists():
            broken.append(target)
        elif anchor and linked.suffix == ".md":
            anchors = {github_anchor(h) for h in HEADING.findall(linked.read_text("utf-8"))}
            if anchor not in anchors:
                broken.append(target)

    assert broken == []


def test_the_readme_stays_a_page():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()

    assert len(lines) <= 220, "move details to docs/ and link them"


# --- The benchmark table -----------------------------------------------------------------------


def results_table() -> ModuleType:
    path = ROOT / "benchmarks" / "results_table.py"
    spec = importlib.util.spec_from_file_location("results_table", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_benchmark_table_is_what_the_benchmark_results_give():
    document = ROOT / "docs" / "benchmarks.md"
    text = document.read_text(encoding="utf-8")
    results = json.loads((ROOT / "benchmarks" / "results.json").read_text(encoding="utf-8"))

    assert results_table().BLOCK.search(text), "docs/benchmarks.md lost its bench block"
    assert results_table().render(text, results) == text, (
        "docs/benchmarks.md does not show benchmarks/results.json: run `make bench`"
    )
