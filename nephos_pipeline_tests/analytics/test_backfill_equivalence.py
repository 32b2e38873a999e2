"""A backfill of anomaly partitions gives the same insights as running them one by one."""

from __future__ import annotations

from datetime import timedelta

from nephos_pipeline.analytics import anomaly_findings
from nephos_pipeline.insights.llm.local import LocalNarrator
from nephos_pipeline.insights.store import save_findings
from nephos_pipeline_tests.analytics.conftest import END, clone

STEP = timedelta(minutes=15)


def insights(wh):
    df = wh.query("SELECT * FROM AI_INSIGHTS WHERE INSIGHT_TYPE = 'anomaly'")
    return df.sort_values("insight_id").reset_index(drop=True).astype(str)


def test_range_equals_tick_by_tick(loaded_fleet_dir, tmp_path):
    end = END.replace(tzinfo=None, minute=0)
    start = end - timedelta(hours=8)  # covers the deployment spike 6-7 h before END
    ranged = clone(loaded_fleet_dir, tmp_path / "ranged")
    found, _ = anomaly_findings.analyse(ranged, start + STEP, end)
    save_findings(ranged, LocalNarrator(), found)

    stepped = clone(loaded_fleet_dir, tmp_path / "stepped")
    tick = start + STEP
    while tick <= end:
        found, _ = anomaly_findings.analyse(stepped, tick, tick)
        save_findings(stepped, LocalNarrator(), found)
        tick += STEP
    a, b = insights(ranged), insights(stepped)
    assert len(a) >= 1
    assert a.drop(columns=["evidence"]).equals(b.drop(columns=["evidence"]))
