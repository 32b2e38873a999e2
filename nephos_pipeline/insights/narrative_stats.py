"""Deterministic wording for the statistical findings: anomaly, trend, correlation.

Each builder returns (title, description, recommendations), reads only the evidence keys
its analysis produces and tolerates any of them being absent; the wording follows the
seed's example "Memory 4.2σ above normal on prod-web-01".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nephos_pipeline.insights.findings import Finding
from nephos_pipeline.insights.sanitize import clean_name, clean_text
from nephos_pipeline.insights.wording import (
    amount,
    check_step,
    clock,
    duration,
    fit_quality,
    fmt,
    host,
    items,
    metric_label,
    num,
    parse_ts,
    rate,
    sentence,
    when,
    where,
)

Parts = tuple[str, str, list[str]]


# The anomaly detection paths (``analytics/anomaly/detector.flag``), in words.
METHOD_WORDS = {
    "peak_novelty": "a new high or low for the week",
    "step_shift": "a step away from both the same hour on previous days and the hour before",
    "seasonal_shift": "a lasting shift away from the same hour on previous days",
    "collapse": "a fall below anything seen that week",
}


def _nearest_deployment(context: Mapping[str, Any], tick: Any) -> tuple[str, str] | None:
    """The deployment closest to the anomaly, if within an hour: (sentence, instance)."""
    at = parse_ts(tick)
    best = None
    for dep in items(context.get("deployments"), 20) if at else []:
        dep_at = parse_ts(dep.get("at"))
        if dep_at is not None and abs((dep_at - at).total_seconds()) <= 3600:
            gap = (at - dep_at).total_seconds()
            if best is None or abs(gap) < abs(best[0]):
                best = (gap, dep, dep_at)
    if best is None:
        return None
    gap, dep, dep_at = best
    instance = clean_name(dep.get("hostname") or dep.get("instance_id"), default="this host")
    minutes = int(abs(gap) // 60)
    relation = "after" if gap >= 0 else "before"
    when_text = "at the same time as" if minutes == 0 else f"{minutes} minutes {relation}"
    return f"It came {when_text} a deployment to {instance} ({dep_at:%H:%M} UTC).", instance


def _named_deployments(context: Mapping[str, Any], f: Finding) -> Mapping[str, Any]:
    """Deployments to the finding's own instance carry its host name, so the words name the
    host as the title does ("Review the deployment to prod-web-01", not to i-0773...)."""
    deployments = context.get("deployments")
    if not isinstance(deployments, list | tuple):
        return context
    named = [{**d, "hostname": host(f.subject)} if isinstance(d, Mapping) and d.get("instance_id")
             in f.affected_instances else d for d in deployments]
    return {**context, "deployments": named}


def _related(ev: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Other metrics of the same host incident (one insight names them all), at most 3."""
    related = ev.get("related")
    if not isinstance(related, list | tuple):
        return []
    return [r for r in related if isinstance(r, Mapping) and isinstance(r.get("metric"), str)][:3]


def anomaly(f: Finding, ev: Mapping[str, Any]) -> Parts:
    label, place, name = metric_label(f.metric), where(f.subject), host(f.subject)
    z, value = num(ev, "z"), num(ev, "value")
    center, spread = num(ev, "baseline_center"), num(ev, "baseline_spread")
    direction = ev.get("direction") if ev.get("direction") in ("above", "below") else None
    direction = direction or (None if z is None else ("above" if z >= 0 else "below"))
    z_text = fmt(abs(z)) if z is not None else None
    related = _related(ev)
    named = " and ".join([label, *(metric_label(r["metric"]) for r in related)]) if related else label
    title = f"{named} {z_text}σ {direction or 'away from'} normal {place}" if z_text else f"Unusual {named} reading {place}"
    at, at_clock = when(ev.get("tick")), clock(ev.get("tick"))
    value_text, center_text = amount(value, f.metric), amount(center, f.metric)
    lead = f"{label} {place} reached {value_text}" if value_text else f"{label} {place} left its normal range"
    lead += f" at {at}." if at else "."
    if center_text and spread is not None and spread > 0:
        base = f"Its baseline is {center_text} with a typical spread of {amount(spread, f.metric)}"
        base += f", so this is {z_text}σ {direction or 'away from'} normal." if z_text else "."
    elif center_text and spread == 0:
        base = f"Its baseline was flat at {center_text} with no variation, so any change stands out."
    else:
        base = f"Its baseline is {center_text}." if center_text else None
    method = clean_text(ev.get("method"), 40)
    how = f"Found as {METHOD_WORDS[method]}." if method in METHOD_WORDS else (
        f"Detected with the {method} method." if method else None)
    basis = ev.get("confidence_basis") if isinstance(ev.get("confidence_basis"), Mapping) else {}
    true, seen = num(basis, "true"), num(basis, "insights")
    track = (f"On the detection benchmark, {true:.0f} of {seen:.0f} insights like this were real incidents."
             if true is not None and seen and 0 <= true <= seen else None)
    context = ev.get("context") if isinstance(ev.get("context"), Mapping) else {}
    deployment = _nearest_deployment(_named_deployments(context, f), ev.get("tick"))
    alerts = items(context.get("alerts"), 1)
    alert = None
    if alerts:
        message = clean_text(alerts[0].get("message"), 160)
        severity = clean_text(alerts[0].get("severity"), 20)
        alert = f'An alert fired nearby{f" ({severity})" if severity else ""}: "{message}".' if message else None
    together = [f"{metric_label(r['metric'])} reached {amount(num(r, 'value'), r['metric'])} "
                f"(usually {amount(num(r, 'baseline_center'), r['metric'])})" for r in related]
    description = sentence(
        lead, base, f"In the same incident, {'; '.join(together)}." if together else None,
        how, track, deployment[0] if deployment else None, alert,
    )
    if deployment:
        recs = [
            f"Review the deployment to {deployment[1]} and roll back if it caused this",
            check_step(f.metric, name, at_clock),
            f"Add a pre-deployment health check for {label}",
        ]
    else:
        recs = [
            check_step(f.metric, name, at_clock),
            "Compare with the same time on previous days to see whether it recurs",
            f"If it continues, add capacity or an alert {place}",
        ]
    return title, description, recs


def _moves_with(ev: Mapping[str, Any]) -> str | None:
    """Correlations folded into the pattern they explain: 'It moves with Load (r = 0.93).'"""
    parts = []
    for item in items(ev.get("correlated_with"), 3):
        r = num(item, "r")
        if r is not None:
            verb = "against" if r < 0 else "with"
            parts.append(f"{verb} {metric_label(item.get('metric'))} (r = {fmt(r, 2)})")
    return f"It moves {', '.join(parts)} on this host." if parts else None


def trend(f: Finding, ev: Mapping[str, Any]) -> Parts:
    label, place, unit = metric_label(f.metric), where(f.subject), ev.get("unit")
    slope, r2, p = num(ev, "slope_per_hour"), num(ev, "r2"), num(ev, "p_value")
    start, end, n = amount(num(ev, "start_value"), f.metric, unit), amount(num(ev, "end_value"), f.metric, unit), fmt(num(ev, "n"), 0)
    if slope is None:
        direction = "changing"
    else:
        direction = "rising" if slope > 0 else "falling" if slope < 0 else "flat"
    per_hour = rate(slope, f.metric, unit) if slope else None
    # The title names the direction only: the rate changes as the evidence is refreshed, and
    # the description (rewritten with it) carries the number.
    title = f"{label} {direction} {place}"
    fit = ", ".join(x for x in (fit_quality(r2) or "", f"p {fmt(p, 3)}" if p is not None else "") if x)
    description = sentence(
        f"{label} {place} went from {start} to {end} over the window" + (f" ({n} samples)." if n else ".") if start and end else f"{label} {place} shows a steady trend over the window.",
        f"That is a change of {per_hour}" + (f" ({fit})." if fit else ".") if per_hour else None,
        _moves_with(ev),
    )
    if slope is not None and slope < 0:
        recs = ["Confirm the drop is expected (less traffic, a finished job)", f"Check that the service {place} is still healthy", "No action is needed if the drop is expected"]
    else:
        recs = [f"Find what is driving {label} {place}", "Check whether it follows load or a single process", "Plan capacity before it reaches alert thresholds"]
    return title, description, recs


def correlation(f: Finding, ev: Mapping[str, Any]) -> Parts:
    a, b, place = metric_label(ev.get("metric_a")), metric_label(ev.get("metric_b")), where(f.subject)
    r, n = num(ev, "r"), fmt(num(ev, "n"), 0)
    together = "move in opposite directions" if r is not None and r < 0 else "move together"
    title = f"{a} and {b} {together} {place}" + (f" (r = {fmt(r, 2)})" if r is not None else "")
    strength = None if r is None else "strong" if abs(r) >= 0.8 else "moderate" if abs(r) >= 0.5 else "weak"
    description = sentence(
        f"Over {n} samples, {a} and {b} {place}" if n else f"{a} and {b} {place}",
        f"had a {strength} correlation of {fmt(r, 2)}." if r is not None else "are correlated.",
        f"When one rises, the other tends to {'fall' if r is not None and r < 0 else 'rise'}.",
        "Correlation alone does not show which one causes the other.",
    )
    recs = [f"Check whether one workload drives both {a} and {b}", "Chart them together to see which one leads", "Tune alerts so one cause does not page twice"]
    return title, description, recs


def silence(f: Finding, ev: Mapping[str, Any]) -> Parts:
    """A live host that stopped reporting; refreshed as resolved once reports resume."""
    name, place = host(f.subject), where(f.subject)
    last, resumed = when(ev.get("last_report")), when(ev.get("resumed_at"))
    minutes = num(ev, "silent_minutes")
    length = duration(minutes / 60) if minutes is not None else None
    cadence, limit = fmt(num(ev, "cadence_seconds"), 0), fmt(num(ev, "threshold_minutes"), 0)
    usual = (f"It usually reports every {cadence} seconds; silence is flagged after {limit} minutes."
             if cadence and limit else None)
    if ev.get("state") == "resolved":
        title = f"{name} stopped reporting for {length}, now resumed" if length else f"{name} stopped reporting, now resumed"
        description = sentence(
            f"No metrics arrived from {name}" + (f" after {last}" if last else "")
            + (f" until {resumed}" if resumed else "") + (f" ({length})." if length else "."),
            usual, "Reports have resumed, so this insight is resolved.",
        )
        recs = [f"Check the agent and system logs on {name} for the silent period",
                "Look for a restart, network partition or full disk at that time",
                "Backfill or annotate the gap in dashboards if it matters"]
        return title, description, recs
    title = f"{name} stopped reporting" + (f" at {clock(ev.get('last_report'))}" if clock(ev.get("last_report")) else "")
    description = sentence(
        f"No metrics have arrived from {name}" + (f" since {last}" if last else "")
        + (f" ({length} so far)." if length else "."),
        usual,
        f"The host is still listed as live, so it may be down, unreachable or its agent stopped {place}."
        .replace(f" {place}.", "."),
    )
    recs = [f"Check that {name} is up and reachable", f"Check the monitoring agent on {name} (process, credentials, disk)",
            "If the host was retired, mark its instance as stopped so it is not expected to report"]
    return title, description, recs
