"""Insight lifecycle: one insight per incident, re-alert only after a quiet period."""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd

from nephos_pipeline.analytics.anomaly.incidents import (
    QUIET_PERIOD,
    advance,
    created_ticks,
    fingerprint_for,
    open_at,
)

T0 = datetime(2024, 3, 5, 10, 0)
TICK = timedelta(minutes=15)


def flags(rows: list[tuple[datetime, str, float]]) -> pd.DataFrame:
    """(tick, instance, z) -> a frame shaped like detector.flag's output."""
    return pd.DataFrame(
        [
            {"tick": t, "instance_id": i, "metric": "cpu_usage", "method": "peak_novelty", "value": 50 + z,
             "z": z, "direction": "high" if z > 0 else "low", "baseline_centre": 50.0,
             "baseline_spread": 1.0, "baseline_points": 2016.0}
            for t, i, z in rows
        ]
    )


def ticks_between(start: datetime, end: datetime) -> list[datetime]:
    return [start + k * TICK for k in range(int((end - start) / TICK) + 1)]


def test_a_persisting_anomaly_is_one_insight_updated_in_place():
    flagged = flags([(T0 + k * TICK, "i-1", 4.0 + k) for k in range(8)])
    events, state = advance({}, flagged, ticks_between(T0, T0 + 3 * timedelta(hours=1)))
    assert [e.kind for e in events] == ["created"] + ["updated"] * 7
    assert len({e.incident.fingerprint for e in events}) == 1
    incident = state[("i-1", "cpu_usage")]
    assert incident.first_tick == T0 and incident.last_tick == T0 + 7 * TICK
    assert incident.peak_z == 11.0 and incident.peak_value == 61.0 and incident.flagged_ticks == 8
    assert incident.fingerprint == fingerprint_for("i-1", "cpu_usage", T0)


def test_peak_keeps_the_most_extreme_tick_in_either_direction():
    flagged = flags([(T0, "i-1", 5.0), (T0 + TICK, "i-1", -9.0), (T0 + 2 * TICK, "i-1", 6.0)])
    _, state = advance({}, flagged, ticks_between(T0, T0 + 2 * TICK))
    incident = state[("i-1", "cpu_usage")]
    assert incident.peak_z == -9.0 and incident.direction == "low" and incident.last_tick == T0 + 2 * TICK


def test_re_alerts_only_after_the_quiet_period():
    assert QUIET_PERIOD == timedelta(hours=6)
    flagged = flags([
        (T0, "i-1", 5.0),
        (T0 + QUIET_PERIOD, "i-1", 5.0),  # exactly 6 h later: still the same incident
        (T0 + 2 * QUIET_PERIOD + TICK, "i-1", 5.0),  # 6 h 15 min after the last flag: new
        (T0 + TICK, "i-2", 5.0),  # another series is independent
    ])
    events, state = advance({}, flagged, ticks_between(T0, T0 + timedelta(hours=13)))
    assert [(e.kind, e.incident.instance_id, e.tick) for e in events] == [
        ("created", "i-1", T0),
        ("created", "i-2", T0 + TICK),
        ("updated", "i-1", T0 + QUIET_PERIOD),
        ("created", "i-1", T0 + 2 * QUIET_PERIOD + TICK),
    ]
    assert created_ticks(events) == [T0, T0 + TICK, T0 + 2 * QUIET_PERIOD + TICK]
    assert events[0].incident.fingerprint != events[3].incident.fingerprint
    at = T0 + timedelta(hours=13)
    assert set(open_at(state, at)) == {("i-1", "cpu_usage")}


def test_replaying_the_same_ticks_is_idempotent_and_deterministic():
    flagged = flags([(T0 + k * TICK, "i-1", 4.0) for k in (0, 1, 5)] + [(T0 + 40 * TICK, "i-1", 7.0)])
    ticks = ticks_between(T0, T0 + 48 * TICK)
    events, state = advance({}, flagged, ticks)
    again_events, again_state = advance({}, flagged, ticks)
    assert again_events == events and again_state == state
    replay_events, replay_state = advance(state, flagged, ticks)
    assert replay_events == [] and replay_state == state
    # Unsorted input gives the same result; the caller's state is never mutated.
    shuffled = flagged.sample(frac=1.0, random_state=3)
    assert advance({}, shuffled, ticks) == (events, state)
    before = dict(state)
    advance(state, flags([(T0 + 60 * TICK, "i-1", 9.0)]), [T0 + 60 * TICK])
    assert state == before


def test_range_in_one_call_equals_tick_by_tick():
    rows = [(T0 + k * TICK, f"i-{k % 3}", 3.5 + (k % 5)) for k in range(0, 120, 2) if k % 7 != 0]
    rows += [(T0 + k * TICK, "i-9", -4.0) for k in (3, 40, 41, 90)]
    flagged = flags(rows)
    ticks = ticks_between(T0, T0 + 120 * TICK)
    whole_events, whole_state = advance({}, flagged, ticks)
    state: dict = {}
    stepwise = []
    for tick in ticks:
        events, state = advance(state, flagged, [tick])
        stepwise += events
    assert stepwise == whole_events and state == whole_state
    assert sum(e.kind == "created" for e in whole_events) >= 4


def test_flags_outside_the_given_ticks_are_ignored():
    flagged = flags([(T0, "i-1", 5.0), (T0 + TICK, "i-1", 5.0)])
    events, _ = advance({}, flagged, [T0 + TICK])
    assert [(e.kind, e.tick) for e in events] == [("created", T0 + TICK)]
    assert advance({}, flags([]).reindex(columns=flagged.columns), [T0]) == ([], {})


def test_fingerprint_is_stable_and_specific():
    a = fingerprint_for("i-1", "cpu_usage", T0)
    assert a == fingerprint_for("i-1", "cpu_usage", pd.Timestamp(T0))
    assert len(a) == 32 and int(a, 16) >= 0
    assert len({a, fingerprint_for("i-2", "cpu_usage", T0), fingerprint_for("i-1", "mem", T0),
                fingerprint_for("i-1", "cpu_usage", T0 + TICK)}) == 4
