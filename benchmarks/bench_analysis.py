"""Analysis at scale: one anomaly, pattern and prediction partition on a large warehouse.

The warehouse is filled directly (set-based SQL, ``benchmarks.common.fill_fleet``), not
through DynamoDB: ``instances x 6 metrics x days`` at 1-minute resolution. Timed, as each
asset does it for one partition:

* anomaly (15 min): ``anomaly_findings.analyse`` for the tick, then ``save_findings``;
* pattern (1 h): ``patterns.analyse`` for the hour, then ``save_findings``;
* prediction (6 h): ``predictions.analyse`` for the six hours, then ``save_findings``.

Each is the median of the last three partitions of the data. The baseline, in the same
process, is the naive way: fetch the raw rows the analysis needs into pandas
(``fetch_pandas_all``) and loop per instance and metric in Python, computing the same kind
of statistics. Naive runs are timed once (they are the slow side). Peak RSS is measured
separately for the pipeline and the naive side (VmHWM reset in between).

Growth: the anomaly partition on fresh warehouses of 1x, 4x and 16x the instances, with
8 days of data each.
"""

from __future__ import annotations

import shutil
import time
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.common import figure, fill_fleet, median_time, new_warehouse, peak_rss, scaling, timed
from nephos_pipeline.analytics import anomaly_findings, patterns, predictions
from nephos_pipeline.insights.llm.local import LocalNarrator
from nephos_pipeline.insights.store import save_findings

START = datetime(2026, 2, 1)
TICK = timedelta(minutes=15)
SIZES: dict[str, dict[str, Any]] = {
    "tiny": {"instances": 3, "days": 2, "scale_base": 1, "scale_days": 2, "naive": True},
    "quick": {"instances": 50, "days": 14, "scale_base": 4, "scale_days": 8, "naive": True},
    "full": {"instances": 200, "days": 30, "scale_base": 12, "scale_days": 8, "naive": True},
}


# --- the pipeline, one partition each ----------------------------------------------------


class Stages:
    """Wall time per stage of one partition, for the breakdown in the details."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._last = time.perf_counter()

    def mark(self, name: str) -> None:
        now = time.perf_counter()
        self.seconds[name] = round(now - self._last, 3)
        self._last = now


def anomaly_partition(warehouse: Any, tick: datetime) -> dict[str, Any]:
    t = Stages()
    findings, stats = anomaly_findings.analyse(warehouse, tick, tick)
    t.mark("analyse")
    save_findings(warehouse, LocalNarrator(), findings)
    t.mark("save")
    return {"findings": len(findings), **stats, "stages_s": t.seconds}


def pattern_partition(warehouse: Any, window_end: datetime) -> dict[str, Any]:
    t = Stages()
    findings, stats = patterns.analyse(warehouse, window_end - timedelta(hours=1), window_end)
    t.mark("analyse")
    save_findings(warehouse, LocalNarrator(), findings)
    t.mark("save")
    return {"findings": len(findings), **stats, "stages_s": t.seconds}


def prediction_partition(warehouse: Any, window_end: datetime) -> dict[str, Any]:
    t = Stages()
    findings, stats = predictions.analyse(warehouse, window_end - predictions.WINDOW, window_end)
    t.mark("analyse")
    save_findings(warehouse, LocalNarrator(), findings)
    t.mark("save")
    return {"findings": len(findings), **stats, "stages_s": t.seconds}


# --- the naive way: fetch into pandas, loop per instance ---------------------------------


def fetch(warehouse: Any, start: datetime, end: datetime, metrics: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Raw METRICS rows with start <= TS < end, as a DataFrame (the connector's Arrow fetch)."""
    sql = "SELECT INSTANCE_ID, TS, METRIC, VALUE FROM METRICS WHERE TS >= %(s)s::TIMESTAMP_NTZ AND TS < %(e)s::TIMESTAMP_NTZ"
    params: dict[str, Any] = {"s": start, "e": end}
    if metrics:
        sql += " AND METRIC IN (" + ", ".join(f"%(m{i})s" for i in range(len(metrics))) + ")"
        params.update({f"m{i}": m for i, m in enumerate(metrics)})
    with warehouse.connection() as conn:
        cur = conn.cursor()
        cur.execute(sql, params)
        return cur.fetch_pandas_all()


def naive_anomaly(warehouse: Any, tick: datetime) -> int:
    """Peak-novelty z per series for one tick, per instance and metric in Python."""
    raw = fetch(warehouse, tick - timedelta(days=7) - TICK + timedelta(microseconds=1),
                tick + timedelta(microseconds=1))
    flagged = 0
    for _iid, host in raw.groupby("INSTANCE_ID", sort=False):
        for _metric, s in host.groupby("METRIC", sort=False):
            series = s.set_index("TS")["VALUE"].sort_index()
            buckets = series.resample("15min", closed="right", label="right")
            peaks, troughs = buckets.max(), buckets.min()
            if tick not in peaks.index:
                continue
            base_p, base_t = peaks[peaks.index < tick].dropna(), troughs[troughs.index < tick].dropna()
            if len(base_p) < 96:
                continue
            hi, lo = peaks[tick], troughs[tick]
            spread_up = max(base_p.std(), 0.05 * abs(base_p.median()), 1e-6)
            spread_dn = max(base_t.std(), 0.05 * abs(base_t.median()), 1e-6)
            up = (hi - base_p.mean()) / spread_up if hi > series[series.index <= tick - TICK].max() else 0.0
            down = (lo - base_t.mean()) / spread_dn if lo < series[series.index <= tick - TICK].min() else 0.0
            flagged += int(max(abs(up), abs(down)) > 3.0)
    return flagged


def _fit(y: np.ndarray) -> tuple[float, float]:
    x = np.arange(len(y), dtype=float)
    slope, intercept = np.polyfit(x, y, 1)
    resid = y - (slope * x + intercept)
    total = float(((y - y.mean()) ** 2).sum())
    return float(slope), 1.0 - float((resid**2).sum()) / total if total > 0 else 0.0


def naive_pattern(warehouse: Any, window_end: datetime) -> int:
    """Trends, correlations and recurring hourly spikes, per instance in Python."""
    raw = fetch(warehouse, window_end - timedelta(days=7, hours=2), window_end)
    found = 0
    day_start = window_end - timedelta(hours=24)
    for _iid, host in raw.groupby("INSTANCE_ID", sort=False):
        wide = host.pivot_table(index="TS", columns="METRIC", values="VALUE")
        hourly = wide.resample("1h").mean()
        for metric in hourly.columns:
            last = hourly[metric][hourly.index >= day_start].dropna().to_numpy()
            prev = hourly[metric][(hourly.index < day_start) & (hourly.index >= day_start - timedelta(hours=24))]
            if len(last) >= 12 and len(prev) >= 12:
                slope, r2 = _fit(last)
                found += int(r2 >= 0.6 and abs(last.mean() - prev.mean()) >= 10)
            h = hourly[metric].dropna()
            neighbours = (h.shift(2) + h.shift(1) + h.shift(-1) + h.shift(-2)) / 4
            excess = (h - neighbours)[h.index >= window_end - timedelta(days=7)]
            elevated = excess[excess >= 10]
            found += int((elevated.groupby(elevated.index.hour).size() >= 3).sum())
        corr = wide[wide.index >= day_start].corr()
        found += int((corr.abs().to_numpy()[np.triu_indices(len(corr), 1)] >= 0.7).sum())
    return found


def naive_prediction(warehouse: Any, window_end: datetime) -> int:
    """Hourly means, a least-squares line and the time to 90 %, per instance in Python."""
    raw = fetch(warehouse, window_end - timedelta(hours=72), window_end, ("disk_usage", "memory_usage"))
    found = 0
    for _iid, host in raw.groupby("INSTANCE_ID", sort=False):
        for _metric, s in host.groupby("METRIC", sort=False):
            y = s.set_index("TS")["VALUE"].sort_index().resample("1h").mean().dropna().to_numpy()
            if len(y) < 24:
                continue
            slope, r2 = _fit(y)
            if slope > 0 and r2 >= 0.6 and y[-1] < 90 and (90 - y[-1]) / slope <= 168:
                found += 1
    return found


# --- the benchmark -----------------------------------------------------------------------


def _median_over(ends: list[datetime], fn: Any, warehouse: Any) -> dict[str, Any]:
    times, results = [], []
    for t in ends:
        seconds, result = timed(lambda t=t: fn(warehouse, t))
        times.append(seconds)
        results.append(result)
    return {"median_s": float(np.median(times)), "runs_s": [round(t, 3) for t in times], "result": results}


def anomaly_growth(size: dict[str, Any]) -> dict[str, Any]:
    points = []
    for k in (1, 4, 16):
        instances = size["scale_base"] * k
        warehouse = new_warehouse("nephos-bench-scale-")
        try:
            with warehouse.hold():
                with warehouse.connection() as conn:
                    rows = fill_fleet(warehouse, conn, instances, size["scale_days"], START)
                end = START + timedelta(days=size["scale_days"])
                t = _median_over([end - 2 * TICK, end - TICK, end], anomaly_partition, warehouse)
        finally:
            shutil.rmtree(warehouse.path, ignore_errors=True)
        points.append({"scale": k, "instances": instances, "rows": rows, "seconds": round(t["median_s"], 3)})
    return scaling(points)


def run(mode: str = "quick") -> dict[str, Any]:
    size = SIZES[mode]
    warehouse = new_warehouse("nephos-bench-analysis-")
    end = START + timedelta(days=size["days"])
    try:
        with warehouse.hold():
            with warehouse.connection() as conn:
                fill_s, rows = timed(lambda: fill_fleet(warehouse, conn, size["instances"], size["days"], START))
            with peak_rss() as pipe_mem:
                anomaly = _median_over([end - 2 * TICK, end - TICK, end], anomaly_partition, warehouse)
                pattern = _median_over([end - timedelta(hours=h) for h in (2, 1, 0)], pattern_partition, warehouse)
                prediction = _median_over([end - timedelta(hours=h) for h in (12, 6, 0)], prediction_partition,
                                          warehouse)
            naive: dict[str, Any] = {}
            with peak_rss() as naive_mem:
                if size["naive"]:
                    naive["anomaly"] = median_time(lambda: naive_anomaly(warehouse, end), 1)
                    naive["pattern"] = median_time(lambda: naive_pattern(warehouse, end), 1)
                    naive["prediction"] = median_time(lambda: naive_prediction(warehouse, end), 1)
    finally:
        shutil.rmtree(warehouse.path, ignore_errors=True)
    growth = anomaly_growth(size)
    scale = f"{size['instances']} instances x 6 metrics x {size['days']} d = {rows:,} rows"

    def naive_s(name: str) -> float | None:
        return naive[name]["median_s"] if name in naive else None

    return {
        "figures": {
            "analysis_anomaly_partition": figure(anomaly["median_s"], "s", 10.0, naive_s("anomaly"),
                                                 note=f"{scale}; baseline: naive pandas loop"),
            "analysis_pattern_partition": figure(pattern["median_s"], "s", 15.0, naive_s("pattern"),
                                                 note=f"{scale}; baseline: naive pandas loop"),
            "analysis_prediction_partition": figure(prediction["median_s"], "s", 15.0, naive_s("prediction"),
                                                    note=f"{scale}; baseline: naive pandas loop"),
            "analysis_peak_rss": figure(pipe_mem["peak_mb"], "MB", 3072.0, naive_mem["peak_mb"] if naive else None,
                                        note="peak RSS of the process over the three pipeline partitions "
                                             "(baseline: over the three naive runs)"),
        },
        "details": {
            "rows": rows, "fill_s": round(fill_s, 1), "instances": size["instances"], "days": size["days"],
            "anomaly": {"runs_s": anomaly["runs_s"], "runs": anomaly["result"]},
            "pattern": {"runs_s": pattern["runs_s"], "runs": pattern["result"]},
            "prediction": {"runs_s": prediction["runs_s"], "runs": prediction["result"]},
            "naive": {k: {"s": round(v["median_s"], 2), "found": v["result"]} for k, v in naive.items()},
            "rss_before_pipeline_mb": round(pipe_mem["start_mb"], 1),
        },
        "scaling": {"analysis_anomaly_partition": growth},
    }
