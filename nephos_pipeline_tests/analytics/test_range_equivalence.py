"""Patterns and predictions over a range give the findings of running each partition alone.

The pattern and prediction SQL is set-based over a list of window ends; this runs the same
simulated week both ways (one call for the range, in several queries; one call per
partition) and compares every finding field by field. Measured numbers must agree to
floating-point rounding (sums are added up in another order); chart points are rounded to
2 decimals, so a mean lying on a rounding boundary may differ by 0.01, and a forecast time
(window end + fitted hours) by a microsecond.
"""

from __future__ import annotations

import math
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

import pandas as pd

from nephos_pipeline.analytics import patterns, predictions
from nephos_pipeline.insights.findings import Finding
from nephos_pipeline_tests.analytics.conftest import END

RANGE_END = END.replace(tzinfo=None, minute=0)


def same(a: Any, b: Any, path: str = "") -> list[str]:
    """Where two findings' fields differ (floats: relative 1e-6; chart points: 0.01)."""
    if isinstance(a, float) or isinstance(b, float):
        tol = 0.0100001 if ".series" in path else 1e-9
        ok = a is not None and b is not None and math.isclose(a, b, rel_tol=1e-6, abs_tol=tol)
        return [] if ok or a == b else [f"{path}: {a} != {b}"]
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return [f"{path}: keys {sorted(a.keys() ^ b.keys())}"]
        return [d for k in a for d in same(a[k], b[k], f"{path}.{k}")]
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        if len(a) != len(b):
            return [f"{path}: {len(a)} != {len(b)} items"]
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in same(x, y, f"{path}[{i}]")]
    if isinstance(a, str) and isinstance(b, str) and a != b and path.endswith(".eta"):
        # a forecast time is the window end plus a fitted number of hours: a float
        # rounding in the last digit can move it by a microsecond
        gap = abs(datetime.fromisoformat(a) - datetime.fromisoformat(b))
        return [] if gap <= timedelta(milliseconds=1) else [f"{path}: {a} != {b}"]
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]


def compare(ranged: list[Finding], alone: list[Finding]) -> list[str]:
    key = lambda f: (f.window_end, f.kind, f.fingerprint)  # noqa: E731
    return same([asdict(f) for f in sorted(ranged, key=key)], [asdict(f) for f in sorted(alone, key=key)])


def add_ramp(warehouse) -> None:
    """A host whose memory climbs for two days with its CPU in step: the simulated fleet has
    no trend of its own, and a trend with a correlation is what this must also cover."""
    hours = 48
    ts = [RANGE_END - timedelta(minutes=5 * k) for k in range(1, hours * 12 + 1)]
    rows = [("i-ramp", t, "memory_usage", 20.0 + 60.0 * (1 - (RANGE_END - t) / timedelta(hours=hours)) + (k % 7) * 0.3)
            for k, t in enumerate(ts)]
    rows += [("i-ramp", t, "cpu_usage", v / 2 + (k % 5)) for k, (_, t, _, v) in enumerate(rows)]
    df = pd.DataFrame(rows, columns=["INSTANCE_ID", "TS", "METRIC", "VALUE"])
    df["LOADED_AT"] = RANGE_END
    with warehouse.connection() as conn:
        warehouse.write_frame(conn, df, "METRICS")


def test_pattern_range_equals_partition_by_partition(fleet_warehouse):
    add_ramp(fleet_warehouse)
    start = RANGE_END - timedelta(hours=14)
    # 5 windows a query: the range is measured in three queries, one of them partial.
    ranged, stats = patterns.analyse(fleet_warehouse, start, RANGE_END, windows_per_query=5)
    alone: list[Finding] = []
    t = start
    while t < RANGE_END:
        found, _ = patterns.analyse(fleet_warehouse, t, t + timedelta(hours=1))
        alone += found
        t += timedelta(hours=1)
    assert stats["windows"] == 14
    assert {f.kind for f in ranged} == {"trend", "recurring_spike", "recurring_alert"}
    assert any(f.evidence.get("correlated_with") for f in ranged if f.kind == "trend")
    assert len({f.window_end for f in ranged}) == 14  # every window has its own findings
    assert compare(ranged, alone) == []


def test_prediction_range_equals_partition_by_partition(fleet_warehouse):
    start = RANGE_END.replace(hour=RANGE_END.hour - RANGE_END.hour % 6) - timedelta(hours=36)
    ranged, stats = predictions.analyse(fleet_warehouse, start, start + timedelta(hours=36))
    alone: list[Finding] = []
    for k in range(6):
        found, _ = predictions.analyse(fleet_warehouse, start + timedelta(hours=6 * k), start + timedelta(hours=6 * k + 6))
        alone += found
    assert stats["windows"] == 6
    assert ranged, "the planted disk fill should be forecast"
    assert compare(ranged, alone) == []


def test_a_range_that_holds_no_whole_window_finds_nothing(fleet_warehouse):
    assert patterns.analyse(fleet_warehouse, RANGE_END - timedelta(minutes=30), RANGE_END) == (
        [], {"windows": 0, "strong_correlations": 0})
    assert predictions.analyse(fleet_warehouse, RANGE_END - timedelta(hours=5), RANGE_END)[0] == []
