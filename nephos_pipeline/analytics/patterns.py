"""Pattern analysis: trends, correlations, recurring daily spikes and recurring alerts.

The warehouse computes the statistics (``sql/analytics/pattern_*.sql``); this module only
filters the small per-series results and shapes them into findings.

Noise control, on purpose: on a fleet with daily cycles, CPU and memory of nearly every
host rise and fall together, so a correlation alone is not news. A correlation is never an
insight of its own: it is folded into the trend or recurring spike it explains (one
pattern, one insight); every strong correlation is still counted in the run's metadata. Likewise a trend
must move the day-over-day mean, not just fit a line through one daily cycle.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
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
    slope_stats,
    window_ends,
)
from nephos_pipeline.insights.findings import Finding
from nephos_pipeline.sql_files import load_sql
from nephos_pipeline.warehouse import Warehouse

MAX_CONFIDENCE = 0.95  # a fitted line is never certain to continue
CHART_SPAN = timedelta(hours=24)  # the hourly series a pattern finding carries for its chart


def recurrence(days: int, observed: int) -> float:
    """How likely the pattern recurs tomorrow, from how often it did: Laplace's rule,
    (days + 1) / (observed + 2): 6 of 7 days -> 0.78, 3 of 7 -> 0.44, never 1."""
    return round((days + 1) / (observed + 2), 3)


@dataclass(frozen=True)
class PatternConfig:
    window_hours: int = 24
    lookback_days: int = 7
    trend_min_points: int = 12
    trend_min_r2: float = 0.6
    trend_max_p: float = 0.001
    trend_min_change_pct: float = 10.0  # percentage points over the window (percent metrics)
    trend_min_change_rel: float = 0.5  # relative change over the window (other metrics)
    spike_min_days: int = 3
    spike_min_excess_pct: float = 10.0
    spike_min_excess_rel: float = 0.5
    corr_min_abs_r: float = 0.7
    corr_min_points: int = 120
    alert_min_count: int = 3
    alert_min_days: int = 3


@dataclass
class PatternStats:
    trends: pd.DataFrame
    spikes: pd.DataFrame
    correlations: pd.DataFrame
    alerts: pd.DataFrame


def measure_range(warehouse: Warehouse, conn: Any, ends: Sequence[datetime],
                  config: PatternConfig) -> dict[datetime, PatternStats]:
    """The four pattern queries for every window ending at ``ends`` (hourly), set-based.

    Each query returns one group per window end (``sql/analytics/pattern_*.sql``); every
    window reads only its own hours, so each window's stats are those of a run of that
    window alone. Windows with nothing to report get empty frames.
    """
    params = {
        "window_ends": json.dumps([naive_utc(t).isoformat() for t in ends]),
        "window_hours": config.window_hours,
        "lookback_days": config.lookback_days,
        "min_points": config.trend_min_points,
        "min_days": config.spike_min_days,
        "min_excess_abs": 0.0,
        "min_excess_rel": config.spike_min_excess_rel,
        "min_excess_pct": config.spike_min_excess_pct,
        "min_abs_r": config.corr_min_abs_r,
        "min_alerts": config.alert_min_count,
        "catalogue": metric_catalogue.sql_param(),
    }
    q = lambda name, extra=None: by_window(warehouse.query(  # noqa: E731
        load_sql(f"analytics/{name}.sql"), {**params, **(extra or {})}, conn), ends)
    trends, spikes = q("pattern_trends"), q("pattern_spikes")
    correlations = q("pattern_correlations", {"min_points": config.corr_min_points})
    alerts = q("pattern_alerts", {"min_days": config.alert_min_days})
    return {t: PatternStats(trends=trends[t], spikes=spikes[t], correlations=correlations[t], alerts=alerts[t])
            for t in ends}


def measure(warehouse: Warehouse, conn: Any, window_end: datetime, config: PatternConfig) -> PatternStats:
    """The pattern statistics of the one window ending at ``window_end``."""
    return measure_range(warehouse, conn, [window_end], config)[window_end]


def explained_shifts(warehouse: Warehouse, conn: Any, window_start: datetime,
                     window_end: datetime) -> frozenset[tuple[str, str, str]]:
    """(instance, metric, 'rising'/'falling') already told by an anomaly insight in the window.

    Why: a level shift (a resize) is one anomaly insight; the line fitted through the step
    would otherwise also be a "falling" trend insight for the same change.
    """
    return explained_by_window(warehouse, conn, [window_end], window_end - window_start)[window_end]


def explained_by_window(warehouse: Warehouse, conn: Any, window_ends: Sequence[datetime],
                        span: timedelta) -> dict[datetime, frozenset[tuple[str, str, str]]]:
    """``explained_shifts`` of every window [end - span, end], from one read of AI_INSIGHTS."""
    rows = warehouse.query(load_sql("analytics/anomaly_directions.sql"),
                           {"window_start": naive_utc(min(window_ends)) - span,
                            "window_end": naive_utc(max(window_ends))}, conn)
    way = {"above": "rising", "below": "falling"}
    told = [r for r in rows.itertuples(index=False) if r.direction in way]
    out = {}
    for end in window_ends:
        hi = pd.Timestamp(naive_utc(end))
        out[end] = frozenset((r.instance_id, r.metric, way[r.direction]) for r in told
                             if r.created_at <= hi and r.last_seen_at >= hi - span)
    return out


def analyse(warehouse: Warehouse, start: datetime, end: datetime, config: PatternConfig = PatternConfig(),
            windows_per_query: int = 24) -> tuple[list[Finding], dict[str, Any]]:
    """Findings of every hourly window ending in (start, end], plus run statistics.

    What a pattern partition (or a backfill range of them) does: measure the windows
    set-based, ``windows_per_query`` at a time (a day: memory stays bounded on a large
    fleet, a long range is a handful of statements), read host names once and the chart
    series once per query, and turn each window's numbers into findings. The findings are
    those of running each window alone (a test compares them).
    """
    ends = window_ends(start, end, timedelta(hours=1))
    out: list[Finding] = []
    correlations = 0
    with warehouse.connection() as conn:
        names = ctx.host_names(warehouse, conn) if ends else {}
        for i in range(0, len(ends), windows_per_query):
            chunk = ends[i:i + windows_per_query]
            stats = measure_range(warehouse, conn, chunk, config)
            explained = explained_by_window(warehouse, conn, chunk, timedelta(hours=config.window_hours))
            series = ctx.hourly_series(warehouse, conn, chunk[0] - CHART_SPAN, chunk[-1])
            for t in chunk:
                correlations += len(stats[t].correlations)
                out += findings(stats[t], names, t, config, ctx.SeriesWindow(series, t - CHART_SPAN, t), explained[t])
    return out, {"windows": len(ends), "strong_correlations": correlations}


def _trend_findings(stats: PatternStats, names: dict[str, str], start: datetime, end: datetime,
                    config: PatternConfig, series, explained: frozenset = frozenset()) -> list[Finding]:
    out = []
    for row in stats.trends.itertuples(index=False):
        se, p = slope_stats(row.n, row.sxx, row.syy, row.sxy)
        slope, r2 = finite(row.slope_per_hour), finite(row.r2)
        if slope is None or r2 is None or p is None or r2 < config.trend_min_r2 or p > config.trend_max_p:
            continue
        # The day-over-day change of the mean must agree with the fitted slope: a daily
        # cycle fits a line over any 24 hours but leaves the daily mean where it was.
        change = (finite(row.mean_value) or 0.0) - (finite(row.prev_mean) or 0.0)
        level = abs(finite(row.prev_mean) or 0.0)
        entry = metric_catalogue.get(row.metric)
        big = abs(change) >= config.trend_min_change_pct if entry and entry.percent else (
            level > 0 and abs(change) / level >= config.trend_min_change_rel)
        if not big or (change > 0) != (slope > 0):
            continue
        direction = "rising" if slope > 0 else "falling"
        if (row.instance_id, row.metric, direction) in explained:
            continue  # a level shift already reported as one anomaly insight
        out.append(Finding(
            kind="trend", insight_type="pattern",
            fingerprint=fingerprint("trend", row.instance_id, row.metric, direction),
            severity="medium" if abs(change) >= 2 * config.trend_min_change_pct else "low",
            confidence=round(min(MAX_CONFIDENCE, r2), 3), affected_instances=(row.instance_id,),
            subject=names.get(row.instance_id, row.instance_id), metric=row.metric,
            window_start=start, window_end=end,
            evidence={"slope_per_hour": rounded(slope, 4), "r2": rounded(r2), "p_value": rounded(p, 6),
                      "start_value": rounded(row.start_value, 2), "end_value": rounded(row.end_value, 2),
                      "n": int(row.n), "direction": direction, "day_over_day_change": rounded(change, 3),
                      "unit": entry.unit if entry else "",
                      "series": series.get((row.instance_id, row.metric), [])},
        ))
    return out


def _spike_findings(stats: PatternStats, names, start, end, config, series, corr_lookup) -> list[Finding]:
    out = []
    if stats.spikes.empty:
        return out
    for (iid, hour), grp in stats.spikes.groupby(["instance_id", "hour_of_day"], sort=True):
        metrics = sorted(grp.metric.tolist())
        days = int(grp.days_elevated.max())
        excess = float(grp.mean_excess.max())
        evidence: dict[str, Any] = {
            "hour_of_day": int(hour), "days_elevated": days, "days_observed": config.lookback_days,
            "metrics": metrics, "mean_excess": rounded(excess, 2),
            "excess_by_metric": {m: rounded(e, 2) for m, e in zip(grp.metric, grp.mean_excess, strict=False)},
            "series": series.get((iid, metrics[0]), []),
        }
        pairs = [(a, b, corr_lookup[(iid, a, b)]) for a in metrics for b in metrics if (iid, a, b) in corr_lookup]
        if pairs:
            a, b, r = max(pairs, key=lambda t: abs(t[2]))
            evidence["correlation"] = {"metric_a": a, "metric_b": b, "r": rounded(r)}
        out.append(Finding(
            kind="recurring_spike", insight_type="pattern",
            fingerprint=fingerprint("recurring_spike", iid, int(hour), ",".join(metrics)),
            severity="medium" if excess >= 2 * config.spike_min_excess_pct or days >= 5 else "low",
            confidence=recurrence(days, config.lookback_days), affected_instances=(iid,),
            subject=names.get(iid, iid), metric=metrics[0], window_start=start, window_end=end, evidence=evidence,
        ))
    return out


def _with_correlations(f: Finding, corr_lookup: dict[tuple[str, str, str], float]) -> Finding:
    """The trend with the metrics it moves with on that host (strongest first, at most 3)."""
    iid = f.affected_instances[0]
    related = sorted(((b, r) for (i, a, b), r in corr_lookup.items() if i == iid and a == f.metric),
                     key=lambda t: (-abs(t[1]), t[0]))[:3]
    if not related:
        return f
    return replace(f, evidence={**f.evidence, "correlated_with": [{"metric": b, "r": rounded(r)} for b, r in related]})


def findings(stats: PatternStats, names: dict[str, str], window_end: datetime, config: PatternConfig,
             series: dict[tuple[str, str], list], explained: frozenset = frozenset()) -> list[Finding]:
    """Turn measured pattern statistics into findings (deterministic order)."""
    start = window_end - timedelta(hours=config.window_hours)
    corr_lookup = {}
    for row in stats.correlations.itertuples(index=False):
        r = finite(row.r)
        if r is not None:
            corr_lookup[(row.instance_id, row.metric_a, row.metric_b)] = r
            corr_lookup[(row.instance_id, row.metric_b, row.metric_a)] = r
    trends = [_with_correlations(f, corr_lookup)
              for f in _trend_findings(stats, names, start, window_end, config, series, explained)]
    spikes = _spike_findings(stats, names, start, window_end, config, series, corr_lookup)
    # Correlations are not insights of their own: they are folded into the trend or
    # recurring spike they explain (evidence 'correlated_with' / 'correlation'), so one
    # recurring pattern is one insight; every strong correlation is still counted.
    out = trends + spikes
    for row in stats.alerts.itertuples(index=False):
        out.append(Finding(
            kind="recurring_alert", insight_type="pattern",
            fingerprint=fingerprint("recurring_alert", row.instance_id, row.metric),
            severity="medium" if row.max_severity in ("high", "critical") else "low",
            confidence=recurrence(int(row.days), config.lookback_days),
            affected_instances=(row.instance_id,), subject=names.get(row.instance_id, row.instance_id),
            metric=row.metric, window_start=window_end - timedelta(days=config.lookback_days), window_end=window_end,
            evidence={"metric": row.metric, "count": int(row.alert_count), "days": int(row.days),
                      "severity": row.max_severity, "example_message": row.example_message,
                      "last_seen": iso(window_end)},
        ))
    return sorted(out, key=lambda f: (f.kind, f.fingerprint))
