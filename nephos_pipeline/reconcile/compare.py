"""Compare the Scan's counts with what the warehouse loaded and rejected (no Dagster imports).

The counting is SQL (``sql/reconcile``): the Scan's counts per instance and hour are staged,
then compared with distinct item timestamps in METRICS and distinct item keys in REJECTS, and
rolled up per instance and day into METRICS_RECONCILIATION. Items with out-of-range
timestamps, which no hourly window reads, are rejected here first (REJECTS, no window), so
they count as rejected.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd

from nephos_pipeline.clock import PARTITION_FMT
from nephos_pipeline.ingest import instance_ids as known_ids
from nephos_pipeline.ingest import landing
from nephos_pipeline.ingest.records import Reject
from nephos_pipeline.reconcile.scan import KeyCounts
from nephos_pipeline.sql_files import load_sql
from nephos_pipeline.tables.contract import MAX_MS, MIN_MS
from nephos_pipeline.warehouse import Warehouse


@dataclass
class Reconciled:
    """One run's outcome: per-day rows written, and the hours that disagree."""

    days: pd.DataFrame
    hours: pd.DataFrame = field(default_factory=pd.DataFrame)  # hour, instances, unread_items, extra_items

    @property
    def unread(self) -> int:
        return int(self.days["unread_items"].sum()) if not self.days.empty else 0

    @property
    def extra(self) -> int:
        return int(self.days["extra_items"].sum()) if not self.days.empty else 0

    def resync_hours(self, fmt: str = PARTITION_FMT) -> list[str]:
        """Partition keys of the hours a re-sync would fix (unread or extra items)."""
        if self.hours.empty:
            return []
        return [pd.Timestamp(h).strftime(fmt) for h in self.hours["hour"]]


def _stage_counts(warehouse: Warehouse, conn: Any, counts: KeyCounts, registered: set[str]) -> None:
    rows: list[tuple] = [
        (iid, datetime.fromtimestamp(hour_ms / 1000, tz=UTC).replace(tzinfo=None), n, iid in registered)
        for (iid, hour_ms), n in counts.by_hour.items()
    ]
    per_id: dict[str, int] = {}
    for key in counts.out_of_range:
        per_id[key["instance_id"]["S"]] = per_id.get(key["instance_id"]["S"], 0) + 1
    rows += [(iid, None, n, iid in registered) for iid, n in per_id.items()]
    warehouse.execute(load_sql("reconcile/stage_counts.sql"), conn=conn)
    if rows:
        df = pd.DataFrame.from_records(rows, columns=["INSTANCE_ID", "HOUR", "ITEMS", "REGISTERED"])
        df["HOUR"] = pd.to_datetime(df["HOUR"]).astype("datetime64[us]")
        warehouse.write_frame(conn, df, "STG_RECONCILE_COUNTS")


def reconcile(
    warehouse: Warehouse,
    counts: KeyCounts,
    registered: set[str],
    rejects: list[Reject],
    start: datetime,
    end: datetime,
    checked_at: datetime,
) -> Reconciled:
    """Record ids found, reject out-of-range items, and replace the window's day rows.

    ``start``/``end`` are whole UTC days. Returns the day rows written and the disagreeing hours.
    """
    params = {"window_start": start, "window_end": end, "min_ms": MIN_MS, "max_ms": MAX_MS,
              "first_day": start.date(), "end_day": (end - timedelta(microseconds=1)).date() + timedelta(days=1),
              "checked_at": checked_at}
    with warehouse.connection() as conn:
        found_by = {iid: "reconciliation" for iid in counts.ranges if iid not in registered}
        known_ids.record(warehouse, conn, counts.ranges, registered, found_by, checked_at)
        landing.replace_rejects(warehouse, conn, "metrics", rejects, None, None, checked_at)
        _stage_counts(warehouse, conn, counts, registered)
        warehouse.execute(load_sql("reconcile/compare_hours.sql"), params, conn)
        with warehouse.transaction(conn) as cur:
            cur.execute(load_sql("reconcile/clear_days.sql"), params)
            cur.execute(load_sql("reconcile/insert_days.sql"), params)
        days = warehouse.query(load_sql("reconcile/checked_days.sql"), params, conn)
        hours = warehouse.query(load_sql("reconcile/unread_hours.sql"), conn=conn)
    return Reconciled(days, hours)
