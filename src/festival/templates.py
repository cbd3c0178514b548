"""Reading CloudFormation YAML with its short-form tags (!Ref, !Sub...) kept as data."""

from __future__ import annotations

from typing import Any

import yaml


class _TemplateLoader(yaml.SafeLoader):
    """A SafeLoader (no code runs) that turns `!Sub x` into `{"Fn::Sub": x}`, `!Ref` into Ref."""


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {"Ref" if suffix == "Ref" else f"Fn::{suffix}": value}


_TemplateLoader.add_multi_constructor("!", _tag)


def parse_template(text: str) -> dict:
    return yaml.load(text, Loader=_TemplateLoader)


def parameter_defaults(template: dict) -> dict[str, Any]:
    """Each parameter's default: what a stack deployed without overrides runs."""
    parameters = template.get("Parameters", {})
    return {name: spec["Default"] for name, spec in parameters.items() if "Default" in spec}
