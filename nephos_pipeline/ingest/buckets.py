"""METRICS_15M and REPORTS_15M: the 15-minute buckets anomaly scoring and the silence
check read, kept by the load.

Why a table: scoring a tick needs the trailing week of every series in 15-minute buckets
(count, sums, mean, min, max, 20th/80th percentile). Re-aggregating 7 days of raw
1-minute rows on every tick cost 20 s of CPU per quarter at 1,000 instances; the buckets
change only where rows were loaded, so the load re-computes exactly those.

The silence check needs, per host, its report times: REPORTS_15M keeps per bucket the
distinct report times' count, first and last (re-reading the raw week took 8-9 s of CPU
per quarter at 1,000 instances), refreshed with the same bounds.

``refresh`` runs in the MERGE's transaction (``ingest.merge.merge_window``): it drops the
buckets the window touches and re-computes them from *every* METRICS row in them, so a
late row, a deleted item or a bucket split over two windows (the one ending at :00 holds
the next hour's :00 sample) gives the same bucket as one load of everything would. It
aggregates ``SLICE`` of rows per statement: the percentiles hold a slice's values in
memory (one statement over 69 M rows peaked at 5.1 GB on the embedded warehouse), so a
long backfill window or a whole history stays bounded. ``fill_history`` buckets the whole
history once, for a deployment whose METRICS were loaded before the table existed
(``ensure_schema`` calls it when it applies a new schema version; a no-op when the table
has rows).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pandas as pd

from nephos_pipeline.clock import utc_now_naive
from nephos_pipeline.sql_files import load_sql
from nephos_pipeline.warehouse.base import Warehouse

BUCKET = timedelta(minutes=15)
TABLES = ("metrics_15m", "reports_15m")  # cleared and re-computed together, same bounds
SLICE = timedelta(hours=6)  # rows aggregated per statement: 6 h x 1,000 hosts x 6 metrics = 2.2 M


def bucket_span(window_start: datetime, window_end: datetime) -> tuple[datetime, datetime]:
    """Bucket ends (from, to] covering METRICS rows with TS in [window_start, window_end):
    from the end of the bucket before the one holding ``window_start`` to the end of the
    one holding the last instant before ``window_end``."""
    first_end = pd.Timestamp(window_start).ceil("15min").to_pydatetime()
    last_end = pd.Timestamp(window_end).ceil("15min").to_pydatetime()
    return first_end - BUCKET, last_end


def refresh(cur: Any, window_start: datetime | None, window_end: datetime | None,
            refreshed_at: datetime | None = None) -> int:
    """Re-compute the buckets (both tables) touched by METRICS rows in [window_start,
    window_end) on ``cur`` (inside the caller's transaction). ``None`` bounds: every bucket.
    Returns METRICS_15M buckets written."""
    at = refreshed_at or utc_now_naive()
    if window_start is None or window_end is None:
        cur.execute(load_sql("load/metrics_time_span.sql"))
        first, last = cur.fetchone()
        if first is None:
            for table in TABLES:
                cur.execute(load_sql(f"load/clear_{table}.sql"), {"from_ts": None, "to_ts": None})
            return 0
        window_start = window_start or first
        window_end = window_end or last + timedelta(microseconds=1)
    low, high = bucket_span(window_start, window_end)
    for table in TABLES:
        cur.execute(load_sql(f"load/clear_{table}.sql"), {"from_ts": low, "to_ts": high})
    written = 0
    while low < high:  # disjoint, bucket-aligned slices (low, low + SLICE]
        upper = min(high, low + SLICE)
        cur.execute(load_sql("load/bucket_metrics_15m.sql"), {"from_ts": low, "to_ts": upper, "refreshed_at": at})
        written += int(cur.rowcount or 0)
        cur.execute(load_sql("load/bucket_reports_15m.sql"), {"from_ts": low, "to_ts": upper, "refreshed_at": at})
        low = upper
    return written


def rebuild(warehouse: Warehouse, conn: Any, start: datetime | None = None, end: datetime | None = None) -> int:
    """``refresh`` in a transaction of its own: for rows written to METRICS outside the load
    (a DBA's correction, a benchmark's generated history). Returns buckets written."""
    with warehouse.transaction(conn) as tx:
        return refresh(tx, start, end)


def fill_history(warehouse: Warehouse, conn: Any) -> int:
    """Bucket every METRICS row when a bucket table is empty (the one-off for existing
    history, e.g. REPORTS_15M added to a deployment whose METRICS_15M is already full)."""
    cur = conn.cursor()
    empty = []
    for table in TABLES:
        cur.execute(load_sql(f"load/count_{table}.sql"))
        empty.append(not cur.fetchone()[0])
    return rebuild(warehouse, conn) if any(empty) else 0
