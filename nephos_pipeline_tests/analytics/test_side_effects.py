"""Batch alerts and archiving as assets of their own: what they write, per partition, re-runnable."""

from dataclasses import replace
from datetime import datetime, timedelta

import dagster as dg

from nephos_pipeline.analytics.assets import build_analytics_assets
from nephos_pipeline.insights.findings import Finding
from nephos_pipeline.insights.llm.local import LocalNarrator
from nephos_pipeline.insights.store import save_findings
from nephos_pipeline.partitions import Partitions

T0 = datetime(2026, 3, 1, 12, 0)
PARTS = Partitions.build({"NEPHOS_PARTITIONS_START": "2026-02-01-00:00"})


def anomaly(fp: str, severity: str, at: datetime, metric: str | None = "memory_usage") -> Finding:
    return Finding(kind="anomaly" if metric else "silence", insight_type="anomaly", fingerprint=fp,
                   severity=severity, confidence=0.9, affected_instances=("i-1",), subject="web-01", metric=metric,
                   window_start=at - timedelta(minutes=15), window_end=at, first_seen_at=at - timedelta(minutes=15),
                   evidence={"value": 95.0, "baseline_center": 48.0, "baseline_spread": 3.0, "z": 4.2})


def _asset(name: str) -> dg.AssetsDefinition:
    return next(a for a in build_analytics_assets(PARTS) if a.key.path[-1] == name)


def _materialize(name: str, key: str, warehouse) -> dg.ExecuteInProcessResult:
    result = dg.materialize([_asset(name)], partition_key=key, resources={"warehouse": warehouse})
    assert result.success
    return result


def test_batch_alerts_are_the_high_anomalies_last_seen_in_the_window(warehouse) -> None:
    save_findings(warehouse, LocalNarrator(), [
        anomaly("high", "high", T0), anomaly("critical", "critical", T0 - timedelta(minutes=15)),
        anomaly("medium", "medium", T0), anomaly("silent", "high", T0, metric=None),  # a silence is no alert
        anomaly("later", "critical", T0 + timedelta(minutes=15)),  # the next window's
    ])
    result = _materialize("batch_alerts", "2026-03-01-11:45", warehouse)  # window (11:45, 12:00]
    assert result.asset_materializations_for_node("batch_alerts")[0].metadata["batch_alerts"].value == 1
    _materialize("batch_alerts", "2026-03-01-11:30", warehouse)
    _materialize("batch_alerts", "2026-03-01-11:45", warehouse)  # a re-run adds nothing
    alerts = warehouse.query("SELECT ALERT_ID, INSTANCE_ID, SEVERITY, VALUE, THRESHOLD, MESSAGE, SOURCE, CREATED_AT "
                             "FROM ALERTS ORDER BY ALERT_ID")
    assert alerts.alert_id.tolist() == ["nephos-critical", "nephos-high"]
    assert set(alerts.source) == {"batch"} and set(alerts.instance_id) == {"i-1"}
    high = alerts[alerts.alert_id == "nephos-high"].iloc[0]
    assert (high.value, high.threshold, high.created_at) == (95.0, 48.0, T0 - timedelta(minutes=15))
    assert high.message == "memory_usage 4.2 sigma from its baseline (Nephos batch layer)"


def test_a_later_sighting_updates_the_same_alert(warehouse) -> None:
    save_findings(warehouse, LocalNarrator(), [anomaly("inc", "high", T0)])
    _materialize("batch_alerts", "2026-03-01-11:45", warehouse)
    later = anomaly("inc", "critical", T0 + timedelta(minutes=15))
    save_findings(warehouse, LocalNarrator(), [replace(later, evidence={**later.evidence, "value": 99.0})])
    _materialize("batch_alerts", "2026-03-01-12:00", warehouse)
    alerts = warehouse.query("SELECT ALERT_ID, SEVERITY, VALUE FROM ALERTS")
    assert alerts.values.tolist() == [["nephos-inc", "critical", 99.0]]


def test_insights_archive_moves_what_expired_a_day_before_its_window_ends(warehouse) -> None:
    old, recent = anomaly("old", "high", T0 - timedelta(days=3)), anomaly("recent", "high", T0)
    save_findings(warehouse, LocalNarrator(), [old, recent])  # anomalies live 1 day
    result = _materialize("insights_archive", "2026-03-01-06:00", warehouse)  # ends 03-01 12:00: expired before 02-28 12:00
    assert result.asset_materializations_for_node("insights_archive")[0].metadata["archived_expired"].value == 1
    assert warehouse.query("SELECT FINGERPRINT FROM AI_INSIGHTS").fingerprint.tolist() == ["recent"]
    assert warehouse.query("SELECT FINGERPRINT FROM AI_INSIGHTS_ARCHIVE").fingerprint.tolist() == ["old"]
