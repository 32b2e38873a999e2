"""Time ``sql/analytics/anomaly_scores.sql`` on a synthetic fleet (the issue's performance targets).

Usage: python benchmarks/anomaly_scores_perf.py --instances 200 --days 30 --ticks 1
       python benchmarks/anomaly_scores_perf.py --instances 100 --days 8 --ticks 96 --reference
Loads ``instances x 6 metrics x days`` of 1-minute samples (daily cycle + noise) into a
fresh local warehouse, a day at a time so METRICS is in time order as ingestion writes it,
then times one ``score_ticks`` call over the last ``ticks`` ticks. ``--reference`` also
times the scoring SQL's per-tick definition (the test suite's reference copy), back to
back, and checks both return the same rows: the A/B of docs/benchmarks.md, "Anomaly
scoring at 1,000 instances".
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
import warnings
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from nephos_pipeline.analytics.anomaly.detector import DEFAULT, MEDIAN_TICKS, flag, score_ticks
from nephos_pipeline.ingest import buckets
from nephos_pipeline.sql_files import load_sql
from nephos_pipeline.warehouse.local import LocalWarehouse
from nephos_pipeline.warehouse.schema import ensure_schema

REFERENCE = Path(__file__).parents[1] / "nephos_pipeline_tests" / "analytics" / "anomaly" / "reference_anomaly_scores.sql"
METRICS = ("cpu_usage", "memory_usage", "disk_usage", "network_in", "network_out", "load_avg")
START = pd.Timestamp("2024-05-01")


def load(warehouse: LocalWarehouse, conn: object, instances: int, days: int, seed: int = 7) -> int:
    rng = np.random.default_rng(seed)
    minutes = np.arange(24 * 60)
    ids = np.repeat([f"i-{k:05d}" for k in range(instances)], len(minutes))
    rows = 0
    for day in range(days):
        ts = np.tile(START + pd.Timedelta(days=day) + pd.to_timedelta(minutes, unit="min"), instances)
        daily = np.tile(np.cos(2 * np.pi * minutes / 1440.0), instances)
        for k, metric in enumerate(METRICS):
            values = 10.0 * (k + 1) * (1.5 + daily) + rng.normal(0, 1.0, ids.size)
            frame = pd.DataFrame({"INSTANCE_ID": ids, "TS": ts, "METRIC": metric, "VALUE": values,
                                  "LOADED_AT": START})
            rows += warehouse.write_frame(conn, frame, "METRICS")
    buckets.rebuild(warehouse, conn)  # what the load keeps for anomaly scoring
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=50)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--ticks", type=int, default=672)
    parser.add_argument("--reference", action="store_true", help="A/B against the per-tick definition")
    parser.add_argument("--lookback", type=int, default=0,
                        help="the first N ticks are lookback: no week medians (as anomaly/chunks.py scores them)")
    parser.add_argument("--median-ticks", type=int, default=MEDIAN_TICKS,
                        help="ticks sharing one week median (1: per tick, as the reference computes it)")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    warehouse = LocalWarehouse(path=tempfile.mkdtemp(prefix="nephos-perf-"))
    ensure_schema(warehouse)
    with warehouse.hold(), warehouse.connection() as conn:
        started = time.perf_counter()
        rows = load(warehouse, conn, args.instances, args.days)
        print(f"loaded {rows:,} rows in {time.perf_counter() - started:.1f} s")
        end = START + pd.Timedelta(days=args.days)
        begin = end - timedelta(minutes=15 * (args.ticks - 1))
        for attempt in (1, 2):
            started = time.perf_counter()
            cpu = _cpu()
            week_from = (begin + timedelta(minutes=15 * args.lookback)).to_pydatetime() if args.lookback else None
            scores = score_ticks(warehouse, conn, begin.to_pydatetime(), end.to_pydatetime(), week_from=week_from,
                                 median_ticks=args.median_ticks)
            elapsed, cpu = time.perf_counter() - started, _cpu() - cpu
            flagged = flag(scores, DEFAULT)
            print(f"run {attempt}: {args.ticks} tick(s) x {args.instances} x {len(METRICS)} series: "
                  f"{len(scores):,} score rows, {len(flagged)} flagged, {elapsed:.2f} s wall, {cpu:.2f} s CPU")
            if args.reference:
                if args.median_ticks != 1:
                    parser.error("--reference compares the per-tick definition: use --median-ticks 1")
                reference_ab(warehouse, conn, begin.to_pydatetime(), end.to_pydatetime(), scores)


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def reference_ab(warehouse: LocalWarehouse, conn: object, begin: object, end: object, shipped: pd.DataFrame) -> None:
    """The shipped statement against its per-tick definition: CPU (all threads), wall, same rows."""
    params = {"with_seasonal": 1, "week_from": None, "median_ticks": 1, "range_start": begin, "range_end": end,
              "instance_ids_json": None}
    for name, sql in (("shipped", load_sql("analytics/anomaly_scores.sql")), ("reference", REFERENCE.read_text())):
        cpu, wall = _cpu(), time.perf_counter()
        rows = warehouse.query(sql, params, conn)
        print(f"  {name}: {time.perf_counter() - wall:.2f} s wall, {_cpu() - cpu:.2f} s CPU, {len(rows):,} rows")
    rows["tick"] = pd.to_datetime(rows["tick"])
    numeric = rows.columns.difference(["tick", "instance_id", "metric"])
    rows[numeric] = rows[numeric].apply(pd.to_numeric, errors="coerce").astype(float)
    pd.testing.assert_frame_equal(shipped, rows, check_dtype=False, rtol=1e-8, atol=1e-12)
    print("  same rows (floats to 1e-8)")


if __name__ == "__main__":
    main()
