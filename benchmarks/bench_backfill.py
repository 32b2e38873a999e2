"""Backfill: 7 days of anomaly partitions (672 ticks) in one set-based run vs one by one.

Set-based, as the ``anomaly_insights`` asset runs a multi-partition backfill:
``anomaly_findings.analyse(first_tick, last_tick)`` over the whole range (one scoring
query), then ``save_findings`` once. One by one: ``analyse(t, t)`` + ``save_findings`` per
tick. Running 672 single ticks would take minutes, so a sample of evenly spaced ticks is
run one by one and the mean per tick is extrapolated to the whole range (said in the
figure's note). AI_INSIGHTS is emptied between the two so both start from the same state.

Data: ``instances`` x 6 metrics x (7 days of baseline + 7 days of range), filled set-based.
"""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from benchmarks.common import figure, fill_fleet, new_warehouse, peak_rss, timed
from nephos_pipeline.analytics import anomaly_findings
from nephos_pipeline.insights.llm.local import LocalNarrator
from nephos_pipeline.insights.store import save_findings

START = datetime(2026, 2, 1)
TICK = timedelta(minutes=15)
SIZES: dict[str, dict[str, Any]] = {
    "tiny": {"instances": 3, "baseline_days": 1, "ticks": 16, "sample": 4},
    "quick": {"instances": 50, "baseline_days": 7, "ticks": 672, "sample": 12},
    "full": {"instances": 50, "baseline_days": 7, "ticks": 672, "sample": 24},
}


def run_range(warehouse: Any, first: datetime, last: datetime) -> dict[str, Any]:
    findings, stats = anomaly_findings.analyse(warehouse, first, last)
    saved = save_findings(warehouse, LocalNarrator(), findings)
    return {"findings": len(findings), "created": len(saved.created), **stats}


def run(mode: str = "quick") -> dict[str, Any]:
    size = SIZES[mode]
    ticks = size["ticks"]
    days = size["baseline_days"] + ticks * TICK / timedelta(days=1)
    warehouse = new_warehouse("nephos-bench-backfill-")
    last = START + timedelta(days=days)
    first = last - (ticks - 1) * TICK
    try:
        with warehouse.hold():
            with warehouse.connection() as conn:
                rows = fill_fleet(warehouse, conn, size["instances"], days, START)
            picks = sorted({int(round(x)) for x in np.linspace(0, ticks - 1, size["sample"])})
            sample_times = []
            for k in picks:
                tick = first + k * TICK
                seconds, _ = timed(lambda tick=tick: run_range(warehouse, tick, tick))
                sample_times.append(seconds)
            warehouse.execute("DELETE FROM AI_INSIGHTS")
            with peak_rss() as mem:
                set_s, result = timed(lambda: run_range(warehouse, first, last))
    finally:
        shutil.rmtree(warehouse.path, ignore_errors=True)
    per_tick = float(np.mean(sample_times))
    one_by_one = per_tick * ticks
    note = (f"{ticks} ticks, {size['instances']} instances x 6 metrics, {rows:,} rows; one by one extrapolated "
            f"from {len(sample_times)} evenly spaced ticks (mean {per_tick:.2f} s/tick)")
    return {
        "figures": {
            "backfill_anomaly_range": figure(set_s, "s", 120.0, one_by_one, note=note),
            "backfill_peak_rss": figure(mem["peak_mb"], "MB", None, None, goal="none",
                                        note="peak RSS of the process during the set-based range (no target set)"),
        },
        "details": {
            "rows": rows, "ticks": ticks, "set_based_s": round(set_s, 2), "set_based_result": result,
            "one_by_one_sample_s": [round(t, 3) for t in sample_times], "one_by_one_extrapolated_s": round(one_by_one, 1),
            "speedup": round(one_by_one / set_s, 1) if set_s else None,
        },
    }
