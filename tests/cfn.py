"""Reading cloudformation.yaml in tests, so fakes are built from the real template."""

from __future__ import annotations

from pathlib import Path

from festival import templates

TEMPLATE = Path(__file__).resolve().parents[1] / "cloudformation.yaml"


def table_definition(template: dict | None = None) -> dict:
    """CreateTable arguments for the lineup table, taken from the template."""
    template = template or templates.load_template(TEMPLATE)
    properties = template["Resources"]["LineupTable"]["Properties"]
    return {
        "AttributeDefinitions": properties["AttributeDefinitions"],
        "KeySchema": properties["KeySchema"],
        "GlobalSecondaryIndexes": properties["GlobalSecondaryIndexes"],
        "BillingMode": properties["BillingMode"],
    }
