"""Every number the cost model takes as given: AWS's prices, AWS's performance, and the
facts of DynamoDB, Lambda, SNS and of this design (lambda/lineup_ingest, the template).

Prices and performance are dated tables with their sources: one edit when they change.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from festival.templates import parameter_defaults, parse_template

# The design's own numbers come from the Lambda's code, so the model cannot drift from it.
from lineup_ingest import schema
from lineup_ingest.config import WRITES_IN_FLIGHT as WRITES_IN_FLIGHT  # BatchWriteItems in flight
from lineup_ingest.config import Config
from lineup_ingest.report import REJECTED_ROWS_SHOWN

# The deployed system is the template's: the model prices its parameters at their defaults.
TEMPLATE = Path(__file__).resolve().parents[3] / "cloudformation.yaml"


def template_defaults(path: Path = TEMPLATE) -> dict[str, Any]:
    """Each parameter's default in the template: what a stack deployed without overrides runs."""
    return parameter_defaults(parse_template(path.read_text(encoding="utf-8")))


def _rate_minutes(expression: str) -> int:
    """The minutes of an EventBridge ``rate(N minutes)`` schedule."""
    matched = re.fullmatch(r"rate\((\d+) minutes?\)", expression)
    if matched is None:
        raise ValueError(f"the cost model prices a rate(N minutes) schedule, not {expression!r}")
    return int(matched.group(1))


TEMPLATE_DEFAULTS = template_defaults()

DAYS_PER_MONTH = 30.4167  # 365 / 12
HOURS_PER_MONTH = 730.0  # 30.4167 x 24
SECONDS_PER_DAY = 86_400
GB = 2**30

# One table, one edit when prices change. us-east-1 list prices, without taxes or discounts.
PRICES: dict[str, Any] = {
    "as_of": "2025-12-01",
    "region": "us-east-1",
    "currency": "USD",
    "note": (
        "Public list prices as published on the source pages in 2025 (DynamoDB on-demand "
        "after the 2024-11-01 cut), assumed unchanged since; check the sources before quoting."
    ),
    "dynamodb": {
        "source": "https://aws.amazon.com/dynamodb/pricing/on-demand/",
        "provisioned_source": "https://aws.amazon.com/dynamodb/pricing/provisioned/",
        "write_request_units_per_million": 0.625,
        "read_request_units_per_million": 0.125,
        "storage_gb_month": 0.25,  # Standard table class
        "wcu_hour": 0.00065,  # provisioned
        "rcu_hour": 0.00013,  # provisioned
        "import_from_s3_gb": 0.15,  # uncompressed source data
    },
    "lambda": {
        "source": "https://aws.amazon.com/lambda/pricing/",
        "requests_per_million": 0.20,
        "gb_second": {"arm64": 0.0000133334, "x86_64": 0.0000166667},  # first pricing tier
    },
    "s3": {
        "source": "https://aws.amazon.com/s3/pricing/",
        "storage_gb_month": 0.023,  # S3 Standard, first 50 TB
        "put_per_1000": 0.005,
        "list_per_1000": 0.005,  # LIST is priced as PUT, COPY and POST
        "get_per_1000": 0.0004,
    },
    "sqs": {
        "source": "https://aws.amazon.com/sqs/pricing/",
        "requests_per_million": 0.40,  # standard queue; each 64 KB chunk is one request
    },
    "sns": {
        "source": "https://aws.amazon.com/sns/pricing/",
        "publishes_per_million": 0.50,  # each 64 KB chunk of a message is one request
        "email_per_100000": 2.00,
    },
    "cloudwatch_logs": {
        "source": "https://aws.amazon.com/cloudwatch/pricing/",
        "ingestion_gb": 0.50,  # Standard class; Lambda logs' first tier (up to 10 TB)
        "storage_gb_month": 0.03,
    },
    # The always-free tier: per account and month, shared with everything else the account
    # runs. S3's allowance is left out: it is a 12-month offer, and accounts opened since
    # 2025-07-15 get credits instead.
    "free_tier": {
        "source": "https://aws.amazon.com/free/",
        "lambda_requests": 1_000_000,
        "lambda_gb_seconds": 400_000,
        "dynamodb_storage_gb": 25,
        "dynamodb_provisioned_wcu": 25,
        "dynamodb_provisioned_rcu": 25,
        "sns_publishes": 1_000_000,
        "sns_email_deliveries": 1_000,
        "sqs_requests": 1_000_000,
        "cloudwatch_logs_gb": 5,  # ingestion and storage together
    },
}

# How fast AWS runs the function, in one dated table like PRICES. Not measured here (there is
# no AWS account): one documented fact and one assumption.
PERFORMANCE: dict[str, Any] = {
    "as_of": "2026-11-29",
    "lambda": {
        "source": "https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html",
        # "At 1,769 MB, a function has the equivalent of one vCPU (one vCPU-second of credits
        # per second)"; CPU is allocated in proportion to memory.
        "mb_per_vcpu": 1769,
        # More memory buys more vCPUs, but the ingest is one Python thread plus writer threads
        # that share the GIL: assume it uses at most one vCPU.
        "useful_vcpus": 1.0,
    },
    "dynamodb": {
        "source": "https://aws.amazon.com/dynamodb/",  # "single-digit millisecond performance"
        # ASSUMED, not measured: one 25-item BatchWriteItem from a Lambda in the same region,
        # HTTPS round trip included, at the top of the documented single-digit range.
        "batch_write_item_ms": 10.0,
    },
}

SERVICES = ("dynamodb", "lambda", "s3", "sns", "cloudwatch_logs")
ARCHITECTURES = ("arm64", "x86_64")
CAPACITY_MODES = ("on-demand", "provisioned")

# Facts of DynamoDB, Lambda, S3 and SNS, and of the design (lambda/lineup_ingest, the template).
ITEM_OVERHEAD_BYTES = 100  # DynamoDB adds 100 bytes per item (and per index copy) to storage
WRITE_UNIT_BYTES = 1024
# A delete costs what a write of the item costs, on the table and on every GSI holding it
# (a row is under 1 KB: 1 WRU each); TTL's deletes cost nothing.
LIST_KEYS_PER_REQUEST = 1_000  # ListObjectsV2 returns at most 1,000 keys a request
READ_UNIT_BYTES = 4096
EVENTUALLY_CONSISTENT = 0.5  # read units per 4 KB read; GSIs only offer eventual consistency
PARTITION_WCU_PER_S = 1_000  # per partition (and so per partition-key value)
NEW_ON_DEMAND_TABLE_WRU_PER_S = 4_000  # what a new on-demand table serves before it grows
FILE_SHARDS = schema.FILE_SHARDS  # the table's partition key: FILE#<key>#<00-15>
TIME_SHARDS = schema.TIME_SHARDS  # ByTime's partition key: DAY#<date>#<0-3>
# A removed file's head stays (read by every question) this long, then TTL deletes it: 7 days
HEAD_KEPT_AFTER_REMOVAL_DAYS = schema.HEAD_KEPT_AFTER_REMOVAL_S / SECONDS_PER_DAY
LAMBDA_MAX_TIMEOUT_S = 900
# The template's defaults, read from it. FunctionMemory: why 512 MB, docs/cost-and-scalability.md
RECOMMENDED_MEMORY_MB: int = TEMPLATE_DEFAULTS["FunctionMemory"]
POWER_TUNING_MEMORY_MB = (256, 512, 1024, 1769, 3008)
REPORT_RESERVE_S = Config.reserve_ms // 1000  # kept back to record and report the outcome
FUNCTION_TIMEOUT_S: int = TEMPLATE_DEFAULTS["FunctionTimeout"]
PART_BYTES: int = TEMPLATE_DEFAULTS["PartBytes"]  # a file is loaded in parts of this size
PART_CONCURRENCY: int = TEMPLATE_DEFAULTS["PartConcurrency"]  # parts of one file at once
# UploadRetentionDays: uploads and their rows (TTL) expire after it; 0 keeps everything.
RETENTION_DAYS: int = TEMPLATE_DEFAULTS["UploadRetentionDays"]
LOG_RETENTION_DAYS: int = TEMPLATE_DEFAULTS["LogRetentionDays"]
RECONCILE_MINUTES = _rate_minutes(TEMPLATE_DEFAULTS["ReconcileSchedule"])  # the sweep's
REJECTED_ROWS_LOGGED = REJECTED_ROWS_SHOWN  # the report and its log line list the first ones
SNS_EMAIL_DELIVERIES_PER_S = 10  # quota "Delivery rate for email messages", per account
PROVISIONED_BREAK_EVEN_UTILIZATION = (PRICES["dynamodb"]["wcu_hour"] / 3600) / (
    PRICES["dynamodb"]["write_request_units_per_million"] / 1e6
)
