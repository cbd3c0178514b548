"""cloudformation.yaml checked without deploying it (tests/e2e deploys it on the local stack).

LocalStack accepts but does not enforce IAM, log retention, point-in-time recovery,
deletion protection or the permission's SourceAccount, so these tests read the template:

- cfn-lint, informational rules included, reports nothing;
- every finding of the policy scanner (checkov, which `make check` runs from its own
  virtualenv) that the template accepts, under the resource's ``Metadata.checkov.skip``,
  says why;
- every IAM policy document (role, managed, bucket, queue, topic and key policies) has a
  Sid on each statement, and a ``*`` in Action, Resource or Principal only where the
  resource's ``Metadata.WildcardJustifications`` names the statement with a reason;
- the ingest role, the reader policy and the uploader policy grant exactly the actions
  their code calls (the Lambda's sources; ``festival``'s query path; the s3transfer code
  behind ``aws s3 cp``), read from the sources' syntax trees: LocalStack does not enforce
  IAM, so this static walk is the proof that ``festival`` works with the reader policy alone;
- the wiring the issue asks for: notification filter, public access block, TLS-only
  bucket policy, on-failure destination to an encrypted queue, alarms.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import botocore.session
import pytest
import s3transfer
from botocore import xform_name
from cfnlint.api import ManualArgs, lint_file
from cfnlint.decode import cfn_yaml

from tests.cfn import resolve

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "cloudformation.yaml"
LAMBDA_SOURCES = ROOT / "lambda" / "lineup_ingest"
FESTIVAL_SOURCES = ROOT / "src" / "festival"
# `aws s3 cp` uploads through s3transfer: a small file with PutObject, a large one in parts.
UPLOAD_SOURCES = [Path(s3transfer.__file__).parent / name for name in ("upload.py", "tasks.py")]
POLICY_PROPERTIES = ("PolicyDocument", "KeyPolicy", "AssumeRolePolicyDocument")
MIN_REASON_CHARS = 30


@pytest.fixture(scope="module")
def template() -> dict:
    """The template as plain data, CloudFormation tags (!Ref, !Sub...) as Fn:: mappings."""
    return _plain(cfn_yaml.load(str(TEMPLATE)))


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    return value


def resources(template: dict, resource_type: str) -> dict[str, dict]:
    return {
        name: resource
        for name, resource in template["Resources"].items()
        if resource["Type"] == resource_type
    }


def properties(template: dict, name: str) -> dict:
    return template["Resources"][name].get("Properties", {})


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def _true(value: Any) -> bool:
    return value is True or value == "true"


def _statements(document: dict) -> list[dict]:
    return as_list(document.get("Statement", []))


def ref_target(value: Any) -> str | None:
    """The logical id a !Ref or !GetAtt points at."""
    if isinstance(value, dict) and "Ref" in value:
        return value["Ref"]
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        attribute = value["Fn::GetAtt"]
        return attribute[0] if isinstance(attribute, list) else attribute.split(".")[0]
    return None


# --- cfn-lint ----------------------------------------------------------------------------


def test_cfn_lint_reports_nothing_including_informational_rules():
    matches = lint_file(TEMPLATE, ManualArgs(include_checks=["I"]))
    assert [str(match) for match in matches] == []


# --- Policy scanner ------------------------------------------------------------------------
# checkov itself runs in `make check`; what it cannot know is whether an accepted finding
# has a reason, which docs/security.md repeats.

SCANNER_CHECK_ID = re.compile(r"CKV2?_AWS_\d+")


def accepted_findings(resource: dict) -> dict[str, str]:
    """Check id -> reason, from checkov's skip syntax in the resource's Metadata."""
    entries = resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
    return {entry["id"]: str(entry.get("comment", "")).strip() for entry in entries}


def test_every_accepted_scanner_finding_names_a_check_and_says_why(template):
    problems = []
    for name, resource in template["Resources"].items():
        for check, reason in accepted_findings(resource).items():
            if not SCANNER_CHECK_ID.fullmatch(check):
                problems.append(f"{name}: {check} is not a checkov AWS check id")
            if len(reason) < MIN_REASON_CHARS:
                problems.append(f"{name}: the skip of {check} needs a reason")
    assert problems == []


def test_every_accepted_scanner_finding_is_listed_in_the_security_doc(template):
    doc = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    accepted = {
        check
        for resource in template["Resources"].values()
        for check in accepted_findings(resource)
    }
    assert accepted
    assert {check for check in accepted if f"`{check}`" not in doc} == set()


# Rules of our own, read with every parameter at its default: what production gets.


def test_table_defaults_are_encrypted_recoverable_protected_and_retained(template):
    table = template["Resources"]["LineupTable"]
    p = table["Properties"]
    assert _true(p["SSESpecification"]["SSEEnabled"])
    recovery = p["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"]
    assert resolve(recovery, template) is True
    assert resolve(p["DeletionProtectionEnabled"], template) is True
    assert table["DeletionPolicy"] == "Retain"
    assert table["UpdateReplacePolicy"] == "Retain"
    assert p["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}


def test_reserved_concurrency_defaults_to_a_cost_guard_and_zero_means_none(template):
    concurrency = properties(template, "IngestFunction")["ReservedConcurrentExecutions"]
    assert int(resolve(concurrency, template)) == 10
    zero = {
        **template,
        "Parameters": {**template["Parameters"], "ReservedConcurrency": {"Default": 0}},
    }
    assert resolve(concurrency, zero) == {"Ref": "AWS::NoValue"}


def test_every_topic_and_queue_is_encrypted_at_rest(template):
    for name, topic in resources(template, "AWS::SNS::Topic").items():
        assert topic["Properties"].get("KmsMasterKeyId"), name
    for name, queue in resources(template, "AWS::SQS::Queue").items():
        p = queue["Properties"]
        assert p.get("KmsMasterKeyId") or _true(p.get("SqsManagedSseEnabled")), name


def lifecycle_rules(template: dict) -> list[dict]:
    """The bucket's lifecycle rules with the parameters at their defaults."""
    rules = properties(template, "UploadBucket")["LifecycleConfiguration"]["Rules"]
    resolved = [resolve(rule, template) for rule in rules]
    return [rule for rule in resolved if rule != {"Ref": "AWS::NoValue"}]


def with_default(template: dict, parameter: str, value: Any) -> dict:
    parameters = {
        **template["Parameters"],
        parameter: {**template["Parameters"][parameter], "Default": value},
    }
    return {**template, "Parameters": parameters}


def test_old_uploads_expire_after_the_retention_days_and_zero_keeps_them(template):
    expiring = [rule for rule in lifecycle_rules(template) if "ExpirationInDays" in rule]
    assert [rule["Prefix"] for rule in expiring] == [{"Ref": "UploadPrefix"}]
    assert expiring[0]["ExpirationInDays"] == {"Ref": "UploadRetentionDays"}
    assert int(resolve(expiring[0]["ExpirationInDays"], template)) == 90
    assert template["Parameters"]["UploadRetentionDays"]["MinValue"] == 0

    forever = with_default(template, "UploadRetentionDays", 0)
    assert [rule for rule in lifecycle_rules(forever) if "ExpirationInDays" in rule] == []
    assert [rule["Id"] for rule in lifecycle_rules(forever)] == ["AbortIncompleteUploads"]


def test_rows_expire_with_the_upload_by_the_same_setting(template):
    table = properties(template, "LineupTable")
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    variables = properties(template, "IngestFunction")["Environment"]["Variables"]
    assert variables["UPLOAD_RETENTION_DAYS"] == {"Ref": "UploadRetentionDays"}


def test_log_group_keeps_logs_for_a_limited_time_and_is_the_functions(template):
    retention = properties(template, "IngestLogGroup")["RetentionInDays"]
    assert int(resolve(retention, template)) == 30
    logging = properties(template, "IngestFunction")["LoggingConfig"]
    assert logging["LogGroup"] == {"Ref": "IngestLogGroup"}


def test_production_default_runtime_is_not_the_deprecated_python3_10(template):
    runtime = template["Parameters"]["LambdaRuntime"]
    assert runtime["Default"] != "python3.10"
    assert "python3.10" in runtime["AllowedValues"]  # the local stack proves 3.10


# --- IAM: every policy document, every statement -------------------------------------------


@dataclass(frozen=True)
class Statement:
    resource: str
    where: str
    body: dict


def policy_statements(template: dict) -> Iterator[Statement]:
    """Every statement of every policy document anywhere in a resource's properties."""

    def walk(value: Any, resource: str, where: str) -> Iterator[Statement]:
        if isinstance(value, dict):
            for key, inner in value.items():
                if key in POLICY_PROPERTIES and isinstance(inner, dict):
                    for index, statement in enumerate(_statements(inner)):
                        yield Statement(resource, f"{where}.{key}[{index}]", statement)
                else:
                    yield from walk(inner, resource, f"{where}.{key}")
        elif isinstance(value, list):
            for index, inner in enumerate(value):
                yield from walk(inner, resource, f"{where}[{index}]")

    for name, resource in template["Resources"].items():
        yield from walk(resource.get("Properties", {}), name, name)


def wildcard_in(value: Any, template: dict) -> bool:
    """True if the value, once CloudFormation renders it, can contain a `*`."""
    if isinstance(value, str):
        return "*" in value
    if isinstance(value, list):
        return any(wildcard_in(item, template) for item in value)
    if isinstance(value, dict):
        if "Fn::Sub" in value:
            sub = value["Fn::Sub"]
            return wildcard_in(sub[0] if isinstance(sub, list) else sub, template)
        if "Fn::GetAtt" in value:
            # A log group's Arn attribute ends with `:*`.
            target = ref_target(value)
            return template["Resources"].get(target, {}).get("Type") == "AWS::Logs::LogGroup"
        if "Fn::Join" in value:
            return wildcard_in(value["Fn::Join"][1], template)
        return False
    return False


def justifications(template: dict, resource: str) -> dict[str, str]:
    metadata = template["Resources"][resource].get("Metadata", {})
    return {
        sid: str(reason).strip()
        for sid, reason in metadata.get("WildcardJustifications", {}).items()
    }


def test_there_are_policies_to_check(template):
    kinds = {template["Resources"][s.resource]["Type"] for s in policy_statements(template)}
    assert kinds >= {
        "AWS::IAM::Role",
        "AWS::IAM::ManagedPolicy",
        "AWS::S3::BucketPolicy",
        "AWS::SQS::QueuePolicy",
        "AWS::SNS::TopicPolicy",
        "AWS::KMS::Key",
    }


def test_every_policy_statement_has_a_unique_sid(template):
    seen: dict[tuple[str, str], str] = {}
    problems = []
    for statement in policy_statements(template):
        sid = statement.body.get("Sid")
        document = (statement.resource, statement.where.rsplit("[", 1)[0])
        if not sid:
            problems.append(f"{statement.where}: no Sid")
        elif (document, sid) in seen:
            problems.append(f"{statement.where}: Sid {sid} repeated")
        seen[(document, sid)] = statement.where
    assert problems == []


def wildcard_fields(statement: dict, template: dict) -> list[str]:
    """The fields of a statement that can match more than one thing once rendered: Action
    or Resource with a `*`, a principal `*` (anyone, even in a Deny), any Not... field."""
    wild = []
    for field in ("Action", "NotAction", "Resource", "NotResource", "Principal", "NotPrincipal"):
        if field not in statement:
            continue
        value = statement[field]
        if field == "Principal" and isinstance(value, dict):
            value = [item for inner in value.values() for item in as_list(inner)]
        if field.startswith("Not") or wildcard_in(value, template):
            wild.append(field)
    return wild


def test_no_wildcard_in_action_resource_or_principal_without_a_justification(template):
    unjustified = []
    for statement in policy_statements(template):
        wild = wildcard_fields(statement.body, template)
        reason = justifications(template, statement.resource).get(statement.body.get("Sid", ""))
        if wild and (not reason or len(reason) < MIN_REASON_CHARS):
            unjustified.append(f"{statement.where} ({statement.body.get('Sid')}): {wild}")
    assert unjustified == [], (
        "a `*` needs the statement's Sid and a reason under the resource's "
        "Metadata.WildcardJustifications"
    )


def test_no_allow_statement_grants_to_any_principal(template):
    open_to_all = [
        s.where
        for s in policy_statements(template)
        if s.body.get("Effect") == "Allow" and s.body.get("Principal") in ("*", {"AWS": "*"})
    ]
    assert open_to_all == []


def test_every_wildcard_justification_belongs_to_a_statement_with_a_wildcard(template):
    wild_sids = {
        (s.resource, s.body.get("Sid"))
        for s in policy_statements(template)
        if wildcard_fields(s.body, template)
    }
    stale = [
        (name, sid)
        for name in template["Resources"]
        for sid in justifications(template, name)
        if (name, sid) not in wild_sids
    ]
    assert stale == []


def granted_actions(documents: list[dict]) -> dict[str, Any]:
    """Action -> Resource of identity policy documents (a list if granted twice)."""
    granted: dict[str, Any] = {}
    for document in documents:
        for statement in _statements(document):
            assert statement["Effect"] == "Allow"
            assert "Principal" not in statement and "Condition" not in statement
            for action in as_list(statement["Action"]):
                if action in granted:
                    granted[action] = [*as_list(granted[action]), statement["Resource"]]
                else:
                    granted[action] = statement["Resource"]
    return granted


def role_actions(template: dict) -> dict[str, Any]:
    """Action -> Resource of the ingest role's inline policy (a list if granted twice)."""
    return granted_actions(
        [policy["PolicyDocument"] for policy in properties(template, "IngestRole")["Policies"]]
    )


def managed_policy_actions(template: dict, name: str) -> dict[str, Any]:
    """Action -> Resource of one of the managed policies for people."""
    assert template["Resources"][name]["Type"] == "AWS::IAM::ManagedPolicy"
    return granted_actions([properties(template, name)["PolicyDocument"]])


# The IAM actions that authorize an API call, where they are not service:OperationName.
ACTION_OF_OPERATION = {
    "s3:HeadObject": ("s3:GetObject",),
    # Listing a bucket is authorized by ListBucket. The sweep's port method `list_objects`
    # reads as S3's ListObjects to the walk: the same action, so no harm.
    "s3:ListObjectsV2": ("s3:ListBucket",),
    "s3:ListObjects": ("s3:ListBucket",),
    # The parts of a multipart upload are authorized by PutObject (not their abort).
    "s3:CreateMultipartUpload": ("s3:PutObject",),
    "s3:UploadPart": ("s3:PutObject",),
    "s3:CompleteMultipartUpload": ("s3:PutObject",),
    # A transaction is authorized by the actions of its items: our Put and Update.
    "dynamodb:TransactWriteItems": ("dynamodb:PutItem", "dynamodb:UpdateItem"),
    "lambda:Invoke": ("lambda:InvokeFunction",),
}
# Granted although the code does not call them: who uses them and why.
RUNTIME_ACTIONS = {
    "sqs:SendMessage": "Lambda delivers a failed event to the on-failure destination",
    # The code also calls these two, on the failure queue (the reconcile sweep).
    "sqs:ReceiveMessage": "Lambda's event source mapping polls the parts queue",
    "sqs:DeleteMessage": "Lambda's event source mapping deletes a part once it is done",
    "sqs:GetQueueAttributes": "Lambda's event source mapping reads the parts queue",
    "logs:CreateLogStream": "the Lambda runtime creates its log stream",
    "logs:PutLogEvents": "the Lambda runtime writes the function's logs",
}


def actions_called_in(
    sources: list[Path], services: tuple[str, ...], *, references: bool = False
) -> set[str]:
    """IAM actions for every operation of these services the sources call.

    A call is ``x.operation(...)`` or ``x.get_paginator("operation")``; with ``references``,
    any ``x.operation`` counts too (s3transfer registers ``client.abort_multipart_upload``
    as a clean-up to call later). A called name that two of the services share (such as
    ``tag_resource``) fails the walk: it cannot tell which action it needs.
    """
    session = botocore.session.get_session()
    operations: dict[str, list[str]] = {}
    for service in services:
        for operation in session.get_service_model(service).operation_names:
            operations.setdefault(xform_name(operation), []).append(f"{service}:{operation}")
    called: set[str] = set()
    for source in sources:
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                name = node.func.attr
                if name == "get_paginator" and node.args and isinstance(node.args[0], ast.Constant):
                    name = str(node.args[0].value)
            elif references and isinstance(node, ast.Attribute):
                name = node.attr
            else:
                continue
            if name in operations:
                assert len(operations[name]) == 1, f"{source}: {name} is {operations[name]}"
                (action,) = operations[name]
                called.update(ACTION_OF_OPERATION.get(action, (action,)))
    return called


def actions_the_code_calls() -> set[str]:
    """IAM actions for every S3, DynamoDB, SNS and SQS operation the Lambda's sources call."""
    return actions_called_in(sorted(LAMBDA_SOURCES.glob("*.py")), ("s3", "dynamodb", "sns", "sqs"))


def test_ingest_role_allows_exactly_what_the_code_and_the_runtime_use(template):
    called = actions_the_code_calls()
    assert {"s3:GetObject", "dynamodb:BatchWriteItem", "sns:Publish"} <= called
    # The sweep lists the uploads and drains the failure queue.
    assert {"s3:ListBucket", "sqs:ReceiveMessage", "sqs:DeleteMessage"} <= called
    # Rows of a version are never shared, so they go by unconditional batch deletes.
    assert "dynamodb:DeleteItem" not in called
    assert set(role_actions(template)) == called | set(RUNTIME_ACTIONS)


def test_ingest_role_resources_are_its_own_bucket_prefix_table_topic_queue_and_log_group(
    template,
):
    granted = role_actions(template)
    assert granted["s3:GetObject"]["Fn::Sub"][0].endswith(
        ":::festival-lineup-${AWS::AccountId}-${AWS::Region}-${Suffix}/${UploadPrefix}*"
    )
    assert granted["s3:ListBucket"]["Fn::Sub"][0].endswith("-${Suffix}")
    for action in (
        "dynamodb:BatchWriteItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:Query",
    ):
        # The base table only: no `/index/*`, the function never queries an index.
        assert granted[action] == {"Fn::GetAtt": ["LineupTable", "Arn"]}
    assert granted["sns:Publish"] == {"Ref": "NotificationTopic"}
    parts_queue = {"Fn::GetAtt": ["PartsQueue", "Arn"]}
    failure_queue = {"Fn::GetAtt": ["FailureQueue", "Arn"]}
    assert granted["sqs:SendMessage"] == [parts_queue, failure_queue]
    for action in ("sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"):
        assert granted[action] == parts_queue
    # The event source mapping on the parts queue; the sweep on the failure queue.
    for action in ("sqs:ReceiveMessage", "sqs:DeleteMessage"):
        assert granted[action] == [parts_queue, failure_queue]
    log_group = (
        "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:${IngestLogGroup}"
    )
    assert granted["logs:CreateLogStream"] == {"Fn::Sub": f"{log_group}:*"}
    assert granted["logs:PutLogEvents"] == {"Fn::Sub": f"{log_group}:log-stream:*"}


def test_every_permission_of_the_role_and_the_people_policies_is_explained_in_the_docs(
    template,
):
    docs = "\n".join(
        path.read_text(encoding="utf-8")
        for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
        if path.exists()
    )
    granted = [
        *role_actions(template),
        *managed_policy_actions(template, "UploaderPolicy"),
        *managed_policy_actions(template, "ReaderPolicy"),
    ]
    missing = [action for action in granted if f"`{action}`" not in docs]
    assert missing == []
    assert "--policy-arn" in docs  # how to attach them


# --- IAM: the managed policies for people ---------------------------------------------------

# The services whose calls the query path is searched for: a call to any of them would need
# a permission.
QUERY_PATH_SERVICES = ("cloudformation", "dynamodb", "s3", "sns", "sqs", "cloudwatch", "lambda")
# Called by `festival` but not granted to readers: `festival reconcile` runs the sweep, an
# operator's act (docs/cli.md says which permission it needs).
OPERATOR_ACTIONS = {"lambda:InvokeFunction"}
# What the query path may import from the Lambda's package: key shapes and the attribute
# converters, which make no AWS call (a client-using adapter here would escape the walk).
PURE_LAMBDA_IMPORTS = {
    # the diff of two versions, clashes of a lineup, reading a local CSV (festival changes --files)
    "lineup_ingest": {"schema", "changes", "clashes"},
    "lineup_ingest.clashes": {
        "Slot",
        "Clashes",
        "find_clashes",
        "DEFAULT_CHANGEOVER_MINUTES",
        "ClashCounts",
        "MAX_ROWS",  # the cost model: a load reads its rows back up to this many
    },
    "lineup_ingest.changes": {"MAX_ROWS"},  # the same, for a re-upload's change report
    "lineup_ingest.parsing": {
        "read_lineup",
        "LineupFileError",
        "Performance",
        "decide_clock_from_head",
    },
    "lineup_ingest.codec": {"from_attributes", "from_json_attributes", "to_attributes"},
    # Sends the queries' bulk reads; the walk sees them as the `.query(` calls in queries.py.
    "lineup_ingest.dynamodb_http": {"DynamoDBHttp"},
    "lineup_ingest.retry": {"is_retryable"},  # which errors a read is tried again for
    "lineup_ingest.lifecycle": {"Status"},  # a record's statuses
    # the cost model's numbers of the design (festival cost)
    "lineup_ingest.config": {"Config", "WRITES_IN_FLIGHT"},
    "lineup_ingest.report": {"REJECTED_ROWS_SHOWN"},
}


def _festival_module(module: str) -> Path | None:
    if module != "festival" and not module.startswith("festival."):
        return None
    path = FESTIVAL_SOURCES.parent.joinpath(*module.split("."))
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


# `festival serve`'s Upload page puts files with the uploader policy; browsing is the reader's.
EXPLORER_UPLOADER = FESTIVAL_SOURCES / "explorer" / "uploader.py"


def query_path_sources(
    leave_out: tuple[Path, ...] = (EXPLORER_UPLOADER,),
) -> tuple[list[Path], dict[str, set[str]]]:
    """`festival`'s modules from cli.py, following its imports of festival modules (among
    them stack.py, which looks the table up in the stack's outputs); and what they import
    from lineup_ingest."""
    seen: list[Path] = []
    from_lambda: dict[str, set[str]] = {}
    pending = [FESTIVAL_SOURCES / "cli.py"]
    while pending:
        source = pending.pop()
        if source in seen or source in leave_out:
            continue
        seen.append(source)
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                modules = [node.module]
                if node.module.startswith("lineup_ingest"):
                    from_lambda.setdefault(node.module, set()).update(a.name for a in node.names)
                if node.module == "festival":  # from festival import cost
                    modules = [f"festival.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            else:
                continue
            for module in modules:
                path = _festival_module(module)
                if path is not None and path.exists():
                    pending.append(path)
    return seen, from_lambda


def actions_festival_calls() -> set[str]:
    """What a reader's `festival` calls (the operator's commands left out)."""
    sources, _ = query_path_sources()
    return actions_called_in(sources, QUERY_PATH_SERVICES) - OPERATOR_ACTIONS


def test_festival_calls_the_operators_actions_it_leaves_out_of_the_reader_policy():
    sources, _ = query_path_sources()
    assert actions_called_in(sources, QUERY_PATH_SERVICES) >= OPERATOR_ACTIONS


def test_the_query_path_walk_reads_cli_and_queries_and_only_pure_lambda_helpers():
    sources, from_lambda = query_path_sources()
    assert {FESTIVAL_SOURCES / "cli.py", FESTIVAL_SOURCES / "queries.py"} <= set(sources)
    assert from_lambda == PURE_LAMBDA_IMPORTS


def test_reader_policy_allows_exactly_what_festival_calls(template):
    called = actions_festival_calls()
    assert called == {"cloudformation:DescribeStacks", "dynamodb:Query"}
    assert set(managed_policy_actions(template, "ReaderPolicy")) == called


def test_reader_policy_resources_are_this_stack_its_table_and_its_three_indexes(template):
    granted = managed_policy_actions(template, "ReaderPolicy")
    assert granted["cloudformation:DescribeStacks"] == {
        "Fn::Sub": "arn:${AWS::Partition}:cloudformation:${AWS::Region}:${AWS::AccountId}:"
        "stack/${AWS::StackName}/*"
    }
    from lineup_ingest import schema

    indexes = [
        index["IndexName"]
        for index in properties(template, "LineupTable")["GlobalSecondaryIndexes"]
    ]
    assert sorted(indexes) == sorted(
        [schema.PERFORMER_INDEX, schema.STAGE_INDEX, schema.TIME_INDEX]
    )
    assert granted["dynamodb:Query"] == [
        {"Fn::GetAtt": ["LineupTable", "Arn"]},
        *({"Fn::Sub": f"${{LineupTable.Arn}}/index/{index}"} for index in indexes),
    ]


def test_uploader_policy_allows_exactly_what_aws_s3_cp_calls_to_upload(template):
    called = actions_called_in(UPLOAD_SOURCES, ("s3",), references=True)
    # PutObject (small files, and the parts of large ones); AbortMultipartUpload (clean-up
    # of a failed multipart upload). No ListMultipartUploadParts: s3transfer never lists.
    assert called == {"s3:PutObject", "s3:AbortMultipartUpload"}
    assert set(managed_policy_actions(template, "UploaderPolicy")) == called


def test_uploader_policy_allows_what_festival_serves_upload_page_calls(template):
    sources, _ = query_path_sources(leave_out=())
    assert EXPLORER_UPLOADER in sources  # festival serve reaches it
    called = actions_called_in([EXPLORER_UPLOADER], QUERY_PATH_SERVICES)
    assert called == {"s3:PutObject"}
    assert called <= set(managed_policy_actions(template, "UploaderPolicy"))


def test_uploader_policy_resources_are_the_upload_prefix_of_this_stacks_bucket(template):
    prefix = ":::festival-lineup-${AWS::AccountId}-${AWS::Region}-${Suffix}/${UploadPrefix}*"
    for action, resource in managed_policy_actions(template, "UploaderPolicy").items():
        text, variables = resource["Fn::Sub"]
        assert text.endswith(prefix), action
        # The same bucket name as the bucket's own (which the role's statements use too).
        assert variables == properties(template, "UploadBucket")["BucketName"]["Fn::Sub"][1]


def test_managed_policies_are_unnamed_and_output_with_their_arns(template):
    for name in ("UploaderPolicy", "ReaderPolicy"):
        # Unnamed: CAPABILITY_IAM is enough, and two stacks in one account do not clash.
        assert "ManagedPolicyName" not in properties(template, name)
        assert template["Outputs"][f"{name}Arn"]["Value"] == {"Ref": name}


# --- The wiring the issue asks for -------------------------------------------------------------


def test_notification_fires_on_created_and_removed_objects_under_the_upload_prefix(
    template,
):
    configurations = properties(template, "UploadBucket")["NotificationConfiguration"][
        "LambdaConfigurations"
    ]
    # Deleted and expired files are announced too, so their rows can be removed.
    assert [c["Event"] for c in configurations] == [
        "s3:ObjectCreated:*",
        "s3:ObjectRemoved:*",
        "s3:LifecycleExpiration:*",
    ]
    for configuration in configurations:
        assert ref_target(configuration["Function"]) == "IngestFunction"
        # No suffix rule: S3's is case-sensitive; the function decides by the name
        # (filenames.py).
        rules = {rule["Name"]: rule["Value"] for rule in configuration["Filter"]["S3Key"]["Rules"]}
        assert rules == {"prefix": {"Ref": "UploadPrefix"}}
    assert template["Parameters"]["UploadPrefix"]["Default"] == "uploads/"


def test_notification_event_types_are_ones_s3_knows(template):
    # cfn-lint takes any string as an event; S3's API model lists the real ones.
    known = botocore.session.get_session().get_service_model("s3").shape_for("Event").enum
    configurations = properties(template, "UploadBucket")["NotificationConfiguration"][
        "LambdaConfigurations"
    ]
    assert {c["Event"] for c in configurations} <= set(known)


def test_upload_bucket_blocks_public_access_and_is_encrypted(template):
    p = properties(template, "UploadBucket")
    assert p["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    (rule,) = p["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in {"AES256", "aws:kms"}


def test_bucket_policy_denies_every_request_without_tls(template):
    (policy,) = [
        resource["Properties"]
        for resource in resources(template, "AWS::S3::BucketPolicy").values()
        if resource["Properties"]["Bucket"] == {"Ref": "UploadBucket"}
    ]
    denials = [
        statement
        for statement in _statements(policy["PolicyDocument"])
        if statement["Effect"] == "Deny"
        and str(statement.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport")).lower()
        == "false"
    ]
    assert len(denials) == 1
    (deny,) = denials
    assert deny["Principal"] == "*" and deny["Action"] == "s3:*"
    assert deny["Resource"] == [
        {"Fn::GetAtt": ["UploadBucket", "Arn"]},
        {"Fn::Sub": "${UploadBucket.Arn}/*"},
    ]


def test_failed_events_go_to_an_encrypted_queue_the_role_may_send_to(template):
    (config,) = resources(template, "AWS::Lambda::EventInvokeConfig").values()
    p = config["Properties"]
    assert p["FunctionName"] == {"Ref": "IngestFunction"}
    assert p["MaximumRetryAttempts"] in (1, 2)
    destination = p["DestinationConfig"]["OnFailure"]["Destination"]
    queue = ref_target(destination)
    assert destination == {"Fn::GetAtt": [queue, "Arn"]}
    queue_properties = properties(template, queue)
    assert template["Resources"][queue]["Type"] == "AWS::SQS::Queue"
    assert _true(queue_properties.get("SqsManagedSseEnabled")) or queue_properties.get(
        "KmsMasterKeyId"
    )
    assert destination in role_actions(template)["sqs:SendMessage"]


def test_parts_of_large_files_go_through_an_encrypted_queue_that_fails_over(template):
    queue = properties(template, "PartsQueue")
    assert _true(queue["SqsManagedSseEnabled"])
    assert queue["VisibilityTimeout"] == {"Ref": "FunctionTimeout"}
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["FailureQueue", "Arn"]}
    assert queue["RedrivePolicy"]["maxReceiveCount"] == {"Ref": "PartAttempts"}
    (mapping,) = resources(template, "AWS::Lambda::EventSourceMapping").values()
    p = mapping["Properties"]
    assert p["EventSourceArn"] == {"Fn::GetAtt": ["PartsQueue", "Arn"]}
    assert p["BatchSize"] == 1 and p["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert p["ScalingConfig"]["MaximumConcurrency"] == {"Ref": "PartConcurrency"}
    environment = properties(template, "IngestFunction")["Environment"]["Variables"]
    assert environment["PARTS_QUEUE_URL"] == {"Ref": "PartsQueue"}
    assert environment["PART_ATTEMPTS"] == {"Ref": "PartAttempts"}


def test_the_sweep_reads_the_failure_queue_bucket_prefix_fence_and_stuck_time(template):
    variables = properties(template, "IngestFunction")["Environment"]["Variables"]
    # The parts queue's dead-letter queue, which the sweep drains.
    dead_letters = properties(template, "PartsQueue")["RedrivePolicy"]["deadLetterTargetArn"]
    assert variables["FAILURE_QUEUE_URL"] == {"Ref": ref_target(dead_letters)}
    # The bucket's own name expression: a !Ref would close a bucket -> function cycle.
    assert variables["UPLOAD_BUCKET"] == properties(template, "UploadBucket")["BucketName"]
    assert variables["UPLOAD_PREFIX"] == {"Ref": "UploadPrefix"}
    # No invocation outlives the timeout: collection's fence.
    assert variables["FENCE_SECONDS"] == {"Ref": "FunctionTimeout"}
    assert variables["STUCK_LOAD_SECONDS"] == {"Ref": "StuckLoadSeconds"}
    stuck = template["Parameters"]["StuckLoadSeconds"]
    assert (stuck["Default"], stuck["MinValue"]) == (1800, 300)
    assert "Seconds" in stuck["Description"]


def test_every_setting_the_function_reads_is_in_its_environment(template):
    from lineup_ingest.config import Config

    variables = properties(template, "IngestFunction")["Environment"]["Variables"]
    source = (LAMBDA_SOURCES / "config.py").read_text(encoding="utf-8")
    read = set(re.findall(r"\"([A-Z][A-Z_]+)\"", source))
    # Kept at the code's default on purpose: the time kept back to report.
    assert read - set(variables) == {"REPORT_RESERVE_MS"}
    assert Config.from_environment({name: "1" for name in variables})


def test_a_schedule_runs_the_reconcile_sweep_and_may_invoke_only_the_function(template):
    (name, rule), *others = resources(template, "AWS::Events::Rule").items()
    assert others == []
    p = rule["Properties"]
    assert p["ScheduleExpression"] == {"Ref": "ReconcileSchedule"}
    assert p["State"] == "ENABLED"
    (target,) = p["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": ["IngestFunction", "Arn"]}
    # EventBridge's own scheduled event (source aws.events) is what the function sweeps on.
    assert "Input" not in target
    schedule = template["Parameters"]["ReconcileSchedule"]
    assert schedule["Default"] == "rate(15 minutes)"
    assert re.fullmatch(schedule["AllowedPattern"], schedule["Default"])
    assert "LocalStack" in schedule["Description"]
    permissions = [
        resource["Properties"]
        for resource in resources(template, "AWS::Lambda::Permission").values()
        if resource["Properties"]["Principal"] == "events.amazonaws.com"
    ]
    assert permissions == [
        {
            "Action": "lambda:InvokeFunction",
            "FunctionName": {"Ref": "IngestFunction"},
            "Principal": "events.amazonaws.com",
            "SourceAccount": {"Ref": "AWS::AccountId"},
            "SourceArn": {"Fn::GetAtt": [name, "Arn"]},
        }
    ]


def test_the_sweep_is_the_event_the_schedule_sends():
    from lineup_ingest.service import is_sweep_event

    assert is_sweep_event({"source": "aws.events", "detail-type": "Scheduled Event"})
    assert is_sweep_event({"reconcile": True})  # festival reconcile's


def alarm_on(template: dict, namespace: str, metric: str) -> dict:
    found = [
        alarm["Properties"]
        for alarm in resources(template, "AWS::CloudWatch::Alarm").values()
        if alarm["Properties"]["Namespace"] == namespace
        and alarm["Properties"]["MetricName"] == metric
    ]
    assert len(found) == 1, f"one alarm on {namespace} {metric}"
    return found[0]


@pytest.mark.parametrize("metric", ["Errors", "Throttles"])
def test_lambda_errors_and_throttles_raise_an_alarm(template, metric):
    alarm = alarm_on(template, "AWS/Lambda", metric)
    assert alarm["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": "IngestFunction"}}]
    assert alarm["Threshold"] == 1
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]


def test_an_event_in_the_failure_queue_raises_an_alarm(template):
    alarm = alarm_on(template, "AWS/SQS", "ApproximateNumberOfMessagesVisible")
    assert alarm["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": ["FailureQueue", "QueueName"]}}
    ]
    assert alarm["Threshold"] == 1
    assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]


def test_alarm_topic_key_is_customer_managed_rotated_and_usable_by_cloudwatch(template):
    # CloudWatch cannot publish to a topic encrypted with alias/aws/sns.
    key_id = properties(template, "AlarmTopic")["KmsMasterKeyId"]
    key = template["Resources"][ref_target(key_id)]
    assert key["Type"] == "AWS::KMS::Key"
    assert _true(key["Properties"]["EnableKeyRotation"])
    cloudwatch = [
        statement
        for statement in _statements(key["Properties"]["KeyPolicy"])
        if statement["Effect"] == "Allow"
        and statement["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    ]
    assert len(cloudwatch) == 1
    assert set(as_list(cloudwatch[0]["Action"])) == {"kms:Decrypt", "kms:GenerateDataKey*"}
    # Only on behalf of this account's alarms.
    assert cloudwatch[0]["Condition"] == {
        "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    }


def topic_policy(template: dict, topic: str) -> list[dict]:
    (policy,) = [
        resource["Properties"]
        for resource in resources(template, "AWS::SNS::TopicPolicy").values()
        if resource["Properties"]["Topics"] == [{"Ref": topic}]
    ]
    return _statements(policy["PolicyDocument"])


@pytest.mark.parametrize("topic", ["NotificationTopic", "AlarmTopic"])
def test_every_topic_refuses_publishes_without_tls(template, topic):
    denials = [
        statement for statement in topic_policy(template, topic) if statement["Effect"] == "Deny"
    ]
    assert denials == [
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "sns:Publish",
            "Resource": {"Ref": topic},
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    ]


def test_alarm_topic_policy_lets_exactly_this_stacks_alarms_publish(template):
    # A topic policy replaces the default one, which let CloudWatch publish.
    (allow,) = [s for s in topic_policy(template, "AlarmTopic") if s["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert allow["Action"] == "sns:Publish" and allow["Resource"] == {"Ref": "AlarmTopic"}
    assert allow["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    alarms = [
        name
        for name, alarm in resources(template, "AWS::CloudWatch::Alarm").items()
        if {"Ref": "AlarmTopic"} in alarm["Properties"].get("AlarmActions", [])
    ]
    assert len(alarms) == 3
    assert allow["Condition"]["ArnEquals"]["aws:SourceArn"] == [
        {
            "Fn::Sub": "arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:"
            f"alarm:${{{name}}}"
        }
        for name in alarms
    ]


def test_the_upload_report_topic_policy_grants_nothing(template):
    # The function publishes with its role; the policy only refuses.
    assert {s["Effect"] for s in topic_policy(template, "NotificationTopic")} == {"Deny"}


def test_outputs_name_everything_the_kit_and_the_tests_use(template):
    assert set(template["Outputs"]) >= {
        "UploadBucketName",
        "UploadPrefix",
        "TableName",
        "TopicArn",
        "FunctionName",
        "FailureQueueUrl",
        "AlarmTopicArn",
        "UploaderPolicyArn",
        "ReaderPolicyArn",
    }


def test_the_functions_default_memory_is_the_one_the_cost_model_chose(template):
    from festival import cost

    parameters = template["Parameters"]
    assert properties(template, "IngestFunction")["MemorySize"] == {"Ref": "FunctionMemory"}
    assert parameters["FunctionMemory"]["Default"] == cost.RECOMMENDED_MEMORY_MB


def test_the_parts_the_cost_model_assumes_are_the_templates(template):
    from festival import cost

    parameters = template["Parameters"]
    assert parameters["PartBytes"]["Default"] == cost.PART_BYTES
    assert parameters["PartConcurrency"]["Default"] == cost.PART_CONCURRENCY


def test_the_retention_the_cost_model_prices_is_the_templates(template):
    from festival import cost

    days = template["Parameters"]["UploadRetentionDays"]["Default"]
    assert cost.RETENTION_DAYS == days
    assert cost.Workload(records_per_day=1).upload_retention_days == days  # the CSVs in S3
    measurements = cost.load_measurements()  # the rows' TTL in the generated table
    assert cost.doc_blocks(measurements)["table"] == cost.markdown_cost_table(
        measurements, expire_after_days=days
    )
