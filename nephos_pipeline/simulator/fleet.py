"""Contract-shaped items for a simulated fleet, streamed lazily.

Pure Python + numpy (no boto3, no Dagster) so the generators can be tested and reused
anywhere. Items are dicts exactly as the data contract shapes them: numbers as
``Decimal`` (what boto3 needs), timestamps as epoch-millisecond ``int``.

Work is done one host-day at a time, days outermost, so a 100 x 30-day fleet streams
with the memory of one day per host and comes out roughly in time order, like agents.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import numpy as np

from nephos_pipeline.simulator.alerts import AlertTracker
from nephos_pipeline.simulator.hosts import Host, build_hosts, instance_item
from nephos_pipeline.simulator.scenarios import ScenarioTruth, scenario_truth
from nephos_pipeline.simulator.signals import METRICS, Frame, day_range, host_day
from nephos_pipeline.simulator.spec import DAY_MS, MINUTE_MS, FleetSpec, to_ms

Item = dict[str, Any]
TableItem = tuple[str, Item]  # (table key as in TableNames: "metrics" | "alerts" | "instances", item)

_NETWORK = ("network_in", "network_out")


class FleetModel:
    """A spec with its hosts and truth resolved once; hands out host-day frames.

    Live mode asks for small windows many times a minute, so the last few host-days are
    cached instead of being recomputed on every tick.
    """

    def __init__(self, spec: FleetSpec) -> None:
        self.spec = spec
        self.hosts: list[Host] = build_hosts(spec)
        self.truth: ScenarioTruth = scenario_truth(
            spec, {h.hostname: h.instance_id for h in self.hosts if h.scenario}
        )
        self._cache: dict[tuple[int, int, int], Frame] = {}

    def frame(self, host: Host, day: int, step_ms: int = MINUTE_MS) -> Frame:
        key = (host.index, day, step_ms)
        found = self._cache.get(key)
        if found is None:
            found = host_day(host, self.spec, self.truth, day, step_ms)
            if len(self._cache) >= 3 * len(self.hosts):
                self._cache.clear()
            self._cache[key] = found
        return found

    def windows(self, start_ms: int, end_ms: int, step_ms: int = MINUTE_MS,
                on: str = "grid") -> Iterator[tuple[Host, Frame]]:
        """Each host's samples in ``[start_ms, end_ms)``, a day at a time, days outermost."""
        for day in day_range(start_ms, end_ms):
            lo, hi = max(start_ms, day * DAY_MS), min(end_ms, (day + 1) * DAY_MS)
            for host in self.hosts:
                if hi - lo == DAY_MS:  # whole day: skip the cache, backfills never revisit it
                    yield host, host_day(host, self.spec, self.truth, day, step_ms)
                else:
                    yield host, self.frame(host, day, step_ms).select(lo, hi, on)

    def instance_items(self, updated_at_ms: int | None = None) -> list[Item]:
        deployed = to_ms(self.truth.deployed_at)
        return [instance_item(h, deployed, updated_at_ms) for h in self.hosts]


def _fmt(values: np.ndarray, decimals: int) -> list[Decimal]:
    return [Decimal(s) for s in np.char.mod(f"%.{decimals}f", values).tolist()]


def metric_items(host: Host, frame: Frame) -> list[Item]:
    """Metrics items for the samples the agent actually sent."""
    sent = frame.sent
    ts = frame.ts[sent].tolist()
    cols = {
        name: _fmt(frame.values[name][sent], 0 if name in _NETWORK else 2) for name in METRICS
    }
    iid = host.instance_id
    return [
        {"instance_id": iid, "timestamp": t, **{name: cols[name][i] for name in METRICS}}
        for i, t in enumerate(ts)
    ]


def iter_fleet_items(spec: FleetSpec, *, metrics: bool = True) -> Iterator[TableItem]:
    """Everything the agents would have written for ``spec``: instances, metrics, alerts.

    Alerts are yielded once, in their final state as of ``spec.end`` (resolved, or still
    open/acknowledged), because a backfill writes the table as it would look now.
    ``metrics=False`` skips building metric dicts when only alerts are wanted.
    """
    model = FleetModel(spec)
    for item in model.instance_items():
        yield "instances", item
    trackers = {h.index: AlertTracker(h, spec.seed) for h in model.hosts}
    for host, frame in model.windows(spec.start_ms, spec.end_ms):
        if metrics:
            for item in metric_items(host, frame):
                yield "metrics", item
        for alert in trackers[host.index].observe(frame.ts, frame.values):
            if alert["status"] == "resolved":
                yield "alerts", alert
    for tracker in trackers.values():
        tracker.acknowledge_due(spec.end_ms)
        for alert in tracker.still_open():
            yield "alerts", alert


def iter_metrics(spec: FleetSpec) -> Iterator[Item]:
    """Metrics items only, lazily."""
    return (item for table, item in iter_fleet_items(spec) if table == "metrics")


def iter_alerts(spec: FleetSpec) -> Iterator[Item]:
    """Alerts items only (final state at ``spec.end``)."""
    return (item for table, item in iter_fleet_items(spec, metrics=False) if table == "alerts")


def instance_items(spec: FleetSpec) -> list[Item]:
    """Instances items; one per host, small enough to return as a list."""
    return FleetModel(spec).instance_items()
