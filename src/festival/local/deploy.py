"""Packaging and deploying cloudformation.yaml with the ordinary AWS CLI commands.

The same steps serve LocalStack (``awslocal``) and AWS (``aws``): ``cloudformation
package`` uploads the Lambda code and rewrites ``Code:``, ``cloudformation deploy`` creates a
change set. Locally the change set is executed and watched every half second, because the
CLI's own waiter polls every 30 s.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from festival.local.paths import LocalPaths


class DeployError(Exception):
    """The stack could not be deployed; the message carries CloudFormation's reasons."""


@dataclass(frozen=True)
class DeployTarget:
    cli: list[str]  # ["awslocal"] or ["aws"]
    artifacts_bucket: str
    stack_name: str
    parameters: dict[str, str]
    env: dict[str, str] = field(default_factory=dict)


def cli_path(name: str) -> str:
    """A CLI installed next to this Python (the project's .venv), else on PATH."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if not found:
        raise DeployError(f"`{name}` is not installed: run `make setup`")
    return found


def stage_sources(paths: LocalPaths) -> Path:
    """Copy the template and the Lambda's sources (no caches) into .local/build.

    Packaging from a clean copy keeps the code zip, and so its S3 key, unchanged while
    the sources are: a second deploy then has nothing to do.
    """
    build = paths.build / "stack"
    if build.exists():
        shutil.rmtree(build)
    shutil.copytree(
        paths.root / "lambda",
        build / "lambda",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".*"),
    )
    shutil.copy2(paths.root / "cloudformation.yaml", build / "cloudformation.yaml")
    return build


def _cli(target: DeployTarget, *arguments: str) -> str:
    result = subprocess.run(
        [*target.cli, *arguments],
        capture_output=True,
        text=True,
        env={**os.environ, "DISABLE_DEPRECATION_NOTICE": "1", **target.env},
    )
    if result.returncode != 0:
        raise DeployError(
            f"`{' '.join([os.path.basename(target.cli[0]), *arguments[:2]])}` failed:\n"
            f"{result.stderr.strip() or result.stdout.strip()}"
        )
    return result.stdout


def package(target: DeployTarget, paths: LocalPaths) -> Path:
    build = stage_sources(paths)
    packaged = paths.build / "packaged.yaml"
    _cli(
        target,
        "cloudformation",
        "package",
        "--template-file",
        str(build / "cloudformation.yaml"),
        "--s3-bucket",
        target.artifacts_bucket,
        "--s3-prefix",
        target.stack_name,
        "--output-template-file",
        str(packaged),
    )
    return packaged


def create_change_set(target: DeployTarget, packaged: Path) -> str | None:
    """The change set's ARN, or None when the stack already matches the template."""
    output = _cli(
        target,
        "cloudformation",
        "deploy",
        "--template-file",
        str(packaged),
        "--stack-name",
        target.stack_name,
        "--capabilities",
        "CAPABILITY_IAM",
        "--no-execute-changeset",
        "--no-fail-on-empty-changeset",
        "--parameter-overrides",
        *[f"{k}={v}" for k, v in target.parameters.items()],
    )
    match = re.search(r"--change-set-name\s+(\S+)", output)
    return match.group(1) if match else None


def execute_and_wait(cloudformation, stack_name: str, change_set: str, timeout_s: float) -> str:
    cloudformation.execute_change_set(ChangeSetName=change_set, StackName=stack_name)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        status = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]["StackStatus"]
        if status.endswith("_COMPLETE") and "ROLLBACK" not in status:
            return status
        if status.endswith("FAILED") or ("ROLLBACK" in status and status.endswith("COMPLETE")):
            reasons = _reasons(cloudformation, stack_name)
            raise DeployError(f"stack {stack_name} ended in {status}: {reasons}")
        time.sleep(0.5)
    raise DeployError(f"stack {stack_name} did not finish deploying in {timeout_s:.0f} s")


def _reasons(cloudformation, stack_name: str) -> str:
    events = cloudformation.describe_stack_events(StackName=stack_name)["StackEvents"]
    failed = [
        f"{event['LogicalResourceId']}: {event.get('ResourceStatusReason', '')}"
        for event in events
        if event["ResourceStatus"].endswith("FAILED")
    ]
    return "; ".join(failed[:5]) or "no reason given"


def failure_reasons(cloudformation, stack_name: str) -> str:
    """Why the stack's resources failed, from its latest events (for errors of callers)."""
    return _reasons(cloudformation, stack_name)


def ensure_bucket(s3, name: str) -> None:
    existing = {bucket["Name"] for bucket in s3.list_buckets().get("Buckets", [])}
    if name not in existing:
        s3.create_bucket(Bucket=name)


def deploy_local(paths: LocalPaths, target: DeployTarget, client: Callable[[str], Any]) -> bool:
    """Package and deploy on LocalStack; True if anything changed."""
    ensure_bucket(client("s3"), target.artifacts_bucket)
    packaged = package(target, paths)
    change_set = create_change_set(target, packaged)
    if change_set is None:
        return False
    execute_and_wait(client("cloudformation"), target.stack_name, change_set, 300)
    return True
