"""The step and collapse paths (``shifts.py``) on hand-made score rows, and the same-hour hold."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from nephos_pipeline.analytics.anomaly import shifts
from nephos_pipeline.analytics.anomaly.detector import (
    DEFAULT,
    NOVELTY_SEASONAL,
    NOVELTY_STEP,
    NOVELTY_STEP_WEEKDAY,
    flag,
    lookback_ticks,
)
from nephos_pipeline.analytics.anomaly.incidents import Incident

T0 = pd.Timestamp("2026-02-05 12:00")


def rows(values: list[float], *, same_hour: tuple[float, float, float] = (30.0, 40.0, 50.0), spread: float = 0.05,
         baseline_hours: float = 48.0, seasonal_buckets: float = 8.0, baseline_low: float = 5.0,
         weekday_low: float | None = None, weekday_buckets: float | None = None,
         start: pd.Timestamp = T0) -> pd.DataFrame:
    """Score rows of one series, one per tick: window mean ``values``, its low/high within ``spread``.

    The same hour's lowest mean on weekdays is the lowest of every day unless ``weekday_low``
    says otherwise (a trailing week with a quieter weekend in it)."""
    v = np.asarray(values, float)
    low, centre, high = same_hour
    n = len(v)
    return pd.DataFrame({
        "tick": pd.date_range(start, periods=n, freq="15min"), "instance_id": "i-1", "metric": "cpu_usage",
        "seasonal_weekday_low": low if weekday_low is None else weekday_low,
        "seasonal_weekday_buckets": seasonal_buckets if weekday_buckets is None else weekday_buckets,
        "value": v, "window_low": v * (1 - spread), "window_high": v * (1 + spread), "window_min": v * 0.9,
        "window_max": v * 1.1, "seasonal_low": low, "seasonal_centre": centre, "seasonal_high": high,
        "seasonal_spread": 2.0, "seasonal_buckets": seasonal_buckets, "seasonal_mean": centre, "seasonal_std": 3.0,
        "baseline_hours": baseline_hours, "baseline_points": 576.0, "median_centre": 30.0, "mad_spread": 5.0,
        "mean_centre": 30.0, "std_spread": 10.0, "peak_mean": 45.0, "peak_std": 10.0, "trough_mean": 20.0,
        "trough_std": 5.0, "baseline_high": 100.0, "baseline_low": baseline_low,
    })


def hits(frame: pd.DataFrame, config=DEFAULT) -> list[int]:
    return list(np.flatnonzero(shifts.step_shift(frame, config)["hit"]))


def test_a_resize_is_a_step_out_of_the_same_hour_range_after_three_windows():
    frame = rows([40.0] * 6 + [15.0] * 5)  # the hour before at 40, then 15: below 30 / 1.5 and 40 / 1.5
    assert hits(frame) == [8, 9, 10]  # the third window in a row, and on while it holds
    flagged = flag(frame, DEFAULT)
    assert list(flagged["method"].unique()) == ["step_shift"] and flagged["direction"].eq("low").all()


def test_a_resize_at_night_is_a_fall_at_its_own_smaller_ratio():
    # Night CPU at 10 (same hour 8-12 on the previous days), resized to 55 %: the window high
    # (5.8) times 1.5 is not below the night's lowest mean (8), times 1.3 it is.
    frame = rows([10.0] * 6 + [5.5] * 5, same_hour=(8.0, 10.0, 12.0))
    assert hits(frame) == [8, 9, 10]
    assert hits(frame, NOVELTY_STEP) == []  # the previous default: 1.5 for falls too
    assert hits(rows([10.0] * 6 + [7.0] * 5, same_hour=(8.0, 10.0, 12.0))) == []  # 70 %: inside the noise


def test_a_weekend_morning_below_the_weekdays_is_not_a_step():
    # The ramp that did not happen: below the same hour's weekday range, but at the level of
    # the hour before it, so nothing stepped.
    frame = rows([15.0] * 12)
    assert hits(frame) == []


def test_a_weekday_resize_is_judged_against_the_weekdays_not_the_weekend():
    # Thursday afternoon at 60; the same hour's lowest mean was 25 (last Sunday) and 55 on
    # weekdays. A resize to 45 % (27) is not 1.3 times below the Sunday, it is below the weekdays.
    frame = rows([60.0] * 6 + [27.0] * 5, same_hour=(25.0, 58.0, 64.0), weekday_low=55.0)
    assert hits(frame) == []  # the default: found only hours later
    assert hits(frame, NOVELTY_STEP_WEEKDAY) == [8, 9, 10]
    # With less than a day's worth of weekday windows (4) in the week, every day's low.
    assert hits(rows([60.0] * 6 + [27.0] * 5, same_hour=(25.0, 58.0, 64.0), weekday_low=55.0,
                     weekday_buckets=3), NOVELTY_STEP_WEEKDAY) == []


def test_a_quiet_weekend_is_still_judged_against_every_day():
    # Saturday afternoon: the weekend's office hours end (40 to 20), a level last Sunday had
    # (same hour's lowest mean 18) but far below the weekdays (55). Not a fall: on a weekend
    # the weekdays' range does not apply.
    saturday = pd.Timestamp("2026-02-07 16:00")
    frame = rows([40.0] * 6 + [20.0] * 5, same_hour=(18.0, 50.0, 64.0), weekday_low=55.0, start=saturday)
    assert hits(frame, NOVELTY_STEP_WEEKDAY) == []
    weekday = rows([40.0] * 6 + [20.0] * 5, same_hour=(18.0, 50.0, 64.0), weekday_low=55.0)  # a Thursday: a fall
    assert hits(weekday, NOVELTY_STEP_WEEKDAY) == [8, 9, 10]
    # The day is the window's start: the window ending at Saturday 00:00 is still Friday's.
    edge = rows([40.0] * 6 + [20.0] * 5, same_hour=(18.0, 50.0, 64.0), weekday_low=55.0,
                start=pd.Timestamp("2026-02-06 22:00"))
    assert hits(edge, NOVELTY_STEP_WEEKDAY) == [8]  # Friday up to the window (23:45, 00:00]; Saturday after it


def test_a_fall_inside_the_same_hour_range_or_too_small_is_not_a_step():
    assert hits(rows([40.0] * 6 + [32.0] * 5)) == []  # inside [30, 50]
    assert hits(rows([40.0] * 6 + [24.0] * 5)) == []  # below 30 but not by a factor 1.5


def test_a_night_surge_is_a_step_up_after_two_windows_and_a_burst_is_not():
    surge = rows([10.0] * 6 + [90.0] * 2 + [10.0] * 3, same_hour=(8.0, 10.0, 12.0))
    assert hits(surge) == [7]
    burst = rows([10.0] * 6 + [90.0] + [10.0] * 4, same_hour=(8.0, 10.0, 12.0))
    assert hits(burst) == []


def straddled(partial_before: float, partial_after: float, whole: int = 1) -> pd.DataFrame:
    """Network in at 10 (same hour's highest mean 12) with a surge to 90 that fills ``whole``
    windows and the given share of the window before and after (a 1-minute series' 80th
    percentile is the surge's level once it held 4 of the 15 minutes)."""
    values = [10.0] * 6
    shares = [partial_before] + [1.0] * whole + [partial_after]
    values += [10.0 + 80.0 * share for share in shares] + [10.0] * 3
    frame = rows(values, same_hour=(8.0, 10.0, 12.0))
    for i, share in enumerate(shares, start=6):
        if share < 1.0:
            frame.loc[i, "window_low"] = 9.5
            frame.loc[i, "window_high"] = 90.0 if share >= 4 / 15 else 10.5
    return frame


def test_a_short_surge_that_straddles_ticks_is_a_step_on_one_whole_window_and_a_partial_one():
    # 33 minutes: 8 minutes of the window before, one whole window, 10 of the window after.
    surge = straddled(8 / 15, 10 / 15)
    assert hits(surge) == [7, 8]  # found at the whole window's tick, 15 minutes after it began
    assert hits(surge, NOVELTY_STEP) == []  # the previous rule wanted two whole windows
    flagged = flag(surge, DEFAULT)
    assert flagged["method"].tolist()[:1] == ["step_shift"] and flagged["direction"].eq("high").all()
    late = straddled(2 / 15, 10 / 15)  # began 2 minutes before a tick: the window after counts
    assert hits(late) == [8]


def test_one_window_or_bursts_beside_it_are_not_a_surge():
    # A lunch peak or a batch job of exactly one window, even at 9x the same hour: not a step.
    assert hits(straddled(0.0, 0.0)) == []
    # One whole window with a 2-minute burst in the window after: that window's mean rose
    # (21) but its high did not (the level was not held), so still one window.
    assert hits(straddled(0.0, 2 / 15)) == []
    # Two windows above the hour before but inside the same hour's range (a normal lunch
    # peak on a day that was quiet before it) are not a step either.
    peak = rows([10.0] * 6 + [11.5, 11.5] + [10.0] * 3, same_hour=(8.0, 10.0, 12.0))
    assert hits(peak) == []
    # A surge that never fills a whole window (20 minutes split 10 / 10) stays unflagged:
    # the rule needs one whole window (what peak novelty misses beyond that is a known limit).
    assert hits(straddled(10 / 15, 10 / 15, whole=0)) == []


def test_the_step_needs_a_day_of_the_same_hour_and_consecutive_windows():
    assert hits(rows([40.0] * 6 + [15.0] * 5, seasonal_buckets=3)) == []
    assert hits(rows([40.0] * 6 + [15.0] * 5, baseline_hours=12)) == []
    gap = rows([40.0] * 6 + [15.0] * 5)
    gap.loc[3, "tick"] -= pd.Timedelta(hours=1)  # a window of the hour before is missing:
    gap = gap.sort_values("tick").reset_index(drop=True)  # no level to step from, no step
    assert hits(gap) == []


def test_an_outage_is_not_hidden_by_its_own_first_minutes():
    # The straddled window before left a low of 1.2 (the outage's start): that is now the
    # week's lowest low, so "below a quarter of the week's low" fails; the same hour's lowest
    # mean on the previous days (200) does not include today.
    frame = rows([400.0] * 4 + [1.5] * 2, same_hour=(200.0, 400.0, 600.0), baseline_low=1.2, spread=0.1)
    frame["median_centre"] = 300.0
    assert not shifts.collapse(frame, replace(DEFAULT, drop_seasonal_ratio=None))[4:].any()
    assert shifts.collapse(frame, DEFAULT)[4:].all()
    weekend = rows([45.0] * 6, same_hour=(200.0, 400.0, 600.0), baseline_low=1.2)  # 11 %: quiet, not out
    weekend["median_centre"] = 300.0
    assert not shifts.collapse(weekend, DEFAULT).any()


def test_lookback_covers_the_hour_before_a_run():
    assert lookback_ticks(DEFAULT) == 2 * DEFAULT.step_ticks_down + 2
    assert lookback_ticks(NOVELTY_SEASONAL) == NOVELTY_SEASONAL.seasonal_ticks - 1
    assert DEFAULT.needs_seasonal


def test_a_same_hour_incident_is_held_while_the_ratio_to_that_hour_stays_shifted():
    resize = Incident(fingerprint="f", instance_id="i-1", metric="cpu_usage", first_tick=T0, last_tick=T0,
                      peak_z=-9.0, peak_value=16.0, direction="low", baseline_centre=40.0, baseline_spread=3.0,
                      baseline_points=576.0, usual_level=30.0, method="step_shift")
    # At 40 % of the usual level at noon (60) and at night (10): still shifted both times,
    # although 25 is above the week's median of 30 minus half the fall.
    assert resize.is_shifted(25.0, same_hour=60.0) and resize.is_shifted(4.0, same_hour=10.0)
    assert not resize.is_shifted(55.0, same_hour=60.0)  # the same hour's median has adapted, or it recovered
    assert not resize.is_shifted(25.0, same_hour=None)
    novelty = replace(resize, method="peak_novelty")  # the other paths keep the usual-level rule
    assert novelty.is_shifted(20.0) and not novelty.is_shifted(25.0)
