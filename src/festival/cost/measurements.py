"""What the benchmarks measured on the ingest code: the model's only inputs from the code."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

DEFAULT_RESULTS = Path(__file__).resolve().parents[3] / "benchmarks" / "results.json"
_KEYS = (
    "lambda_cpu_ms_per_1000_rows",
    "write_requests_per_1000_rows",
    "table_write_units_per_1000_rows",
    "item_bytes",
    "measured_at",
)


class MeasurementsError(ValueError):
    """The benchmark results are missing or do not say what the model needs."""


@dataclass(frozen=True)
class Measurements:
    """What the benchmarks measured on the ingest code (``benchmarks/results.json``).

    - ``lambda_cpu_ms_per_1000_rows``: CPU time of the Lambda's process (all its threads) per
      1,000 rows of one file, on Python 3.10 against a DynamoDB stand-in that answers at once:
      parsing, building items, and preparing, signing and sending the write requests.
    - ``write_requests_per_1000_rows``: BatchWriteItem calls per 1,000 rows (25 items each).
    - ``table_write_units_per_1000_rows``: write request units on the *table* per 1,000
      rows: each put of an item up to 1 KB is one, so about 1,000 (``make bench`` derives it
      from the measured item size).
    - ``item_bytes``: the DynamoDB size of one performance item (names plus values).

    The wall time of the Lambda in the local emulator is not among them: it measures the
    emulator's DynamoDB on a shared machine, not Lambda on AWS.
    """

    lambda_cpu_ms_per_1000_rows: float
    write_requests_per_1000_rows: float
    table_write_units_per_1000_rows: float
    item_bytes: int
    measured_at: str

    def __post_init__(self) -> None:
        if self.lambda_cpu_ms_per_1000_rows <= 0 or self.item_bytes <= 0:
            raise MeasurementsError("lambda_cpu_ms_per_1000_rows and item_bytes must be positive")
        if self.write_requests_per_1000_rows < 40:
            raise MeasurementsError(
                f"write_requests_per_1000_rows = {self.write_requests_per_1000_rows}: a request "
                "carries at most 25 items, so expected 40 or more"
            )
        if self.table_write_units_per_1000_rows < 1000:
            raise MeasurementsError(
                f"table_write_units_per_1000_rows = {self.table_write_units_per_1000_rows}: "
                "every row costs at least one write unit, so expected 1,000 or more"
            )

    @property
    def write_units_per_row(self) -> float:
        """Write request units per row on the table; each GSI copy costs the same."""
        return self.table_write_units_per_1000_rows / 1000


def load_measurements(path: Path | None = None) -> Measurements:
    """The measurements in ``path`` (default ``<repo>/benchmarks/results.json``)."""
    path = DEFAULT_RESULTS if path is None else Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise MeasurementsError(
            f"{path} does not exist: run `make bench` to measure the ingest code first"
        ) from error
    except json.JSONDecodeError as error:
        raise MeasurementsError(f"{path} is not valid JSON: {error}") from error
    missing = [key for key in _KEYS if key not in data]
    if missing:
        raise MeasurementsError(f"{path} lacks {', '.join(missing)}: run `make bench` again")
    return Measurements(
        lambda_cpu_ms_per_1000_rows=float(data["lambda_cpu_ms_per_1000_rows"]),
        write_requests_per_1000_rows=float(data["write_requests_per_1000_rows"]),
        table_write_units_per_1000_rows=float(data["table_write_units_per_1000_rows"]),
        item_bytes=int(data["item_bytes"]),
        measured_at=str(data["measured_at"]),
    )
