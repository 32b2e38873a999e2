"""Anomaly confidence is the measured precision of that kind of insight on the benchmarks."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from benchmarks.insight_precision import table
from nephos_pipeline.analytics.anomaly import precision
from nephos_pipeline.analytics.anomaly.detector import DEFAULT
from nephos_pipeline.analytics.anomaly.incidents import Incident, IncidentEvent
from nephos_pipeline.analytics.anomaly_findings import finding_for
from nephos_pipeline.insights.narrative import deterministic_narrative

RESULTS = Path(__file__).resolve().parents[3] / "benchmarks" / "results" / "insight_precision.json"


def test_the_table_in_code_is_the_committed_benchmark_run_of_the_default_detector():
    section = json.loads(RESULTS.read_text())  # written by benchmarks/detection.py
    assert section["detector"] == precision.MEASURED_BY == DEFAULT.name
    assert {k: (v["true"], v["insights"]) for k, v in section["table"].items()} == precision.MEASURED
    # ... and those insights include the ones the fleet figures count (same run, same detector).
    assert 0 < section["fleet_insights"] <= sum(n for _, n in precision.MEASURED.values())


def test_the_counting_is_per_method_and_severity():
    counted = table([("collapse", "high", True), ("collapse", "high", False), ("step_shift", "critical", True)])
    assert counted == {"collapse/high": {"true": 1, "insights": 2}, "step_shift/critical": {"true": 1, "insights": 1}}


def test_confidence_is_a_smoothed_precision_not_100_percent():
    for key, (true, total) in precision.MEASURED.items():
        method, severity = key.split("/")
        value = precision.confidence_for(method, severity)
        assert 0.0 < value < 1.0 and abs(value - (true + 1) / (total + 2)) < 0.006
    values = {precision.confidence_for(*k.split("/")) for k in precision.MEASURED}
    assert len(values) > 2  # it says something: kinds of insight differ
    # A severity never measured falls back to its method, an unknown method to all insights.
    novelty = [v for k, v in precision.MEASURED.items() if k.startswith("peak_novelty/")]
    assert "peak_novelty/low" not in precision.MEASURED
    assert precision.confidence_for("peak_novelty", "low") == round(
        (sum(t for t, _ in novelty) + 1) / (sum(n for _, n in novelty) + 2), 2)
    assert 0.0 < precision.confidence_for("no_such_path", "high") < 1.0


def test_an_anomaly_insight_carries_the_measured_confidence():
    tick = pd.Timestamp("2026-02-05 12:00").to_pydatetime()
    inc = Incident(fingerprint="f", instance_id="i-1", metric="network_in", first_tick=tick, last_tick=tick,
                   peak_z=-1.0, peak_value=10.0, direction="low", baseline_centre=5000.0, baseline_spread=900.0,
                   baseline_points=2016.0, usual_level=5000.0, method="collapse")
    finding = finding_for(IncidentEvent("created", tick, inc), {}, {"deployments": [], "alerts": []}, [])
    assert finding.severity == "high"  # a counter at 0.2 % of its usual level, whatever its z
    assert finding.confidence == precision.confidence_for("collapse", "high")
    true, total = precision.MEASURED["collapse/high"]
    assert finding.evidence["confidence_basis"] == {"true": true, "insights": total}
    text = deterministic_narrative(finding).description
    assert f"{true} of {total} insights like this were real incidents" in text
    assert "Found as a fall below anything seen that week." in text
