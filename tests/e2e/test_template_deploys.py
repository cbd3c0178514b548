"""cloudformation.yaml deployed on the local stack: every resource it declares is created."""

from __future__ import annotations

import re

import pytest

from festival.local import stack
from festival.settings import STACK_NAME
from tests.cfn import TEMPLATE, holds, load_template

pytestmark = pytest.mark.e2e


def test_template_deploys_on_the_local_stack_with_every_resource_complete(local_stack):
    template = load_template(TEMPLATE)
    cloudformation = stack.local_client("cloudformation")
    deployed = {
        resource["LogicalResourceId"]: resource["ResourceStatus"]
        for resource in cloudformation.describe_stack_resources(StackName=STACK_NAME)[
            "StackResources"
        ]
    }
    expected = {
        name
        for name, resource in template["Resources"].items()
        if "Condition" not in resource or holds(resource["Condition"], template)
    }
    assert set(deployed) == expected
    assert all(re.fullmatch(r"(CREATE|UPDATE)_COMPLETE", s) for s in deployed.values()), deployed
