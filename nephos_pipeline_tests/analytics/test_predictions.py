"""Predictions on accelerating growth: not lagging the rise, and 'already over' said as such."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from nephos_pipeline.analytics import predictions
from nephos_pipeline.insights.narrative import deterministic_narrative
from nephos_pipeline.sql_files import load_sql

START = datetime(2026, 3, 1)
FLAT, GROWTH = 36.0, 36.0  # hours flat at 60 %, then a leak that speeds up to 90 % (quadratic)


def leak(t_hours: np.ndarray) -> np.ndarray:
    x = np.clip(t_hours - FLAT, 0, None) / GROWTH
    return 60.0 + 30.0 * x**2 + 1.5 * np.sin(2 * np.pi * t_hours / 24)  # with a daily cycle


def load_leak(warehouse, hours: float) -> None:
    t = np.arange(0, hours * 60, 5) / 60.0  # a report every 5 minutes
    rng = np.random.default_rng(7)
    df = pd.DataFrame({"INSTANCE_ID": "leaky", "TS": [START + timedelta(hours=float(h)) for h in t],
                       "METRIC": "memory_usage", "VALUE": np.clip(leak(t) + rng.normal(0, 0.5, len(t)), 0, 100)})
    df["LOADED_AT"] = START
    with warehouse.connection() as conn:
        warehouse.write_frame(conn, df, "METRICS")
    warehouse.execute_script(load_sql("views/rollups.sql"))


def predict(warehouse, end: datetime):
    config = predictions.PredictionConfig()
    with warehouse.connection() as conn:
        trends = predictions.measure(warehouse, conn, end, config)
    return predictions.findings(trends, {"leaky": "cache-01"}, end, config, {})


def test_accelerating_growth_is_forecast_without_lag(warehouse):
    load_leak(warehouse, FLAT + GROWTH + 12)
    crossing = START + timedelta(hours=FLAT + GROWTH)
    end = crossing - timedelta(hours=12)  # two thirds into the leak, at about 73 %
    found = predict(warehouse, end)
    assert len(found) == 1, found
    ev = found[0].evidence
    assert ev["state"] == "forecast" and ev["fit"] == "curve"
    # The straight line over 72 h says about 8 days; the truth is 12 hours.
    assert abs(ev["hours_to_threshold"] - 12) <= 0.3 * 12, ev
    assert ev["hours_low"] <= ev["hours_to_threshold"] <= (ev["hours_high"] or 1e9)
    long_only = next(f for f in ev["other_fits"] if f["fit"] == "72h") if "other_fits" in ev else None
    assert long_only is None or long_only["hours_to_threshold"] > 2 * ev["hours_to_threshold"]
    assert found[0].severity == "critical" and found[0].confidence < 1
    words = deterministic_narrative(found[0])
    assert "speeding up" in words.description and "reaches 90%" in words.title


def test_value_over_the_threshold_says_so_instead_of_a_future_crossing(warehouse):
    load_leak(warehouse, FLAT + GROWTH + 12)
    end = START + timedelta(hours=FLAT + GROWTH + 6)  # about 6 hours past the crossing, ~95 %
    found = predict(warehouse, end)
    assert len(found) == 1
    ev = found[0].evidence
    assert ev["state"] == "over_threshold" and ev["current_value"] > 90
    assert "eta" not in ev and "hours_to_threshold" not in ev
    words = deterministic_narrative(found[0])
    assert words.title == "Memory on cache-01 is already above 90%"
    assert "No crossing is forecast" in words.description and " in about " not in words.title
