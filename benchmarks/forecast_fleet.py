"""False forecasts on the realistic fleet: predictions on hosts that never reach the threshold.

The forecast benchmark's never-crossing series are shapes written next to the guards that
reject them. This check runs the prediction analysis on a fleet nobody tuned it on: the
simulator's ``realistic`` profile with the detection benchmark's planted incidents
(``benchmarks/realistic_fleet.py``: office hours, weekends, bursts, nightly batches, caches
that fill by day, a disk jump, a memory runaway), 10 hosts x 14 days per seed. No series
there reaches 90 %, so every forecast of a crossing is a false one. Windows: every six
hours from the second day, as the schedule runs them.
"""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

from benchmarks import realistic_fleet as rf
from nephos_pipeline import metric_catalogue
from nephos_pipeline.analytics import predictions
from nephos_pipeline.sql_files import load_sql
from nephos_pipeline.warehouse.local import LocalWarehouse
from nephos_pipeline.warehouse.schema import ensure_schema

SEEDS = rf.DEV_SEEDS + rf.HELD_OUT_SEEDS


def fleet_false_forecasts(seed: int, config: predictions.PredictionConfig) -> dict:
    """Prediction findings on one realistic fleet, and which series they fell on."""
    frame, _planted = rf.plant(rf.healthy_fleet(seed=seed), seed=seed)
    frame["TS"] = frame["TS"].astype("datetime64[us]")
    predicted = {name for name, m in metric_catalogue.METRICS.items() if m.predict_at is not None}
    hourly = frame[frame["METRIC"].isin(predicted)].set_index("TS").groupby(["INSTANCE_ID", "METRIC"])["VALUE"]
    peaks = hourly.resample("1h").mean().groupby(level=[0, 1]).max()
    start = rf.START.replace(tzinfo=None)
    ends = [start + timedelta(hours=24 + 6 * i) for i in range(4 * (rf.DAYS - 1) + 1)]
    with tempfile.TemporaryDirectory(prefix="nephos-forecast-fleet-") as tmp:
        warehouse = LocalWarehouse(path=str(Path(tmp) / "warehouse"))
        ensure_schema(warehouse)
        with warehouse.connection() as conn:
            warehouse.write_frame(conn, frame, "METRICS")
        warehouse.execute_script(load_sql("views/rollups.sql"))
        with warehouse.connection() as conn:
            trends = predictions.measure_range(warehouse, conn, ends, config)
    found = [f for end in ends for f in predictions.findings(trends[end], {}, end, config, {})]
    never = {key for key, peak in peaks.items() if peak < 90.0}
    false = [f for f in found if (f.affected_instances[0], f.metric) in never]
    return {"seed": seed, "series": len(peaks), "series_never_crossing": len(never), "windows": len(ends),
            "false_forecasts": len(false),
            "series_with_false_forecast": len({(f.affected_instances[0], f.metric) for f in false}),
            "findings_on_crossing_series": len(found) - len(false)}


def realistic_fleet(config: predictions.PredictionConfig | None = None) -> dict:
    config = config or predictions.PredictionConfig()
    rows = [fleet_false_forecasts(seed, config) for seed in SEEDS]
    summary = {"seeds": list(SEEDS), "false_forecasts": sum(r["false_forecasts"] for r in rows),
               "series_with_false_forecast": sum(r["series_with_false_forecast"] for r in rows),
               "series_never_crossing": sum(r["series_never_crossing"] for r in rows),
               "windows_per_series": rows[0]["windows"] if rows else 0}
    return {"summary": summary, "per_seed": rows}
