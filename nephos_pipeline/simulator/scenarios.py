"""The four planted stories and their exact ground truth.

Detectors downstream are judged against :class:`ScenarioTruth`, so every number that
shapes a scenario is defined here once and both the signal overlay and the truth read it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from nephos_pipeline.simulator.hosts import build_hosts
from nephos_pipeline.simulator.spec import (  # noqa: F401  (names re-exported for callers)
    BATCH_WORKER,
    CONTROL,
    DAY_MS,
    DB_PRIMARY,
    HOUR_MS,
    MINUTE_MS,
    PROD_WEB,
    SCENARIO_HOSTS,
    FleetSpec,
    to_ms,
)

SPIKE_HOUR = 14
SPIKE_MINUTES = 30
SPIKE_CPU_DELTA = 45.0
SPIKE_MEMORY_DELTA = 30.0
DEPLOY_LEAD = timedelta(hours=6)
DEPLOY_MINUTE = 7  # off the hour, so partition-aligned detectors cannot get lucky
SPIKE_DELAY = timedelta(minutes=4)
SPIKE_DURATION = timedelta(minutes=45)
SPIKE_LEVEL = 95.0
RAMP_MS = 2 * MINUTE_MS
DISK_THRESHOLD = 90.0
DISK_END_VALUE = 78.0  # well below 90 at ``end``: 12 points of headroom over 72 h
DISK_MIN_START_VALUE = 15.0  # long windows start lower rather than bend the line
DISK_CROSSING_AFTER_END = timedelta(hours=72)


@dataclass(frozen=True, kw_only=True)
class ScenarioTruth:
    """What a perfect detector would report for the simulated window."""

    start: datetime
    end: datetime
    # batch-worker-01: +45 cpu / +30 memory every day, [14:00, 14:30) UTC.
    spike_host: str = BATCH_WORKER
    spike_hour: int = SPIKE_HOUR
    spike_minutes: int = SPIKE_MINUTES
    spike_cpu_delta: float = SPIKE_CPU_DELTA
    spike_memory_delta: float = SPIKE_MEMORY_DELTA
    # prod-web-01: deployment, then memory at ~95 % for [memory_spike_start, memory_spike_end).
    deploy_host: str = PROD_WEB
    deployed_at: datetime
    memory_spike_start: datetime
    memory_spike_end: datetime
    memory_spike_level: float = SPIKE_LEVEL
    # db-primary: disk = disk_start_value + disk_slope_per_hour * hours since start.
    disk_host: str = DB_PRIMARY
    disk_threshold: float = DISK_THRESHOLD
    disk_start_value: float
    disk_slope_per_hour: float
    disk_crossing_at: datetime
    # control-01: daily cycle and noise only.
    control_host: str = CONTROL
    # hostname -> instance_id, for the scenario hosts present in this fleet.
    instance_ids: Mapping[str, str] = field(default_factory=dict)

    @property
    def hosts(self) -> tuple[str, ...]:
        """Scenario hosts present in the fleet (fewer than four for tiny fleets)."""
        return tuple(name for name in SCENARIO_HOSTS if name in self.instance_ids)

    def disk_at(self, moment: datetime) -> float:
        """The noiseless db-primary disk line, for checking forecasts."""
        hours = (moment - self.start).total_seconds() / 3600
        return self.disk_start_value + self.disk_slope_per_hour * hours


def scenario_truth(spec: FleetSpec, instance_ids: Mapping[str, str] | None = None) -> ScenarioTruth:
    """Derive the truth from the spec alone, so tests need not generate any data for it."""
    if spec.deploy_at is not None:
        deployed = spec.deploy_at
    else:
        lead = spec.end - DEPLOY_LEAD
        deployed = lead.replace(minute=DEPLOY_MINUTE)
    crossing = spec.end + DISK_CROSSING_AFTER_END
    hours = (crossing - spec.start).total_seconds() / 3600
    lead_hours = DISK_CROSSING_AFTER_END.total_seconds() / 3600
    # Slope that loses the 12 points of headroom in 72 h, unless the window is so long that
    # the line would start below DISK_MIN_START_VALUE; then a gentler line from there.
    start_value = max(DISK_MIN_START_VALUE,
                      DISK_THRESHOLD - (DISK_THRESHOLD - DISK_END_VALUE) * hours / lead_hours)
    if instance_ids is None:
        instance_ids = {h.hostname: h.instance_id for h in build_hosts(spec) if h.scenario}
    return ScenarioTruth(
        start=spec.start,
        end=spec.end,
        deployed_at=deployed,
        memory_spike_start=deployed + SPIKE_DELAY,
        memory_spike_end=deployed + SPIKE_DELAY + SPIKE_DURATION,
        disk_start_value=start_value,
        disk_slope_per_hour=(DISK_THRESHOLD - start_value) / hours,
        disk_crossing_at=crossing,
        instance_ids=dict(instance_ids),
    )


def apply_scenario(
    scenario: str | None,
    ts: np.ndarray,
    sig: dict[str, np.ndarray],
    truth: ScenarioTruth,
    rng: np.random.Generator,
) -> None:
    """Overlay a scenario on a host's baseline signals, in place."""
    n = len(ts)
    if scenario == BATCH_WORKER:
        of_day = ts % DAY_MS
        lo = SPIKE_HOUR * HOUR_MS
        on = (of_day >= lo) & (of_day < lo + SPIKE_MINUTES * MINUTE_MS)
        sig["cpu_usage"] = sig["cpu_usage"] + on * (SPIKE_CPU_DELTA + rng.normal(0, 1.0, n))
        sig["memory_usage"] = sig["memory_usage"] + on * (SPIKE_MEMORY_DELTA + rng.normal(0, 0.8, n))
    elif scenario == PROD_WEB:
        s, e = to_ms(truth.memory_spike_start), to_ms(truth.memory_spike_end)
        # Trapezoid: ramps in over two minutes, holds, ramps out; zero outside [s, e).
        w = np.clip(np.minimum(ts - s, e - ts) / RAMP_MS, 0.0, 1.0)
        level = SPIKE_LEVEL + rng.normal(0, 0.7, n)
        sig["memory_usage"] = sig["memory_usage"] * (1 - w) + level * w
    elif scenario == DB_PRIMARY:
        hours = (ts - to_ms(truth.start)) / HOUR_MS
        line = truth.disk_start_value + truth.disk_slope_per_hour * hours
        sig["disk_usage"] = line + rng.normal(0, 0.05, n)
