"""A level shift already reported as an anomaly insight is not also a rising/falling trend."""

from __future__ import annotations

import warnings
from datetime import datetime

import pandas as pd

from nephos_pipeline.analytics import patterns
from nephos_pipeline.warehouse.local import LocalWarehouse
from nephos_pipeline.warehouse.schema import ensure_schema

END = datetime(2026, 3, 10, 12)


def falling_step_stats() -> patterns.PatternStats:
    """Pattern statistics of a CPU that stepped from 40 % to 18 % in the middle of the window."""
    hours = pd.Series(range(24), dtype=float)
    values = pd.Series([40.0] * 12 + [18.0] * 12)
    x, y = hours - hours.mean(), values - values.mean()
    sxx, syy, sxy = float((x * x).sum()), float((y * y).sum()), float((x * y).sum())
    trends = pd.DataFrame([{
        "instance_id": "i-1", "metric": "cpu_usage", "n": 24, "sxx": sxx, "syy": syy, "sxy": sxy,
        "slope_per_hour": sxy / sxx, "r2": sxy * sxy / (sxx * syy), "mean_value": 29.0, "prev_mean": 40.0,
        "start_value": 40.0, "end_value": 18.0,
    }])
    empty = pd.DataFrame()
    return patterns.PatternStats(trends=trends, spikes=empty, correlations=pd.DataFrame(columns=["r"]), alerts=empty)


def test_anomaly_directions_are_read_from_ai_insights_and_suppress_the_trend(tmp_path):
    warnings.simplefilter("ignore")
    wh = LocalWarehouse(path=str(tmp_path / "wh"))
    ensure_schema(wh)
    wh.execute(
        "INSERT INTO AI_INSIGHTS (INSIGHT_ID, INSIGHT_TYPE, FINGERPRINT, SEVERITY, TITLE, DESCRIPTION, "
        "RECOMMENDATIONS, CONFIDENCE_SCORE, AFFECTED_INSTANCES, METRIC, WINDOW_START, WINDOW_END, EVIDENCE, "
        "AI_GENERATED, PROMPT_TOKENS, COMPLETION_TOKENS, CREATED_AT, LAST_SEEN_AT, EXPIRES_AT) "
        "SELECT 'a', 'anomaly', 'f', 'high', 't', 'd', 'r', 0.9, PARSE_JSON('[\"i-1\"]'), 'cpu_usage', "
        "'2026-03-10 00:00', '2026-03-10 00:15', "
        "PARSE_JSON('{\"direction\": \"below\", \"metrics\": [\"cpu_usage\", \"load_avg\"]}'), FALSE, 0, 0, "
        "'2026-03-10 00:15', '2026-03-10 11:45', '2026-03-11 11:45'"
    )
    stats = falling_step_stats()
    before = patterns.findings(stats, {}, END, patterns.PatternConfig(), {})
    assert [(f.kind, f.evidence["direction"]) for f in before] == [("trend", "falling")]
    with wh.connection() as conn:
        explained = patterns.explained_shifts(wh, conn, datetime(2026, 3, 9, 12), END)
        later = patterns.explained_shifts(wh, conn, datetime(2026, 3, 12), datetime(2026, 3, 13))
    assert explained == {("i-1", "cpu_usage", "falling"), ("i-1", "load_avg", "falling")}
    assert later == frozenset()
    assert patterns.findings(stats, {}, END, patterns.PatternConfig(), {}, explained) == []
