"""Missing data is an insight: a live host that stops reporting (no Dagster imports).

Why: a silent host is the one incident the statistics cannot see, since there is no value
to score. At each 15-minute tick a live instance (its STATUS one the contract calls live)
whose newest report is older than ``max(min_silence, cadence_multiple x its usual
cadence)`` is silent; the warehouse finds the gaps (``sql/analytics/silent_hosts.sql``)
and this module places them on the tick grid, as the anomaly schedule would see them.

One insight per silence (fingerprint: instance + last report time). While it lasts the
insight is seen again every tick (its length grows); when reports resume it is seen once
more as resolved (state 'resolved', severity low, the resume time in the evidence), so the
refreshed words say it is over. A range run equals tick-by-tick runs: the findings of a
range are its first and last observations, which is what the store keeps of many.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pandas as pd

from nephos_pipeline.analytics import context as ctx
from nephos_pipeline.analytics.common import fingerprint, iso, rounded
from nephos_pipeline.insights.findings import Finding
from nephos_pipeline.sql_files import load_sql
from nephos_pipeline.tables.contract import LIVE_INSTANCE_STATUSES
from nephos_pipeline.warehouse import Warehouse

TICK = timedelta(minutes=15)
BUCKET = timedelta(minutes=15)  # REPORTS_15M's buckets: the shortest silence the SQL can find exactly
_EPOCH = datetime(2000, 1, 1)


@dataclass(frozen=True)
class SilenceConfig:
    min_silence: timedelta = timedelta(minutes=15)  # never call a shorter gap silence
    cadence_multiple: float = 3.0  # ... nor one shorter than 3 usual report intervals
    lookback: timedelta = timedelta(days=7)  # reports read to learn the cadence
    min_reports: int = 10  # too few reports to know a cadence: say nothing
    high_after: timedelta = timedelta(hours=1)  # severity: medium, then high
    max_confidence: float = 0.99


def open_silences(warehouse: Warehouse, conn: Any, first_tick: datetime) -> dict[str, datetime]:
    """Fingerprint -> last report of the silence insights stored as still silent."""
    df = warehouse.query(load_sql("analytics/open_silences.sql"), {"first_tick": first_tick}, conn)
    return {r.fingerprint: pd.Timestamp(r.last_report).to_pydatetime() for r in df.itertuples(index=False)
            if r.last_report}


def measure(warehouse: Warehouse, conn: Any, first_tick: datetime, last_tick: datetime,
            config: SilenceConfig, resumed_after: datetime | None = None) -> pd.DataFrame:
    """The silences that matter to [first_tick, last_tick], from the report buckets the load
    keeps (REPORTS_15M). Exact only for silences of 15 minutes or more: two reports of one
    bucket are closer than that, so the SQL looks for gaps between buckets only."""
    if config.min_silence < BUCKET:
        raise ValueError(f"min_silence must be at least {BUCKET} (silences are found between 15-minute buckets)")
    params = {
        "resumed_after": min(first_tick - TICK, resumed_after or first_tick),
        "first_tick": first_tick, "last_tick": last_tick, "lookback_start": first_tick - config.lookback,
        "min_silence_seconds": config.min_silence.total_seconds(), "cadence_multiple": config.cadence_multiple,
        "min_reports": config.min_reports, "live_statuses": json.dumps(LIVE_INSTANCE_STATUSES),
    }
    return warehouse.query(load_sql("analytics/silent_hosts.sql"), params, conn)


def _tick_after(moment: datetime, strictly: bool) -> datetime:
    """The first tick of the 15-minute grid at (or strictly after) ``moment``."""
    steps = (moment - _EPOCH) / TICK
    n = math.floor(steps) + 1 if strictly else math.ceil(steps)
    return _EPOCH + n * TICK


def _finding(row: Any, name: str, tick: datetime, detected: datetime, resumed: datetime | None,
             config: SilenceConfig) -> Finding:
    last = pd.Timestamp(row.last_report).to_pydatetime()
    end = resumed or tick
    silent = end - last
    cadence = float(row.cadence_seconds)
    severity = "low" if resumed else ("high" if silent >= config.high_after else "medium")
    # How unlikely such a gap is from the host's own rhythm: one cadence out of the gap.
    confidence = round(min(config.max_confidence, max(0.0, 1 - cadence / max(silent.total_seconds(), 1.0))), 3)
    return Finding(
        kind="silence", insight_type="anomaly", fingerprint=fingerprint("silence", row.instance_id, iso(last)),
        severity=severity, confidence=confidence, affected_instances=(row.instance_id,), subject=name,
        metric=None, window_start=last, window_end=tick, first_seen_at=detected,
        evidence={
            "state": "resolved" if resumed else "silent", "last_report": iso(last), "resumed_at": iso(resumed),
            "silent_minutes": rounded(silent.total_seconds() / 60, 1), "cadence_seconds": rounded(cadence, 1),
            "threshold_minutes": rounded(float(row.threshold_seconds) / 60, 1), "detected_at": iso(detected),
        },
    )


def findings(gaps: pd.DataFrame, names: dict[str, str], first_tick: datetime, last_tick: datetime,
             config: SilenceConfig, still_open: frozenset[str] = frozenset()) -> list[Finding]:
    """The first and last observation of each silence within the ticks of [first_tick, last_tick].

    ``still_open``: fingerprints stored as silent; if their resume was loaded after its
    tick ran, they are resolved at ``first_tick`` instead of never.
    """
    out: list[Finding] = []
    for row in gaps.itertuples(index=False):
        last = pd.Timestamp(row.last_report).to_pydatetime()
        resumed = None if pd.isna(row.resumed_at) else pd.Timestamp(row.resumed_at).to_pydatetime()
        detected = max(_tick_after(last + timedelta(seconds=float(row.threshold_seconds)), strictly=True), first_tick)
        silent_ticks_end = last_tick if resumed is None else min(last_tick, _tick_after(resumed, strictly=False) - TICK)
        name = names.get(row.instance_id, row.instance_id)
        first_seen = _tick_after(last + timedelta(seconds=float(row.threshold_seconds)), strictly=True)
        if resumed is not None and first_seen >= resumed:
            continue  # reports resumed before any tick could see the gap
        observed = [t for t in dict.fromkeys((detected, silent_ticks_end)) if first_tick <= t <= silent_ticks_end]
        out += [_finding(row, name, t, first_seen, None, config) for t in observed]
        if resumed is not None:
            resolved_tick = _tick_after(resumed, strictly=False)
            if resolved_tick < first_tick and fingerprint("silence", row.instance_id, iso(last)) in still_open:
                resolved_tick = first_tick  # the resume arrived late
            if first_tick <= resolved_tick <= last_tick:
                out.append(_finding(row, name, resolved_tick, first_seen, resumed, config))
    return sorted(out, key=lambda f: (f.window_end, f.fingerprint))


def analyse(warehouse: Warehouse, first_tick: datetime, last_tick: datetime,
            config: SilenceConfig | None = None) -> tuple[list[Finding], dict[str, Any]]:
    """Silence findings for the ticks first_tick..last_tick, plus run statistics."""
    config = config or SilenceConfig()
    with warehouse.connection() as conn:
        still_open = open_silences(warehouse, conn, first_tick)
        gaps = measure(warehouse, conn, first_tick, last_tick, config, min(still_open.values(), default=None))
        names = ctx.host_names(warehouse, conn) if not gaps.empty else {}
    found = findings(gaps, names, first_tick, last_tick, config, frozenset(still_open))
    return found, {"silences": len({f.fingerprint for f in found})}
