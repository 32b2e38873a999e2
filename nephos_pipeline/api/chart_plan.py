"""What each insight card charts: which series, over what window, at what resolution.

Why plan from the insight rather than draw ``evidence.series``: the stored series is hourly
means over the last day, so a 1-minute peak the text quotes ("reached 95.6%") shows as an
hourly mean of 81.8. The page instead reads the metric at the insight's own resolution
(an anomaly at the detector's 15-minute windows, with each window's lowest and highest
sample) around the window the insight is about, and draws what the words rest on: the
threshold an anomaly crossed, a prediction's threshold line and forecast, both metrics of
a correlation. Pure code: :mod:`nephos_pipeline.api.page_data` runs the query.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from nephos_pipeline.insights.wording import is_percent

QUARTER = timedelta(minutes=15)
HOUR = timedelta(hours=1)
ANOMALY_BEFORE, ANOMALY_AFTER = timedelta(hours=6), timedelta(hours=2)
PREDICTION_HISTORY = timedelta(hours=72)  # the prediction's fit window (PredictionConfig.lookback_hours)
MAX_FORECAST = timedelta(days=8)  # beyond this the time axis would flatten the history
DEFAULT_WINDOW = timedelta(hours=24)
Z_THRESHOLD = 3.0  # the default detector's threshold, for anomaly rows stored without one


@dataclass(frozen=True)
class SeriesSpec:
    """One metric of one instance over (start, end], in buckets of ``bucket_s`` seconds."""

    key: str
    instance: str
    metric: str
    start: datetime
    end: datetime
    bucket_s: int

    def as_json(self) -> dict[str, Any]:
        return {"k": self.key, "i": self.instance, "m": self.metric, "s": self.start.isoformat(sep=" "),
                "e": self.end.isoformat(sep=" "), "b": self.bucket_s}


@dataclass
class ChartPlan:
    """Everything the SVG needs besides the data. Times are naive UTC."""

    series: list[SeriesSpec]
    start: datetime
    end: datetime
    resolution: str  # "15-minute" | "hourly"
    envelope: bool = False  # draw each bucket's min-max band (anomalies)
    highlights: list[tuple[datetime, datetime]] = field(default_factory=list)
    highlight_label: str = "the detected window"
    thresholds: list[tuple[float, str]] = field(default_factory=list)
    baseline: float | None = None
    forecast: list[tuple[datetime, float]] = field(default_factory=list)
    cone: list[tuple[datetime, float]] = field(default_factory=list)
    peak_direction: str | None = None  # "above" | "below": mark the extreme in the highlight
    quoted: float | None = None  # the value the text quotes (evidence.value), marked where drawn
    fallback: list[tuple[datetime, float]] = field(default_factory=list)  # evidence.series


def _num(ev: Mapping[str, Any], key: str) -> float | None:
    value = ev.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def parse_time(value: Any) -> datetime | None:
    """ISO text -> naive UTC datetime (offsets converted); None for anything else."""
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        moment = datetime.fromisoformat(value.strip().upper().replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def evidence_series(ev: Mapping[str, Any]) -> list[tuple[datetime, float]]:
    """The stored ``evidence.series`` as (time, value), skipping anything unusable."""
    raw = ev.get("series")
    out: list[tuple[datetime, float]] = []
    for item in raw if isinstance(raw, list) else []:
        if isinstance(item, list | tuple) and len(item) >= 2:
            moment = parse_time(item[0])
            value = _num({"v": item[1]}, "v")
            if moment is not None and value is not None:
                out.append((moment, value))
    return sorted(out)


def chart_metrics(ev: Mapping[str, Any]) -> list[str]:
    """The metrics to draw: both of a correlation (also one folded into a pattern: evidence
    ``correlation`` or ``correlated_with``), the first two a pattern names, else its metric."""
    nested = ev.get("correlation") if isinstance(ev.get("correlation"), Mapping) else {}
    for source in (ev, nested):
        pair = [source.get("metric_a"), source.get("metric_b")]
        if all(isinstance(m, str) and m for m in pair) and pair[0] != pair[1]:
            return pair
    metric = ev.get("metric")
    related = [c for c in ev.get("correlated_with") or [] if isinstance(c, Mapping) and isinstance(c.get("metric"), str)
               and _num(c, "r") is not None] if isinstance(ev.get("correlated_with"), list) else []
    if isinstance(metric, str) and metric and related:  # a trend with the correlations folded into it
        strongest = max(related, key=lambda c: abs(_num(c, "r") or 0.0))["metric"]
        if strongest and strongest != metric:
            return [metric, strongest]
    listed = [m for m in ev.get("metrics") or [] if isinstance(m, str) and m] if isinstance(ev.get("metrics"), list) else []
    if len(dict.fromkeys(listed)) >= 2:
        return list(dict.fromkeys(listed))[:2]
    return [metric] if isinstance(metric, str) and metric else listed[:1]


def _specs(insight_id: str, instance: str, metrics: list[str], start: datetime, end: datetime,
           bucket: timedelta) -> list[SeriesSpec]:
    return [SeriesSpec(f"{insight_id}#{n}", instance, m, start, end, int(bucket.total_seconds()))
            for n, m in enumerate(metrics)]


def _anomaly(plan_args: dict[str, Any], ev: Mapping[str, Any], created: datetime, moment: datetime) -> ChartPlan:
    first = parse_time(ev.get("tick")) or created
    last = max(parse_time(ev.get("last_tick")) or first, first)
    window = (first - QUARTER, last)
    end = max(min(last + ANOMALY_AFTER, moment), first)
    start = window[0] - ANOMALY_BEFORE
    direction = ev.get("direction") if ev.get("direction") in ("above", "below") else "above"
    centre, spread, threshold = _num(ev, "baseline_center"), _num(ev, "baseline_spread"), _num(ev, "threshold")
    sign, label = (1 if direction == "above" else -1), "threshold"
    if threshold is None and centre is not None and spread is not None and spread > 0:
        z_threshold = _num(ev, "z_threshold") or Z_THRESHOLD
        threshold, label = centre + sign * z_threshold * spread, f"{z_threshold:g}\u03c3 threshold"
    return ChartPlan(
        series=_specs(**plan_args, start=start, end=end, bucket=QUARTER), start=start, end=end,
        resolution="15-minute", envelope=True, highlights=[window],
        thresholds=[(threshold, label)] if threshold is not None else [], baseline=centre,
        peak_direction=direction, quoted=_num(ev, "value"),
    )


def _prediction(plan_args: dict[str, Any], ev: Mapping[str, Any], created: datetime, moment: datetime,
                stored: list[tuple[datetime, float]]) -> ChartPlan:
    eta, hours = parse_time(ev.get("eta")), _num(ev, "hours_to_threshold")
    anchor = eta - timedelta(hours=hours) if eta is not None and hours is not None else (
        stored[-1][0] if stored else created)
    start = stored[0][0] if stored else anchor - PREDICTION_HISTORY
    if anchor > moment:  # a past view of a prediction refreshed since: its forecast then was not kept
        start = moment - PREDICTION_HISTORY
        plan = ChartPlan(series=_specs(**plan_args, start=start, end=moment, bucket=HOUR), start=start,
                         end=moment, resolution="hourly")
        if _num(ev, "threshold") is not None:
            plan.thresholds.append((_num(ev, "threshold"), "threshold"))
        return plan
    data_end = max(min(moment, anchor + MAX_FORECAST), anchor)
    plan = ChartPlan(series=_specs(**plan_args, start=start, end=data_end, bucket=HOUR), start=start,
                     end=data_end, resolution="hourly")
    threshold, current, slope = _num(ev, "threshold"), _num(ev, "current_value"), _num(ev, "slope_per_hour")
    if threshold is not None:
        plan.thresholds.append((threshold, "threshold"))
    over = threshold is not None and current is not None and current >= threshold
    if current is not None and slope is not None and slope > 0 and not over:  # over already: nothing to forecast
        if eta is not None and threshold is not None and anchor < eta <= anchor + MAX_FORECAST:
            plan.forecast = [(anchor, current), (eta, threshold)]  # exactly the ETA the text quotes
        else:
            to_threshold = (threshold - current) / slope if threshold is not None and threshold > current else 48.0
            until = anchor + min(timedelta(hours=to_threshold), MAX_FORECAST)
            plan.forecast = [(anchor, current), (until, current + slope * (until - anchor).total_seconds() / 3600)]
        low, high = _num(ev, "hours_low"), _num(ev, "hours_high")
        if threshold is not None and low is not None and high is not None and 0 < low and high - low >= 1:
            plan.cone = [(anchor, current), (anchor + min(timedelta(hours=low), MAX_FORECAST), threshold),
                         (anchor + min(timedelta(hours=high), MAX_FORECAST), threshold)]
        plan.end = max(plan.end, max(t for t, _ in plan.forecast + plan.cone))
    return plan


def plan_chart(insight: Mapping[str, Any], moment: datetime) -> ChartPlan | None:
    """The chart of one insight (the seed's JSON shape) seen at ``moment`` (naive UTC).

    In a past view (``as_of``) no chart shows data after the moment viewed, although the
    row's evidence may have been refreshed since (a row keeps only its latest sighting).
    """
    ev = insight.get("evidence") if isinstance(insight.get("evidence"), Mapping) else {}
    instances = insight.get("affectedInstances") or []
    metrics = chart_metrics(ev)
    created = parse_time(insight.get("createdAt")) or moment
    stored = evidence_series(ev)
    if not metrics or not instances:
        return None
    args = {"insight_id": str(insight.get("id")), "instance": str(instances[0]), "metrics": metrics}
    kind = insight.get("type")
    if kind == "anomaly":
        plan = _anomaly(args, ev, created, moment)
    elif kind == "prediction":
        plan = _prediction(args, ev, created, moment, stored)
    else:
        start, end = (stored[0][0] - HOUR, stored[-1][0] + HOUR) if stored else (created - DEFAULT_WINDOW, created)
        if end > moment:  # a past view: the same span, ending at the moment viewed
            start, end = moment - (end - start), moment
        hour = _num(ev, "hour_of_day")
        if hour is not None and 0 <= hour < 24:  # a recurring daily spike: show the days it recurred on
            days = int(_num(ev, "days_observed") or 7)
            start = min(start, end - timedelta(days=max(1, min(days, 14))))
        plan = ChartPlan(series=_specs(**args, start=start, end=end, bucket=HOUR), start=start, end=end,
                         resolution="hourly")
        if hour is not None and 0 <= hour < 24:
            plan.highlight_label = "the hour it recurs"
            day = start.replace(hour=int(hour), minute=0, second=0, microsecond=0)
            while day < end:
                if day >= start:
                    plan.highlights.append((day, day + HOUR))
                day += timedelta(days=1)
    plan.fallback = [(t, v) for t, v in stored if t <= moment]  # a past view shows no later data
    return plan


def unit_of(metric: str) -> str:
    return "%" if is_percent(metric) else ""
