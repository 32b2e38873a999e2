"""Each partition of a ranged insight run carries its own insights; the last one, the active ones."""

from __future__ import annotations

from datetime import timedelta

from nephos_pipeline.metadata import md_text
from nephos_pipeline.runner import Runner
from nephos_pipeline_tests.analytics.conftest import END, analytics_resources


def test_a_ranged_anomaly_run_lists_each_insight_on_its_own_partition(fleet_warehouse):
    runner = Runner(analytics_resources(fleet_warehouse), log_level="WARNING")
    end = END.replace(tzinfo=None, minute=0)
    runner.run(["metric_rollups"], None)
    result = runner.run(["anomaly_insights"], runner.parts.quarter_hourly, end - timedelta(hours=8), end)
    events = result.asset_materializations_for_node("anomaly_insights")
    assert len(events) == 32  # 8 hours of quarter-hour partitions, one materialization each
    meta = {e.partition: e.metadata for e in events}
    with_new = [p for p, m in meta.items() if m["insights_created"].value]
    assert with_new, "the deployment memory spike is in this range"
    created = fleet_warehouse.query("SELECT TITLE, CREATED_AT FROM AI_INSIGHTS WHERE INSIGHT_TYPE = 'anomaly'")
    assert sum(meta[p]["insights_created"].value for p in meta) == len(created)
    for partition, m in meta.items():
        table = m["insights"].value
        if partition in with_new:
            # Titled as narrated when first detected (the stored title follows later numbers).
            assert table.count("| anomaly |") == m["insights_created"].value and "prod-web-01" in table
        else:
            assert table == "_no new insights in this partition_"
        assert m["llm_calls"].value == 0  # the local narrator calls no model
    last = max(meta)
    assert "active_insights" in meta[last] and "active_insights" not in meta[min(meta)]
    assert all(md_text(title, 160) in meta[last]["active_insights"].value for title in created.title)
