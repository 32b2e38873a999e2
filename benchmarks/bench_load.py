"""Load: MERGE one window of landed metric rows (50 % updates) into METRICS, and re-run it.

Pipeline path timed: ``nephos_pipeline.ingest.merge.merge_window(..., "metrics", ...)``, the
MERGE of ``sql/load/merge_metrics.sql`` plus the window's prune DELETE in one transaction,
through fakesnow. Baseline, same data, same process: DuckDB's own ``MERGE INTO`` statement
(the engine's native upsert, no fakesnow translation and no prune step) on the raw DuckDB
connection. Between repeats METRICS is restored from a copy (untimed).

Setup (scaffolding): METRICS holds ``history_days`` of history plus the even minutes of the
window; LANDING_METRICS holds the whole window (and the history), with the even minutes'
values changed, so the MERGE updates half the rows and inserts the other half.
"""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from typing import Any

from benchmarks.common import figure, fill_fleet, median_time, new_warehouse, peak_rss, scaling
from nephos_pipeline.ingest.merge import merge_window

WINDOW_START = datetime(2026, 3, 8)
SIZES: dict[str, dict[str, Any]] = {
    # instances x 6 metrics x window minutes = rows merged; 116 x 6 x 1440 = 1,002,240
    "tiny": {"instances": 4, "window_minutes": 240, "history_days": 1, "repeats": 1, "scale_minutes": (15, 60, 240)},
    "quick": {"instances": 116, "window_minutes": 1440, "history_days": 1, "repeats": 3,
              "scale_minutes": (90, 360, 1440)},
    "full": {"instances": 116, "window_minutes": 1440, "history_days": 6, "repeats": 3,
             "scale_minutes": (90, 360, 1440)},
}

NATIVE_MERGE_SQL = """
MERGE INTO METRICS t
USING (
    SELECT INSTANCE_ID, TS, METRIC, VALUE FROM LANDING_METRICS
    WHERE TS >= $ws AND TS < $we
    QUALIFY ROW_NUMBER() OVER (PARTITION BY INSTANCE_ID, TS, METRIC ORDER BY EXTRACTED_AT DESC) = 1
) s
ON t.INSTANCE_ID = s.INSTANCE_ID AND t.TS = s.TS AND t.METRIC = s.METRIC
WHEN MATCHED AND t.VALUE <> s.VALUE THEN UPDATE SET VALUE = s.VALUE, LOADED_AT = $la
WHEN NOT MATCHED THEN INSERT (INSTANCE_ID, TS, METRIC, VALUE, LOADED_AT)
    VALUES (s.INSTANCE_ID, s.TS, s.METRIC, s.VALUE, $la)
"""
# An exact integer checksum: a float sum of hashes would depend on DuckDB's thread order.
CHECKSUM_SQL = ("SELECT COUNT(*) AS N, SUM(MOD(HASH(INSTANCE_ID, TS, METRIC, VALUE), 1000003)) AS H FROM METRICS "
                "WHERE TS >= %(ws)s::TIMESTAMP_NTZ AND TS < %(we)s::TIMESTAMP_NTZ")


def _setup(warehouse: Any, conn: Any, size: dict[str, Any]) -> int:
    start = WINDOW_START - timedelta(days=size["history_days"])
    days = size["history_days"] + size["window_minutes"] / 1440
    fill_fleet(warehouse, conn, size["instances"], days, start)
    params = {"w": WINDOW_START, "x": WINDOW_START}
    # Landing = every row, the window's even minutes changed; METRICS loses the window's odd minutes.
    warehouse.execute(
        "INSERT INTO LANDING_METRICS SELECT INSTANCE_ID, TS, METRIC, "
        "VALUE + IFF(TS >= %(w)s::TIMESTAMP_NTZ AND MOD(MINUTE(TS), 2) = 0, 1, 0), %(x)s::TIMESTAMP_NTZ FROM METRICS",
        params, conn)
    warehouse.execute("DELETE FROM METRICS WHERE TS >= %(w)s::TIMESTAMP_NTZ AND MOD(MINUTE(TS), 2) = 1", params, conn)
    warehouse.execute("CREATE OR REPLACE TABLE METRICS_SEED AS SELECT * FROM METRICS", None, conn)
    return int(warehouse.query("SELECT COUNT(*) AS N FROM METRICS_SEED", None, conn).n[0])


def _restore(warehouse: Any, conn: Any) -> None:
    warehouse.execute("CREATE OR REPLACE TABLE METRICS AS SELECT * FROM METRICS_SEED", None, conn)


def run(mode: str = "quick") -> dict[str, Any]:
    size = SIZES[mode]
    warehouse = new_warehouse("nephos-bench-load-")
    end = WINDOW_START + timedelta(minutes=size["window_minutes"])
    try:
        return _run(warehouse, size, end)
    finally:
        shutil.rmtree(warehouse.path, ignore_errors=True)


def _run(warehouse: Any, size: dict[str, Any], end: datetime) -> dict[str, Any]:
    repeats = size["repeats"]
    with warehouse.hold(), warehouse.connection() as conn:
        seed_rows = _setup(warehouse, conn, size)
        rows = size["instances"] * 6 * size["window_minutes"]

        def pipeline(window_end: datetime = end) -> Any:
            return merge_window(warehouse, conn, "metrics", WINDOW_START, window_end, WINDOW_START)

        def native(window_end: datetime = end) -> Any:
            params = {"ws": WINDOW_START, "we": window_end, "la": WINDOW_START}
            return conn._duck_conn.execute(NATIVE_MERGE_SQL, params).fetchall()

        restore = lambda: _restore(warehouse, conn)  # noqa: E731
        with peak_rss() as pipe_mem:
            pipe = median_time(pipeline, repeats, setup=restore)
        counts = pipe["result"]
        # Idempotence: the same MERGE again changes nothing, and the window's rows are identical.
        before = warehouse.query(CHECKSUM_SQL, {"ws": WINDOW_START, "we": end}, conn).iloc[0].tolist()
        rerun = median_time(pipeline, 1)
        after = warehouse.query(CHECKSUM_SQL, {"ws": WINDOW_START, "we": end}, conn).iloc[0].tolist()
        again = rerun["result"]
        changed = again.inserted + again.updated + again.deleted
        identical = [int(before[0]), int(before[1] or 0)] == [int(after[0]), int(after[1] or 0)]
        with peak_rss() as native_mem:
            base = median_time(native, repeats, setup=restore)
        points = []
        for k, minutes in zip((1, 4, 16), size["scale_minutes"], strict=True):
            stop = WINDOW_START + timedelta(minutes=minutes)
            t = pipe if minutes == size["window_minutes"] else median_time(lambda s=stop: pipeline(s), repeats,
                                                                            setup=restore)
            points.append({"scale": k, "rows": size["instances"] * 6 * minutes, "seconds": round(t["median_s"], 3)})
    rerun_fig = figure(float(changed), "rows", 0.0, float(counts.inserted + counts.updated),
                       note="rows inserted+updated+deleted by a second identical MERGE (baseline: the first "
                            f"MERGE); the window's rows are unchanged (count + hash checksum): {identical}")
    rerun_fig["met"] = bool(rerun_fig["met"]) and identical
    note = f"{rows:,} rows merged into a table of {seed_rows:,} ({size['history_days']} d of history)"
    return {
        "figures": {
            "load_merge_seconds": figure(pipe["median_s"], "s", 3.0, base["median_s"], note=note),
            "load_merge_peak_rss": figure(pipe_mem["peak_mb"], "MB", 1536.0, native_mem["peak_mb"],
                                          note="peak RSS of the benchmark process during the MERGE repeats; "
                                               "baseline: the same during DuckDB's native MERGE"),
            "load_merge_rerun_changes": rerun_fig,
        },
        "details": {
            "rows_merged": rows, "inserted": counts.inserted, "updated": counts.updated, "deleted": counts.deleted,
            "pipeline_runs_s": pipe["runs_s"], "native_runs_s": base["runs_s"], "rerun_s": rerun["runs_s"],
            "rerun_counts": [again.inserted, again.updated, again.deleted], "rerun_identical": identical,
            "table_rows_before": seed_rows, "rss_start_mb": round(pipe_mem["start_mb"], 1),
        },
        "scaling": {"load_merge": scaling(points)},
    }
