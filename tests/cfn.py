"""Reading cloudformation.yaml in tests, so fakes are built from the real template."""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

from festival import templates

TEMPLATE = Path(__file__).resolve().parents[1] / "cloudformation.yaml"


def table_definition(template: dict | None = None) -> dict:
    """CreateTable arguments for the lineup table, taken from the template."""
    if template is None:
        return copy.deepcopy(_the_templates_table())
    properties = template["Resources"]["LineupTable"]["Properties"]
    return {
        "AttributeDefinitions": properties["AttributeDefinitions"],
        "KeySchema": properties["KeySchema"],
        "GlobalSecondaryIndexes": properties["GlobalSecondaryIndexes"],
        "BillingMode": properties["BillingMode"],
    }


def load_template(path: Path = TEMPLATE) -> dict:
    """A CloudFormation template read from its file, short-form tags kept as data."""
    return templates.parse_template(path.read_text(encoding="utf-8"))


@functools.cache
def _the_templates_table() -> dict:
    # Parsed once per process: property tests build a table per example.
    return table_definition(load_template(TEMPLATE))


def resolve(value: Any, template: dict) -> Any:
    """A value with the parameters at their defaults: Ref to a parameter and Fn::If."""
    if isinstance(value, dict) and len(value) == 1:
        ((function, argument),) = value.items()
        if function == "Ref" and argument in template.get("Parameters", {}):
            return template["Parameters"][argument].get("Default")
        if function == "Fn::If":
            condition, when_true, when_false = argument
            chosen = when_true if holds(condition, template) else when_false
            return resolve(chosen, template)
    return value


def holds(condition: str | dict, template: dict) -> bool:
    """Whether a template condition holds with every parameter at its default."""
    if isinstance(condition, str):
        return holds(template["Conditions"][condition], template)
    ((function, argument),) = condition.items()
    if function == "Fn::Equals":
        left, right = (str(resolve(side, template)) for side in argument)
        return left == right
    if function == "Fn::Not":
        return not holds(argument[0], template)
    if function == "Fn::And":
        return all(holds(part, template) for part in argument)
    if function == "Fn::Or":
        return any(holds(part, template) for part in argument)
    if function == "Condition":
        return holds(argument, template)
    raise AssertionError(f"unexpected condition function {function}")
