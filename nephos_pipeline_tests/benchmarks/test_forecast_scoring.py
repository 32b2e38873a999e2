"""The forecast benchmark's labels and scoring (``benchmarks/forecast_accuracy.py``), without a warehouse."""

from __future__ import annotations

from datetime import timedelta

from benchmarks import forecast_accuracy as fa


def test_never_crossing_series_stay_below_the_threshold_and_crossing_ones_cross():
    for s in fa.scenarios(range(3)):
        hourly = fa.frame(s, "i").set_index("TS")["VALUE"].resample("1h").mean()
        if s.crosses:  # the label is the trend's crossing; the daily cycle (±1.5) may cross up to ~4 h early
            assert hourly[hourly.index < s.crossing() - timedelta(hours=5)].max() < fa.THRESHOLD, s.name
            assert hourly[hourly.index > s.crossing() + timedelta(hours=1)].min() > fa.THRESHOLD - 3, s.name
        else:
            assert hourly.max() < fa.THRESHOLD - 1, s.name


def test_scoring_counts_false_forecasts_and_first_report_error():
    never = next(s for s in fa.scenarios(range(1)) if s.shape == "step")
    end = fa.START + timedelta(hours=72)
    row = fa.score_never(never, [(end, {"state": "forecast", "fit": "recent", "hours_to_threshold": 7.0,
                                        "current_value": 82.0})])
    assert row["false_forecast_windows"] == 1 and row["windows"] > 20
    leak = next(s for s in fa.scenarios(range(1)) if s.shape == "quadratic")
    first = leak.crossing() - timedelta(hours=12)
    scored = fa.score(leak, [(first, {"state": "forecast", "hours_to_threshold": 15.0, "fit": "curve",
                                      "hours_low": 10.5, "hours_high": 19.5}),
                             (leak.crossing() + timedelta(hours=6), {"state": "over_threshold"})])
    assert scored["first_report_error"] == 0.25 and scored["first_report_hours_before_crossing"] == 12.0
    assert scored["first_report_late"] and scored["first_report_truth_in_range"]  # 12 h is in 10.5-19.5
    assert scored["said_over_threshold"] and scored["future_crossing_after_over"] == 0
    summary = fa.summarise({"a": row, "b": scored})
    assert summary["never_crosses"] == {"series": 1, "series_with_false_forecast": 1, "false_forecast_windows": 1,
                                        "windows": row["windows"]}
    assert summary["accelerating"]["first_report_within_target"] == 1
