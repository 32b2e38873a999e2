"""Measured precision of anomaly insights by detection path and severity.

Why: an insight's confidence should say how often an insight like it was right, not how
far a z-score is from 3 (that gave "Confidence: 99 %" on almost every insight, false
alarms included). The detection benchmark labels every insight the default detector
creates, on NAB (inside a label window: true; after probation and outside: false) and on
the labelled realistic fleet (inside a planted incident's window on its host: true;
anything else, a second insight for an incident included: false). ``table`` counts them
per (method, severity); ``nephos_pipeline/analytics/anomaly/precision.py`` holds the
result and a test checks it matches the committed results file.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from nephos_pipeline.analytics.anomaly.detector import DetectorConfig, flag, severity_for
from nephos_pipeline.analytics.anomaly.incidents import advance

SEVERITY_ORDER = ("low", "medium", "high", "critical")


def created_insights(scores: pd.DataFrame, config: DetectorConfig) -> pd.DataFrame:
    """One row per insight the pipeline would create: instance_id, metric, tick, method, severity.

    As ``anomaly_findings`` stores it: a host incident is one insight named after its first
    metric, opened by that metric's path, with the worst severity of the metrics that joined.
    """
    flagged = flag(scores, config)
    events, state = advance({}, flagged, sorted(scores["tick"].unique()), levels=scores)
    worst: dict[str, str] = {}
    for event in events:
        inc = event.incident
        grade = severity_for(inc.peak_z, inc.peak_value, inc.usual_level)
        group = inc.group_fingerprint
        worst[group] = max(worst.get(group, "low"), grade, key=SEVERITY_ORDER.index)
    rows = [{"instance_id": e.incident.instance_id, "metric": e.incident.metric, "tick": pd.Timestamp(e.tick),
             "method": e.incident.method, "fingerprint": e.incident.fingerprint}
            for e in events if e.kind == "created"]
    frame = pd.DataFrame(rows, columns=["instance_id", "metric", "tick", "method", "fingerprint"])
    frame["severity"] = [worst[f] for f in frame["fingerprint"]]
    return frame.drop(columns="fingerprint")


def table(labelled: Iterable[tuple[str, str, bool]]) -> dict[str, dict[str, int]]:
    """{"method/severity": {"true": n, "insights": n}} from (method, severity, is_true)."""
    out: dict[str, dict[str, int]] = {}
    for method, severity, is_true in labelled:
        cell = out.setdefault(f"{method}/{severity}", {"true": 0, "insights": 0})
        cell["insights"] += 1
        cell["true"] += int(bool(is_true))
    return dict(sorted(out.items()))
