"""A simulated healthy fleet (realistic profile, no incidents) to count false insights.

Why: NAB says how detectors do on labelled incidents; a healthy fleet says how often they
cry wolf on the daily cycles every server has. Any insight here is a false one. The
project's simulator (``nephos_pipeline.simulator``) is used with scenarios off when it is
importable; otherwise a small deterministic stand-in with the same shape is synthesised.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

INSTANCES = 4
DAYS = 14
SEED = 20240601
START = datetime(2024, 6, 3, tzinfo=UTC)  # a Monday, midnight UTC
PROFILE = "realistic"  # office hours, weekends, bursts, heavy tails, batch windows (see the simulator)


def clean_fleet_frame(instances: int = INSTANCES, days: int = DAYS, seed: int = SEED) -> tuple[pd.DataFrame, str]:
    """(METRICS-shaped frame with upper-case columns, source name) for the healthy fleet."""
    try:
        return _from_simulator(instances, days, seed), f"nephos_pipeline.simulator ({PROFILE} profile, scenarios off)"
    except ImportError:
        return _synthesised(instances, days, seed), "benchmarks.clean_fleet synthesised"


def _from_simulator(instances: int, days: int, seed: int) -> pd.DataFrame:
    from nephos_pipeline.simulator.fleet import FleetModel
    from nephos_pipeline.simulator.spec import FleetSpec

    spec = FleetSpec(start=START, end=START + timedelta(days=days), instances=instances, seed=seed, scenarios=False,
                     profile=PROFILE)
    frames = []
    for host, frame in FleetModel(spec).windows(spec.start_ms, spec.end_ms):
        sent = frame.sent
        ts = pd.to_datetime(frame.ts[sent], unit="ms")
        for metric, values in frame.values.items():
            frames.append(pd.DataFrame({"INSTANCE_ID": host.instance_id, "TS": ts, "METRIC": metric, "VALUE": values[sent]}))
    return _finish(pd.concat(frames, ignore_index=True))


def _synthesised(instances: int, days: int, seed: int) -> pd.DataFrame:
    """Daily cosine + Gaussian noise per metric, 1-minute samples, per-host peak hour."""
    rng = np.random.default_rng(seed)
    minutes = np.arange(days * 24 * 60)
    ts = pd.Timestamp(START).tz_localize(None) + pd.to_timedelta(minutes, unit="min")
    frames = []
    for host in range(instances):
        peak = rng.uniform(13, 17)
        daily = np.cos(2 * np.pi * (minutes / 60.0 - peak) / 24)
        signals = {
            "cpu_usage": 25 + 12 * daily + rng.normal(0, 2.0, minutes.size),
            "memory_usage": 50 + 5 * daily + rng.normal(0, 0.8, minutes.size),
            "network_in": 1e5 * (1 + 0.5 * daily) * rng.lognormal(0, 0.12, minutes.size),
        }
        for metric, values in signals.items():
            frames.append(pd.DataFrame({"INSTANCE_ID": f"clean-{host:02d}", "TS": ts, "METRIC": metric, "VALUE": values}))
    return _finish(pd.concat(frames, ignore_index=True))


def _finish(frame: pd.DataFrame) -> pd.DataFrame:
    frame["LOADED_AT"] = pd.Timestamp("2024-01-01")
    return frame[["INSTANCE_ID", "TS", "METRIC", "VALUE", "LOADED_AT"]]
