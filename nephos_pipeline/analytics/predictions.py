"""Predictive analysis: least-squares trends, 24/48 h forecasts and time to a threshold.

Like Prometheus ``predict_linear``: fit a line over a lookback window (hourly averages,
computed in the warehouse by ``sql/analytics/prediction_trends.sql``) and extrapolate.

Why more than one fit: a straight line over 72 hours lags growth that accelerates (a
memory leak that speeds up), and a short window alone is noisy. Three fits are made (see
``fits.py``): the 72 h line, a line over the last 24 h and a curve over the last 24 h, the
two recent ones with a daily harmonic. A recent fit counts only when it is significantly
steeper (line) or significantly curved (curve) and within its reach; the forecast is the
earliest crossing among the fits that count, and the others give the range. A value
already over its threshold gets no forecast of a future crossing: the finding says it is
over (and still rising).

Why shape guards (``growth.py``): a daily cycle, a log that rotates or a step up fit a
steep line too, and never cross. A recent fit needs a new high, no fit may owe most of
its rise to two hours, and the 72 h line is not reported alone when the recent line shows
it lags. A host needs 30 h of history for the recent fits (48 h for the 72 h line), so a
fast leak on a young host is still forecast before it crosses.

Thresholds come from the metric catalogue (``Metric.predict_at``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pandas as pd

from nephos_pipeline import metric_catalogue
from nephos_pipeline.analytics import context as ctx
from nephos_pipeline.analytics.common import (
    by_window,
    fingerprint,
    finite,
    iso,
    naive_utc,
    rounded,
    window_ends,
)
from nephos_pipeline.analytics.fits import Fit, line_fit, recent_fit
from nephos_pipeline.analytics.growth import Growth
from nephos_pipeline.insights.findings import Finding
from nephos_pipeline.sql_files import load_sql
from nephos_pipeline.warehouse import Warehouse

WINDOW = timedelta(hours=6)  # a prediction partition


@dataclass(frozen=True)
class PredictionConfig:
    lookback_hours: int = 72
    curve_hours: int = 24  # the recent window: one daily cycle, so its harmonic is identifiable
    min_points: int = 48  # two days: a line through one daily cycle is mostly the cycle
    recent_min_points: int = 20
    min_r2: float = 0.6
    horizon_hours: float = 7 * 24
    max_confidence: float = 0.95  # an extrapolation is never certain
    # How far ahead a recent-window fit may be extrapolated, as a share of its window: a
    # line over 24 h up to 24 h ahead, a curve up to 18 h (a curve's error grows fast with
    # distance; early in a leak it is still mostly flat). These, curve_hours and
    # min_points were chosen on benchmarks/forecast_accuracy.py seeds 0-2 (docs/benchmarks.md).
    recent_reach: float = 1.0
    curve_reach: float = 0.75
    # Shape guards (``growth.py``), chosen on seeds 0-2 with the never-crossing series: a
    # recent-window fit needs the value above every hour before the window by 1 % of the
    # threshold, with at least 6 such hours (so a host with 30 h of history can get a
    # forecast from the recent window, the long line still needs min_points); no fit may
    # get more than half of its rise from two hours (a step).
    # The stated range is at least the forecast ± these shares (the error targets
    # for steady and accelerating growth); the confidence still uses the fits' own range.
    line_model_error: float = 0.2
    curve_model_error: float = 0.3
    new_high_margin: float = 0.01
    min_prior_hours: int = 6
    max_step_share: float = 0.5


def measure_range(warehouse: Warehouse, conn: Any, ends: Sequence[datetime],
                  config: PredictionConfig) -> dict[datetime, pd.DataFrame]:
    """The fits' sums for every window ending at ``ends`` (six-hourly), set-based: one
    frame per window end, each what a run of that window alone measures."""
    params = {
        "window_ends": json.dumps([naive_utc(t).isoformat() for t in ends]),
        "lookback_hours": config.lookback_hours,
        "curve_hours": config.curve_hours,
        "min_points": min(config.min_points, config.recent_min_points + config.min_prior_hours),
        "catalogue": metric_catalogue.sql_param(),
    }
    return by_window(warehouse.query(load_sql("analytics/prediction_trends.sql"), params, conn), ends)


def measure(warehouse: Warehouse, conn: Any, window_end: datetime, config: PredictionConfig) -> pd.DataFrame:
    return measure_range(warehouse, conn, [window_end], config)[window_end]


def analyse(warehouse: Warehouse, start: datetime, end: datetime,
            config: PredictionConfig = PredictionConfig()) -> tuple[list[Finding], dict[str, Any]]:
    """Findings of every six-hour window ending in (start, end], plus run statistics.

    What a prediction partition (or a backfill range of them) does, in one query for the
    whole range (a policy-sized run is at most 28 windows), host names and chart series
    read once; the findings are those of running each window alone.
    """
    ends = window_ends(start, end, WINDOW)
    out: list[Finding] = []
    if not ends:
        return out, {"windows": 0, "series_fitted": 0}
    lookback = timedelta(hours=config.lookback_hours)
    with warehouse.connection() as conn:
        trends = measure_range(warehouse, conn, ends, config)
        names = ctx.host_names(warehouse, conn)
        series = ctx.hourly_series(warehouse, conn, ends[0] - lookback, ends[-1])
    for t in ends:
        out += findings(trends[t], names, t, config, ctx.SeriesWindow(series, t - lookback, t))
    return out, {"windows": len(ends), "series_fitted": sum(len(f) for f in trends.values())}


def severity_for(hours: float) -> str:
    if hours <= 24:
        return "critical"
    if hours <= 96:
        return "high"
    return "medium"


def choose(long: Fit | None, recent: Fit | None, curve: Fit | None, threshold: float,
           config: PredictionConfig, growth: Growth | None = None) -> tuple[Fit | None, list[Fit]]:
    """(fit to forecast with, every usable fit) — the most pessimistic of the credible ones.

    A fit is usable when it rises at the window end with R² >= min_r2. The long line is
    credible as it is; the recent line only when its slope is significantly steeper than
    the long slope, or than flat when the long line is unusable (a flat start then a leak)
    or missing (less than min_points hours of history); the quadratic only when its
    curvature is significantly positive (growth speeding up); all at 2 SE. With ``growth``
    (the window's shape facts), a recent fit also needs a new high, and no fit may owe
    most of its rise to two hours (a step). A recent fit is not extrapolated beyond its
    reach, and the long line is not a forecast on its own when the recent line shows it
    lags. Then the earliest crossing wins and the others give the range.
    """
    good = [f for f in (long, recent, curve) if f is not None and f.slope > 0 and f.r2 >= config.min_r2]
    long_ok = long in good
    reach = {"recent": config.recent_reach * config.curve_hours, "curve": config.curve_reach * config.curve_hours}
    floor = long.slope if long_ok else 0.0
    significant = [f for f in good if f is long
                   or (f is recent and f.slope - 2 * f.se > floor)
                   or (f is curve and f.curvature - 2 * f.se > 0)]
    if growth is not None:
        new = growth.new_high(config.new_high_margin * threshold, config.min_prior_hours)
        span = {"72h": float(config.lookback_hours), "recent": float(config.curve_hours),
                "curve": float(config.curve_hours)}
        significant = [f for f in significant if (f is long or new)
                       and growth.gradual(f, min(span[f.name], float(f.n)), config.max_step_share)]
    credible = [f for f in significant if f is long or f.hours_to(threshold) <= reach[f.name]]
    # The recent line, significantly steeper, says the long line lags: alone, it would
    # forecast growth that is speeding up days late. Wait until a recent fit is in reach.
    lags = long_ok and recent in significant
    if not credible or (lags and credible == [long]):
        return None, good
    return min(credible, key=lambda f: f.hours_to(threshold)), credible


def _confidence(primary: Fit, hours: float, hours_low: float, hours_high: float, config: PredictionConfig) -> float:
    """Fit quality times the agreement of the range: R² × (earliest / latest crossing).

    A narrow range from a clean fit scores high; two fits that disagree, or a wide
    slope uncertainty, lower it. Capped below 1: an extrapolation is never certain.
    """
    if hours <= 0:
        return config.max_confidence
    spread = hours_low / hours_high if math.isfinite(hours_high) and hours_high > 0 else 0.5
    return round(min(config.max_confidence, max(0.0, primary.r2 * spread)), 3)


def _over_evidence(current: float, threshold: float, fit: Fit | None) -> dict[str, Any]:
    return {"state": "over_threshold", "current_value": rounded(current, 2), "threshold": threshold,
            "slope_per_hour": rounded(fit.slope, 4) if fit else None, "r2": rounded(fit.r2) if fit else None,
            "fit": fit.name if fit else None}


def _forecast_evidence(primary: Fit, fits: list[Fit], threshold: float, window_end: datetime,
                       ceiling: float | None, config: PredictionConfig) -> tuple[float, dict[str, Any], float, float]:
    """Evidence of a forecast, and the fits' own range (earliest, latest crossing) for the confidence.

    The stated range (``hours_low``/``hours_high``) is at least the forecast ± its model
    error, because the fits' 2-SE bounds only know the noise: on the benchmark they held
    the true crossing on few first reports, as the shape (a line, a curve) is itself wrong.
    """
    hours = primary.hours_to(threshold)
    ends = [h for f in fits for h in (f.hours_to(threshold), *f.bounds(threshold))]
    hours_low, hours_high = min([hours, *ends]), max([hours, *ends])
    margin = config.curve_model_error if primary.curvature else config.line_model_error
    stated_low, stated_high = min(hours_low, hours * (1 - margin)), max(hours_high, hours * (1 + margin))
    cap = (lambda v: min(ceiling, v)) if ceiling is not None else (lambda v: v)
    evidence = {
        "state": "forecast", "current_value": rounded(primary.value_at_end, 2),
        "slope_per_hour": rounded(primary.slope, 4), "r2": rounded(primary.r2), "fit": primary.name,
        "threshold": threshold, "eta": iso(window_end + timedelta(hours=hours)), "hours_to_threshold": rounded(hours, 1),
        "hours_low": rounded(stated_low, 1),
        "hours_high": rounded(stated_high, 1) if math.isfinite(stated_high) else None,
        "forecast_24h": rounded(cap(primary.at(24)), 2), "forecast_48h": rounded(cap(primary.at(48)), 2),
        "n": primary.n,
    }
    if primary.curvature:
        evidence["curvature_per_hour2"] = rounded(primary.curvature, 5)
    others = [f for f in fits if f is not primary]
    if others:
        evidence["other_fits"] = [{"fit": f.name, "slope_per_hour": rounded(f.slope, 4), "r2": rounded(f.r2),
                                   "hours_to_threshold": rounded(f.hours_to(threshold), 1)} for f in others]
    return hours, evidence, hours_low, hours_high


def findings(trends: pd.DataFrame, names: dict[str, str], window_end: datetime, config: PredictionConfig,
             series: dict[tuple[str, str], list]) -> list[Finding]:
    out: list[Finding] = []
    for row in trends.itertuples(index=False):
        metric = metric_catalogue.get(row.metric)
        threshold = finite(getattr(row, "threshold", None)) or (metric.predict_at if metric else None)
        if threshold is None:
            continue
        long = line_fit(row, "", "72h", config.min_points)
        recent = recent_fit(row, config.recent_min_points, curved=False)
        curve = recent_fit(row, config.recent_min_points, curved=True)
        primary, fits = choose(long, recent, curve, threshold, config, Growth.of(row))
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
                               evidence={**_over_evidence(current, threshold, primary), "series": chart}))
            continue
        if primary is None:
            continue
        hours, evidence, low, high = _forecast_evidence(primary, fits, threshold, window_end,
                                                       metric.maximum if metric else None, config)
        if not hours <= config.horizon_hours:
            continue
        out.append(Finding(**common, severity=severity_for(hours),
                           confidence=_confidence(primary, hours, low, high, config),
                           evidence={**evidence, "series": chart}))
    return sorted(out, key=lambda f: f.fingerprint)
