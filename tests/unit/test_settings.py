"""The local endpoint, the stack name and the test credentials are spelled in one module."""

from __future__ import annotations

import ast
import json
from pathlib import Path

from festival import settings
from tests.local_aws import local_environment

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = ROOT / "src" / "festival" / "settings.py"
# The festival package, the tests and the benchmarks; lambda/ reads its settings from its
# environment.
SOURCES = sorted(
    {*ROOT.glob("src/**/*.py"), *ROOT.glob("tests/**/*.py"), *ROOT.glob("benchmarks/*.py")}
    - {SETTINGS, Path(__file__).resolve()}
)
CREDENTIAL_NAMES = {
    "aws_access_key_id",
    "aws_secret_access_key",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
}


def own_spellings(tree: ast.AST) -> list[str]:
    """String constants that restate a setting: the local endpoint, the default stack name,
    or the local stack's credentials given as a keyword or a dictionary entry."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if f":{settings.LOCALSTACK_PORT}" in node.value and "127.0.0.1" in node.value:
                found.append(f"line {node.lineno}: {node.value!r}")
            elif node.value == settings.STACK_NAME:
                found.append(f"line {node.lineno}: {node.value!r}")
        credentials = []
        if isinstance(node, ast.keyword) and node.arg in CREDENTIAL_NAMES:
            credentials.append(node.value)
        if isinstance(node, ast.Dict):
            credentials += [
                value
                for key, value in zip(node.keys, node.values, strict=True)
                if isinstance(key, ast.Constant) and key.value in CREDENTIAL_NAMES
            ]
        found += [
            f"line {value.lineno}: credentials {value.value!r}"
            for value in credentials
            if isinstance(value, ast.Constant)
            and value.value == settings.LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"]
        ]
    return found


def test_no_module_but_settings_spells_the_local_endpoint_stack_name_or_credentials():
    assert len(SOURCES) > 50  # the walk sees the tree
    restated = {
        str(path.relative_to(ROOT)): spellings
        for path in SOURCES
        if (spellings := own_spellings(ast.parse(path.read_text(encoding="utf-8"))))
    }
    assert restated == {}


def test_the_walk_finds_what_it_looks_for():
    source = (
        'URL = "http://127.0.0.1:4566/_localstack/health"\n'
        'STACK = "festival-lineup"\n'
        'session = boto3.Session(aws_access_key_id="test", aws_secret_access_key="test")\n'
        'env = {"AWS_ACCESS_KEY_ID": "test"}\n'
    )
    assert len(own_spellings(ast.parse(source))) == 5


def test_the_queries_notebook_defaults_to_the_local_endpoint_and_stack_of_settings():
    # Its first cell holds its parameters as literals, before the project is importable.
    notebook = json.loads((ROOT / "notebooks" / "queries.ipynb").read_text(encoding="utf-8"))
    parameters = "".join(notebook["cells"][1]["source"])
    values = {
        target.id: node.value.value
        for node in ast.parse(parameters).body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name) and isinstance(node.value, ast.Constant)
    }
    assert values["ENDPOINT"] == settings.LOCAL_ENDPOINT
    assert values["STACK"] == settings.STACK_NAME


def test_local_sessions_carry_the_test_credentials_and_region():
    credentials = settings.local_session().get_credentials()
    assert (credentials.access_key, credentials.secret_key) == ("test", "test")
    assert settings.local_session().region_name == settings.LOCAL_REGION
    assert local_environment()["AWS_ENDPOINT_URL"] == settings.LOCAL_ENDPOINT
