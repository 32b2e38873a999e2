"""An anomaly in the hour of a known recurring daily spike is not raised again."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from nephos_pipeline.analytics import anomaly_findings
from nephos_pipeline.ingest import buckets
from nephos_pipeline.insights.findings import Finding
from nephos_pipeline.insights.llm.local import LocalNarrator
from nephos_pipeline.insights.store import save_findings

DAY2 = datetime(2026, 3, 3)


def load_series(wh):
    rng = np.random.default_rng(1)
    ts = pd.date_range(DAY2 - timedelta(days=2), DAY2 + timedelta(hours=15), freq="1min")
    values = 10 + rng.normal(0, 0.5, len(ts))
    values[(ts >= DAY2 + timedelta(hours=14, minutes=2)) & (ts < DAY2 + timedelta(hours=14, minutes=20))] = 90.0
    df = pd.DataFrame({"INSTANCE_ID": "i-batch", "TS": ts, "METRIC": "cpu_usage", "VALUE": values, "LOADED_AT": DAY2})
    with wh.connection() as conn:
        wh.write_frame(conn, df, "METRICS")
        buckets.rebuild(wh, conn)  # written directly, not through the load


def spike_pattern(hour: int) -> Finding:
    return Finding(
        kind="recurring_spike", insight_type="pattern", fingerprint=f"spike-{hour}", severity="medium",
        confidence=0.9, affected_instances=("i-batch",), subject="batch-worker-01", metric="cpu_usage",
        window_start=DAY2 - timedelta(days=1), window_end=DAY2,
        evidence={"hour_of_day": hour, "metrics": ["cpu_usage"], "days_elevated": 5},
    )


def anomalies(wh):
    first, last = DAY2 + timedelta(hours=13, minutes=15), DAY2 + timedelta(hours=15)
    found, stats = anomaly_findings.analyse(wh, first, last)
    return found, stats


def one_insight(found: list[Finding]) -> bool:
    """One CPU insight: the 18-minute spike flags its 14:15 window (novelty) and, as a rise
    held into the 14:30 window, that one too (step); the second is an update of the same
    insight (same fingerprint, upserted), not a new one."""
    return {(f.fingerprint, f.metric) for f in found} == {(found[0].fingerprint, "cpu_usage")} if found else False


def test_spike_is_an_anomaly_without_a_known_pattern(warehouse):
    load_series(warehouse)
    save_findings(warehouse, LocalNarrator(), [spike_pattern(3)])  # a pattern at another hour
    found, _ = anomalies(warehouse)
    assert one_insight(found)


def test_spike_in_a_known_recurring_hour_is_not_raised(warehouse):
    load_series(warehouse)
    save_findings(warehouse, LocalNarrator(), [spike_pattern(14)])  # created before the spike day
    found, stats = anomalies(warehouse)
    assert found == [] and stats["expected_recurring_spikes_skipped"] == 1


def test_a_pattern_found_after_the_spike_does_not_hide_it(warehouse):
    load_series(warehouse)
    late = spike_pattern(14)
    late = Finding(**{**late.__dict__, "window_start": DAY2 + timedelta(hours=14, minutes=30),
                      "window_end": DAY2 + timedelta(hours=14, minutes=45)})
    save_findings(warehouse, LocalNarrator(), [late])
    found, stats = anomalies(warehouse)
    assert one_insight(found) and stats["expected_recurring_spikes_skipped"] == 0
