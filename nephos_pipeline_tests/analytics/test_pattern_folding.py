"""Correlations are folded into the pattern they explain, not listed as insights of their own."""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from nephos_pipeline.analytics import patterns
from nephos_pipeline.insights.narrative import deterministic_narrative

END = datetime(2026, 3, 8, 12)


def stats() -> patterns.PatternStats:
    trends = pd.DataFrame([{"instance_id": "i-1", "metric": "cpu_usage", "n": 24, "sxx": 1150.0, "syy": 530.0,
                            "sxy": 780.0, "slope_per_hour": 0.678, "r2": 0.998, "mean_value": 60.0, "prev_mean": 35.0,
                            "start_value": 45.0, "end_value": 61.0}])
    spikes = pd.DataFrame([{"instance_id": "i-1", "metric": m, "hour_of_day": 14, "days_elevated": 6,
                            "mean_excess": e, "last_day": END} for m, e in (("cpu_usage", 23.5), ("network_in", 4e6))])
    correlations = pd.DataFrame([{"instance_id": "i-1", "metric_a": "cpu_usage", "metric_b": "load_avg", "r": 0.93,
                                  "n": 1440},
                                 {"instance_id": "i-1", "metric_a": "cpu_usage", "metric_b": "network_in", "r": 0.81,
                                  "n": 1440}])
    alerts = pd.DataFrame(columns=["instance_id", "metric", "alert_count", "days", "max_severity", "example_message"])
    return patterns.PatternStats(trends=trends, spikes=spikes, correlations=correlations, alerts=alerts)


def test_correlations_are_evidence_of_trends_and_spikes_not_insights():
    found = patterns.findings(stats(), {"i-1": "web-01"}, END, patterns.PatternConfig(), {})
    assert sorted(f.kind for f in found) == ["recurring_spike", "trend"]
    trend = next(f for f in found if f.kind == "trend")
    assert trend.evidence["correlated_with"][0] == {"metric": "load_avg", "r": 0.93}
    words = deterministic_narrative(trend)
    assert words.title == "CPU rising on web-01" and "It moves with Load (r = 0.93)" in words.description
    assert "R² > 0.99" in words.description and "R² 1" not in words.description
    spike = next(f for f in found if f.kind == "recurring_spike")
    text = deterministic_narrative(spike).description
    assert "23.5 percentage points (CPU)" in text and "4,000,000 bytes/s (Network in)" in text
    assert "move together here (r = 0.81)" in text
    assert 0 < spike.confidence < 1 and spike.confidence == round(7 / 9, 3)  # 6 of 7 days, Laplace
