"""Patterns and predictions on gaps, constant values, single points: no crash, no false finding."""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
import pytest

from nephos_pipeline.analytics import patterns, predictions
from nephos_pipeline.analytics.common import slope_stats

END = datetime(2026, 3, 8, 0, 0)


def load(wh, rows):
    df = pd.DataFrame(rows, columns=["INSTANCE_ID", "TS", "METRIC", "VALUE"])
    df["LOADED_AT"] = END
    with wh.connection() as conn:
        wh.write_frame(conn, df, "METRICS")


@pytest.mark.parametrize(
    "rows",
    [
        [("flat", END - timedelta(minutes=m), "disk_usage", 50.0) for m in range(1, 4 * 24 * 60, 7)],  # zero spread
        [("one", END - timedelta(hours=2), "memory_usage", 42.0)],  # a single point
        [("gappy", END - timedelta(hours=h), "cpu_usage", 10.0 + h % 3) for h in (1, 2, 30, 31, 70)],  # gaps
    ],
)
def test_no_crash_and_no_findings(warehouse, rows):
    load(warehouse, rows)
    with warehouse.connection() as conn:
        stats = patterns.measure(warehouse, conn, END, patterns.PatternConfig())
        trends = predictions.measure(warehouse, conn, END, predictions.PredictionConfig())
    assert patterns.findings(stats, {}, END, patterns.PatternConfig(), {}) == []
    assert predictions.findings(trends, {}, END, predictions.PredictionConfig(), {}) == []


def test_slope_stats_guard_degenerate_sums():
    assert slope_stats(2, 1.0, 1.0, 1.0) == (None, None)  # too few points
    assert slope_stats(10, 0.0, 1.0, 0.0) == (None, None)  # no spread in x
    assert slope_stats(float("nan"), 1.0, 1.0, 1.0) == (None, None)
    se, p = slope_stats(10, 10.0, 0.0, 0.0)  # constant y: zero slope, no error
    assert se == 0.0 and p == 1.0


def test_prediction_ignores_falling_and_says_already_crossed(warehouse):
    falling = [("down", END - timedelta(hours=h), "disk_usage", 40.0 + h * 0.2) for h in range(72)]
    over = [("over", END - timedelta(hours=h), "disk_usage", 95.0 - h * 0.01) for h in range(72)]
    load(warehouse, falling + over)
    with warehouse.connection() as conn:
        trends = predictions.measure(warehouse, conn, END, predictions.PredictionConfig())
    assert len(trends) == 2
    found = predictions.findings(trends, {}, END, predictions.PredictionConfig(), {})
    # Issue #12: once over the threshold there is no forecast of a future crossing; it says so.
    assert [(f.affected_instances[0], f.evidence["state"]) for f in found] == [("over", "over_threshold")]
    assert "eta" not in found[0].evidence and "hours_to_threshold" not in found[0].evidence
