"""The realistic healthy-host profile has the shapes real fleets have (and the classic one is kept)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from nephos_pipeline.simulator import FleetModel, FleetSpec
from nephos_pipeline.simulator.realistic import habits_for

START = datetime(2026, 2, 2, tzinfo=UTC)  # a Monday


def fleet_frames(instances: int, days: int, seed: int = 11, profile: str = "realistic") -> dict[str, pd.DataFrame]:
    spec = FleetSpec(start=START, end=START + timedelta(days=days), instances=instances, seed=seed,
                     scenarios=False, profile=profile, gap_rate=0.0)
    model = FleetModel(spec)
    parts: dict[str, list[pd.DataFrame]] = {}
    for host, frame in model.windows(spec.start_ms, spec.end_ms):
        index = pd.to_datetime(frame.grid, unit="ms")
        parts.setdefault(host.hostname, []).append(pd.DataFrame(frame.values, index=index))
    return {name: pd.concat(p) for name, p in parts.items()}


@pytest.fixture(scope="module")
def fleet() -> dict[str, pd.DataFrame]:
    return fleet_frames(instances=10, days=7)


def local(frame: pd.DataFrame, offset: float) -> pd.DataFrame:
    shifted = frame.copy()
    shifted.index = shifted.index + pd.Timedelta(hours=offset)
    return shifted


def test_office_hours_weekdays_weekends_and_lunch(fleet):
    spec = FleetSpec(start=START, end=START + timedelta(days=7), instances=10, seed=11, scenarios=False)
    model = FleetModel(spec)
    for host in model.hosts:
        habits = habits_for(spec, host.index, host.hostname, host.region, host.role)
        cpu = local(fleet[host.hostname], habits.utc_offset)["cpu_usage"]
        weekday = cpu[cpu.index.dayofweek < 5]
        hour = weekday.groupby(weekday.index.hour).median()
        assert hour[10] > hour[22] + 0.8 * host.cpu_amp  # office hours well above the (batch-free) evening
        assert hour[12:14].min() < max(hour[10], hour[15])  # the lunch dip
        weekend = cpu[cpu.index.dayofweek >= 5]
        if len(weekend):
            assert weekend.groupby(weekend.index.hour).median()[10] < hour[10]


def test_short_bursts_heavy_tails_and_hosts_of_very_different_noise(fleet):
    noise = []
    for frame in fleet.values():
        cpu = frame["cpu_usage"]
        residual = cpu - cpu.rolling(15, center=True, min_periods=1).median()
        noise.append(float(residual.abs().median()))
        # 1-minute bursts: the minute peak often beats the 15-minute mean by a lot.
        assert (cpu - cpu.rolling(15, min_periods=1).mean()).max() > 10
        kurtosis = float(((residual - residual.mean()) ** 4).mean() / residual.var() ** 2)
        assert kurtosis > 4  # heavier tails than a Gaussian (3)
    assert max(noise) > 4 * min(noise)


def test_byte_counters_and_nightly_batch_windows(fleet):
    spec = FleetSpec(start=START, end=START + timedelta(days=7), instances=10, seed=11, scenarios=False)
    model = FleetModel(spec)
    batchy = 0
    for host in model.hosts:
        frame = fleet[host.hostname]
        assert frame["network_in"].median() > 1_000  # bytes/s, not a percentage
        assert frame["network_out"].min() >= 0
        habits = habits_for(spec, host.index, host.hostname, host.region, host.role)
        if habits.batch_hour is None:
            continue
        batchy += 1
        cpu = local(frame, habits.utc_offset)["cpu_usage"]
        minute = cpu.index.hour * 60 + cpu.index.minute
        start = int(habits.batch_hour * 60)
        inside = cpu[(minute >= start + 6) & (minute < start + habits.batch_minutes - 6)]
        before = cpu[(minute >= start - 60) & (minute < start - 10)]
        assert inside.median() > before.median() + 0.5 * habits.batch_cpu
    assert batchy >= 2


def test_classic_profile_is_unchanged_and_still_available():
    classic = fleet_frames(instances=2, days=1, profile="classic")
    realistic = fleet_frames(instances=2, days=1)
    for name in classic:
        assert not np.allclose(classic[name]["cpu_usage"], realistic[name]["cpu_usage"])
    with pytest.raises(ValueError, match="profile"):
        FleetSpec(start=START, end=START + timedelta(days=1), profile="cosine")
