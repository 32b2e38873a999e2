"""The executive summary of what is active now (what GET /insights/summary serves)."""

from __future__ import annotations

import json
from datetime import datetime

import pandas as pd

from nephos_pipeline.analytics.common import fingerprint
from nephos_pipeline.insights.findings import SEVERITIES, Finding
from nephos_pipeline.sql_files import load_sql
from nephos_pipeline.warehouse import Warehouse


def active_insights(warehouse: Warehouse, at: datetime) -> pd.DataFrame:
    return warehouse.query(load_sql("insights/active_insights.sql"), {"at": at})


def summary_finding(active: pd.DataFrame, at: datetime, window_start: datetime) -> Finding:
    counts = active.insight_type.value_counts().to_dict() if not active.empty else {}
    by_sev = active.severity.value_counts().to_dict() if not active.empty else {}
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    worst = max(by_sev, key=lambda s: rank.get(s, 0)) if by_sev else "low"
    top = []
    if not active.empty:
        ordered = active.assign(r=active.severity.map(rank).fillna(0)).sort_values(
            ["r", "created_at", "insight_id"], ascending=[False, False, True])
        for row in ordered.head(5).itertuples(index=False):
            top.append({"title": row.title, "severity": row.severity, "type": row.insight_type,
                        "subject": row.metric or ""})
    instances: list[str] = []
    for raw in active.affected_instances if not active.empty else []:
        items = json.loads(raw) if isinstance(raw, str) else (raw or [])
        instances += [str(i) for i in items if str(i) not in instances]
    return Finding(
        kind="summary", insight_type="summary", fingerprint=fingerprint("summary", at.isoformat()),
        severity=worst, confidence=1.0, affected_instances=tuple(instances[:50]), subject="fleet", metric=None,
        window_start=window_start, window_end=at,
        evidence={"counts": {k: int(v) for k, v in counts.items()},
                  "by_severity": {k: int(v) for k, v in by_sev.items()}, "top": top, "total": int(len(active))},
    )
