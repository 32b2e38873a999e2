"""Predictions right when they matter: a fast leak on a young host is forecast before it
crosses; shapes that never cross (daily cycle, rotating log, step) get no forecast."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from nephos_pipeline.analytics import predictions
from nephos_pipeline.sql_files import load_sql

START = datetime(2026, 3, 1, 0, 40)  # the host's first report: not on an hour


def load(warehouse, shape: Callable[[np.ndarray], np.ndarray], hours: float, metric: str, noise: float,
         seed: int = 3) -> None:
    t = np.arange(0, hours * 60) / 60.0  # one report a minute
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"INSTANCE_ID": "host", "TS": [START + timedelta(hours=float(h)) for h in t],
                       "METRIC": metric, "VALUE": np.clip(shape(t) + rng.normal(0, noise, len(t)), 0, 100)})
    df["LOADED_AT"] = START
    with warehouse.connection() as conn:
        warehouse.write_frame(conn, df, "METRICS")
    warehouse.execute_script(load_sql("views/rollups.sql"))


def every_window(warehouse, first: datetime, last: datetime) -> list:
    """Findings of every six-hour window ending in [first, last], as the schedule runs them."""
    config = predictions.PredictionConfig()
    ends = []
    while first <= last:
        ends.append(first)
        first += predictions.WINDOW
    with warehouse.connection() as conn:
        trends = predictions.measure_range(warehouse, conn, ends, config)
    return [f for end in ends for f in predictions.findings(trends[end], {}, end, config, {})]


def daily(t: np.ndarray, amplitude: float) -> np.ndarray:
    return amplitude * np.sin(2 * np.pi * (t + 0.67) / 24)


def test_a_fast_leak_on_a_young_host_is_forecast_before_it_crosses(warehouse):
    # 20 h flat at 60 %, then a leak that speeds up and reaches 90 % 24 h later (44 h after
    # the first report): every window before the crossing has less than two days of history.
    flat, growth = 20.0, 24.0
    load(warehouse, lambda t: 60 + 30 * (np.clip(t - flat, 0, None) / growth) ** 2 + daily(t, 1.5),
         flat + growth + 6, "memory_usage", noise=0.6)
    crossing = START + timedelta(hours=flat + growth)
    end = datetime(2026, 3, 2, 18)  # the last six-hour window end before the crossing (20:40)
    assert timedelta(hours=2) < crossing - end <= predictions.WINDOW
    found = every_window(warehouse, datetime(2026, 3, 1, 12), end)
    forecasts = [f for f in found if f.evidence["state"] == "forecast"]
    assert forecasts, "no forecast before the crossing"
    first = forecasts[0]
    truth = (crossing - first.window_end).total_seconds() / 3600
    ev = first.evidence
    assert abs(ev["hours_to_threshold"] - truth) <= 0.3 * truth, (ev, truth)
    assert 0 < ev["hours_low"] <= ev["hours_to_threshold"] <= ev["hours_high"] < 3 * truth, ev
    assert ev["hours_low"] <= truth <= ev["hours_high"], (ev, truth)  # the stated range holds the truth
    assert first.severity == "critical" and 0 < first.confidence < 1


NEVER_CROSSING = {
    # A busy host near the threshold: daily cycle, noise, no trend.
    "flat_daily_cycle": ("memory_usage", 1.0, lambda t: 80 + daily(t, 4.0)),
    # A log that grows 18 points a day and is rotated at midnight (peaks at 80 %).
    "rotating_log": ("disk_usage", 0.3, lambda t: 62 + 18 * (((t + 0.67) % 24) / 24)),
    # A deploy raises memory from 58 % to 82 %, which then stays flat.
    "step_then_flat": ("memory_usage", 0.6, lambda t: 58 + 24 * (t >= 60) + daily(t, 1.5)),
}


@pytest.mark.parametrize("name", sorted(NEVER_CROSSING))
def test_series_that_never_cross_get_no_forecast(warehouse, name):
    metric, noise, shape = NEVER_CROSSING[name]
    load(warehouse, shape, 5 * 24, metric, noise)
    found = every_window(warehouse, datetime(2026, 3, 2), datetime(2026, 3, 6))
    assert [(f.window_end, f.evidence.get("fit"), f.evidence.get("hours_to_threshold")) for f in found] == []
