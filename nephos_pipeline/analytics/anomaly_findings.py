"""Anomaly analysis over a range of 15-minute ticks, as findings (no Dagster imports).

The detector (``analytics/anomaly``) scores every tick set-based and the incident
lifecycle turns flags into created/updated incidents; this module adds what a person
needs next to the numbers: the host's name, alerts and deployments within an hour of the
incident (root-cause context), a short series for the chart, severity and confidence.

State across runs lives in AI_INSIGHTS: the latest anomaly insight per series created
before the range is read back, with its last tick capped at the range start, so a range
run and tick-by-tick runs see the same history and produce the same insights.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

import pandas as pd

from nephos_pipeline.analytics import context as ctx
from nephos_pipeline.analytics.anomaly import chunks, detector, incidents, precision
from nephos_pipeline.analytics.anomaly.incidents import Incident, IncidentEvent
from nephos_pipeline.analytics.common import iso, rounded
from nephos_pipeline.insights.findings import Finding
from nephos_pipeline.settings import Chunking
from nephos_pipeline.sql_files import load_sql
from nephos_pipeline.warehouse import Warehouse

TICK = timedelta(minutes=15)
SEVERITY_ORDER = ("low", "medium", "high", "critical")
CONTEXT_WINDOW = timedelta(hours=1)


def prior_state(warehouse: Warehouse, conn: Any, first_tick: datetime) -> dict[tuple[str, str], Incident]:
    df = warehouse.query(load_sql("analytics/anomaly_prior_state.sql"), {"t": first_tick}, conn)
    state: dict[tuple[str, str], Incident] = {}
    cap = first_tick - TICK
    records = []
    for raw, members in zip(df.incident, df.members, strict=True) if not df.empty else []:
        records.append(json.loads(raw) if isinstance(raw, str) else raw)
        records += (json.loads(members) if isinstance(members, str) else members) or []
    for data in records:
        if not data:
            continue
        data = dict(data)
        data["first_tick"] = pd.Timestamp(data["first_tick"]).to_pydatetime()
        data["last_tick"] = min(pd.Timestamp(data["last_tick"]).to_pydatetime(), cap)
        if data.get("held_tick"):
            data["held_tick"] = min(pd.Timestamp(data["held_tick"]).to_pydatetime(), cap)
        inc = Incident(**data)
        known = state.get((inc.instance_id, inc.metric))
        if known is None or inc.first_tick >= known.first_tick:
            state[(inc.instance_id, inc.metric)] = inc
    return state


def expected_spikes(warehouse: Warehouse, conn: Any, first_tick: datetime, last_tick: datetime) -> list[tuple]:
    """Recurring daily spikes reported by pattern analysis: (instance, metric, hour, from, until).

    A spike that pattern analysis already reports as recurring (say a 14:00 batch job) is
    known behaviour, not news: an anomaly incident starting in that hour, while that
    pattern insight was active, is not raised.
    """
    df = warehouse.query(load_sql("analytics/expected_spikes.sql"), {"first": first_tick - TICK, "last": last_tick}, conn)
    known = []
    for row in df.itertuples(index=False):
        metrics = json.loads(row.metrics) if isinstance(row.metrics, str) else (row.metrics or [])
        known += [(row.instance_id, str(m), int(row.hour_of_day), row.created_at, row.expires_at) for m in metrics]
    return known


def _is_expected(incident: Incident, known: list[tuple]) -> bool:
    """Causal: only a pattern insight that existed when the incident started counts."""
    hour = (incident.first_tick - TICK).hour  # hour of day of the window it started in
    return any(iid == incident.instance_id and metric == incident.metric and h == hour
               and created <= incident.first_tick < expires for iid, metric, h, created, expires in known)


def _context(alerts: pd.DataFrame, deploys: pd.DataFrame, inc: Incident) -> dict[str, list]:
    lo, hi = inc.first_tick - TICK - CONTEXT_WINDOW, inc.last_tick + CONTEXT_WINDOW
    a = alerts[(alerts.instance_id == inc.instance_id) & (alerts.created_at >= lo) & (alerts.created_at <= hi)]
    d = deploys[(deploys.instance_id == inc.instance_id) & (deploys.last_deployed_at >= lo)
                & (deploys.last_deployed_at <= inc.first_tick)]
    return {
        "deployments": [{"instance_id": r.instance_id, "at": iso(r.last_deployed_at)} for r in d.itertuples()],
        "alerts": [{"severity": r.severity, "metric": r.metric, "message": r.message, "at": iso(r.created_at)}
                   for r in a.head(5).itertuples()],
    }


def _record(inc: Incident) -> dict[str, Any]:
    return {k: (iso(v) if isinstance(v, datetime) else v) for k, v in asdict(inc).items()}


def finding_for(event: IncidentEvent, names: dict[str, str], context: dict, series: list,
                members: list[Incident] | None = None) -> Finding:
    """One insight per host incident: the first metric's numbers, the others as ``related``."""
    inc = event.incident
    members = [m for m in (members or []) if m.fingerprint != inc.fingerprint]
    severity = max((detector.severity_for(i.peak_z, i.peak_value, i.usual_level) for i in [inc, *members]),
                   key=SEVERITY_ORDER.index)
    return Finding(
        kind="anomaly", insight_type="anomaly", fingerprint=inc.fingerprint, severity=severity,
        confidence=precision.confidence_for(inc.method, severity),  # measured on the benchmarks
        affected_instances=(inc.instance_id,), subject=names.get(inc.instance_id, inc.instance_id),
        metric=inc.metric, window_start=inc.first_tick - TICK, window_end=event.tick,
        evidence={
            "value": rounded(inc.peak_value, 3), "baseline_center": rounded(inc.baseline_centre, 3),
            "baseline_spread": rounded(inc.baseline_spread, 4), "z": rounded(inc.peak_z, 2),
            "method": inc.method, "direction": "above" if inc.direction == "high" else "below",
            "confidence_basis": dict(zip(("true", "insights"), precision.basis(inc.method, severity), strict=True)),
            "tick": iso(inc.first_tick), "last_tick": iso(max(i.seen_tick for i in [inc, *members])),
            "flagged_ticks": inc.flagged_ticks, "metrics": [inc.metric, *(m.metric for m in members)],
            "related": [{"metric": m.metric, "value": rounded(m.peak_value, 3), "z": rounded(m.peak_z, 2),
                         "baseline_center": rounded(m.baseline_centre, 3),
                         "direction": "above" if m.direction == "high" else "below", "tick": iso(m.first_tick)}
                        for m in members],
            "context": context, "series": series, "incident": _record(inc),
            "members": [_record(m) for m in members],
        },
        first_seen_at=inc.first_tick,
    )


def analyse(warehouse: Warehouse, first_tick: datetime, last_tick: datetime,
            config: detector.DetectorConfig = detector.DEFAULT,
            chunking: Chunking | None = None) -> tuple[list[Finding], dict[str, Any]]:
    """Findings for every tick in [first_tick, last_tick], plus run statistics.

    Scores are computed chunk by chunk (``anomaly/chunks.py``) and only flagged rows are
    kept, so memory stays bounded for any range and fleet; the findings do not depend on
    the chunking.
    """
    with warehouse.connection() as conn:
        state = prior_state(warehouse, conn, first_tick)
        flagged, levels, series_scored = chunks.flag_range(warehouse, conn, first_tick, last_tick, config,
                                                           chunking, watched=set(state))
        ticks = list(pd.date_range(first_tick, last_tick, freq=TICK).to_pydatetime())
        events, _ = incidents.advance(state, flagged, ticks, levels=levels)
        known = expected_spikes(warehouse, conn, first_tick, last_tick) if events else []
        expected = {e.incident.fingerprint for e in events if _is_expected(e.incident, known)}
        events = [e for e in events if e.incident.fingerprint not in expected
                  and e.incident.group_fingerprint not in expected]
        stats = {"ticks": len(ticks), "series_scored": series_scored, "ticks_flagged": len(flagged), "events": len(events),
                 "expected_recurring_spikes_skipped": len(expected)}
        if not events:
            return [], stats
        names = ctx.host_names(warehouse, conn)
        lo = min(e.incident.first_tick for e in events) - 2 * CONTEXT_WINDOW
        alerts = ctx.alerts_between(warehouse, conn, lo, last_tick + CONTEXT_WINDOW)
        deploys = ctx.deployments_between(warehouse, conn, lo, last_tick)
        hosts = sorted({e.incident.instance_id for e in events})
        series = ctx.hourly_series(warehouse, conn, lo - timedelta(hours=22), last_tick, hosts)
    return _host_findings(events, state, names, alerts, deploys, series), stats


def _host_findings(events: list[IncidentEvent], prior: dict, names: dict[str, str], alerts: pd.DataFrame,
                   deploys: pd.DataFrame, series: dict) -> list[Finding]:
    """One finding per host incident and tick it changed at, as tick-by-tick runs store it.

    A host incident is its first metric's incident plus the metrics that joined it; each
    finding carries them as they stood at that tick, and the store keeps the creation
    (words) and the latest (numbers) of one fingerprint.
    """
    latest = {inc.fingerprint: inc for inc in prior.values()}
    by_tick: dict[tuple[str, datetime], IncidentEvent] = {}
    for event in events:
        by_tick[(event.incident.group_fingerprint, event.tick)] = event
    findings = []
    for event in events:
        latest[event.incident.fingerprint] = event.incident
        group = event.incident.group_fingerprint
        if by_tick.get((group, event.tick)) is not event:
            continue  # a later event of this host incident at the same tick carries it
        members = [m for m in latest.values() if m.group_fingerprint == group]
        head = latest.get(group, event.incident)
        findings.append(finding_for(IncidentEvent(event.kind, event.tick, head), names,
                                    _context(alerts, deploys, head),
                                    series.get((head.instance_id, head.metric), [])[-24:],
                                    [m for m in members if m.fingerprint != head.fingerprint]))
    return findings
