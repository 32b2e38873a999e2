"""The deterministic narrative: seed-style wording, real numbers, never a crash, never markup."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nephos_pipeline.insights.llm import LocalNarrator
from nephos_pipeline.insights.narrative import (
    DESCRIPTION_MAX,
    RECOMMENDATIONS_MAX,
    TITLE_MAX,
    deterministic_narrative,
)
from nephos_pipeline_tests.insights.samples import EVIDENCE, INJECTION, KINDS, SCRIPT, assert_safe, finding


def _safe(n) -> None:
    assert n.title and n.description and n.recommendations
    assert_safe(n.title, TITLE_MAX)
    assert_safe(n.description, DESCRIPTION_MAX)
    assert_safe(n.recommendations, RECOMMENDATIONS_MAX)
    assert n.ai_generated is False and n.model is None


def test_titles_follow_the_seed_examples():
    assert deterministic_narrative(finding("anomaly")).title == "Memory 4.2σ above normal on prod-web-01"
    assert deterministic_narrative(finding("recurring_spike")).title == (
        "Recurring daily CPU spike at 14:00 UTC on batch-worker-01"
    )
    assert deterministic_narrative(finding("prediction")).title == "Disk on db-primary reaches 90% in about 72 hours"


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_quotes_its_numbers_and_numbers_its_steps(kind):
    n = deterministic_narrative(finding(kind))
    _safe(n)
    assert n.failure is None
    assert n.recommendations.startswith("1. ") and " 2. " in n.recommendations and " 3. " in n.recommendations
    expected = {
        "anomaly": ["93.4%", "61.2%", "7.6%", "4.2σ"],
        "trend": ["40%", "50.1%", "0.42% per hour", "R² 0.91", "24 samples"],
        "correlation": ["0.87", "288 samples", "strong"],
        "recurring_spike": ["6 of 7 days", "14:00 UTC", "23.5 percentage points"],
        "recurring_alert": ["12 times", "7 days", "Disk usage 91% on /var"],
        "prediction": ["78.2%", "90%", "82.2%", "86.1%", "between 60 and 90 hours"],
        "summary": ["3 anomalies", "5 patterns", "1 prediction", "Disk on db-primary"],
    }[kind]
    for text in expected:
        assert text in n.description, (text, n.description)


def test_anomaly_mentions_a_deployment_within_the_hour_only():
    n = deterministic_narrative(finding("anomaly"))
    assert "15 minutes after a deployment to prod-web-01 (03:30 UTC)" in n.description
    assert "Review the deployment" in n.recommendations
    far = dict(EVIDENCE["anomaly"][3])
    far["context"] = {"deployments": [{"instance_id": "prod-web-01", "at": "2024-05-01T01:00:00+00:00"}]}
    n = deterministic_narrative(finding("anomaly", evidence=far))
    assert "deployment" not in n.description and "Review the deployment" not in n.recommendations


@pytest.mark.parametrize("kind", [*KINDS, "unknown_kind"])
@pytest.mark.parametrize(
    "evidence",
    [
        {},
        None,
        {"value": None, "z": None, "baseline_spread": None, "slope_per_hour": None, "r": None, "threshold": None},
        {"value": math.nan, "z": math.inf, "baseline_spread": -math.inf, "r": math.nan, "hours_to_threshold": math.nan},
        {"value": "high", "z": "4.2x", "n": [1, 2], "counts": "3", "top": "x", "metrics": "cpu", "context": "oops"},
        {"baseline_center": 5.0, "baseline_spread": 0.0, "z": None, "value": 9.0},  # zero spread
        {"start_value": 5.0, "end_value": 5.0, "n": 1, "slope_per_hour": 0.0, "r2": None},  # single point
        {"hours_to_threshold": -3, "threshold": 90, "hours_low": math.nan, "tick": "not a time", "eta": 12},
        {"context": {"deployments": [None, {"at": None}, {"at": "garbage"}], "alerts": [None, {"message": None}]}},
        {"counts": {"anomaly": math.nan, "pattern": None}, "by_severity": {"critical": "many"}, "top": [None, {}]},
    ],
)
def test_bad_evidence_gives_generic_wording_not_a_crash(kind, evidence):
    n = deterministic_narrative(finding(kind, evidence=evidence, metric=None if kind == "summary" else "cpu"))
    _safe(n)
    assert "nan" not in n.description.lower().split() and "None" not in n.description


def test_zero_spread_does_not_claim_a_sigma():
    n = deterministic_narrative(finding("anomaly", evidence={"baseline_center": 5.0, "baseline_spread": 0.0, "value": 9.0}))
    assert "σ" not in n.title and "flat at 5%" in n.description


def test_hostile_names_and_alert_messages_are_quoted_without_markup():
    evidence = dict(EVIDENCE["anomaly"][3])
    evidence["context"] = {
        "deployments": [{"instance_id": f"{SCRIPT}web", "at": "2024-05-01T03:40:00+00:00"}],
        "alerts": [{"severity": "<b>critical</b>", "message": f"{INJECTION} {SCRIPT}<img src=x onerror=alert(1)>\x1b[31m\u202e" + "x" * 500}],
    }
    hostile = f"{SCRIPT}prod\x00-web-01\n<iframe src=//evil>{INJECTION}"
    n = deterministic_narrative(finding("anomaly", evidence=evidence, subject=hostile))
    _safe(n)
    for text in (n.title, n.description, n.recommendations):
        assert "script" not in text.lower() and "iframe" not in text.lower() and "onerror" not in text.lower()
    assert len(n.title) <= TITLE_MAX
    rec = deterministic_narrative(finding("recurring_alert", evidence={**EVIDENCE["recurring_alert"][3], "example_message": SCRIPT + INJECTION}))
    _safe(rec)
    summary = deterministic_narrative(finding("summary", evidence={"counts": {"<i>x</i>": 2}, "top": [{"title": SCRIPT + "t", "severity": SCRIPT}]}))
    _safe(summary)


def test_local_narrator_is_deterministic_and_needs_nothing():
    narrator = LocalNarrator()
    findings = [finding(k) for k in KINDS]
    first, second = narrator.narrate(findings), narrator.narrate(findings)
    assert first == second and len(first) == len(KINDS)
    assert all(n.failure is None and not n.ai_generated for n in first)
    assert narrator.narrate([]) == []
    assert narrator.ping() == ("deterministic", 0.0)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=300),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)
_keys = st.sampled_from([
    "value", "z", "baseline_center", "baseline_spread", "direction", "tick", "method", "context", "slope_per_hour",
    "r2", "p_value", "start_value", "end_value", "n", "unit", "metric_a", "metric_b", "r", "hour_of_day",
    "days_elevated", "days_observed", "metrics", "mean_excess", "metric", "count", "days", "severity",
    "example_message", "current_value", "threshold", "eta", "hours_to_threshold", "hours_low", "hours_high",
    "forecast_24h", "forecast_48h", "counts", "by_severity", "top", "deployments", "alerts", "series",
])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.sampled_from([*KINDS, "other"]), evidence=st.dictionaries(_keys, _json, max_size=12),
       subject=st.text(max_size=200), metric=st.none() | st.text(max_size=40))
def test_fuzzed_evidence_never_crashes_and_stays_safe(kind, evidence, subject, metric):
    _safe(deterministic_narrative(finding(kind, evidence=evidence, subject=subject, metric=metric)))
