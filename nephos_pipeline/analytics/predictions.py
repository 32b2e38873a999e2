"""Predictive analysis: least-squares trends, 24/48 h forecasts and time to a threshold.

Like Prometheus ``predict_linear``: fit a line over a lookback window (hourly averages,
computed in the warehouse by ``sql/analytics/prediction_trends.sql``) and extrapolate. The
crossing time gets a range from the slope's standard error (slope ± 2 SE), and an insight
is raised only when the crossing is inside the horizon and the fit is good.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pandas as pd

from nephos_pipeline.analytics.common import fingerprint, finite, iso, rounded, slope_stats
from nephos_pipeline.insights.findings import Finding
from nephos_pipeline.sql_files import load_sql
from nephos_pipeline.warehouse import Warehouse


@dataclass(frozen=True)
class PredictionConfig:
    lookback_hours: int = 72
    min_points: int = 24
    min_r2: float = 0.6
    horizon_hours: float = 7 * 24
    thresholds: dict[str, float] = field(default_factory=lambda: {"disk_usage": 90.0, "memory_usage": 90.0})


def measure(warehouse: Warehouse, conn: Any, window_end: datetime, config: PredictionConfig) -> pd.DataFrame:
    params = {
        "window_end": window_end,
        "lookback_start": window_end - timedelta(hours=config.lookback_hours),
        "min_points": config.min_points,
    }
    return warehouse.query(load_sql("analytics/prediction_trends.sql"), params, conn)


def severity_for(hours: float) -> str:
    if hours <= 24:
        return "critical"
    if hours <= 96:
        return "high"
    return "medium"


def _hours_to(threshold: float, current: float, slope: float) -> float:
    return (threshold - current) / slope if slope > 0 else math.inf


def findings(trends: pd.DataFrame, names: dict[str, str], window_end: datetime, config: PredictionConfig,
             series: dict[tuple[str, str], list]) -> list[Finding]:
    out: list[Finding] = []
    for row in trends.itertuples(index=False):
        threshold = config.thresholds.get(row.metric)
        slope, r2, current = finite(row.slope_per_hour), finite(row.r2), finite(row.value_at_end)
        if threshold is None or None in (slope, r2, current) or slope <= 0 or r2 < config.min_r2:
            continue
        if current >= threshold:
            continue  # already over: that is an alert's job, not a prediction's
        hours = _hours_to(threshold, current, slope)
        if not hours <= config.horizon_hours:
            continue
        se, _p = slope_stats(row.n, row.sxx, row.syy, row.sxy)
        se = se or 0.0
        hours_low = _hours_to(threshold, current, slope + 2 * se)
        hours_high = _hours_to(threshold, current, slope - 2 * se)
        eta = window_end + timedelta(hours=hours)
        out.append(Finding(
            kind="prediction", insight_type="prediction",
            fingerprint=fingerprint("prediction", row.instance_id, row.metric, threshold),
            severity=severity_for(hours), confidence=round(min(1.0, r2), 3),
            affected_instances=(row.instance_id,), subject=names.get(row.instance_id, row.instance_id),
            metric=row.metric, window_start=window_end - timedelta(hours=config.lookback_hours), window_end=window_end,
            evidence={
                "current_value": rounded(current, 2), "slope_per_hour": rounded(slope, 4), "r2": rounded(r2),
                "threshold": threshold, "eta": iso(eta), "hours_to_threshold": rounded(hours, 1),
                "hours_low": rounded(hours_low, 1), "hours_high": rounded(hours_high, 1) if math.isfinite(hours_high) else None,
                "forecast_24h": rounded(min(100.0, current + 24 * slope), 2),
                "forecast_48h": rounded(min(100.0, current + 48 * slope), 2),
                "n": int(row.n), "series": series.get((row.instance_id, row.metric), []),
            },
        ))
    return sorted(out, key=lambda f: f.fingerprint)
