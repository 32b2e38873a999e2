"""Deterministic wording for recurring patterns, predictions and the fleet summary.

Same contract as ``narrative_stats``: (title, description, recommendations), any evidence
key may be missing, untrusted text is sanitised before it is quoted. Titles follow the
seed: "Recurring daily CPU spike at 14:00 UTC on batch-worker-01", "Disk on db-primary
reaches 90% in about 72 hours".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nephos_pipeline import insight_types
from nephos_pipeline.insights.findings import Finding
from nephos_pipeline.insights.sanitize import clean_text
from nephos_pipeline.insights.wording import (
    amount,
    check_step,
    difference,
    duration,
    fit_quality,
    fmt,
    host,
    hour_clock,
    hours_range,
    items,
    metric_label,
    num,
    sentence,
    when,
    where,
)

Parts = tuple[str, str, list[str]]


def _plural(insight_type: str) -> str:
    known = insight_types.INSIGHT_TYPES.get(insight_type)
    return known.plural if known else insight_type


def _excess(f: Finding, ev: Mapping[str, Any], metrics: list) -> str | None:
    """Each metric's excess in its own unit: '23.5 percentage points (CPU), 4,100 bytes/s (Network in)'.

    A single number over metrics of different units would be meaningless, so it is only
    used when the per-metric figures are missing.
    """
    by_metric = ev.get("excess_by_metric") if isinstance(ev.get("excess_by_metric"), Mapping) else {}
    order = [m for m in metrics if isinstance(m, str) and m in by_metric] or list(by_metric)
    parts = [(m, num(by_metric, m)) for m in order[:3]]
    parts = [(m, v) for m, v in parts if v is not None]
    if len(parts) > 1:
        return ", ".join(f"{difference(v, m)} ({metric_label(m)})" for m, v in parts)
    metric = parts[0][0] if parts else (f.metric or (metrics[0] if metrics else None))
    return difference(parts[0][1] if parts else num(ev, "mean_excess"), metric)


def _correlation_note(ev: Mapping[str, Any]) -> str | None:
    corr = ev.get("correlation") if isinstance(ev.get("correlation"), Mapping) else {}
    r = num(corr, "r")
    if r is None or not corr.get("metric_a") or not corr.get("metric_b"):
        return None
    return (f"{metric_label(corr.get('metric_a'))} and {metric_label(corr.get('metric_b'))} move together here "
            f"(r = {fmt(r, 2)}), so one job likely drives both.")


def recurring_spike(f: Finding, ev: Mapping[str, Any]) -> Parts:
    place = where(f.subject)
    metrics = ev.get("metrics") if isinstance(ev.get("metrics"), list | tuple) else []
    labels = list(dict.fromkeys(metric_label(m) for m in metrics[:3] if m)) or [metric_label(f.metric)]
    what = labels[0] if len(labels) == 1 else f"{', '.join(labels[:-1])} and {labels[-1]}"
    at = hour_clock(num(ev, "hour_of_day"))
    title = f"Recurring daily {what} spike" + (f" at {at}" if at else "") + f" {place}"
    elevated, observed = fmt(num(ev, "days_elevated"), 0), fmt(num(ev, "days_observed"), 0)
    description = sentence(
        (f"On {elevated} of {observed} days, " if elevated and observed else "On most days, ")
        + f"{what} {place} rose" + (f" around {at}" if at else " at the same time of day")
        + (f", on average {_excess(f, ev, metrics)} above the usual level." if _excess(f, ev, metrics) else "."),
        _correlation_note(ev),
        "This suggests a scheduled job or batch process.",
    )
    recs = [
        "Identify scheduled jobs (cron, backups, batch runs) that start" + (f" near {at}" if at else " at that time"),
        "Move or spread the job if it competes with user traffic",
        "If the load is expected, raise the alert threshold for that hour",
    ]
    return title, description, recs


def recurring_alert(f: Finding, ev: Mapping[str, Any]) -> Parts:
    place = where(f.subject)
    label = metric_label(ev.get("metric") or f.metric)
    count, days = fmt(num(ev, "count"), 0), fmt(num(ev, "days"), 0)
    severity = clean_text(ev.get("severity"), 20)
    # Counts live in the description, which is rewritten when the evidence changes.
    title = f"Recurring {label} alert {place}"
    message = clean_text(ev.get("example_message"), 160)
    description = sentence(
        f"The {severity + ' ' if severity else ''}{label} alert {place} fired"
        + (f" {count} times" if count else " repeatedly") + (f" over {days} days." if days else "."),
        f'A typical message: "{message}".' if message else None,
    )
    recs = [
        f"Fix the underlying cause {place} instead of acknowledging each alert",
        "If the alert is noisy, adjust its threshold or duration",
        "Group repeats so one cause raises one alert",
    ]
    return title, description, recs


def prediction(f: Finding, ev: Mapping[str, Any]) -> Parts:
    label, place, name = metric_label(f.metric), where(f.subject), host(f.subject)
    threshold = amount(num(ev, "threshold"), f.metric, digits=0)
    current, r2 = amount(num(ev, "current_value"), f.metric), num(ev, "r2")
    slope = amount(num(ev, "slope_per_hour"), f.metric, digits=2)
    fit = fit_quality(r2)
    if ev.get("state") == "over_threshold" and threshold:
        title = f"{label} {place} is already above {threshold}"
        description = sentence(
            f"{label} {place} is at {current}, above {threshold}" if current else f"{label} {place} is above {threshold}",
            (f"and still rising by {slope} per hour" + (f" ({fit})." if fit else ".")) if slope else ".",
            "No crossing is forecast: it has already happened.",
        ).replace(" .", ".")
        recs = [check_step(f.metric, name), f"Free or add {label} capacity on {name} now",
                "Alert at a lower threshold so there is time to act next time"]
        return title, description, recs
    eta_words = duration(num(ev, "hours_to_threshold"))
    eta = when(ev.get("eta"))
    if threshold and eta_words:
        title = f"{label} {place} reaches {threshold} in {eta_words}"
    else:
        title = f"{label} {place} trending toward its limit"
    span = hours_range(num(ev, "hours_low"), num(ev, "hours_high"))
    f24, f48 = amount(num(ev, "forecast_24h"), f.metric), amount(num(ev, "forecast_48h"), f.metric)
    accelerating = ev.get("fit") in ("recent", "curve")
    description = sentence(
        (f"{label} {place} is at {current}" if current else f"{label} {place} is growing")
        + (f" and changing by {slope} per hour" if slope else "")
        + (" and speeding up (its recent rise is steeper than the longer-term trend)" if accelerating else "")
        + (f" ({fit})." if fit else "."),
        (f"At this rate it reaches {threshold}" + (f" around {eta}" if eta else f" in {eta_words}" if eta_words else "")
         + (f" ({span} from now)." if span else ".")) if threshold else None,
        f"Forecast: {f24} in 24 hours, {f48} in 48 hours." if f24 and f48 else None,
    )
    by = f" before {eta}" if eta else " soon"
    if label == "Disk":
        recs = [f"Schedule disk expansion on {name}{by}", "Archive or delete old data and rotate logs", "Alert at a lower threshold so there is time to act"]
    elif label == "Memory":
        recs = [f"Find the process on {name} whose memory keeps growing", f"Schedule a restart or add memory{by}", "Alert at a lower threshold so there is time to act"]
    else:
        recs = [f"Plan more {label} capacity for {name}{by}", "Find which workload drives the growth", "Alert at a lower threshold so there is time to act"]
    return title, description, recs


def summary(f: Finding, ev: Mapping[str, Any]) -> Parts:
    counts = ev.get("counts") if isinstance(ev.get("counts"), Mapping) else {}
    by_sev = ev.get("by_severity") if isinstance(ev.get("by_severity"), Mapping) else {}
    per_type = [(clean_text(k, 20), num(counts, k)) for k in list(counts)[:8]]
    per_type = [(k, v) for k, v in per_type if k and v]
    total = sum(v for _, v in per_type)
    crit, high = num(by_sev, "critical"), num(by_sev, "high")
    parts = [f"{fmt(v, 0)} {k if v == 1 else _plural(k)}" for k, v in per_type]
    sev = [f"{fmt(v, 0)} {s}" for s, v in (("critical", crit), ("high", high)) if v]
    title = f"{fmt(total, 0)} active insights" + (f": {', '.join(sev)}" if sev else "") if total else "Insight summary: nothing needs attention"
    top = [
        (clean_text(t.get("title"), 120), clean_text(t.get("severity"), 20))
        for t in items(ev.get("top"), 3)
    ]
    top = [(t, s) for t, s in top if t]
    description = sentence(
        f"By type: {', '.join(parts)}." if parts else "No open insights were found in this window.",
        ("Most important: " + "; ".join(f"{t}{f' ({s})' if s else ''}" for t, s in top) + ".") if top else None,
    )
    recs = [f"Start with: {top[0][0]}" if top else "Keep the analyses running; nothing needs action now"]
    recs.append(f"Then review the {fmt(high, 0)} high-severity insights" if high else "Review medium-severity insights when there is time")
    recs.append("Check predictions for anything due within 48 hours")
    return title, description, recs
