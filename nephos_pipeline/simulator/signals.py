"""The numeric model: one host, one UTC day, all samples at once with numpy.

Two healthy-host profiles: ``realistic`` (the default, ``realistic.py``) and ``classic``.

A day is the unit of work because it is big enough to vectorise (1,440 samples) and
small enough to keep memory flat for any fleet size. Each host-day draws from its own
RNG stream ``(seed, host, epoch day, step)``, so a minute has the same value whichever
window asked for it, and live mode agrees with the backfill it continues.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nephos_pipeline.simulator import realistic
from nephos_pipeline.simulator.hosts import Host
from nephos_pipeline.simulator.scenarios import ScenarioTruth, apply_scenario
from nephos_pipeline.simulator.spec import DAY_MS, HOUR_MS, MINUTE_MS, FleetSpec

METRICS = ("cpu_usage", "memory_usage", "disk_usage", "network_in", "network_out", "load_avg")
PERCENTS = ("cpu_usage", "memory_usage", "disk_usage")
JITTER_MS = 1_000
TWO_PI = 2 * np.pi


@dataclass(frozen=True)
class Frame:
    """Samples of one host: the reporting grid, actual timestamps, which were sent."""

    grid: np.ndarray  # int64 epoch ms, aligned to the reporting interval
    ts: np.ndarray  # int64 epoch ms the agent stamped (grid + per-host offset + jitter)
    sent: np.ndarray  # bool, False where the agent missed a report
    values: dict[str, np.ndarray]

    def select(self, start_ms: int, end_ms: int, on: str = "grid") -> Frame:
        """Restrict to reports whose grid slot (or stamped time) lies in ``[start_ms, end_ms)``.

        Backfills cut on the grid (one report per slot, whatever the agent's offset);
        live mode cuts on the stamp so no item is ever dated in the simulated future.
        A stamp never leaves its slot, so both cuts agree on which day a report is in.
        """
        at = self.grid if on == "grid" else self.ts
        keep = (at >= start_ms) & (at < end_ms)
        return Frame(self.grid[keep], self.ts[keep], self.sent[keep],
                     {k: v[keep] for k, v in self.values.items()})


def host_day(host: Host, spec: FleetSpec, truth: ScenarioTruth, day: int,
             step_ms: int = MINUTE_MS) -> Frame:
    """Every sample of ``host`` on epoch day ``day``, reported every ``step_ms``."""
    if not JITTER_MS <= step_ms <= DAY_MS or DAY_MS % step_ms:
        raise ValueError(f"step_ms must divide a day and be >= {JITTER_MS}, got {step_ms}")
    rng = np.random.default_rng([spec.seed, host.index, day, step_ms])
    n = DAY_MS // step_ms
    grid = day * DAY_MS + np.arange(n, dtype=np.int64) * step_ms
    offset = int(host.offset_frac * (step_ms - JITTER_MS))
    ts = grid + offset + rng.integers(0, JITTER_MS, n)
    sent = rng.random(n) >= (0.0 if host.scenario else spec.gap_rate)

    if spec.profile == "realistic":
        habits = realistic.habits_for(spec, host.index, host.hostname, host.region, host.role)
        sig, net_in, net_out = realistic.baseline(host, spec, ts, rng, habits)
        apply_scenario(host.scenario, ts, sig, truth, rng)
        load = realistic.load_average(np.clip(sig["cpu_usage"], 0.0, 100.0), host.vcpus, rng)
    else:
        sig, net_in, net_out, load_noise = _classic(host, spec, ts, rng, n)
        apply_scenario(host.scenario, ts, sig, truth, rng)
        load = None
    for name in PERCENTS:
        sig[name] = np.clip(sig[name], 0.0, 100.0)
    sig["network_in"] = np.maximum(net_in, 0.0)
    sig["network_out"] = np.maximum(net_out, 0.0)
    if load is None:
        # Load follows CPU (after any spike) scaled to the plan's cores, as on a real box.
        load = sig["cpu_usage"] / 100 * host.vcpus * load_noise
    sig["load_avg"] = np.maximum(load, 0.0)
    return Frame(grid, ts, sent, sig)


def _classic(host: Host, spec: FleetSpec, ts: np.ndarray, rng: np.random.Generator,
             n: int) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray, np.ndarray]:
    """The classic profile: one cosine a day and Gaussian noise (draw order kept stable)."""
    daily = np.cos(TWO_PI * ((ts % DAY_MS) / HOUR_MS - host.peak_hour) / 24)
    slow_phase = host.index * 1.7
    days_in = (ts - spec.start_ms) / DAY_MS
    sig = {
        "cpu_usage": host.cpu_base + host.cpu_amp * daily + rng.normal(0, 2.0, n),
        "memory_usage": host.mem_base + host.mem_amp * daily + rng.normal(0, 0.6, n),
        "disk_usage": host.disk_base + host.disk_drift_per_day * days_in
        + host.disk_wobble * np.sin(TWO_PI * ts / (3.5 * DAY_MS) + slow_phase)
        + rng.normal(0, 0.03, n),
    }
    net_in = host.net_in * (1 + 0.5 * daily) * rng.lognormal(0, 0.12, n)
    net_out = net_in * host.out_ratio * rng.lognormal(0, 0.08, n)
    return sig, net_in, net_out, rng.lognormal(0, 0.08, n)


def day_range(start_ms: int, end_ms: int) -> range:
    """Epoch days touched by ``[start_ms, end_ms)``."""
    if end_ms <= start_ms:
        return range(0)
    return range(start_ms // DAY_MS, (end_ms - 1) // DAY_MS + 1)
