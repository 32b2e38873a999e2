"""Chart planning and drawing without a warehouse: windows, resolutions, lines, escaping."""

from __future__ import annotations

from datetime import datetime, timedelta

from nephos_pipeline.api.chart_plan import chart_metrics, evidence_series, plan_chart
from nephos_pipeline.api.chart_svg import chart_svg
from nephos_pipeline_tests.api.conftest import XSS

NOW = datetime(2026, 5, 1, 12, 0)
TICK = datetime(2026, 5, 1, 9, 0)


def insight(kind: str, evidence: dict, instances: list[str] | None = None) -> dict:
    return {"id": f"id-{kind}", "type": kind, "affectedInstances": ["i-1"] if instances is None else instances,
            "createdAt": "2026-05-01T09:00:00.000Z", "evidence": evidence}


def test_an_anomaly_is_charted_at_15_minutes_around_its_window_with_its_threshold() -> None:
    ev = {"metric": "cpu_usage", "tick": "2026-05-01T09:00:00", "last_tick": "2026-05-01T09:30:00",
          "baseline_center": 40.0, "baseline_spread": 5.0, "direction": "above"}
    plan = plan_chart(insight("anomaly", ev), NOW)
    assert plan is not None and plan.resolution == "15-minute" and plan.envelope
    assert plan.highlights == [(TICK - timedelta(minutes=15), TICK + timedelta(minutes=30))]
    assert plan.start == TICK - timedelta(hours=6, minutes=15) and plan.end == TICK + timedelta(hours=2, minutes=30)
    assert [(s.metric, s.bucket_s) for s in plan.series] == [("cpu_usage", 900)]
    assert plan.thresholds == [(55.0, "3\u03c3 threshold")] and plan.baseline == 40.0
    below = plan_chart(insight("anomaly", {**ev, "direction": "below", "threshold": 12.5}), NOW)
    assert below.thresholds == [(12.5, "threshold")] and below.peak_direction == "below"
    early = plan_chart(insight("anomaly", ev), TICK + timedelta(hours=1))  # viewed as of an hour after
    assert early.end == TICK + timedelta(hours=1)


def test_a_prediction_forecast_reaches_the_threshold_at_the_eta_with_its_range() -> None:
    ev = {"metric": "disk_usage", "threshold": 90.0, "current_value": 76.0, "slope_per_hour": 0.2,
          "eta": "2026-05-04T10:00:00+00:00", "hours_to_threshold": 70.0, "hours_low": 60.0, "hours_high": 85.0}
    plan = plan_chart(insight("prediction", ev), NOW)
    anchor = datetime(2026, 5, 1, 12, 0)
    assert plan.forecast == [(anchor, 76.0), (anchor + timedelta(hours=70), 90.0)]
    assert plan.cone == [(anchor, 76.0), (anchor + timedelta(hours=60), 90.0), (anchor + timedelta(hours=85), 90.0)]
    assert plan.thresholds == [(90.0, "threshold")] and plan.end == anchor + timedelta(hours=85)
    assert plan.start == anchor - timedelta(hours=72) and plan.series[0].bucket_s == 3600
    flat = plan_chart(insight("prediction", {**ev, "slope_per_hour": -0.1}), NOW)
    assert flat.forecast == [] and flat.thresholds == [(90.0, "threshold")]
    over = plan_chart(insight("prediction", {"metric": "disk_usage", "state": "over_threshold", "threshold": 90.0,
                                             "current_value": 93.5, "slope_per_hour": 0.3}), NOW)
    assert over.forecast == [] and over.thresholds == [(90.0, "threshold")]


def test_both_metrics_of_a_correlation_are_charted_wherever_the_evidence_names_them() -> None:
    assert chart_metrics({"metric": "cpu_usage", "metric_a": "cpu_usage", "metric_b": "load_avg"}) == [
        "cpu_usage", "load_avg"]
    assert chart_metrics({"metric": "cpu_usage", "correlation": {"metric_a": "cpu_usage", "metric_b": "memory_usage"}}) == [
        "cpu_usage", "memory_usage"]
    assert chart_metrics({"metric": "cpu_usage", "metrics": ["cpu_usage", "load_avg", "cpu_usage"]}) == [
        "cpu_usage", "load_avg"]
    assert chart_metrics({"metric": "cpu_usage", "metrics": ["cpu_usage"]}) == ["cpu_usage"]
    folded = {"metric": "memory_usage", "correlated_with": [{"metric": "cpu_usage", "r": 0.81},
                                                            {"metric": "load_avg", "r": -0.93}, "junk"]}
    assert chart_metrics(folded) == ["memory_usage", "load_avg"]
    assert chart_metrics({"metric_a": "x", "metric_b": "x", "metric": None}) == []
    assert plan_chart(insight("pattern", {"metric": "cpu_usage"}, instances=[]), NOW) is None


def test_gaps_split_the_line_and_the_stored_series_is_the_fallback() -> None:
    ev = {"metric": "cpu_usage", "series": [["2026-05-01T06:00:00Z", 20.0], ["2026-05-01T07:00:00Z", 22.0],
                                            ["garbage", 1.0], ["2026-05-01T08:00:00Z", float("inf")], "junk"]}
    plan = plan_chart(insight("pattern", ev), NOW)
    assert [v for _, v in evidence_series(ev)] == [20.0, 22.0]
    hours = [plan.start + timedelta(hours=h) for h in range(1, 9)]
    data = {plan.series[0].key: [(t, 10.0 + i, 9.0, 11.0 + i) for i, t in enumerate(hours) if i not in (3, 4, 5)]}
    svg, legend = chart_svg(plan, data)
    assert svg.count("<polyline") == 2  # three silent hours: two segments, not one line across the gap
    stored, notes = chart_svg(plan_chart(insight("pattern", ev), NOW), {})
    assert stored.count("<polyline") == 1 and any("stored with the insight" in n for n in notes)


def test_labels_are_escaped_and_garbage_draws_nothing() -> None:
    assert chart_svg(plan_chart(insight("pattern", {"metric": "cpu_usage", "series": "nope"}), NOW), {})[0] == ""
    hostile = plan_chart(insight("pattern", {"metric": f"<b>{XSS}</b>"}, instances=[XSS]), NOW)
    hours = [hostile.start + timedelta(hours=h) for h in range(1, 5)]
    svg, legend = chart_svg(hostile, {hostile.series[0].key: [(t, 1.0, 1.0, 1.0) for t in hours]})
    assert "<script" not in svg and "&lt;script&gt;" in svg and "<b>" not in svg
    assert legend and not any("<" in entry for entry in legend)  # and the page escapes it again


def test_the_mark_sits_on_the_value_the_text_quotes_whichever_statistic_it_is() -> None:
    ev = {"metric": "cpu_usage", "tick": "2026-05-01T09:00:00", "direction": "above"}
    ticks = [TICK + timedelta(minutes=15 * k) for k in range(-8, 4)]
    data = [(t, 30.0, 25.0, 40.0) for t in ticks]
    data[8] = (TICK, 47.5, 31.0, 95.6)  # the detected window: mean 47.5, one sample at 95.6
    cases = ((95.6, "peak 95.6%"), (47.5, "peak 47.5%"), (88.2, "peak 88.2%"),  # max, mean, a robust high
             (None, "peak 95.6%"), (99.0, "peak 95.6%"))  # nothing quoted, or no window holds it
    for quoted, label in cases:
        plan = plan_chart(insight("anomaly", {**ev, "value": quoted}), NOW)
        svg, _ = chart_svg(plan, {plan.series[0].key: data})
        assert svg.count('class="peak"') == 1 and label in svg, (quoted, svg)


def test_a_past_view_charts_nothing_after_the_moment_viewed() -> None:
    """as_of: the row's evidence may be from a later sighting; its chart still ends at as_of."""
    then = datetime(2026, 4, 28, 12, 0)
    series = [[f"2026-05-01T{h:02d}:00:00Z", 50.0 + h] for h in range(12)]
    pattern = plan_chart(insight("pattern", {"metric": "cpu_usage", "series": series}), then)
    assert pattern.end == then and all(s.end == then for s in pattern.series) and pattern.fallback == []
    ev = {"metric": "disk_usage", "threshold": 90.0, "current_value": 76.0, "slope_per_hour": 0.2,
          "eta": "2026-05-04T10:00:00+00:00", "hours_to_threshold": 70.0, "series": series}
    prediction = plan_chart(insight("prediction", ev), then)
    assert prediction.end == then and prediction.forecast == [] and prediction.thresholds == [(90.0, "threshold")]
    anomaly = plan_chart(insight("anomaly", {"metric": "cpu_usage", "tick": "2026-05-01T09:00:00",
                                             "last_tick": "2026-05-01T11:00:00"}), TICK + timedelta(minutes=30))
    assert anomaly.end == TICK + timedelta(minutes=30)
