"""The product's promises, on the simulator's deterministic scenarios (issue: analytics)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from nephos_pipeline.runner import Runner
from nephos_pipeline_tests.analytics.conftest import END, analytics_resources

END_NAIVE = END.replace(tzinfo=None)


@pytest.fixture(scope="module")
def analysed(loaded_fleet_dir, tmp_path_factory):
    from nephos_pipeline_tests.analytics.conftest import clone

    wh = clone(loaded_fleet_dir, tmp_path_factory.mktemp("analysed") / "warehouse")
    runner = Runner(analytics_resources(wh), log_level="WARNING")
    runner.analyse(END_NAIVE, anomaly_hours=24)
    insights = wh.query("SELECT * FROM AI_INSIGHTS")
    insights["affected"] = [json.loads(a) if isinstance(a, str) else list(a) for a in insights.affected_instances]
    insights["ev"] = [json.loads(e) for e in insights.evidence]
    return wh, runner, insights


def of(insights, instance_id, insight_type):
    mask = insights.affected.map(lambda a: instance_id in a) & (insights.insight_type == insight_type)
    return insights[mask]


def test_daily_spike_is_a_recurring_pattern_with_cpu_memory_correlation(analysed, truth):
    _, _, insights = analysed
    iid = truth.instance_ids[truth.spike_host]
    patterns = of(insights, iid, "pattern")
    spikes = [r for r in patterns.itertuples() if r.ev.get("hour_of_day") == truth.spike_hour]
    assert spikes, patterns.title.tolist()
    spike = spikes[0]
    assert {"cpu_usage", "memory_usage"} <= set(spike.ev["metrics"])
    assert "14:00" in spike.title and truth.spike_host in spike.title
    corr = spike.ev.get("correlation") or {}
    correlations = [r for r in patterns.itertuples() if r.ev.get("metric_a") and r.ev.get("metric_b")]
    pairs = {(c.ev["metric_a"], c.ev["metric_b"]) for c in correlations}
    assert corr.get("r", 0) >= 0.7 or ("cpu_usage", "memory_usage") in pairs


def test_post_deployment_memory_spike_is_an_anomaly_within_15_minutes(analysed, truth):
    _, _, insights = analysed
    iid = truth.instance_ids[truth.deploy_host]
    anomalies = of(insights, iid, "anomaly")
    memory = anomalies[anomalies.metric == "memory_usage"]
    assert len(memory) == 1, anomalies[["metric", "title"]].to_dict("records")
    row = memory.iloc[0]
    start = truth.memory_spike_start.replace(tzinfo=None)
    assert start <= row.created_at <= start + timedelta(minutes=15)
    assert abs(row.ev["z"]) >= 3
    assert "deploy" in row.description.lower()


def test_high_severity_anomaly_is_also_an_alert(analysed, truth):
    wh, _, insights = analysed
    iid = truth.instance_ids[truth.deploy_host]
    alerts = wh.query("SELECT * FROM ALERTS WHERE SOURCE = 'batch'")
    assert iid in alerts.instance_id.tolist()
    assert set(alerts.severity) <= {"high", "critical"}
    high = insights[(insights.insight_type == "anomaly") & insights.severity.isin(["high", "critical"])]
    assert len(alerts) == len(high)


def test_disk_growth_prediction_time_to_90_within_20_percent(analysed, truth):
    _, _, insights = analysed
    iid = truth.instance_ids[truth.disk_host]
    preds = of(insights, iid, "prediction")
    disk = preds[preds.metric == "disk_usage"]
    assert len(disk) == 1
    row = disk.iloc[0]
    true_hours = (truth.disk_crossing_at.replace(tzinfo=None) - row.window_end).total_seconds() / 3600
    assert abs(row.ev["hours_to_threshold"] - true_hours) <= 0.2 * true_hours
    assert row.ev["hours_low"] <= row.ev["hours_to_threshold"] <= (row.ev["hours_high"] or 1e9)


def test_control_host_gets_no_anomaly_or_prediction(analysed, truth):
    _, _, insights = analysed
    iid = truth.instance_ids[truth.control_host]
    assert of(insights, iid, "anomaly").empty
    assert of(insights, iid, "prediction").empty


def test_summary_counts_the_active_insights(analysed):
    _, _, insights = analysed
    summary = insights[insights.insight_type == "summary"]
    assert len(summary) == 1
    at = summary.iloc[0].window_end
    others = insights[insights.insight_type != "summary"]
    active = others[(others.created_at <= at) & (others.expires_at > at)]
    assert summary.iloc[0].ev["total"] == len(active) >= 2
    assert summary.iloc[0].ev["counts"] == active.insight_type.value_counts().to_dict()


def test_rerunning_partitions_leaves_ai_insights_unchanged(analysed):
    wh, runner, _ = analysed
    before = wh.query("SELECT * FROM AI_INSIGHTS").sort_values("insight_id").reset_index(drop=True).astype(str)
    runner.analyse(END_NAIVE, anomaly_hours=24)
    after = wh.query("SELECT * FROM AI_INSIGHTS").sort_values("insight_id").reset_index(drop=True).astype(str)
    assert after.equals(before)
