"""A labelled realistic fleet: healthy hosts shaped like real ones, plus planted incidents.

Why: NAB says how detection does on real incidents of 17 series; a fleet says how often
it cries wolf on the office hours, weekends, bursts and batch windows every fleet has,
and whether one incident gives one insight. The fleet is the simulator's ``realistic``
profile (scenarios off). Incidents are planted here, after generation, by their own RNG,
at random hosts and times (office hours or not), with labelled windows:

* ``cpu_saturation``: CPU pinned at 88-98 % for 20-60 min; load rises with it (one incident, two metrics);
* ``memory_runaway``: memory +20 to +35 points for 30-90 min;
* ``network_outage``: both byte counters fall to ~1 % for 30-60 min;
* ``traffic_surge``: network_in x6 to x12 for 20-45 min;
* ``cpu_level_shift``: CPU and load fall to 40-55 % of their level for good (a resize);
* ``disk_jump``: disk usage +12 to +20 points for good (a log explosion).

A window is [start, end + 30 min] (level shifts: [start, start + 2 h]); an incident is
found when an anomaly insight on its host is created in its window. Every other insight is
a false alarm, including a second insight for an incident (a level shift raising another
"below normal" later is counted against us). The seed (``SEED``) and every range above
were fixed before the first measurement and have not been changed since. The detector's
paths were chosen looking at ``DEV_SEEDS``; ``SEEN_SEEDS`` were held out in an earlier
round and have been looked at since (their misses were read), so they are reported but no
longer held out; ``HELD_OUT_SEEDS`` were first run with the final, committed detector.
``SURGE_PLANT_SEEDS``, ``SHIFT_PLANT_SEEDS``, ``WEEKEND_PLANT_SEEDS``: development sets for
short surges, for resizes and for weekend resizes (the dev seeds' healthy fleets with 20
traffic surges, 10 CPU level shifts, or 10 CPU level shifts starting on a Saturday or
Sunday, each, planted by their own RNG).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

INSTANCES = 10
DAYS = 14
SEED = 7_2026  # fixed before the first run
# Seeds the detector's extra paths were chosen on (with NAB); one held out in the previous
# round and seen since; one never run until the final, committed detector: the honest figure.
DEV_SEEDS = (SEED, 7027)
SEEN_SEEDS = (SEED + 2, SEED + 3)
HELD_OUT_SEEDS = (SEED + 4,)
SURGE_PLANT_SEEDS = {SEED: 1, 7027: 2}  # dev fleet seed -> planting seed of its surge-only set
SHIFT_PLANT_SEEDS = {SEED: 3, 7027: 4}  # ... and of its resize-only set
WEEKEND_PLANT_SEEDS = {SEED: 5, 7027: 6}  # ... and of its weekend-resize set (Saturday/Sunday starts)
INCIDENTS = 12
START = datetime(2026, 2, 2, tzinfo=UTC)  # a Monday
KINDS = ("cpu_saturation", "memory_runaway", "network_outage", "traffic_surge", "cpu_level_shift", "disk_jump")
PERMANENT = ("cpu_level_shift", "disk_jump")
SLACK = pd.Timedelta(minutes=30)
SHIFT_WINDOW = pd.Timedelta(hours=2)


@dataclass(frozen=True)
class Planted:
    """One labelled incident."""

    kind: str
    instance_id: str
    metrics: tuple[str, ...]
    start: pd.Timestamp
    end: pd.Timestamp  # when the fault ends (the fleet's end for permanent ones)
    window_end: pd.Timestamp


def healthy_fleet(instances: int = INSTANCES, days: int = DAYS, seed: int = SEED,
                  profile: str = "realistic") -> pd.DataFrame:
    """METRICS-shaped frame (upper-case columns) of a healthy simulated fleet."""
    from nephos_pipeline.simulator.fleet import FleetModel
    from nephos_pipeline.simulator.spec import FleetSpec

    spec = FleetSpec(start=START, end=START + timedelta(days=days), instances=instances, seed=seed,
                     scenarios=False, profile=profile)
    frames = []
    for host, frame in FleetModel(spec).windows(spec.start_ms, spec.end_ms):
        sent = frame.sent
        ts = pd.to_datetime(frame.ts[sent], unit="ms")
        for metric, values in frame.values.items():
            frames.append(pd.DataFrame({"INSTANCE_ID": host.instance_id, "TS": ts, "METRIC": metric,
                                        "VALUE": values[sent]}))
    frame = pd.concat(frames, ignore_index=True)
    frame["LOADED_AT"] = pd.Timestamp("2024-01-01")
    return frame[["INSTANCE_ID", "TS", "METRIC", "VALUE", "LOADED_AT"]]


def plant(frame: pd.DataFrame, seed: int = SEED, count: int = INCIDENTS,
          kinds: tuple[str, ...] = KINDS, weekend: bool = False) -> tuple[pd.DataFrame, list[Planted]]:
    """Plant ``count`` incidents (``kinds`` in turn, random host and time after day 2).

    ``weekend``: starts only on a Saturday or Sunday (UTC; any minute of the day), for the
    weekend-resize development set. Off, the draws are exactly those of the other sets.
    """
    rng = np.random.default_rng([seed, 0x1AB])
    frame = frame.copy()
    hosts = sorted(frame["INSTANCE_ID"].unique())
    first, last = frame["TS"].min(), frame["TS"].max()
    planted: list[Planted] = []
    busy: dict[str, list[tuple[pd.Timestamp, pd.Timestamp]]] = {}
    for i in range(count):
        kind = kinds[i % len(kinds)]
        for _ in range(100):  # pick a host and time that does not overlap another incident there
            host = hosts[int(rng.integers(len(hosts)))]
            start = (first + pd.Timedelta(days=2) + pd.Timedelta(minutes=int(rng.integers(0, (DAYS - 3) * 1440))))
            if weekend:  # any minute of a weekend day from day 2 on (its window inside the data)
                days = [d for d in range(2, DAYS) if (first + pd.Timedelta(days=d)).dayofweek >= 5]
                start = (first.normalize() + pd.Timedelta(days=days[int(rng.integers(len(days)))])
                         + pd.Timedelta(minutes=int(rng.integers(0, 1440))))
            minutes = {"cpu_saturation": (20, 60), "memory_runaway": (30, 90), "network_outage": (30, 60),
                       "traffic_surge": (20, 45)}.get(kind, (0, 1))
            end = last if kind in PERMANENT else start + pd.Timedelta(minutes=int(rng.integers(*minutes)))
            window_end = start + SHIFT_WINDOW if kind in PERMANENT else end + SLACK
            if window_end > last:
                continue
            spans = busy.get(host, [])
            if any(kind in PERMANENT or s <= start <= e or start <= s <= end for s, e in spans):
                continue
            if any(p.instance_id == host and p.kind in PERMANENT for p in planted):
                continue
            break
        busy.setdefault(host, []).append((start, end))
        metrics = _apply(frame, kind, host, start, end, rng)
        planted.append(Planted(kind, host, metrics, start, end, window_end))
    return frame, planted


def _apply(frame: pd.DataFrame, kind: str, host: str, start: pd.Timestamp, end: pd.Timestamp,
           rng: np.random.Generator) -> tuple[str, ...]:
    on = (frame["INSTANCE_ID"] == host) & (frame["TS"] >= start) & (frame["TS"] <= end)

    def rows(metric: str) -> pd.Series:
        return on & (frame["METRIC"] == metric)

    if kind == "cpu_saturation":
        level = rng.uniform(88, 98)
        cpu = rows("cpu_usage")
        before = frame.loc[cpu, "VALUE"].to_numpy()
        after = np.clip(level + rng.normal(0, 1.5, cpu.sum()), 0, 100)
        frame.loc[cpu, "VALUE"] = after
        load = rows("load_avg")
        ratio = after.mean() / max(before.mean(), 1.0)
        frame.loc[load, "VALUE"] = frame.loc[load, "VALUE"] * ratio
        return ("cpu_usage", "load_avg")
    if kind == "memory_runaway":
        mem = rows("memory_usage")
        frame.loc[mem, "VALUE"] = np.clip(frame.loc[mem, "VALUE"] + rng.uniform(20, 35), 0, 100)
        return ("memory_usage",)
    if kind == "network_outage":
        for metric in ("network_in", "network_out"):
            frame.loc[rows(metric), "VALUE"] = frame.loc[rows(metric), "VALUE"] * 0.01
        return ("network_in", "network_out")
    if kind == "traffic_surge":
        frame.loc[rows("network_in"), "VALUE"] = frame.loc[rows("network_in"), "VALUE"] * rng.uniform(6, 12)
        return ("network_in",)
    if kind == "cpu_level_shift":
        share = rng.uniform(0.40, 0.55)
        for metric in ("cpu_usage", "load_avg"):
            frame.loc[rows(metric), "VALUE"] = frame.loc[rows(metric), "VALUE"] * share
        return ("cpu_usage", "load_avg")
    disk = rows("disk_usage")
    frame.loc[disk, "VALUE"] = np.clip(frame.loc[disk, "VALUE"] + rng.uniform(12, 20), 0, 100)
    return ("disk_usage",)


def is_true(planted: list[Planted], instance_id: str, tick: pd.Timestamp) -> bool:
    """Is an insight on this host at this tick inside a planted incident's window?"""
    return any(p.instance_id == instance_id and p.start <= tick <= p.window_end for p in planted)


def score(planted: list[Planted], created: dict[str, list[pd.Timestamp]], instances: int,
          scored_weeks: float) -> dict:
    """Found incidents, insights per incident and false alarms per healthy instance-week.

    ``created``: instance_id -> ticks at which an anomaly insight was created on it.
    """
    found, per_incident, false_alarms = [], [], 0
    for host, ticks in created.items():
        for tick in ticks:
            if not is_true(planted, host, tick):
                false_alarms += 1
    rows = []
    for p in planted:
        inside = [t for t in created.get(p.instance_id, []) if p.start <= t <= p.window_end]
        found.append(bool(inside))
        per_incident.append(len(inside))
        rows.append({"kind": p.kind, "instance_id": p.instance_id, "metrics": list(p.metrics),
                     "start": str(p.start), "window_end": str(p.window_end), "insights": len(inside),
                     "delay_min": round((min(inside) - p.start).total_seconds() / 60, 1) if inside else None})
    labelled_weeks = sum((p.window_end - p.start) / pd.Timedelta(days=7) for p in planted)
    healthy_weeks = instances * scored_weeks - labelled_weeks
    return {
        "incidents": len(planted), "found": int(sum(found)),
        "insights_per_found_incident": round(float(np.mean([n for n in per_incident if n])), 2) if any(found) else None,
        "false_alarms": false_alarms, "healthy_instance_weeks": round(healthy_weeks, 2),
        "false_per_healthy_instance_week": round(false_alarms / healthy_weeks, 3),
        "per_incident": rows,
    }
