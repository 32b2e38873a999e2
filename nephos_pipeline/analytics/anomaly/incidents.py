"""Turn flagged ticks into incidents: one insight per incident, updated while it lasts.

Why: people are notified when an insight is *created*. A metric that stays anomalous for
three hours flags twelve ticks; notifying twelve times is crying wolf. So a flag on a
series with an open incident (last flag no more than ``quiet_period`` ago) only advances
that incident (``updated``); a flag after a quiet period opens a new one (``created``).

Pure Python (no SQL, no Dagster): the asset loads the latest anomaly insight per
(instance, metric) from AI_INSIGHTS into the state dict, the benchmark starts empty.

Determinism and idempotency: events depend only on the state passed in and the flags
whose tick is in ``ticks``, processed in tick order; a fingerprint is a hash of
(instance_id, metric, first tick), so the same incident always has the same fingerprint.
The state keeps the latest incident per series (open or not), and flags at or before its
last tick are treated as already seen, so replaying ticks with the returned state emits
nothing and changes nothing, and one call over a range equals one call per tick.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Literal

import pandas as pd

QUIET_PERIOD = timedelta(hours=6)
SeriesKey = tuple[str, str]  # (instance_id, metric)


@dataclass(frozen=True)
class Incident:
    """One anomaly incident on one series, as its insight records it."""

    fingerprint: str
    instance_id: str
    metric: str
    first_tick: datetime
    last_tick: datetime
    peak_z: float
    peak_value: float
    direction: str
    baseline_centre: float
    baseline_spread: float
    baseline_points: float
    flagged_ticks: int = 1

    def is_open(self, at_tick: datetime, quiet_period: timedelta = QUIET_PERIOD) -> bool:
        """Open while the last flag is no more than ``quiet_period`` before ``at_tick``."""
        return at_tick - self.last_tick <= quiet_period


@dataclass(frozen=True)
class IncidentEvent:
    """``created`` (notify: a new insight) or ``updated`` (same fingerprint, last_seen advanced)."""

    kind: Literal["created", "updated"]
    tick: datetime
    incident: Incident


def fingerprint_for(instance_id: str, metric: str, first_tick: datetime) -> str:
    """Stable across runs and processes (no ``hash()``, which is salted per process)."""
    stamp = pd.Timestamp(first_tick).strftime("%Y-%m-%dT%H:%M:%S")
    text = f"anomaly|{instance_id}|{metric}|{stamp}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def advance(
    open_incidents: dict[SeriesKey, Incident],
    flagged: pd.DataFrame,
    ticks: Sequence[datetime] | Iterable[datetime],
    quiet_period: timedelta = QUIET_PERIOD,
) -> tuple[list[IncidentEvent], dict[SeriesKey, Incident]]:
    """Apply the flags of ``ticks`` (output of ``detector.flag``) to the incident state.

    ``open_incidents`` maps (instance_id, metric) to that series' latest incident; it is
    not mutated. Returns the events in (tick, instance_id, metric) order and the new state.
    """
    state = dict(open_incidents)
    events: list[IncidentEvent] = []
    wanted = {pd.Timestamp(t) for t in ticks}
    if flagged is None or flagged.empty or not wanted:
        return events, state
    rows = flagged[pd.to_datetime(flagged["tick"]).isin(wanted)]
    rows = rows.sort_values(["tick", "instance_id", "metric"], kind="stable")
    for row in rows.itertuples(index=False):
        tick = pd.Timestamp(row.tick).to_pydatetime()
        key = (str(row.instance_id), str(row.metric))
        current = state.get(key)
        if current is not None and tick <= current.last_tick:
            continue  # already seen: replays change nothing
        if current is not None and current.is_open(tick, quiet_period):
            updated = _absorb(current, row, tick)
            state[key] = updated
            events.append(IncidentEvent("updated", tick, updated))
            continue
        created = Incident(
            fingerprint=fingerprint_for(key[0], key[1], tick),
            instance_id=key[0],
            metric=key[1],
            first_tick=tick,
            last_tick=tick,
            peak_z=float(row.z),
            peak_value=float(row.value),
            direction=str(row.direction),
            baseline_centre=float(row.baseline_centre),
            baseline_spread=float(row.baseline_spread),
            baseline_points=float(row.baseline_points),
        )
        state[key] = created
        events.append(IncidentEvent("created", tick, created))
    return events, state


def open_at(state: dict[SeriesKey, Incident], at_tick: datetime, quiet_period: timedelta = QUIET_PERIOD) -> dict[SeriesKey, Incident]:
    """Only the incidents still open at ``at_tick`` (e.g. to show as active)."""
    return {key: inc for key, inc in state.items() if inc.is_open(at_tick, quiet_period)}


def created_ticks(events: Iterable[IncidentEvent]) -> list[datetime]:
    """When a person would have been notified: the ticks that created an insight."""
    return [e.tick for e in events if e.kind == "created"]


def _absorb(incident: Incident, row: Any, tick: datetime) -> Incident:
    """Advance last_tick; keep the most extreme tick as the peak (its value and baseline)."""
    z = float(row.z)
    base = replace(incident, last_tick=tick, flagged_ticks=incident.flagged_ticks + 1)
    if abs(z) <= abs(incident.peak_z):
        return base
    return replace(
        base,
        peak_z=z,
        peak_value=float(row.value),
        direction=str(row.direction),
        baseline_centre=float(row.baseline_centre),
        baseline_spread=float(row.baseline_spread),
        baseline_points=float(row.baseline_points),
    )
