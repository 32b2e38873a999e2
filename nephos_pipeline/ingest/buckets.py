"""METRICS_15M: the 15-minute buckets anomaly scoring reads, kept by the load.

Why a table: scoring a tick needs the trailing week of every series in 15-minute buckets
(count, sums, mean, min, max, 20th/80th percentile). Re-aggregating 7 days of raw
1-minute rows on every tick cost 20 s of CPU per quarter at 1,000 instances; the buckets
change only where rows were loaded, so the load re-computes exactly those.

``refresh`` runs in the MERGE's transaction (``ingest.merge.merge_window``): it drops the
buckets the window touches and re-computes them from *every* METRICS row in them, so a
late row, a deleted item or a bucket split over two windows gives the same bucket as one
load of everything would. ``fill_history`` buckets the whole history once, for a
deployment whose METRICS were loaded before the table existed (``ensure_schema`` calls it
when it applies a new schema version; a no-op when the table has rows).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from nephos_pipeline.sql_files import load_sql
from nephos_pipeline.warehouse.base import Warehouse


def refresh(cur: Any, window_start: datetime | None, window_end: datetime | None,
            refreshed_at: datetime | None = None) -> int:
    """Re-compute the buckets touched by METRICS rows in [window_start, window_end) on ``cur``
    (inside the caller's transaction). ``None`` bounds: every bucket. Returns buckets written."""
    at = refreshed_at or datetime.now(UTC).replace(tzinfo=None)
    params = {"window_start": window_start, "window_end": window_end, "refreshed_at": at}
    cur.execute(load_sql("load/clear_metrics_15m.sql"), params)
    cur.execute(load_sql("load/bucket_metrics_15m.sql"), params)
    return int(cur.rowcount or 0)


def rebuild(warehouse: Warehouse, conn: Any, start: datetime | None = None, end: datetime | None = None) -> int:
    """``refresh`` in a transaction of its own: for rows written to METRICS outside the load
    (a DBA's correction, a benchmark's generated history). Returns buckets written."""
    with warehouse.transaction(conn) as tx:
        return refresh(tx, start, end)


def fill_history(warehouse: Warehouse, conn: Any) -> int:
    """Bucket every METRICS row when METRICS_15M is empty (the one-off for existing history)."""
    cur = conn.cursor()
    cur.execute("SELECT COUNT(*) FROM METRICS_15M")
    return 0 if cur.fetchone()[0] else rebuild(warehouse, conn)
