"""Turn flagged ticks into incidents: one insight per incident, updated while it lasts.

Why: people are notified when an insight is *created*. A metric that stays anomalous for
three hours flags twelve ticks; notifying twelve times is crying wolf. So a flag on a
series with an open incident (last flag no more than ``quiet_period`` ago) only advances
that incident (``updated``); a flag after a quiet period opens a new one (``created``).

Pure Python (no SQL, no Dagster): the asset loads the latest anomaly insight per
(instance, metric) from AI_INSIGHTS into the state dict, the benchmark starts empty.

Two more rules keep it to one insight per incident:

* **A level shift is one incident, and the baseline adapts.** While a series stays shifted
  (its 15-minute mean stays more than half-way from its usual level to the incident's
  peak, in the incident's direction), the incident is held open: new records in the same
  direction (a resized host keeps setting new weekly lows for a while) update it instead
  of opening another one. The hold lasts at most ``ADAPT_PERIOD`` (the baseline's 7
  days): by then the baseline is all post-shift data, so a new flag is news again.
* **One incident per host across metrics.** A flag on another metric of a host whose
  incident started less than ``GROUP_WINDOW`` before, and is still open, joins that
  incident (``joined``): CPU and load rising together are one insight naming both.

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
ADAPT_PERIOD = timedelta(days=7)  # the baseline's length: after that the shift is the baseline
GROUP_WINDOW = timedelta(hours=1)  # metrics of a host whose incidents start this close are one
SHIFT_SHARE = 0.5  # "still shifted": the window mean is beyond half-way from usual level to peak
SAME_HOUR_METHODS = ("step_shift", "seasonal_shift")  # judged against the same hour of previous days
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
    usual_level: float | None = None  # the series' usual 15-minute mean when it started
    held_tick: datetime | None = None  # last tick the series was still shifted
    group: str | None = None  # fingerprint of the host incident it belongs to (None: its own)
    method: str = "peak_novelty"  # the detection path that opened it (see detector.flag)

    @property
    def group_fingerprint(self) -> str:
        return self.group or self.fingerprint

    @property
    def seen_tick(self) -> datetime:
        """The latest tick that kept it open: its last flag, or the last tick still shifted."""
        return max(self.last_tick, self.held_tick) if self.held_tick else self.last_tick

    def is_open(self, at_tick: datetime, quiet_period: timedelta = QUIET_PERIOD) -> bool:
        """Open while its last flag (or last shifted tick) is at most ``quiet_period`` ago."""
        return at_tick - self.seen_tick <= quiet_period

    def is_shifted(self, window_mean: float, same_hour: float | None = None) -> bool:
        """Is a window mean still beyond half-way from the usual level to the peak?

        For an incident found against the same hour of day (``step_shift``,
        ``seasonal_shift``) "usual" is that hour's median on the previous days
        (``same_hour``), as a ratio: a resize to 45 % is 45 % of the night at night and
        of the office hours by day, while the week's median sits in between. As the days
        after the shift fill the same-hour baseline, its median moves to the new level and
        the hold ends: the baseline has adapted.
        """
        if window_mean != window_mean:
            return False
        if self.method in SAME_HOUR_METHODS and self.baseline_centre > 0:
            if same_hour is None or not same_hour > 0:
                return False
            edge = 1.0 + SHIFT_SHARE * (self.peak_value / self.baseline_centre - 1.0)
            ratio = window_mean / same_hour
            return ratio > edge if self.direction == "high" else ratio < edge
        if self.usual_level is None:
            return False
        edge = self.usual_level + SHIFT_SHARE * (self.peak_value - self.usual_level)
        return window_mean > edge if self.direction == "high" else window_mean < edge


@dataclass(frozen=True)
class IncidentEvent:
    """``created`` (notify: a new insight), ``updated`` (same insight, last seen advanced) or
    ``joined`` (a new metric of an open host incident: that insight now names it too)."""

    kind: Literal["created", "updated", "joined"]
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
    levels: pd.DataFrame | None = None,
) -> tuple[list[IncidentEvent], dict[SeriesKey, Incident]]:
    """Apply the flags of ``ticks`` (output of ``detector.flag``) to the incident state.

    ``open_incidents`` maps (instance_id, metric) to that series' latest incident; it is
    not mutated. ``levels`` (tick, instance_id, metric, value: the window mean, and
    seasonal_centre, the same hour's median, for same-hour incidents; the
    scores frame will do) lets a shifted series hold its incident open; without it
    incidents close ``quiet_period`` after their last flag. Returns the events in
    (tick, instance_id, metric) order and the new state.
    """
    state = dict(open_incidents)
    events: list[IncidentEvent] = []
    wanted = {pd.Timestamp(t) for t in ticks}
    if not wanted:
        return events, state
    rows = _timeline(state, flagged, levels, wanted)
    for row in rows.itertuples(index=False):
        tick = pd.Timestamp(row.tick).to_pydatetime()
        key = (str(row.instance_id), str(row.metric))
        current = state.get(key)
        if not row.is_flag:
            if (current is not None and tick > current.seen_tick and current.is_open(tick, quiet_period)
                    and tick - current.first_tick < ADAPT_PERIOD and current.is_shifted(float(row.value), _same_hour(row))):
                state[key] = replace(current, held_tick=tick)
                events.append(IncidentEvent("updated", tick, state[key]))
            continue
        if current is not None and tick <= current.seen_tick:
            continue  # already seen: replays change nothing
        if current is not None and current.is_open(tick, quiet_period):
            updated = _absorb(current, row, tick)
            state[key] = updated
            events.append(IncidentEvent("updated", tick, updated))
            continue
        group = _host_incident(state, key, tick, quiet_period)
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
            usual_level=_usual(row),
            method=str(getattr(row, "method", "peak_novelty")),
            group=group.fingerprint if group is not None else None,
        )
        state[key] = created
        events.append(IncidentEvent("joined" if group is not None else "created", tick, created))
    return events, state


def _timeline(state: dict[SeriesKey, Incident], flagged: pd.DataFrame | None, levels: pd.DataFrame | None,
              wanted: set[pd.Timestamp]) -> pd.DataFrame:
    """Flags of the wanted ticks, plus (for series with an incident) their unflagged windows."""
    cols = ["tick", "instance_id", "metric", "method", "value", "z", "direction", "baseline_centre",
            "baseline_spread", "baseline_points", "usual_level"]
    parts = []
    if flagged is not None and not flagged.empty:
        f = flagged[pd.to_datetime(flagged["tick"]).isin(wanted)].copy()
        for col, default in (("usual_level", float("nan")), ("method", "peak_novelty")):
            f[col] = f[col] if col in f else default
        parts.append(f[cols].assign(is_flag=True))
    if levels is not None and not levels.empty:
        series = set(state) | ({(str(i), str(m)) for i, m in zip(parts[0].instance_id, parts[0].metric, strict=True)}
                               if parts else set())
        lv = levels[pd.to_datetime(levels["tick"]).isin(wanted)]
        lv = lv[[(str(i), str(m)) in series for i, m in zip(lv.instance_id, lv.metric, strict=True)]]
        if not lv.empty:
            lv = lv.reindex(columns=["tick", "instance_id", "metric", "value", "seasonal_centre"]).assign(is_flag=False)
            if parts:  # a flagged window is handled as a flag
                done = set(zip(pd.to_datetime(parts[0].tick), parts[0].instance_id, parts[0].metric, strict=True))
                lv = lv[[k not in done for k in zip(pd.to_datetime(lv.tick), lv.instance_id, lv.metric, strict=True)]]
            parts.append(lv)
    if not parts:
        return pd.DataFrame(columns=[*cols, "is_flag"])
    rows = pd.concat(parts, ignore_index=True)
    rows["tick"] = pd.to_datetime(rows["tick"])
    return rows.sort_values(["tick", "instance_id", "metric"], kind="stable")


def _same_hour(row: Any) -> float | None:
    value = getattr(row, "seasonal_centre", None)
    return None if value is None or value != value else float(value)


def _usual(row: Any) -> float | None:
    value = getattr(row, "usual_level", None)
    return None if value is None or value != value else float(value)


def _host_incident(state: dict[SeriesKey, Incident], key: SeriesKey, tick: datetime,
                   quiet_period: timedelta) -> Incident | None:
    """The open incident of another metric on this host that started within GROUP_WINDOW."""
    candidates = [inc for (iid, metric), inc in state.items()
                  if iid == key[0] and metric != key[1] and inc.group is None
                  and timedelta(0) <= tick - inc.first_tick <= GROUP_WINDOW and inc.is_open(tick, quiet_period)]
    return min(candidates, key=lambda inc: (inc.first_tick, inc.metric)) if candidates else None


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
