"""Planting labelled incidents (``benchmarks/realistic_fleet.py``): the weekend-resize set."""

from __future__ import annotations

import pandas as pd

from benchmarks import realistic_fleet as realistic


def tiny_fleet() -> pd.DataFrame:
    """Three hosts, CPU and load every 15 minutes over the benchmark's 14 days."""
    ts = pd.date_range(realistic.START.replace(tzinfo=None), periods=realistic.DAYS * 96, freq="15min")
    parts = [pd.DataFrame({"INSTANCE_ID": f"i-{h}", "TS": ts, "METRIC": metric, "VALUE": 40.0,
                           "LOADED_AT": ts[0]}) for h in range(3) for metric in ("cpu_usage", "load_avg")]
    return pd.concat(parts, ignore_index=True)


def test_weekend_resizes_start_on_a_saturday_or_sunday_with_their_window_inside_the_data():
    fleet = tiny_fleet()
    for seed in range(5):
        frame, planted = realistic.plant(fleet, seed=seed, count=3, kinds=("cpu_level_shift",), weekend=True)
        assert len(planted) == 3 and len({p.instance_id for p in planted}) == 3  # one resize per host
        for p in planted:
            assert p.start.dayofweek >= 5 and p.window_end <= fleet["TS"].max()
            after = frame[(frame["INSTANCE_ID"] == p.instance_id) & (frame["TS"] > p.start)]
            assert after["VALUE"].between(40 * 0.40, 40 * 0.55).all()  # resized for good
    # Without ``weekend`` the draws are the ones the other sets were built with (any day).
    _, anyday = realistic.plant(fleet, seed=3, count=3, kinds=("cpu_level_shift",))
    assert any(p.start.dayofweek < 5 for p in anyday)
