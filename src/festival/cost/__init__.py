"""What festival-lineup costs a month on AWS, and where its limits bite (pure, standard library).

The model prices one month of the deployed system (``cloudformation.yaml``) in us-east-1:
an upload to S3 invokes the ingest Lambda once per file, the Lambda reads the file, writes
every row to the DynamoDB table (which copies it into three GSIs), records the upload, and
publishes one SNS email. What depends on the code is *measured*: the CPU the Lambda's process
spends per 1,000 rows, the write requests per 1,000 rows and the item size come from
``benchmarks/results.json`` through :func:`load_measurements`. How long the Lambda runs on
AWS is *modeled* from them (:func:`row_seconds`): the CPU time stretched by the share of a
vCPU the memory size buys, unless the writes, at an assumed DynamoDB latency, take longer.
Everything else is a stated assumption in :class:`Workload`; every price is in
:data:`PRICES` and every performance fact or assumption about AWS in :data:`PERFORMANCE`,
dated tables with their sources.

Conventions: a month is 365 / 12 = 30.4167 days (730 hours); GB means 2**30 bytes, as AWS
bills storage; quantities in a :class:`CostLine` are in the unit the price is quoted in.

The modules, each readable alone:

- ``prices``: prices, AWS's performance, and the facts of AWS and of the design;
- ``measurements``: what ``make bench`` measured (``benchmarks/results.json``);
- ``workload``: what the system is asked to do, and the assumptions;
- ``duration``: how long the Lambda runs for a file (modeled);
- ``model``: the bill of one month, a line per service and item;
- ``comparisons``: the design's choices priced against their alternatives;
- ``limits``: the memory size, and where the limits bite;
- ``rendering``: Markdown tables and the generated blocks of the documents.

``python -m festival.cost`` prints the cost table or rewrites a document's blocks.
"""

from festival.cost.comparisons import (
    compare,
    compare_architectures,
    compare_gsis,
    compare_retention,
    import_from_s3,
    provisioned_vs_on_demand,
)
from festival.cost.duration import (
    RowTime,
    cpu_share,
    load_seconds,
    max_rows_per_invocation,
    row_seconds,
    row_time,
    write_bound_latency_ms,
)
from festival.cost.limits import partition_ceilings, power_tuning, scalability
from festival.cost.measurements import (
    DEFAULT_RESULTS,
    Measurements,
    MeasurementsError,
    load_measurements,
)
from festival.cost.model import (
    CostBreakdown,
    CostLine,
    coexisting_versions,
    lambda_usd_per_file,
    monthly_cost,
    monthly_cost_keeping_everything,
    monthly_series,
    reconcile_sweep,
)
from festival.cost.prices import (
    ARCHITECTURES,
    CAPACITY_MODES,
    DAYS_PER_MONTH,
    FUNCTION_TIMEOUT_S,
    GB,
    HEAD_KEPT_AFTER_REMOVAL_DAYS,
    HOURS_PER_MONTH,
    LOG_RETENTION_DAYS,
    PART_BYTES,
    PART_CONCURRENCY,
    PERFORMANCE,
    POWER_TUNING_MEMORY_MB,
    PRICES,
    RECOMMENDED_MEMORY_MB,
    RECONCILE_MINUTES,
    RETENTION_DAYS,
    SERVICES,
    TEMPLATE_DEFAULTS,
    template_defaults,
)
from festival.cost.rendering import (
    BLOCK,
    DOC_RECORDS,
    SERVICE_TITLES,
    cost_table,
    doc_blocks,
    markdown_comparisons,
    markdown_cost_table,
    markdown_lifecycle,
    markdown_lines,
    markdown_measurements,
    markdown_power_tuning,
    markdown_scalability,
    read_doc_measurements,
    render_doc,
)
from festival.cost.workload import Workload

__all__ = [
    "ARCHITECTURES",
    "BLOCK",
    "CAPACITY_MODES",
    "DAYS_PER_MONTH",
    "DEFAULT_RESULTS",
    "DOC_RECORDS",
    "FUNCTION_TIMEOUT_S",
    "GB",
    "HEAD_KEPT_AFTER_REMOVAL_DAYS",
    "HOURS_PER_MONTH",
    "LOG_RETENTION_DAYS",
    "PART_BYTES",
    "PART_CONCURRENCY",
    "RETENTION_DAYS",
    "PERFORMANCE",
    "POWER_TUNING_MEMORY_MB",
    "PRICES",
    "RECOMMENDED_MEMORY_MB",
    "RECONCILE_MINUTES",
    "SERVICES",
    "SERVICE_TITLES",
    "TEMPLATE_DEFAULTS",
    "CostBreakdown",
    "CostLine",
    "Measurements",
    "MeasurementsError",
    "RowTime",
    "Workload",
    "compare",
    "compare_architectures",
    "compare_gsis",
    "compare_retention",
    "coexisting_versions",
    "cost_table",
    "cpu_share",
    "doc_blocks",
    "import_from_s3",
    "lambda_usd_per_file",
    "load_measurements",
    "load_seconds",
    "markdown_comparisons",
    "markdown_cost_table",
    "markdown_lifecycle",
    "markdown_lines",
    "markdown_measurements",
    "markdown_power_tuning",
    "markdown_scalability",
    "max_rows_per_invocation",
    "monthly_cost",
    "monthly_cost_keeping_everything",
    "monthly_series",
    "partition_ceilings",
    "power_tuning",
    "provisioned_vs_on_demand",
    "reconcile_sweep",
    "read_doc_measurements",
    "render_doc",
    "row_seconds",
    "row_time",
    "scalability",
    "template_defaults",
    "write_bound_latency_ms",
]
