"""How long the ingest Lambda runs on AWS: modeled from the measured CPU and write requests.

The CPU time per row is stretched by the share of a vCPU the memory size buys, unless the
write requests, at an assumed DynamoDB latency, take longer (the CPU keeps working while
requests are in flight, so only the writes' time beyond the CPU's is waiting).
"""

from __future__ import annotations

from dataclasses import dataclass

from festival.cost.measurements import Measurements
from festival.cost.prices import PERFORMANCE, REPORT_RESERVE_S, WRITES_IN_FLIGHT
from festival.cost.workload import Workload


def cpu_share(memory_mb: float) -> float:
    """The vCPUs a function of ``memory_mb`` gets that the ingest can use: memory / 1,769 MB,
    at most one (Python and its GIL keep the ingest on one vCPU)."""
    lam = PERFORMANCE["lambda"]
    return min(lam["useful_vcpus"], memory_mb / lam["mb_per_vcpu"])


@dataclass(frozen=True)
class RowTime:
    """Seconds per row of one invocation, and what sets the pace."""

    cpu_s: float  # the measured CPU time, stretched by the share of a vCPU
    writes_s: float  # the write requests one after another, WRITES_IN_FLIGHT at a time

    @property
    def seconds(self) -> float:
        """CPU time plus the waiting on DynamoDB beyond it: the CPU works while requests are
        in flight, so only the writes' time beyond the CPU's is waiting."""
        return self.cpu_s + max(0.0, self.writes_s - self.cpu_s)

    @property
    def bound_by(self) -> str:
        return "CPU" if self.cpu_s >= self.writes_s else "writes"


def row_seconds(
    measurements: Measurements, memory_mb: float, batch_write_item_ms: float | None = None
) -> RowTime:
    """How long one row takes a Lambda of ``memory_mb`` on AWS (modeled, see RowTime)."""
    if batch_write_item_ms is None:
        batch_write_item_ms = PERFORMANCE["dynamodb"]["batch_write_item_ms"]
    m = measurements
    cpu_s = m.lambda_cpu_ms_per_1000_rows / 1e6 / cpu_share(memory_mb)
    writes_s = m.write_requests_per_1000_rows / 1e6 * batch_write_item_ms / WRITES_IN_FLIGHT
    return RowTime(cpu_s, writes_s)


def row_time(workload: Workload, measurements: Measurements) -> RowTime:
    """:func:`row_seconds` at the workload's memory size and DynamoDB latency."""
    return row_seconds(measurements, workload.lambda_memory_mb, workload.batch_write_item_ms)


def load_seconds(workload: Workload, measurements: Measurements) -> float:
    """How long one invocation runs for one file: the fixed overhead, then the rows."""
    rows_s = row_time(workload, measurements).seconds * workload.rows_per_file
    return workload.invocation_overhead_ms / 1000 + rows_s


def max_rows_per_invocation(
    workload: Workload, measurements: Measurements, timeout_s: float | None = None
) -> int:
    """The largest file one invocation loads within ``timeout_s`` (default: the workload's),
    keeping REPORT_RESERVE_S to record and report the outcome."""
    timeout_s = workload.lambda_timeout_s if timeout_s is None else timeout_s
    budget_s = timeout_s - REPORT_RESERVE_S - workload.invocation_overhead_ms / 1000
    return max(0, int(budget_s / row_time(workload, measurements).seconds))


def write_bound_latency_ms(measurements: Measurements, memory_mb: float) -> float:
    """The BatchWriteItem latency above which the writes, not the CPU, set the pace."""
    cpu_ms_per_request = (
        measurements.lambda_cpu_ms_per_1000_rows
        / cpu_share(memory_mb)
        / measurements.write_requests_per_1000_rows
    )
    return cpu_ms_per_request * WRITES_IN_FLIGHT
