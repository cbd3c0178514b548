"""`make deploy-aws` and `make destroy-aws`: the same template, promoted to a real AWS account.

The steps are those of the local stack (``festival.local.deploy``: stage the sources,
``cloudformation package``, a change set made by ``cloudformation deploy
--no-execute-changeset``), run with the standard ``aws`` CLI against the account of the
standard AWS configuration (``AWS_PROFILE``, ``AWS_REGION``, ``~/.aws``; ``PROFILE=`` and
``REGION=`` override them). Nothing changes in the account before the change set has been
shown and confirmed, except the artifacts bucket that packaging needs.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    NoCredentialsError,
    ProfileNotFound,
    WaiterError,
)
from tabulate import tabulate

from festival.local.deploy import (
    DeployError,
    DeployTarget,
    cli_path,
    create_change_set,
    failure_reasons,
    package,
)
from festival.local.paths import LocalPaths
from festival.settings import STACK_NAME
from festival.stack import outputs_of
from festival.templates import parameter_defaults, parse_template

DEFAULT_RUNTIME = "python3.12"
RUNTIME_NOTES = {
    "python3.10": (
        "AWS deprecated python3.10 on 2026-10-31 and blocks creating new python3.10 "
        "functions from 2027-02-01 (updates later): use RUNTIME=python3.12 or newer."
    ),
}
# Lambda keeps this many executions unreserved in every account.
MIN_UNRESERVED_CONCURRENCY = 100
KEY_DELETION_WINDOW_DAYS = 30
Ask = Callable[[str], str]


class PromotionError(Exception):
    """Deploying to or destroying on AWS cannot go on; the message says why and what to do."""


@dataclass(frozen=True)
class Account:
    id: str
    arn: str
    region: str


@dataclass(frozen=True)
class Options:
    stack: str = STACK_NAME
    email: str = ""
    alarm_email: str = ""
    runtime: str = DEFAULT_RUNTIME
    parameters: dict[str, str] = field(default_factory=dict)
    region: str | None = None
    profile: str | None = None
    dry_run: bool = False
    yes: bool = False
    poll_s: int = 10  # CloudFormation waiters: every 10 s, as AWS advises against faster

    def template_parameters(self) -> dict[str, str]:
        return {
            "NotificationEmail": self.email,
            "AlarmEmail": self.alarm_email or self.email,
            "LambdaRuntime": self.runtime,
            **self.parameters,
        }


# --- Account and confirmation ---------------------------------------------------------------


def aws_session(profile: str | None = None, region: str | None = None) -> boto3.Session:
    """The standard configuration; AWS_REGION (read by newer SDKs) counts as a region too."""
    try:
        session = boto3.Session(profile_name=profile or None, region_name=region or None)
        if not session.region_name and os.environ.get("AWS_REGION"):
            session = boto3.Session(
                profile_name=profile or None, region_name=os.environ["AWS_REGION"]
            )
        return session
    except ProfileNotFound as error:
        raise PromotionError(f"{error}: check PROFILE / AWS_PROFILE and ~/.aws/config") from error


def caller_account(session: boto3.Session) -> Account:
    """Who the standard configuration signs in as, or a one-line reason why nobody."""
    if not session.region_name:
        raise PromotionError(
            "no AWS region configured: pass REGION=<region>, set AWS_DEFAULT_REGION, "
            "or run `aws configure`"
        )
    try:
        identity = session.client("sts").get_caller_identity()
    except NoCredentialsError as error:
        raise PromotionError(
            "no AWS credentials found: run `aws configure` (or `aws sso login`), "
            "or pass PROFILE=<profile>"
        ) from error
    except ClientError as error:
        details = error.response.get("Error", {})
        raise PromotionError(
            f"AWS refused the credentials ({details.get('Code', 'error')}: "
            f"{_one_line(details.get('Message', ''))}): refresh them and try again"
        ) from error
    except BotoCoreError as error:
        reason = _one_line(str(error))
        raise PromotionError(f"cannot check the AWS credentials: {reason}") from error
    return Account(id=identity["Account"], arn=identity["Arn"], region=session.region_name)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def confirm(
    question: str, *, assume_yes: bool, ask: Ask = input, interactive: bool | None = None
) -> bool:
    """Yes only for y/yes (or YES=1); anything else, no answer or no terminal means no."""
    if assume_yes:
        print(f"{question} yes (YES=1)")
        return True
    if interactive is None:
        interactive = sys.stdin.isatty()
    if not interactive:
        print(f"{question} no: there is no terminal to ask (set YES=1 to confirm)")
        return False
    try:
        answer = ask(f"{question} [y/N] ")
    except EOFError:
        return False
    return answer.strip().lower() in {"y", "yes"}


# --- Artifacts bucket ------------------------------------------------------------------------


def artifacts_bucket_name(account: Account) -> str:
    return f"festival-lineup-artifacts-{account.id}-{account.region}"


def tls_only_policy(bucket: str, partition: str = "aws") -> str:
    arn = f"arn:{partition}:s3:::{bucket}"
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [arn, f"{arn}/*"],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                }
            ],
        }
    )


def ensure_artifacts_bucket(s3, account: Account) -> str:
    """Create the account's artifacts bucket if needed; (re)apply its protections."""
    name = artifacts_bucket_name(account)
    try:
        s3.head_bucket(Bucket=name, ExpectedBucketOwner=account.id)
        print(f"Artifacts bucket: s3://{name} (reused)")
    except ClientError as error:
        code = str(error.response.get("Error", {}).get("Code", ""))
        if code not in {"404", "NoSuchBucket", "NotFound"}:
            raise PromotionError(
                f"bucket {name} exists but this account cannot use it ({code})"
            ) from error
        location = {}
        if account.region != "us-east-1":
            location = {"CreateBucketConfiguration": {"LocationConstraint": account.region}}
        s3.create_bucket(Bucket=name, **location)
        print(f"Artifacts bucket: s3://{name} (created)")
    s3.put_public_access_block(
        Bucket=name,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_encryption(
        Bucket=name,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
                    "BucketKeyEnabled": True,
                }
            ]
        },
    )
    partition = account.arn.split(":")[1] if account.arn.count(":") > 1 else "aws"
    s3.put_bucket_policy(Bucket=name, Policy=tls_only_policy(name, partition))
    return name


# --- Stack and change set -------------------------------------------------------------------


def stack_status(cloudformation, stack: str) -> str | None:
    try:
        return cloudformation.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]
    except ClientError as error:
        if "does not exist" in error.response.get("Error", {}).get("Message", ""):
            return None
        raise


def describe_changes(cloudformation, change_set: str) -> list[dict]:
    changes: list[dict] = []
    kwargs: dict[str, Any] = {"ChangeSetName": change_set}
    while True:
        page = cloudformation.describe_change_set(**kwargs)
        changes += [change["ResourceChange"] for change in page.get("Changes", [])]
        if not page.get("NextToken"):
            return changes
        kwargs["NextToken"] = page["NextToken"]


def print_changes(changes: list[dict]) -> None:
    rows = [
        [
            c.get("Action", ""),
            c.get("LogicalResourceId", ""),
            c.get("ResourceType", ""),
            c.get("Replacement", "") if c.get("Action") == "Modify" else "",
        ]
        for c in changes
    ]
    print(tabulate(rows, headers=["action", "resource", "type", "replacement"]))


def discard_change_set(cloudformation, stack: str, change_set: str, new_stack: bool) -> None:
    """Delete the change set, and the empty stack `deploy` made for it if it was new."""
    cloudformation.delete_change_set(ChangeSetName=change_set)
    if new_stack and stack_status(cloudformation, stack) == "REVIEW_IN_PROGRESS":
        cloudformation.delete_stack(StackName=stack)


def check_reserved_concurrency(session: boto3.Session, options: Options, template: dict) -> None:
    """Refuse early when the account cannot reserve what the template asks for."""
    default = parameter_defaults(template)["ReservedConcurrency"]
    wanted = int(options.parameters.get("ReservedConcurrency", default))
    if wanted == 0:
        return
    try:
        limit = session.client("lambda").get_account_settings()["AccountLimit"]
    except (ClientError, BotoCoreError):
        return  # not allowed to look: CloudFormation will say so if it fails
    if limit["ConcurrentExecutions"] - wanted < MIN_UNRESERVED_CONCURRENCY:
        raise PromotionError(
            f"this account's Lambda concurrency quota is {limit['ConcurrentExecutions']}, too "
            f"low to reserve {wanted} (Lambda keeps {MIN_UNRESERVED_CONCURRENCY} unreserved): "
            "pass PARAMS=ReservedConcurrency=0, or ask AWS for a higher quota"
        )


def wait_for(cloudformation, waiter_name: str, stack: str, poll_s: int) -> None:
    try:
        cloudformation.get_waiter(waiter_name).wait(
            StackName=stack, WaiterConfig={"Delay": poll_s, "MaxAttempts": 3600 // poll_s}
        )
    except WaiterError as error:
        status = stack_status(cloudformation, stack) or "deleted"
        reasons = failure_reasons(cloudformation, stack) if status != "deleted" else ""
        raise PromotionError(f"stack {stack} ended in {status}: {reasons or error}") from error


def print_subscriptions(sns, outputs: dict[str, str]) -> None:
    for label, output in (("upload reports", "TopicArn"), ("alarms", "AlarmTopicArn")):
        if output not in outputs:
            continue
        pages = sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=outputs[output])
        for page in pages:
            for subscription in page.get("Subscriptions", []):
                if subscription["Protocol"] != "email":
                    continue
                address = subscription["Endpoint"]
                if subscription["SubscriptionArn"] == "PendingConfirmation":
                    print(
                        f"  ! {address} ({label}): AWS emailed a confirmation link from "
                        "no-reply@sns.amazonaws.com; open it within 3 days, or nothing is "
                        "delivered. To send a new link: aws sns subscribe --topic-arn "
                        f"{outputs[output]} --protocol email --notification-endpoint {address}"
                    )
                else:
                    print(f"  {address} ({label}): subscription confirmed")


def deploy(
    options: Options,
    *,
    session: boto3.Session | None = None,
    paths: LocalPaths | None = None,
    ask: Ask = input,
    interactive: bool | None = None,
) -> bool:
    """Package, show the change set, execute it once confirmed; True if executed."""
    if not options.email:
        raise PromotionError("EMAIL is required: make deploy-aws EMAIL=you@example.com")
    session = session or aws_session(options.profile, options.region)
    account = caller_account(session)
    print(f"Account {account.id} ({account.arn}), region {account.region}, stack {options.stack}")
    if options.runtime in RUNTIME_NOTES:
        print(f"Warning: {RUNTIME_NOTES[options.runtime]}")
    cloudformation = session.client("cloudformation")
    status = stack_status(cloudformation, options.stack)
    if status == "ROLLBACK_COMPLETE":
        raise PromotionError(
            f"stack {options.stack} failed its first creation (ROLLBACK_COMPLETE) and cannot be "
            f"updated: run `make destroy-aws STACK={options.stack}` first"
        )
    new_stack = status in {None, "REVIEW_IN_PROGRESS"}
    paths = paths or LocalPaths.default()
    template = parse_template((paths.root / "cloudformation.yaml").read_text(encoding="utf-8"))
    check_reserved_concurrency(session, options, template)

    bucket = ensure_artifacts_bucket(session.client("s3"), account)
    cli = [cli_path("aws"), "--region", account.region]
    if options.profile:
        cli += ["--profile", options.profile]
    target = DeployTarget(
        cli=cli,
        artifacts_bucket=bucket,
        stack_name=options.stack,
        parameters=options.template_parameters(),
    )
    packaged = package(target, paths)
    change_set = create_change_set(target, packaged)
    if change_set is None:
        print(f"No changes: stack {options.stack} already matches the template.")
        _print_outputs(session, cloudformation, options.stack)
        return False

    changes = describe_changes(cloudformation, change_set)
    print(f"\nChange set for stack {options.stack} ({'new stack' if new_stack else 'update'}):")
    print_changes(changes)
    print()
    if options.dry_run:
        discard_change_set(cloudformation, options.stack, change_set, new_stack)
        print("DRY_RUN: the change set was deleted; nothing was executed.")
        return False
    question = (
        f"Execute these {len(changes)} changes on stack {options.stack} "
        f"in account {account.id} ({account.region})?"
    )
    if not confirm(question, assume_yes=options.yes, ask=ask, interactive=interactive):
        discard_change_set(cloudformation, options.stack, change_set, new_stack)
        print("Not executed: the change set was deleted.")
        return False

    cloudformation.execute_change_set(ChangeSetName=change_set)
    print(f"Executing; waiting for stack {options.stack} (checked every {options.poll_s} s)...")
    waiter = "stack_create_complete" if new_stack else "stack_update_complete"
    wait_for(cloudformation, waiter, options.stack, options.poll_s)
    print(f"Stack {options.stack}: {stack_status(cloudformation, options.stack)}")
    _print_outputs(session, cloudformation, options.stack)
    return True


def _print_outputs(session: boto3.Session, cloudformation, stack: str) -> None:
    outputs = outputs_of(cloudformation, stack)
    print(tabulate(sorted(outputs.items()), headers=["output", "value"]))
    print("\nEmail subscriptions:")
    print_subscriptions(session.client("sns"), outputs)
    if "UploadBucketName" in outputs:
        print(
            f"\nUpload a lineup: aws s3 cp seed/lineup.csv "
            f"s3://{outputs['UploadBucketName']}/{outputs.get('UploadPrefix', 'uploads/')}"
            "lineup.csv"
        )


# --- Destroy ---------------------------------------------------------------------------------


def deployed_template(cloudformation, stack: str) -> dict:
    body = cloudformation.get_template(StackName=stack, TemplateStage="Original")["TemplateBody"]
    if isinstance(body, dict):
        return body
    return parse_template(body)


@dataclass
class DestroyPlan:
    stack: str
    retained: list[tuple[str, str, str]]  # logical id, type, physical id
    buckets: dict[str, int]  # bucket -> objects (and versions) it holds
    queued_failures: dict[str, int]  # queue URL -> failed events waiting
    keys: list[str]


def plan_destroy(session: boto3.Session, stack: str) -> DestroyPlan:
    cloudformation = session.client("cloudformation")
    template = deployed_template(cloudformation, stack).get("Resources", {})
    pages = cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack)
    deployed = [
        r for page in pages for r in page["StackResourceSummaries"] if r.get("PhysicalResourceId")
    ]
    plan = DestroyPlan(stack=stack, retained=[], buckets={}, queued_failures={}, keys=[])
    for resource in deployed:
        logical, kind = resource["LogicalResourceId"], resource["ResourceType"]
        physical = resource["PhysicalResourceId"]
        policy = template.get(logical, {}).get("DeletionPolicy", "Delete")
        if policy in {"Retain", "RetainExceptOnCreate"}:
            plan.retained.append((logical, kind, physical))
        elif kind == "AWS::S3::Bucket":
            plan.buckets[physical] = _count_objects(session.client("s3"), physical)
        elif kind == "AWS::SQS::Queue":
            attributes = session.client("sqs").get_queue_attributes(
                QueueUrl=physical, AttributeNames=["ApproximateNumberOfMessages"]
            )["Attributes"]
            plan.queued_failures[physical] = int(attributes["ApproximateNumberOfMessages"])
        elif kind == "AWS::KMS::Key":
            plan.keys.append(physical)
    return plan


def _count_objects(s3, bucket: str) -> int:
    try:
        pages = s3.get_paginator("list_object_versions").paginate(Bucket=bucket)
        return sum(len(p.get("Versions", [])) + len(p.get("DeleteMarkers", [])) for p in pages)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "NoSuchBucket":
            return 0
        raise


def empty_bucket(s3, bucket: str) -> int:
    """Delete every object (every version, every delete marker); the number deleted."""
    deleted = 0
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        entries = [
            {"Key": v["Key"], "VersionId": v["VersionId"]}
            for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
        ]
        for start in range(0, len(entries), 1000):
            batch = entries[start : start + 1000]
            response = s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
            if response.get("Errors"):
                first = response["Errors"][0]
                raise PromotionError(
                    f"could not empty s3://{bucket}: {first.get('Key')}: {first.get('Message')}"
                )
            deleted += len(batch)
    return deleted


def describe_plan(plan: DestroyPlan, account: Account) -> list[str]:
    lines = [f"Destroying stack {plan.stack} in account {account.id} ({account.region}):"]
    for bucket, count in plan.buckets.items():
        lines.append(f"  empties and deletes s3://{bucket} ({count} uploaded objects)")
    for queue, count in plan.queued_failures.items():
        lines.append(f"  deletes the failure queue {queue} ({count} failed events waiting)")
    for key in plan.keys:
        lines.append(
            f"  schedules KMS key {key} for deletion in "
            f"{KEY_DELETION_WINDOW_DAYS} days (cancel with kms cancel-key-deletion)"
        )
    lines.append("  deletes the function, its log group, the topics, subscriptions and alarms")
    lines += [
        f"  keeps {kind} {physical} ({logical}: DeletionPolicy Retain)"
        for logical, kind, physical in plan.retained
    ]
    lines.append(
        f"  keeps the artifacts bucket s3://{artifacts_bucket_name(account)} "
        "(shared by every stack of this account and region)"
    )
    return lines


def retained_notes(plan: DestroyPlan, account: Account) -> list[str]:
    notes = []
    for _logical, kind, physical in plan.retained:
        if kind == "AWS::DynamoDB::Table":
            notes.append(
                f"Kept table {physical}. To delete it: aws dynamodb update-table --table-name "
                f"{physical} --no-deletion-protection-enabled && aws dynamodb delete-table "
                f"--table-name {physical} (region {account.region})"
            )
        else:
            notes.append(f"Kept {kind} {physical}.")
    return notes


def destroy(
    options: Options,
    *,
    session: boto3.Session | None = None,
    ask: Ask = input,
    interactive: bool | None = None,
) -> bool:
    """Delete the stack once confirmed, emptying its upload bucket; True if deleted."""
    session = session or aws_session(options.profile, options.region)
    account = caller_account(session)
    cloudformation = session.client("cloudformation")
    if stack_status(cloudformation, options.stack) is None:
        print(
            f"Stack {options.stack} does not exist in account {account.id} "
            f"({account.region}): nothing to destroy."
        )
        return False
    plan = plan_destroy(session, options.stack)
    print("\n".join(describe_plan(plan, account)))
    if options.dry_run:
        print("DRY_RUN: nothing was deleted.")
        return False
    if not confirm(
        f"Delete stack {options.stack}?", assume_yes=options.yes, ask=ask, interactive=interactive
    ):
        print("Nothing was deleted.")
        return False
    s3 = session.client("s3")
    for bucket in plan.buckets:
        print(f"Emptied s3://{bucket}: {empty_bucket(s3, bucket)} objects deleted")
    cloudformation.delete_stack(StackName=options.stack)
    print(f"Deleting stack {options.stack} (checked every {options.poll_s} s)...")
    wait_for(cloudformation, "stack_delete_complete", options.stack, options.poll_s)
    print(f"Stack {options.stack} deleted.")
    for note in retained_notes(plan, account):
        print(note)
    return True


# --- Command line ---------------------------------------------------------------------------


def _parameter(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected Key=Value, got {text!r}")
    return key, value


def parse_options(argv: list[str] | None = None) -> tuple[str, Options]:
    parser = argparse.ArgumentParser(prog="festival-aws", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["deploy", "destroy"])
    parser.add_argument("--stack", default=STACK_NAME)
    parser.add_argument("--email", default="", help="address for the upload reports")
    parser.add_argument("--alarm-email", default="", help="address for alarms (default: email)")
    parser.add_argument("--runtime", default=DEFAULT_RUNTIME)
    parser.add_argument(
        "--parameter",
        action="append",
        type=_parameter,
        default=[],
        help="another template parameter, Key=Value (repeatable)",
    )
    parser.add_argument("--region")
    parser.add_argument("--profile")
    parser.add_argument("--dry-run", action="store_true")
    parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    arguments = parser.parse_args(argv)
    return arguments.command, Options(
        stack=arguments.stack,
        email=arguments.email,
        alarm_email=arguments.alarm_email,
        runtime=arguments.runtime,
        parameters=dict(arguments.parameter),
        region=arguments.region,
        profile=arguments.profile,
        dry_run=arguments.dry_run,
        yes=arguments.yes,
    )


def main(argv: list[str] | None = None) -> None:
    command, options = parse_options(argv)
    try:
        if command == "deploy":
            deploy(options)
        else:
            destroy(options)
    except (PromotionError, DeployError) as error:
        print(f"festival-aws: {error}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("\nfestival-aws: interrupted", file=sys.stderr)
        sys.exit(130)


if __name__ == "__main__":
    main()
