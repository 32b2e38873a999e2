"""The metric catalogue: every fact about a metric declared once.

The contract (valid range), the analyses (percentage or not, prediction threshold), the
wording (label, unit, what to check) and the SQL (range check, spike rule, prediction
trends, as one bound JSON parameter) all read this table, so adding a metric means adding
one ``Metric(...)`` line below. A metric the catalogue does not know (an agent's extra
numeric attribute) is still loaded and analysed as a plain number with no unit.

Pure Python: no Dagster, no SQL, no boto3, so every layer may import it.
"""

from __future__ import annotations

import json
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass

from nephos_pipeline.registry import registered_in


@dataclass(frozen=True)
class Metric:
    """One metric as the agents write it (docs/data-contract.md)."""

    name: str
    label: str  # how people say it: "CPU", "Network in"
    unit: str  # "%", "bytes/s", "" (a plain number such as load average)
    minimum: float | None = 0.0  # valid range; None = unbounded on that side
    maximum: float | None = None
    percent: bool = False  # a share of 0..100: differences are "percentage points"
    predict_at: float | None = None  # time-to-threshold predictions aim at this value
    check: str = "Check what was running on {host}"  # first thing to look at, {host} filled in

    @property
    def delta_unit(self) -> str:
        """The unit of a difference of two values: points for percentages, else the unit."""
        return "percentage points" if self.percent else self.unit


METRICS: dict[str, Metric] = {m.name: m for m in (
    Metric("cpu_usage", "CPU", "%", 0.0, 100.0, percent=True,
           check="Check running processes on {host}"),
    Metric("memory_usage", "Memory", "%", 0.0, 100.0, percent=True, predict_at=90.0,
           check="Check per-process memory on {host} and look for leaks"),
    Metric("disk_usage", "Disk", "%", 0.0, 100.0, percent=True, predict_at=90.0,
           check="Check what wrote to disk on {host} (logs, temp files, backups)"),
    Metric("network_in", "Network in", "bytes/s", check="Check which clients send traffic to {host}"),
    Metric("network_out", "Network out", "bytes/s", check="Check which processes send traffic from {host}"),
    Metric("load_avg", "Load", "", check="Check running processes and I/O waits on {host}"),
)}


def get(name: object) -> Metric | None:
    """The catalogue entry for ``name`` (exact name as stored in METRICS), or None."""
    return METRICS.get(str(name)) if name else None


def percent_metrics() -> frozenset[str]:
    return frozenset(m.name for m in METRICS.values() if m.percent)


def known_metrics() -> frozenset[str]:
    return frozenset(METRICS)


def sql_param() -> str:
    """The catalogue as JSON for the ``%(catalogue)s`` parameter of the SQL in ``sql/``.

    One bound parameter instead of metric names formatted into SQL: the queries FLATTEN
    it into rows (METRIC, MIN_VALUE, MAX_VALUE, IS_PERCENT, PREDICT_AT).
    """
    rows = [{"metric": m.name, "min_value": m.minimum, "max_value": m.maximum,
             "is_percent": m.percent, "predict_at": m.predict_at} for m in METRICS.values()]
    return json.dumps(rows)


def describe() -> list[dict]:
    """Every entry as a plain dict (docs, doctor, tests)."""
    return [asdict(m) for m in METRICS.values()]


def registered(metric: Metric) -> AbstractContextManager[Metric]:
    """Add ``metric`` for the duration of a block (tests and worked examples)."""
    return registered_in(METRICS, metric.name, metric)
