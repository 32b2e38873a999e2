"""The "realistic" healthy-host profile: how real fleets look, not a cosine.

Why: a plain daily cosine with Gaussian noise hides what makes detectors cry wolf on real
servers. Real hosts follow office hours in their own time zone (a ramp at 08:00-09:00,
a lunch dip, quiet evenings), are much quieter at weekends, have short 1- to 3-minute
bursts (a cron job, a GC pause, a deploy of a neighbour), heavy-tailed noise, very
different noise levels from host to host, counters in bytes/s spanning orders of
magnitude, and nightly batch windows (backups, ETL) that are perfectly normal. A detector
that judges a window by one sample, or a new weekly maximum by a few per cent, fails here.

Every knob of a host's habits comes from its own RNG stream ``(seed, index, 0x5EA1)``, not
from the stream the classic profile uses, so the classic profile is unchanged and growing
the fleet leaves existing hosts as they were. Nothing here was fitted to the detector:
the shapes are stated below with the ranges they are drawn from.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from nephos_pipeline.simulator.spec import (
    BATCH_WORKER,
    CONTROL,
    DAY_MS,
    DB_PRIMARY,
    HOUR_MS,
    PROD_WEB,
    FleetSpec,
)

# Office hours follow the region's local time (standard time; no DST on purpose: simple).
REGION_UTC_OFFSET = {"us-east-1": -5.0, "us-west-2": -8.0, "eu-west-1": 0.0, "ap-southeast-2": 10.0}
EPOCH_WEEKDAY = 3  # 1970-01-01 was a Thursday (Monday = 0)
LOAD_ALPHA = 1.0 - np.exp(-1.0)  # 1-minute load average: an EMA with a 1-minute time constant


@dataclass(frozen=True)
class Habits:
    """How one healthy host behaves; ranges in ``habits_for``."""

    noise: float  # noise multiplier, log-uniform 0.3-4: quiet and very noisy hosts side by side
    utc_offset: float  # hours
    weekend_share: float  # weekend office-hours load as a share of a weekday's
    lunch_dip: float  # share of office load lost around 12:45 local
    bursts_per_hour: float  # short bursts per hour at full office load
    burst_cpu: float  # median burst height, CPU points (heavy-tailed)
    batch_hour: float | None  # local start of the nightly batch window, None = no batch
    batch_minutes: int
    batch_cpu: float  # CPU points added during the batch window
    batch_net: float  # network multiplier during the batch window
    net_spread: float  # lognormal sigma of the byte counters


def habits_for(spec: FleetSpec, host_index: int, hostname: str, region: str, role: str) -> Habits:
    """Draw a host's habits; scenario hosts get fixed, documented ones so their truth is stable."""
    rng = np.random.default_rng([spec.seed, host_index, 0x5EA1])
    batchy = role in ("worker", "db", "queue", "cache")
    habits = Habits(
        noise=float(np.exp(rng.uniform(np.log(0.3), np.log(4.0)))),
        utc_offset=REGION_UTC_OFFSET.get(region, 0.0),
        weekend_share=float(rng.uniform(0.15, 0.6)),
        lunch_dip=float(rng.uniform(0.1, 0.35)),
        bursts_per_hour=float(rng.uniform(0.5, 6.0)),
        burst_cpu=float(rng.uniform(5.0, 25.0)),
        batch_hour=float(rng.uniform(0.0, 4.0)) if batchy or rng.random() < 0.3 else None,
        batch_minutes=int(rng.integers(20, 120)),
        batch_cpu=float(rng.uniform(10.0, 40.0)),
        batch_net=float(rng.uniform(2.0, 8.0)),
        net_spread=float(rng.uniform(0.1, 0.4)),
    )
    fixed = {
        BATCH_WORKER: dict(noise=1.0, utc_offset=0.0, batch_hour=2.0, batch_minutes=60),
        PROD_WEB: dict(noise=1.0, utc_offset=-5.0, batch_hour=None),
        DB_PRIMARY: dict(noise=1.0, utc_offset=-5.0, batch_hour=1.0, batch_minutes=90),
        CONTROL: dict(noise=1.5, utc_offset=-5.0, batch_hour=None),
    }.get(hostname)
    if fixed:
        habits = Habits(**{**habits.__dict__, **fixed})
    return habits


def office_load(ts: np.ndarray, habits: Habits) -> np.ndarray:
    """0..1: share of peak office-hours load at each timestamp (local time, weekday aware)."""
    local = ts + int(habits.utc_offset * HOUR_MS)
    hour = (local % DAY_MS) / HOUR_MS
    weekday = (local // DAY_MS + EPOCH_WEEKDAY) % 7
    rise = 1.0 / (1.0 + np.exp(-(hour - 8.5) / 0.5))
    fall = 1.0 / (1.0 + np.exp(-(18.0 - hour) / 0.8))
    lunch = habits.lunch_dip * np.exp(-0.5 * ((hour - 12.75) / 0.45) ** 2)
    curve = rise * fall * (1.0 - lunch)
    return np.where(weekday >= 5, habits.weekend_share * curve, curve)


def _batch_window(ts: np.ndarray, habits: Habits) -> np.ndarray:
    """0..1 trapezoid over the nightly batch window (5-minute ramps), every night."""
    if habits.batch_hour is None:
        return np.zeros(len(ts))
    local = ts + int(habits.utc_offset * HOUR_MS)
    since = ((local % DAY_MS) - habits.batch_hour * HOUR_MS) % DAY_MS / 60_000  # minutes
    ramp = 5.0
    return np.clip(np.minimum(since, habits.batch_minutes - since) / ramp, 0.0, 1.0)


def _bursts(n: int, rate_per_minute: np.ndarray, habits: Habits, rng: np.random.Generator) -> np.ndarray:
    """Short bursts: Poisson starts, 1-3 minutes long, Pareto heights (a few are large)."""
    out = np.zeros(n)
    starts = np.flatnonzero(rng.random(n) < rate_per_minute)
    lengths = rng.integers(1, 4, len(starts))
    heights = habits.burst_cpu * (0.5 + rng.pareto(2.5, len(starts)))
    for start, length, height in zip(starts, lengths, heights, strict=True):
        out[start:start + length] += height
    return out


def baseline(host: object, spec: FleetSpec, ts: np.ndarray, rng: np.random.Generator,
             habits: Habits) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """(cpu/memory/disk signals, network_in, network_out) of a healthy host on realistic habits."""
    n = len(ts)
    office = office_load(ts, habits)
    batch = _batch_window(ts, habits)
    # Heavy tails: |t3| > 4.5 about 2 % of the time; clipped at 8 so one draw is not an outage.
    t3 = np.clip(rng.standard_t(3, size=(3, n)), -8.0, 8.0)
    night = host.cpu_base - 0.6 * host.cpu_amp
    burst = _bursts(n, habits.bursts_per_hour / 60.0 * (0.2 + office), habits, rng)
    cpu = night + 1.8 * host.cpu_amp * office + habits.batch_cpu * batch + burst + 1.2 * habits.noise * t3[0]
    local_day = ((ts + int(habits.utc_offset * HOUR_MS)) % DAY_MS) / DAY_MS
    memory = (host.mem_base - 0.5 * host.mem_amp + host.mem_amp * office
              + 0.5 * host.mem_amp * local_day  # caches fill during the day, freed at midnight
              + 0.3 * habits.noise * t3[1])
    days_in = (ts - spec.start_ms) / DAY_MS
    disk = (host.disk_base + host.disk_drift_per_day * days_in
            + host.disk_wobble * np.sin(2 * np.pi * ts / (3.5 * DAY_MS) + host.index * 1.7)
            + 0.02 * habits.noise * t3[2])
    traffic = (0.15 + 1.7 * office) * (1.0 + (habits.batch_net - 1.0) * batch) * (1.0 + burst / 40.0)
    net_in = host.net_in * traffic * rng.lognormal(0.0, habits.net_spread, n)
    net_out = net_in * host.out_ratio * rng.lognormal(0.0, 0.1, n)
    return {"cpu_usage": cpu, "memory_usage": memory, "disk_usage": disk}, net_in, net_out


def load_average(cpu: np.ndarray, vcpus: int, rng: np.random.Generator) -> np.ndarray:
    """1-minute load average: runnable tasks (CPU share x cores, plus some I/O wait), smoothed."""
    runnable = cpu / 100.0 * vcpus * rng.lognormal(0.0, 0.15, len(cpu))
    return pd.Series(runnable).ewm(alpha=LOAD_ALPHA, adjust=False).mean().to_numpy()
