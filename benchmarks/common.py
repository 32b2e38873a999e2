"""Shared helpers for the performance benchmarks: timing, peak RSS, the machine, figures.

Also the benchmark scaffolding that fills a local warehouse set-based: rows are generated
inside the engine with Snowflake SQL (``TABLE(GENERATOR(ROWCOUNT => n))``, which fakesnow
runs on DuckDB), never row by row in Python. Generation is scaffolding, not pipeline code.
"""

from __future__ import annotations

import contextlib
import os
import platform
import statistics
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from nephos_pipeline.ingest import buckets
from nephos_pipeline.warehouse.local import LocalWarehouse
from nephos_pipeline.warehouse.schema import ensure_schema

METRICS = ("cpu_usage", "memory_usage", "disk_usage", "network_in", "network_out", "load_avg")
MODES = ("tiny", "quick", "full")


def quiet() -> None:
    """Benchmarks print their own summary; fakesnow's Arrow-copy warning is noise here."""
    warnings.simplefilter("ignore")
    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    logging.getLogger("nephos_pipeline").setLevel(logging.WARNING)


# --- timing and memory ------------------------------------------------------------------


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def median_time(fn: Callable[[], Any], repeats: int = 3, setup: Callable[[], Any] | None = None) -> dict[str, Any]:
    """Median wall time of ``fn`` over ``repeats`` runs (``setup`` runs untimed before each)."""
    times, result = [], None
    for _ in range(max(1, repeats)):
        if setup is not None:
            setup()
        seconds, result = timed(fn)
        times.append(seconds)
    return {"median_s": statistics.median(times), "runs_s": [round(t, 4) for t in times], "result": result}


def _status_kb(field: str) -> int:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def rss_mb() -> float:
    return _status_kb("VmRSS") / 1024


def peak_rss_mb() -> float:
    """Peak resident set size of this process since start or the last ``reset_peak_rss``."""
    return _status_kb("VmHWM") / 1024


def reset_peak_rss() -> bool:
    """Reset VmHWM to the current RSS (Linux ``clear_refs`` 5); False where unsupported."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


@contextlib.contextmanager
def peak_rss() -> Iterator[dict[str, float]]:
    """``with peak_rss() as m: ...`` then ``m['peak_mb']`` is the peak RSS inside the block."""
    out: dict[str, float] = {}
    reset_peak_rss()
    out["start_mb"] = rss_mb()
    try:
        yield out
    finally:
        out["peak_mb"] = peak_rss_mb()


def load_average() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


# --- the machine ------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    ram_gb = 0.0
    try:
        ram_gb = _meminfo_kb("MemTotal") / 1024 / 1024
    except OSError:
        pass
    from importlib.metadata import version

    versions = {}
    for package in ("duckdb", "fakesnow", "dagster", "moto", "pandas"):
        try:
            versions[package] = version(package)
        except Exception:  # noqa: BLE001 - a version is informative only
            versions[package] = "?"
    return {
        "cpu": cpu,
        "cores": os.cpu_count() or 0,
        "ram_gb": round(ram_gb, 1),
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
        "versions": versions,
        "load_average": load_average(),
    }


def _meminfo_kb(field: str) -> int:
    with open("/proc/meminfo", encoding="ascii") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def machine_line(info: dict[str, Any]) -> str:
    v = info.get("versions", {})
    return (f"{info['cpu']}, {info['cores']} cores, {info['ram_gb']} GB RAM, {info['os']}, Python {info['python']}, "
            f"DuckDB {v.get('duckdb')}, fakesnow {v.get('fakesnow')}, Dagster {v.get('dagster')}, "
            f"moto {v.get('moto')}")


# --- figures ----------------------------------------------------------------------------


def figure(value: float | None, unit: str, target: float | None, baseline: float | None, *,
           goal: str = "max_value", note: str = "", ratio: float | None = None) -> dict[str, Any]:
    """One entry of ``latest.json['figures']``.

    ``goal`` says what ``target`` bounds: ``max_value`` (value <= target), ``min_value``
    (value >= target), ``min_ratio`` (value / baseline >= target) or ``none`` (reported only).
    ``ratio`` is value / baseline unless given.
    """
    if ratio is None and value is not None and baseline not in (None, 0):
        ratio = value / baseline
    met: bool | None
    if goal == "none" or target is None or value is None:
        met = None
    elif goal == "max_value":
        met = value <= target
    elif goal == "min_value":
        met = value >= target
    elif goal == "min_ratio":
        met = ratio is not None and ratio >= target
    else:
        raise ValueError(goal)
    out = {
        "value": _round(value), "unit": unit, "target": target, "baseline": _round(baseline),
        "ratio": _round(ratio), "met": met, "goal": goal,
    }
    if note:
        out["note"] = note
    return out


def _round(x: float | None) -> float | None:
    if x is None:
        return None
    return round(float(x), 4) if abs(float(x)) < 1000 else round(float(x), 1)


def scaling(points: list[dict[str, Any]], key: str = "seconds") -> dict[str, Any]:
    """Growth of ``key`` at 1x/4x/16x; linear or better means cost(16x) <= 16 x cost(1x) (+25% noise)."""
    base = points[0][key]
    growth = {f"{p['scale']}x": round(p[key] / base, 2) if base else None for p in points}
    last = points[-1]
    linear = base > 0 and last[key] <= last["scale"] * base * 1.25
    return {"points": points, "growth": growth, "linear_or_better": bool(linear)}


# --- warehouse scaffolding ----------------------------------------------------------------


def new_warehouse(prefix: str = "nephos-bench-") -> LocalWarehouse:
    warehouse = LocalWarehouse(path=tempfile.mkdtemp(prefix=prefix))
    ensure_schema(warehouse)
    return warehouse


# Rows come out in time order (minute, instance, metric), as ingestion writes them, so
# DuckDB's zone maps on TS work as they would on a real table. A few planted stories give
# every analysis something to find: a CPU spike in the last 30 minutes (instance % 40 = 7),
# a disk filling towards 90 % (instance % 25 = 3) and a daily 14:00 CPU burst (instance % 30 = 5).
FILL_METRICS_SQL = """
INSERT INTO METRICS (INSTANCE_ID, TS, METRIC, VALUE, LOADED_AT)
WITH g AS (
    SELECT n,
           FLOOR(n / %(per_minute)s)::INTEGER AS minute_no,
           MOD(FLOOR(n / 6), %(instances)s)::INTEGER AS inst,
           MOD(n, 6)::INTEGER AS k
    FROM (SELECT SEQ8() AS n FROM TABLE(GENERATOR(ROWCOUNT => %(rows)s)))
),
v AS (
    SELECT minute_no, minute_no + %(minute_offset)s AS gm, inst, k,
           COS(2 * PI() * (MOD(minute_no + %(minute_offset)s, 1440) / 1440.0 - 0.6 - MOD(inst, 7) / 56.0)) AS daily,
           UNIFORM(-1::FLOAT, 1::FLOAT, RANDOM()) + UNIFORM(-1::FLOAT, 1::FLOAT, RANDOM()) AS noise,
           MOD(minute_no + %(minute_offset)s, 1440) AS minute_of_day
    FROM g
)
SELECT
    'i-' || LPAD(TO_VARCHAR(inst), 5, '0'),
    DATEADD('minute', minute_no, %(start)s::TIMESTAMP_NTZ),
    DECODE(k, 0, 'cpu_usage', 1, 'memory_usage', 2, 'disk_usage', 3, 'network_in', 4, 'network_out', 'load_avg'),
    CASE k
        WHEN 0 THEN LEAST(100, GREATEST(0, 20 + MOD(inst, 13) + 10 * daily + 2 * noise
                  + IFF(MOD(inst, 40) = 7 AND gm >= %(total_minutes)s - 30, 50, 0)
                  + IFF(MOD(inst, 30) = 5 AND minute_of_day >= 840 AND minute_of_day < 900, 25, 0)))
        WHEN 1 THEN LEAST(100, GREATEST(0, 45 + MOD(inst, 17) + 5 * daily + 0.8 * noise))
        WHEN 2 THEN LEAST(100, GREATEST(0, IFF(MOD(inst, 25) = 3, 35 + 45 * gm / %(total_minutes)s,
                                               30 + MOD(inst, 29)) + 0.05 * noise))
        WHEN 3 THEN 1e5 * (1 + MOD(inst, 5)) * (1.5 + 0.5 * daily + 0.1 * noise)
        WHEN 4 THEN 5e4 * (1 + MOD(inst, 3)) * (1.5 + 0.5 * daily + 0.1 * noise)
        ELSE GREATEST(0, 1 + MOD(inst, 4) * 0.5 + 0.5 * daily + 0.1 * noise)
    END,
    %(start)s::TIMESTAMP_NTZ
FROM v
ORDER BY minute_no, inst, k
"""

FILL_INSTANCES_SQL = """
INSERT INTO INSTANCES (INSTANCE_ID, HOSTNAME, REGION, PLAN, STATUS, TAGS, CREATED_AT, UPDATED_AT,
                       LAST_DEPLOYED_AT, LOADED_AT)
SELECT 'i-' || LPAD(TO_VARCHAR(n), 5, '0'), 'host-' || LPAD(TO_VARCHAR(n), 5, '0'), 'us-east-1', 'standard',
       'running', PARSE_JSON('{}'), %(start)s::TIMESTAMP_NTZ, %(start)s::TIMESTAMP_NTZ, NULL, %(start)s::TIMESTAMP_NTZ
FROM (SELECT SEQ8() AS n FROM TABLE(GENERATOR(ROWCOUNT => %(instances)s)))
"""


def fill_fleet(warehouse: LocalWarehouse, conn: Any, instances: int, days: float, start: datetime,
               chunk_days: int = 2, bucket: bool = True) -> int:
    """METRICS for ``instances`` x 6 metrics x ``days`` at 1-minute resolution from ``start``,
    plus one INSTANCES row per host. Inserted a few days at a time, in time order; then
    bucketed into METRICS_15M as the load would have (``bucket=False``: the caller does it)."""
    warehouse.execute(FILL_INSTANCES_SQL, {"instances": instances, "start": start}, conn)
    total_minutes = int(round(days * 1440))
    step = chunk_days * 1440
    rows = 0
    for first in range(0, total_minutes, step):
        minutes = min(step, total_minutes - first)
        params = {
            "per_minute": instances * 6, "instances": instances, "rows": instances * 6 * minutes,
            "start": start + _minutes(first), "total_minutes": total_minutes, "minute_offset": first,
        }
        rows += warehouse.execute(FILL_METRICS_SQL, params, conn)
    if bucket:
        buckets.rebuild(warehouse, conn)
    return rows


def _minutes(n: int) -> Any:
    from datetime import timedelta

    return timedelta(minutes=n)
