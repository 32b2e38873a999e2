"""MERGE landed rows into the typed tables (METRICS, ALERTS, ...): set-based, one transaction each.

Each merge is the table's MERGE statement (``sql/load/merge_<name>.sql``) plus a window-scoped DELETE of rows that are no longer
in the source (items deleted from DynamoDB). Both run in one transaction so a failure
leaves the target exactly as it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from nephos_pipeline import tables
from nephos_pipeline.sql_files import load_sql
from nephos_pipeline.tables import Table
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
    table: str | Table,
    window_start: datetime | None,
    window_end: datetime | None,
    loaded_at: datetime,
) -> MergeCounts:
    """MERGE one registered table (a declaration or its name) for one window, atomically."""
    table = tables.get(table)
    params = {"window_start": window_start, "window_end": window_end, "loaded_at": loaded_at}
    with warehouse.transaction(conn) as cur:
        cur.execute(load_sql(table.sql_file("merge"), table.sql_package), params)
        inserted, updated = _merge_counts(cur)
        cur.execute(load_sql(table.sql_file("prune"), table.sql_package), params if table.partitioned else None)
        deleted = int(cur.rowcount or 0)
    return MergeCounts(inserted, updated, deleted)
