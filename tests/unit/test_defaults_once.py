"""Every default is said once: the template's parameter defaults are the source.

The function cannot read the template, so `lineup_ingest.config.Config` holds the fallbacks
of the variables the template sets, equal to the parameters' defaults (tested here); the
cost model reads the template itself (`festival.cost.TEMPLATE_DEFAULTS`); key prefixes and
index names are `lineup_ingest.schema`'s. A second spelling of any of them in lambda/ or
src/ fails a test below, which names where it is.
"""

from __future__ import annotations

import ast
import functools
import operator
import re
from collections.abc import Iterator
from dataclasses import fields
from datetime import time
from pathlib import Path
from typing import Any

import pytest

from festival import cost
from festival.nights import DEFAULT_DAY_STARTS
from festival.templates import parse_template
from lineup_ingest import clashes, report, schema, zones
from lineup_ingest.config import Config
from lineup_ingest.ingest import LoadSettings

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = parse_template((ROOT / "cloudformation.yaml").read_text(encoding="utf-8"))
DEFAULTS = {
    name: spec["Default"] for name, spec in TEMPLATE["Parameters"].items() if "Default" in spec
}
SOURCES = sorted([*(ROOT / "lambda").rglob("*.py"), *(ROOT / "src").rglob("*.py")])
CONFIG = "lambda/lineup_ingest/config.py"
SCHEMA = "lambda/lineup_ingest/schema.py"

# Config's field, the variable the template sets it with, and the parameter it comes from.
FROM_THE_TEMPLATE = [
    ("part_bytes", "PART_BYTES", "PartBytes"),
    ("max_file_bytes", "MAX_FILE_BYTES", "MaxFileBytes"),
    ("part_attempts", "PART_ATTEMPTS", "PartAttempts"),
    ("part_retry_s", "PART_RETRY_SECONDS", "PartRetrySeconds"),
    ("clock", "UNMARKED_TIMES", "UnmarkedTimes"),
    ("time_zone", "FESTIVAL_TIME_ZONE", "FestivalTimeZone"),
    ("fence_s", "FENCE_SECONDS", "FunctionTimeout"),
    ("stuck_after_s", "STUCK_LOAD_SECONDS", "StuckLoadSeconds"),
    ("retention_days", "UPLOAD_RETENTION_DAYS", "UploadRetentionDays"),
    ("upload_prefix", "UPLOAD_PREFIX", "UploadPrefix"),
]
REQUIRED = {"TABLE_NAME": "t", "TOPIC_ARN": "arn", "PARTS_QUEUE_URL": "q"}


def function_variables() -> dict[str, Any]:
    properties = TEMPLATE["Resources"]["IngestFunction"]["Properties"]
    return properties["Environment"]["Variables"]


@pytest.mark.parametrize(("field", "variable", "parameter"), FROM_THE_TEMPLATE)
def test_the_template_sets_each_setting_from_its_parameter(field, variable, parameter):
    assert function_variables()[variable] == {"Ref": parameter}
    read = Config.from_environment({**REQUIRED, variable: str(DEFAULTS[parameter])})
    assert getattr(read, field) == DEFAULTS[parameter]


@pytest.mark.parametrize(("field", "variable", "parameter"), FROM_THE_TEMPLATE)
def test_without_its_variable_the_function_falls_back_on_the_templates_default(
    field, variable, parameter
):
    fallback = getattr(Config.from_environment(REQUIRED), field)
    if parameter == "UploadRetentionDays":
        # The one exception, on purpose: unless told, the function lets nothing expire.
        assert fallback == 0 and DEFAULTS[parameter] > 0
    elif parameter == "UploadPrefix":
        # Without the prefix the sweep looks at the whole bucket: it names no upload wrongly.
        assert fallback == ""
    else:
        assert fallback == DEFAULTS[parameter]


def test_a_loads_settings_are_the_functions_defaults():
    config = {f.name: f.default for f in fields(Config)}
    for setting in fields(LoadSettings):
        if setting.name in config:
            assert setting.default == config[setting.name], setting.name


def test_the_cost_model_prices_the_templates_defaults():
    assert cost.TEMPLATE_DEFAULTS == DEFAULTS
    assert cost.PART_BYTES == DEFAULTS["PartBytes"]
    assert cost.PART_CONCURRENCY == DEFAULTS["PartConcurrency"]
    assert cost.RETENTION_DAYS == DEFAULTS["UploadRetentionDays"]
    assert cost.RECOMMENDED_MEMORY_MB == DEFAULTS["FunctionMemory"]
    assert cost.FUNCTION_TIMEOUT_S == DEFAULTS["FunctionTimeout"]
    assert cost.LOG_RETENTION_DAYS == DEFAULTS["LogRetentionDays"]
    assert DEFAULTS["ReconcileSchedule"] == f"rate({cost.RECONCILE_MINUTES} minutes)"
    workload = cost.Workload(records_per_day=1)
    assert workload.upload_retention_days == DEFAULTS["UploadRetentionDays"]
    assert workload.lambda_memory_mb == DEFAULTS["FunctionMemory"]
    assert workload.lambda_timeout_s == DEFAULTS["FunctionTimeout"]
    assert workload.log_retention_days == DEFAULTS["LogRetentionDays"]
    assert workload.sweep_every_minutes == cost.RECONCILE_MINUTES


def test_the_other_defaults_are_the_templates():
    assert zones.DEFAULT_TIME_ZONE == DEFAULTS["FestivalTimeZone"]
    hour, minute = map(int, DEFAULTS["FestivalDayStarts"].split(":"))
    assert time(hour, minute) == DEFAULT_DAY_STARTS


# --- No second spelling ------------------------------------------------------------------------

# The strings of the key design: only schema.py spells them (as a whole string, or the start
# of one, f-strings included); docstrings and comments may name them.
KEY_STRINGS = [
    *(f"{prefix}#" for prefix in ("PERF", "PART", "PERFORMER", "STAGE", "DAY", "FILE")),
    *(f"{prefix}#" for prefix in ("FILEHASH", "LOAD", "CHANGES", "CHUNK", "QUEUED")),
    schema.UPLOADS_PARTITION,
    schema.HEADS_PARTITION,
    schema.SKETCHES_PARTITION,
    *schema.LONGEST_SET_KEY.values(),
    *schema.INDEX_KEYS,
    *(name for keys in schema.INDEX_KEYS.values() for name in keys),
]

# Named defaults: a constant, field or parameter whose name matches and whose value is the
# default is allowed only in its one home (None: the template alone says it).
NAMED_DEFAULTS = [
    ("PartBytes", r"part_bytes", DEFAULTS["PartBytes"], CONFIG),
    ("MaxFileBytes", r"max_file_bytes", DEFAULTS["MaxFileBytes"], CONFIG),
    ("PartAttempts", r"attempts", DEFAULTS["PartAttempts"], CONFIG),
    ("PartRetrySeconds", r"retry", DEFAULTS["PartRetrySeconds"], CONFIG),
    ("FunctionTimeout (the fence)", r"fence", DEFAULTS["FunctionTimeout"], CONFIG),
    ("StuckLoadSeconds", r"stuck", DEFAULTS["StuckLoadSeconds"], CONFIG),
    ("the time kept for reporting", r"reserve_ms", Config.reserve_ms, CONFIG),
    ("UploadRetentionDays", r"retention|expire|keep_days", DEFAULTS["UploadRetentionDays"], None),
    ("LogRetentionDays", r"log_retention", DEFAULTS["LogRetentionDays"], None),
    ("PartConcurrency", r"part_concurrency", DEFAULTS["PartConcurrency"], None),
    ("FunctionMemory", r"memory_mb", DEFAULTS["FunctionMemory"], None),
    ("FunctionTimeout", r"lambda_timeout|function_timeout", DEFAULTS["FunctionTimeout"], None),
    ("ReconcileSchedule", r"reconcile|sweep_every", cost.RECONCILE_MINUTES, None),
    ("ReservedConcurrency", r"reserved_concurrency", DEFAULTS["ReservedConcurrency"], None),
    ("FestivalDayStarts", r"day_starts", DEFAULTS["FestivalDayStarts"], None),
    (
        "rejected rows shown",
        r"rejected",
        report.REJECTED_ROWS_SHOWN,
        "lambda/lineup_ingest/report.py",
    ),
    (
        "changeover minutes",
        r"changeover",
        clashes.DEFAULT_CHANGEOVER_MINUTES,
        "lambda/lineup_ingest/clashes.py",
    ),
]

_OPERATORS = {ast.Mult: operator.mul, ast.Pow: operator.pow, ast.Add: operator.add}


def _folded(node: ast.AST | None) -> Any:
    """The value of a constant expression (16 * 1024 * 1024), else None."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        left, right = _folded(node.left), _folded(node.right)
        if isinstance(left, int) and isinstance(right, int):
            return _OPERATORS[type(node.op)](left, right)
    return None


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            if isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
                found.add(id(body[0].value))
    return found


def _named_values(tree: ast.AST) -> Iterator[tuple[str, Any, int]]:
    """(name, value, line) of every assignment, field and parameter default of a constant."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name | ast.Attribute):
                    name = target.id if isinstance(target, ast.Name) else target.attr
                    yield name, _folded(node.value), node.lineno
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            yield node.target.id, _folded(node.value), node.lineno
        elif isinstance(node, ast.arguments):
            positional = [*node.posonlyargs, *node.args]
            pairs = [
                *zip(
                    positional[len(positional) - len(node.defaults) :], node.defaults, strict=True
                ),
                *zip(node.kwonlyargs, node.kw_defaults, strict=True),
            ]
            for argument, default in pairs:
                if default is not None:  # a keyword-only parameter without a default
                    yield argument.arg, _folded(default), default.lineno
        elif isinstance(node, ast.keyword) and node.arg is not None:
            yield node.arg, _folded(node.value), node.value.lineno


@functools.cache
def _parsed() -> list[tuple[str, ast.AST]]:
    """Each source file of lambda/ and src/, parsed once for every test of this module."""
    return [
        (path.relative_to(ROOT).as_posix(), ast.parse(path.read_text(encoding="utf-8")))
        for path in SOURCES
    ]


@functools.cache
def _all_named_values() -> list[tuple[str, list[tuple[str, Any, int]]]]:
    """Each source file's named values, walked once for every default checked."""
    return [(where, list(_named_values(tree))) for where, tree in _parsed()]


def test_the_key_designs_strings_are_spelled_only_in_schema():
    spelled = []
    for where, tree in _parsed():
        if where == SCHEMA:
            continue
        docstrings = _docstrings(tree)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Constant) or not isinstance(node.value, str):
                continue
            if id(node) in docstrings:
                continue
            for key in KEY_STRINGS:
                if node.value == key or (key.endswith("#") and node.value.startswith(key)):
                    spelled.append(f"{where}:{node.lineno}: {node.value!r}")
    assert spelled == [], "use lineup_ingest.schema's names for these"


@pytest.mark.parametrize(
    ("default", "name", "value", "home"), NAMED_DEFAULTS, ids=[row[0] for row in NAMED_DEFAULTS]
)
def test_each_default_is_spelled_in_one_place(default, name, value, home):
    spelled = [
        f"{where}:{line}: {found} = {value!r}"
        for where, named in _all_named_values()
        if where != home
        for found, folded, line in named
        if folded == value and type(folded) is type(value) and re.search(name, found, re.I)
    ]
    said = "the template" if home is None else home
    assert spelled == [], f"{default} is said in {said}: read it from there"
