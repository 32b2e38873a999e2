"""Live mode's state machine, kept free of I/O so it can be tested tick by tick.

Unlike a backfill, live mode writes alerts as they change (opened, acknowledged,
resolved: the same ``alert_id`` updated in place, as the contract says), and can hold
some metric items back so they arrive late, the way a flaky agent link delivers them.
"""

from __future__ import annotations

import heapq

import numpy as np

from nephos_pipeline.simulator.alerts import AlertTracker
from nephos_pipeline.simulator.fleet import FleetModel, TableItem, metric_items
from nephos_pipeline.simulator.spec import DAY_MS, MINUTE_MS

LATE_MIN_MS = 2 * MINUTE_MS
LATE_MAX_MS = 60 * MINUTE_MS


class LiveFleet:
    """Hands out the items due between successive simulated instants."""

    def __init__(self, model: FleetModel, *, rate: float = 1.0, late: float = 0.0) -> None:
        step_ms = round(MINUTE_MS / rate) if rate > 0 else 0
        if step_ms < 1_000 or DAY_MS % step_ms:
            raise ValueError(f"rate must be a divisor-friendly value in (0, 60] per minute, got {rate}")
        if not 0.0 <= late < 1.0:
            raise ValueError("late must be a fraction in [0, 1)")
        self.model = model
        self.step_ms = step_ms
        self.late = late
        self.cursor_ms = model.spec.end_ms
        self._rng = np.random.default_rng([model.spec.seed, 0x1A7E])
        self._held: list[tuple[int, int, dict]] = []  # (release at, tiebreak, item)
        self._seq = 0
        self._trackers = {h.index: AlertTracker(h, model.spec.seed) for h in model.hosts}
        self._replay_backfill(rate)

    def _replay_backfill(self, rate: float) -> None:
        """Bring alert state to where the backfill left it, silently.

        An alert still open at ``end`` then resolves *in place* (same ``alert_id``) instead
        of being raised a second time. Replaying costs little: the trackers skip quiet days.
        """
        spec = self.model.spec
        for host, frame in self.model.windows(spec.start_ms, spec.end_ms):
            self._trackers[host.index].observe(frame.ts, frame.values)
        for tracker in self._trackers.values():
            tracker.acknowledge_due(spec.end_ms)
            tracker.per_minute = rate

    def start(self) -> list[TableItem]:
        """Instances items, as the agents register on start-up."""
        return [("instances", item) for item in self.model.instance_items(self.cursor_ms)]

    def advance(self, now_ms: int) -> list[TableItem]:
        """Items stamped in ``[cursor, now_ms)`` plus late items now due; moves the cursor."""
        out: list[TableItem] = []
        if now_ms <= self.cursor_ms:
            return out
        for host, frame in self.model.windows(self.cursor_ms, now_ms, self.step_ms, on="ts"):
            for item in metric_items(host, frame):
                if self.late and self._rng.random() < self.late:
                    delay = int(self._rng.integers(LATE_MIN_MS, LATE_MAX_MS))
                    heapq.heappush(self._held, (item["timestamp"] + delay, self._seq, item))
                    self._seq += 1
                else:
                    out.append(("metrics", item))
            out.extend(("alerts", a) for a in self._trackers[host.index].observe(frame.ts, frame.values))
        for tracker in self._trackers.values():
            out.extend(("alerts", a) for a in tracker.acknowledge_due(now_ms))
        while self._held and self._held[0][0] <= now_ms:
            out.append(("metrics", heapq.heappop(self._held)[2]))
        self.cursor_ms = now_ms
        return out

    def drain(self) -> list[TableItem]:
        """Deliver everything still held back (the link came back before shutdown)."""
        out = [("metrics", item) for _, _, item in sorted(self._held)]
        self._held.clear()
        return out

    @property
    def held(self) -> int:
        return len(self._held)
