"""Threshold alerts as a monitoring agent raises them, derived from the very samples written.

Deriving alerts from the metrics (rather than planting them) keeps the two tables
consistent: every alert points at a real excursion, and a clean host has none. The agent
fires only after several consecutive samples above the threshold and resolves only after
several below a lower "clear" level, so noise near a threshold does not flap.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np

from nephos_pipeline.simulator.hosts import Host
from nephos_pipeline.simulator.spec import MINUTE_MS

ACK_AFTER_MS = 15 * MINUTE_MS  # an operator acknowledges what stays open this long
_NAMESPACE = uuid.UUID("6f1d7c0e-2b1a-4c4e-9a57-6e6570686f73")


@dataclass(frozen=True)
class AlertRule:
    metric: str
    threshold: float
    severity: str
    clear_below: float
    critical_at: float
    for_minutes: float = 3
    clear_minutes: float = 5


RULES: tuple[AlertRule, ...] = (
    AlertRule("cpu_usage", 90.0, "high", 80.0, critical_at=98.0),
    AlertRule("memory_usage", 90.0, "high", 85.0, critical_at=98.0),
    AlertRule("disk_usage", 85.0, "medium", 84.0, critical_at=95.0),
)


@dataclass
class _State:
    above: int = 0
    below: int = 0
    item: dict[str, Any] | None = None  # the open alert, if any


class AlertTracker:
    """One host's alert state; feed it samples in time order, across as many calls as needed."""

    def __init__(self, host: Host, seed: int, *, per_minute: float = 1.0,
                 rules: tuple[AlertRule, ...] = RULES) -> None:
        self.host = host
        self.seed = seed
        self.rules = rules
        self.per_minute = per_minute
        self._state = {rule.metric: _State() for rule in rules}

    def observe(self, ts: np.ndarray, values: dict[str, np.ndarray]) -> list[dict[str, Any]]:
        """Consume samples; return alert items whose state changed (opened or resolved)."""
        changed: list[dict[str, Any]] = []
        for rule in self.rules:
            st = self._state[rule.metric]
            v = values[rule.metric]
            # Fast paths: nothing can change, which is the overwhelmingly common case.
            if st.item is None and st.above == 0 and not (v > rule.threshold).any():
                continue
            if st.item is not None and st.below == 0 and not (v < rule.clear_below).any():
                continue
            fire_n = max(1, round(rule.for_minutes * self.per_minute))
            clear_n = max(1, round(rule.clear_minutes * self.per_minute))
            for t, x in zip(ts.tolist(), v.tolist(), strict=True):
                if st.item is None:
                    st.above = st.above + 1 if x > rule.threshold else 0
                    if st.above >= fire_n:
                        st.item, st.above, st.below = self._open(rule, t, x), 0, 0
                        changed.append(dict(st.item))
                else:
                    st.below = st.below + 1 if x < rule.clear_below else 0
                    if st.below >= clear_n:
                        st.item.update(status="resolved", resolved_at=t)
                        changed.append(st.item)
                        st.item, st.below = None, 0
        return changed

    def acknowledge_due(self, now_ms: int) -> list[dict[str, Any]]:
        """Open alerts old enough to have been acknowledged; marks them so it happens once."""
        due = []
        for st in self._state.values():
            if st.item and st.item["status"] == "open" and now_ms - st.item["created_at"] >= ACK_AFTER_MS:
                st.item["status"] = "acknowledged"
                due.append(dict(st.item))
        return due

    def still_open(self) -> list[dict[str, Any]]:
        return [dict(st.item) for st in self._state.values() if st.item]

    def _open(self, rule: AlertRule, t: int, x: float) -> dict[str, Any]:
        iid = self.host.instance_id
        severity = "critical" if x >= rule.critical_at else rule.severity
        return {
            "alert_id": str(uuid.uuid5(_NAMESPACE, f"{self.seed}/{iid}/{rule.metric}/{t}")),
            "instance_id": iid,
            "created_at": t,
            "severity": severity,
            "metric": rule.metric,
            "value": Decimal(f"{x:.2f}"),
            "threshold": Decimal(f"{rule.threshold:g}"),
            "message": f"{self.host.hostname}: {rule.metric} at {x:.1f} above {rule.threshold:g} "
            f"for {rule.for_minutes:g} min",
            "status": "open",
        }
