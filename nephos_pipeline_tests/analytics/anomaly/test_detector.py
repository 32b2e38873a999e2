"""The anomaly scoring SQL and flagging, against a real local warehouse."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from nephos_pipeline.analytics.anomaly.detector import (
    DEFAULT,
    NOVELTY_STEP_WEEKDAY,
    ROLLING_MAD,
    SEASONAL_MAD,
    SEED_RULE,
    flag,
    score_ticks,
    severity_for,
)
from nephos_pipeline.ingest import buckets
from nephos_pipeline.warehouse.local import LocalWarehouse
from nephos_pipeline.warehouse.schema import ensure_schema

START = pd.Timestamp("2024-03-04 00:00:00")


@pytest.fixture
def warehouse(tmp_path) -> Iterator[LocalWarehouse]:
    warnings.simplefilter("ignore")
    wh = LocalWarehouse(path=str(tmp_path / "wh"))
    ensure_schema(wh)
    with wh.hold():
        yield wh


def cyclic(days: float, step_min: int = 5, amplitude: float = 20.0, noise: float = 1.0, seed: int = 1) -> pd.Series:
    """A daily cosine (peak 14:00 UTC) plus noise, sampled every ``step_min`` minutes."""
    index = pd.date_range(START, periods=int(days * 1440 / step_min), freq=f"{step_min}min")
    hours = index.hour + index.minute / 60
    rng = np.random.default_rng(seed)
    return pd.Series(50 + amplitude * np.cos(2 * np.pi * (hours - 14) / 24) + rng.normal(0, noise, len(index)), index)


def load(wh: LocalWarehouse, series: pd.Series, instance: str = "i-1", metric: str = "cpu_usage") -> None:
    frame = pd.DataFrame({"INSTANCE_ID": instance, "TS": series.index, "METRIC": metric,
                          "VALUE": series.to_numpy(float), "LOADED_AT": START})
    with wh.connection() as conn:
        wh.write_frame(conn, frame, "METRICS")


def scores(wh: LocalWarehouse, start: pd.Timestamp, end: pd.Timestamp, **kw) -> pd.DataFrame:
    with wh.connection() as conn:
        buckets.rebuild(wh, conn)  # the tests write METRICS directly, not through the load
        return score_ticks(wh, conn, start.to_pydatetime(), end.to_pydatetime(), **kw)


def test_injected_spike_is_flagged_at_its_tick_and_nowhere_else(warehouse):
    series = cyclic(3)
    spike_at = pd.Timestamp("2024-03-06 10:05")  # inside the window ending 10:15
    series[spike_at] += 60.0
    load(warehouse, series)
    result = scores(warehouse, pd.Timestamp("2024-03-05 06:00"), pd.Timestamp("2024-03-06 23:45"))
    for config in (DEFAULT, SEED_RULE):
        flagged = flag(result, config)
        assert list(flagged["tick"]) == [pd.Timestamp("2024-03-06 10:15")], config.name
        row = flagged.iloc[0]
        assert row["direction"] == "high" and row["z"] > config.z_threshold
        assert row["value"] == pytest.approx(series[spike_at])
        assert row["baseline_spread"] > 0


def test_window_and_baselines_match_pandas(warehouse):
    series = cyclic(2, step_min=5)
    load(warehouse, series)
    tick = pd.Timestamp("2024-03-05 12:00")
    row = scores(warehouse, tick, tick).iloc[0]
    window = series[(series.index > tick - timedelta(minutes=15)) & (series.index <= tick)]
    baseline = series[series.index <= tick - timedelta(minutes=15)]
    assert row["tick"] == tick and row["window_points"] == 3
    assert row["value"] == pytest.approx(window.mean())
    assert row["mean_centre"] == pytest.approx(baseline.mean())
    assert row["std_spread"] == pytest.approx(baseline.std(), rel=1e-6)
    assert row["baseline_high"] == pytest.approx(baseline.max())
    # From the start of the first baseline bucket ((23:45, 00:00] holds the 00:00 sample)
    # to the start of the window (11:45 two days later).
    assert row["baseline_hours"] == pytest.approx(36.0)


def test_off_peak_anomaly_is_caught_by_the_seasonal_baseline_only(warehouse):
    # At 02:00 the cycle is at its trough (~30); 50 is normal at midday but not at night.
    series = cyclic(4, amplitude=20.0, noise=0.5)
    night = (series.index > pd.Timestamp("2024-03-07 02:00")) & (series.index <= pd.Timestamp("2024-03-07 02:15"))
    series[night] = 50.0
    load(warehouse, series)
    result = scores(warehouse, pd.Timestamp("2024-03-07 01:00"), pd.Timestamp("2024-03-07 03:00"))
    seasonal = flag(result, SEASONAL_MAD)
    assert pd.Timestamp("2024-03-07 02:15") in set(seasonal["tick"])
    assert flag(result, ROLLING_MAD).empty  # 50 is the week's median: invisible without the hour
    assert flag(result, DEFAULT).empty  # never beyond the week's range: a known blind spot


def test_default_ignores_the_daily_cycle(warehouse):
    load(warehouse, cyclic(5, step_min=1, noise=2.0))
    result = scores(warehouse, pd.Timestamp("2024-03-05 00:00"), pd.Timestamp("2024-03-09 00:00"))
    assert len(result) == 4 * 96 + 1
    assert flag(result, DEFAULT).empty


def test_degenerate_series_do_not_crash_or_divide_by_zero(warehouse):
    constant = pd.Series(7.0, pd.date_range(START, periods=600, freq="5min"))
    load(warehouse, constant, instance="flat")
    load(warehouse, pd.Series([3.0], [START + timedelta(days=1, minutes=3)]), instance="single")
    gappy = cyclic(3)
    gappy = gappy[(gappy.index.hour < 6) | (gappy.index.hour > 20)]  # long gaps every day
    load(warehouse, gappy, instance="gappy")
    with_nan = cyclic(2)
    load(warehouse, with_nan, instance="nan")
    for ts, text in [(with_nan.index[300] + timedelta(minutes=1), "NaN"), (with_nan.index[400], "inf")]:
        warehouse.execute(
            "INSERT INTO METRICS VALUES ('nan', %(ts)s, 'cpu_usage', CAST(%(v)s AS FLOAT), %(ts)s)",
            {"ts": ts.to_pydatetime(), "v": text},
        )
    result = scores(warehouse, START, START + timedelta(days=3))
    assert set(result["instance_id"]) == {"flat", "single", "gappy", "nan"}
    numeric = result.drop(columns=["tick", "instance_id", "metric"]).to_numpy(float)
    assert not np.isinf(numeric).any()
    assert result.loc[result["instance_id"] == "nan", "value"].notna().all()
    for config in (SEED_RULE, ROLLING_MAD, SEASONAL_MAD, DEFAULT):
        flagged = flag(result, config)
        assert np.isfinite(flagged["z"].to_numpy(float)).all()
        assert "flat" not in set(flagged["instance_id"]) and "single" not in set(flagged["instance_id"])
    # A flat series that suddenly moves (and holds it for a third of the window: two extra
    # samples among three) is flagged with a floored (finite) spread.
    moved_at = START + timedelta(days=2, hours=1, minutes=4)
    load(warehouse, pd.Series([70.0, 70.0], [moved_at, moved_at + timedelta(minutes=2)]), instance="flat")
    moved = flag(scores(warehouse, START + timedelta(days=2), START + timedelta(days=2, hours=2)), DEFAULT)
    assert list(moved["instance_id"]) == ["flat"] and np.isfinite(moved["z"]).all()


def office_week(days: int, seed: int = 2) -> pd.Series:
    """CPU every 5 minutes from Monday START: 60 in office hours (09-17 UTC) on weekdays,
    22 on weekends, 10 at night, plus a little noise."""
    index = pd.date_range(START, periods=days * 288, freq="5min")
    office = (index.hour >= 9) & (index.hour < 17)
    level = np.where(office, np.where(index.dayofweek < 5, 60.0, 22.0), 10.0)
    return pd.Series(level + np.random.default_rng(seed).normal(0, 0.8, len(index)), index)


def test_a_weekday_resize_after_a_weekend_is_a_fall_against_the_weekdays(warehouse):
    # Monday 13:00 of the second week, CPU and load resized to 45 %: 27 in office hours is
    # below every weekday (60) but not 1.3 times below the weekend's 22 at that hour.
    series = office_week(8)
    resized_at = pd.Timestamp("2024-03-11 13:00")
    series[series.index > resized_at] *= 0.45
    load(warehouse, series)
    result = scores(warehouse, pd.Timestamp("2024-03-09 00:00"), pd.Timestamp("2024-03-11 15:00"))
    monday = result[result["tick"] == pd.Timestamp("2024-03-11 12:15")].iloc[0]  # window (12:00, 12:15]
    means = series.groupby(series.index.ceil("15min")).mean()  # 15-minute means by window end
    starts = means.index - timedelta(minutes=15)  # a window's hour and day are its start's
    week = (means.index >= pd.Timestamp("2024-03-04 12:15")) & (means.index < pd.Timestamp("2024-03-11 12:00"))
    means = means[week & (starts.hour == 12)]
    weekday_means = means[(means.index - timedelta(minutes=15)).dayofweek < 5]
    assert monday["seasonal_weekday_low"] == pytest.approx(weekday_means.min())
    assert monday["seasonal_low"] == pytest.approx(means.min()) and means.min() < 25  # the weekend's
    assert monday["seasonal_weekday_buckets"] == len(weekday_means) and len(means) > len(weekday_means)
    flagged = flag(result, NOVELTY_STEP_WEEKDAY)
    assert list(flagged["tick"].dt.strftime("%a %H:%M")[:1]) == ["Mon 13:45"]  # 45 min after, inside 2 h
    assert flagged["method"].eq("step_shift").all() and flagged["direction"].eq("low").all()
    assert flag(result, DEFAULT).empty  # the default: nothing in those 2 h
    # The weekend before (quiet office hours on the first weekend) is not a fall either.
    assert (flagged["tick"] > resized_at).all()


def test_future_data_does_not_change_earlier_ticks(warehouse):
    load(warehouse, cyclic(2, seed=3))
    cut = pd.Timestamp("2024-03-05 12:00")
    before = scores(warehouse, cut - timedelta(hours=3), cut)
    future = cyclic(3, seed=9)
    load(warehouse, future[future.index > cut] * 5.0 + 1000.0, instance="i-1")
    after = scores(warehouse, cut - timedelta(hours=3), cut + timedelta(hours=6))
    pd.testing.assert_frame_equal(before, after[after["tick"] <= cut].reset_index(drop=True))


def test_range_equals_tick_by_tick(warehouse):
    series = cyclic(2, seed=5)
    series[pd.Timestamp("2024-03-05 09:20")] += 40.0
    load(warehouse, series)
    load(warehouse, cyclic(2, seed=6), instance="i-2", metric="memory_usage")
    start, end = pd.Timestamp("2024-03-05 08:30"), pd.Timestamp("2024-03-05 10:00")
    whole = scores(warehouse, start, end)
    one_by_one = pd.concat(
        [scores(warehouse, t, t) for t in pd.date_range(start, end, freq="15min")], ignore_index=True
    )
    assert len(whole) == 7 * 2
    pd.testing.assert_frame_equal(whole, one_by_one)
    only = scores(warehouse, start, end, instance_ids=["i-2"])
    pd.testing.assert_frame_equal(only, whole[whole["instance_id"] == "i-2"].reset_index(drop=True))


def test_severity_grows_with_magnitude():
    assert [severity_for(z) for z in (3.2, -4.5, 7.0, float("inf"))] == ["medium", "high", "critical", "critical"]
    assert severity_for(2.0) == "low"
