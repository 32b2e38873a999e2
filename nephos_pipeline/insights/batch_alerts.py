"""High and critical anomalies become ALERTS rows (``SOURCE = 'batch'``).

Why read them back from AI_INSIGHTS instead of taking the anomaly run's findings: the
``batch_alerts`` asset is then its own step with its own partitions, replayable on its
own, and the lineage shows that ALERTS gets rows from the insights, not only from the
agents. An alert's identity is the finding's fingerprint, so a re-run updates the same
row (severity and value of the latest sighting) and never adds a second one.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pandas as pd

from nephos_pipeline.sql_files import load_sql
from nephos_pipeline.warehouse import Warehouse


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _time(value: Any) -> datetime:
    """A TIMESTAMP_NTZ cell (a pandas Timestamp) as the plain datetime the connector binds."""
    return pd.Timestamp(value).to_pydatetime()


def alert_params(row: Any) -> dict[str, Any]:
    """The ``merge_batch_alert.sql`` binds for one candidate row."""
    evidence = _json(row.evidence) or {}
    instances = _json(row.affected_instances) or [None]
    return {
        "alert_id": f"nephos-{row.fingerprint}", "instance_id": instances[0],
        "created_at": _time(row.created_at), "severity": row.severity, "metric": row.metric,
        "value": evidence.get("value"), "threshold": evidence.get("baseline_center"),
        "message": f"{row.metric} {evidence.get('z')} sigma from its baseline (Nephos batch layer)",
        "loaded_at": _time(row.last_seen_at),
    }


def raise_batch_alerts(warehouse: Warehouse, start: datetime, end: datetime) -> int:
    """MERGE one alert per high/critical anomaly last seen in (start, end]; returns how many."""
    with warehouse.connection() as conn:
        rows = warehouse.query(load_sql("insights/batch_alert_candidates.sql"),
                               {"insight_type": "anomaly", "start": start, "end": end}, conn)
        merge = load_sql("insights/merge_batch_alert.sql")
        with warehouse.transaction(conn) as cur:  # a window's alerts land together or not at all
            for row in rows.itertuples(index=False):
                cur.execute(merge, alert_params(row))
    return len(rows)
