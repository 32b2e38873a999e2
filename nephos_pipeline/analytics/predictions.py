"""Predictive analysis: least-squares trends, 24/48 h forecasts and time to a threshold.

Like Prometheus ``predict_linear``: fit a line over a lookback window (hourly averages,
computed in the warehouse by ``sql/analytics/prediction_trends.sql``) and extrapolate.

Why two fits: a straight line over 72 hours lags growth that accelerates (a memory leak
that speeds up), and a short window alone is noisy. The warehouse fits both; the recent
fit is used when its slope is *significantly* steeper (its lower 2-SE bound above the long
slope), i.e. when the growth is measurably speeding up, and the forecast then takes the
more pessimistic one and reports the other as the far end of the range. A value already
over its threshold gets no forecast of a future crossing: the finding says it is over.

Thresholds come from the metric catalogue (``Metric.predict_at``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pandas as pd

from nephos_pipeline import metric_catalogue
from nephos_pipeline.analytics.common import fingerprint, finite, iso, rounded, slope_stats
from nephos_pipeline.insights.findings import Finding
from nephos_pipeline.sql_files import load_sql
from nephos_pipeline.warehouse import Warehouse


@dataclass(frozen=True)
class PredictionConfig:
    lookback_hours: int = 72
    recent_hours: int = 12
    min_points: int = 24
    recent_min_points: int = 8
    min_r2: float = 0.6
    horizon_hours: float = 7 * 24
    max_confidence: float = 0.95  # an extrapolation is never certain


@dataclass(frozen=True)
class Fit:
    """One least-squares line: value at the window end, slope per hour, its SE and R²."""

    name: str  # "72h" | "recent"
    value_at_end: float
    slope: float
    se: float
    r2: float
    n: int

    def hours_to(self, threshold: float, slope: float | None = None) -> float:
        s = self.slope if slope is None else slope
        return max((threshold - self.value_at_end) / s, 0.0) if s > 0 else math.inf


def measure(warehouse: Warehouse, conn: Any, window_end: datetime, config: PredictionConfig) -> pd.DataFrame:
    params = {
        "window_end": window_end,
        "lookback_start": window_end - timedelta(hours=config.lookback_hours),
        "recent_hours": config.recent_hours,
        "min_points": config.min_points,
        "catalogue": metric_catalogue.sql_param(),
    }
    return warehouse.query(load_sql("analytics/prediction_trends.sql"), params, conn)


def severity_for(hours: float) -> str:
    if hours <= 24:
        return "critical"
    if hours <= 96:
        return "high"
    return "medium"


def _fit(row: Any, prefix: str, name: str, min_points: int) -> Fit | None:
    get = lambda col: finite(getattr(row, f"{prefix}{col}", None))  # noqa: E731
    n, slope, value, r2 = get("n"), get("slope_per_hour"), get("value_at_end"), get("r2")
    if None in (n, slope, value, r2) or n < min_points:
        return None
    se, _p = slope_stats(n, get("sxx"), get("syy"), get("sxy"))
    return Fit(name, value, slope, se or 0.0, r2, int(n))


def choose(long: Fit | None, recent: Fit | None, config: PredictionConfig) -> tuple[Fit | None, Fit | None]:
    """(fit to forecast with, the other usable fit or None).

    The recent fit leads when it is good and its slope is significantly steeper than the
    long one (growth accelerating), or when the long fit is unusable (e.g. a flat start
    then a leak: a poor straight line over 72 h).
    """
    good = lambda f: f is not None and f.slope > 0 and f.r2 >= config.min_r2  # noqa: E731
    if good(recent) and (not good(long) or recent.slope - 2 * recent.se > long.slope):
        return recent, long if good(long) else None
    if good(long):
        return long, None
    return None, None


def _confidence(primary: Fit, hours: float, hours_low: float, hours_high: float, config: PredictionConfig) -> float:
    """Fit quality times the agreement of the range: R² × (earliest / latest crossing).

    A narrow range from a clean fit scores high; two fits that disagree, or a wide
    slope uncertainty, lower it. Capped below 1: an extrapolation is never certain.
    """
    if hours <= 0:
        return config.max_confidence
    spread = hours_low / hours_high if math.isfinite(hours_high) and hours_high > 0 else 0.5
    return round(min(config.max_confidence, max(0.0, primary.r2 * spread)), 3)


def _over_evidence(current: float, threshold: float, primary: Fit | None, long: Fit | None) -> dict[str, Any]:
    fit = primary or long
    return {"state": "over_threshold", "current_value": rounded(current, 2), "threshold": threshold,
            "slope_per_hour": rounded(fit.slope, 4) if fit else None, "r2": rounded(fit.r2) if fit else None,
            "fit": fit.name if fit else None}


def _forecast_evidence(primary: Fit, other: Fit | None, threshold: float, window_end: datetime,
                       ceiling: float | None) -> tuple[float, dict[str, Any], float, float]:
    hours = primary.hours_to(threshold)
    candidates_low = [primary.hours_to(threshold, primary.slope + 2 * primary.se)]
    candidates_high = [primary.hours_to(threshold, primary.slope - 2 * primary.se)]
    if other is not None:
        candidates_high.append(other.hours_to(threshold))
        candidates_low.append(other.hours_to(threshold))
    hours_low = min(min(candidates_low), hours)
    hours_high = max(max(candidates_high), hours)
    cap = (lambda v: min(ceiling, v)) if ceiling is not None else (lambda v: v)
    evidence = {
        "state": "forecast", "current_value": rounded(primary.value_at_end, 2),
        "slope_per_hour": rounded(primary.slope, 4), "r2": rounded(primary.r2), "fit": primary.name,
        "threshold": threshold, "eta": iso(window_end + timedelta(hours=hours)), "hours_to_threshold": rounded(hours, 1),
        "hours_low": rounded(hours_low, 1), "hours_high": rounded(hours_high, 1) if math.isfinite(hours_high) else None,
        "forecast_24h": rounded(cap(primary.value_at_end + 24 * primary.slope), 2),
        "forecast_48h": rounded(cap(primary.value_at_end + 48 * primary.slope), 2),
        "n": primary.n,
    }
    if other is not None:
        evidence["other_fit"] = {"fit": other.name, "slope_per_hour": rounded(other.slope, 4), "r2": rounded(other.r2),
                                 "hours_to_threshold": rounded(other.hours_to(threshold), 1)}
    return hours, evidence, hours_low, hours_high


def findings(trends: pd.DataFrame, names: dict[str, str], window_end: datetime, config: PredictionConfig,
             series: dict[tuple[str, str], list]) -> list[Finding]:
    out: list[Finding] = []
    for row in trends.itertuples(index=False):
        metric = metric_catalogue.get(row.metric)
        threshold = finite(getattr(row, "threshold", None)) or (metric.predict_at if metric else None)
        if threshold is None:
            continue
        long = _fit(row, "", "72h", config.min_points)
        recent = _fit(row, "recent_", "recent", config.recent_min_points)
        primary, other = choose(long, recent, config)
        last = finite(row.last_hour_avg)
        common = dict(kind="prediction", insight_type="prediction",
                      fingerprint=fingerprint("prediction", row.instance_id, row.metric, threshold),
                      affected_instances=(row.instance_id,), subject=names.get(row.instance_id, row.instance_id),
                      metric=row.metric, window_start=window_end - timedelta(hours=config.lookback_hours),
                      window_end=window_end)
        chart = series.get((row.instance_id, row.metric), [])
        current = last if last is not None else (primary.value_at_end if primary else None)  # measured, not fitted
        if current is not None and current >= threshold:
            if primary is None:
                continue  # over and not growing: the threshold alert's job, not a prediction's
            out.append(Finding(**common, severity="critical", confidence=config.max_confidence,
                               evidence={**_over_evidence(current, threshold, primary, long), "series": chart}))
            continue
        if primary is None:
            continue
        hours, evidence, low, high = _forecast_evidence(primary, other, threshold, window_end,
                                                       metric.maximum if metric else None)
        if not hours <= config.horizon_hours:
            continue
        out.append(Finding(**common, severity=severity_for(hours),
                           confidence=_confidence(primary, hours, low, high, config),
                           evidence={**evidence, "series": chart}))
    return sorted(out, key=lambda f: f.fingerprint)
