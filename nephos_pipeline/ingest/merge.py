"""MERGE landed rows into METRICS, ALERTS and INSTANCES: set-based, one transaction each.

Each merge is the MERGE statement plus a window-scoped DELETE of rows that are no longer
in the source (items deleted from DynamoDB). Both run in one transaction so a failure
leaves the target exactly as it was. A METRICS window also re-computes the 15-minute
buckets it touches (``ingest.buckets``, METRICS_15M) in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from nephos_pipeline.ingest import buckets
from nephos_pipeline.sql_files import load_sql
from nephos_pipeline.warehouse import Warehouse


@dataclass(frozen=True)
class MergeCounts:
    inserted: int
    updated: int
    deleted: int


def _merge_counts(cur: Any) -> tuple[int, int]:
    """Snowflake returns one row with a column per action taken (inserted, updated, ...)."""
    row = cur.fetchone() or ()
    names = [d[0].lower() for d in cur.description or []]
    counts = dict(zip(names, row, strict=False))
    inserted = int(counts.get("number of rows inserted", 0) or 0)
    updated = int(counts.get("number of rows updated", 0) or 0)
    return inserted, updated


def merge_window(
    warehouse: Warehouse,
    conn: Any,
    entity: str,
    window_start: datetime | None,
    window_end: datetime | None,
    loaded_at: datetime,
) -> MergeCounts:
    """MERGE ``entity`` ('metrics' | 'alerts' | 'instances') for one window, atomically."""
    params = {"window_start": window_start, "window_end": window_end, "loaded_at": loaded_at}
    with warehouse.transaction(conn) as cur:
        cur.execute(load_sql(f"load/merge_{entity}.sql"), params)
        inserted, updated = _merge_counts(cur)
        if entity == "instances":
            cur.execute(load_sql("load/prune_instances.sql"))
        else:
            cur.execute(load_sql(f"load/prune_{entity}.sql"), params)
        deleted = int(cur.rowcount or 0)
        if entity == "metrics":
            buckets.refresh(cur, window_start, window_end, loaded_at)
    return MergeCounts(inserted, updated, deleted)
