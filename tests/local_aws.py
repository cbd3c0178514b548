"""The environment that points a process (the `aws` CLI, an SDK, the deployed function's
code run here) at the local stack: for the end-to-end tests and the benchmarks."""

from __future__ import annotations

from festival.settings import LOCAL_CREDENTIALS, LOCAL_ENDPOINT


def local_environment() -> dict[str, str]:
    """Environment variables that point the `aws` CLI and any SDK at the local stack."""
    return {**LOCAL_CREDENTIALS, "AWS_ENDPOINT_URL": LOCAL_ENDPOINT}
