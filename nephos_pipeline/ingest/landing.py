"""Land extracted rows and rejects, replacing exactly one extract window.

Rows are bulk-loaded into a session-scoped staging table (``write_pandas``), then one
transaction deletes the window's old landing rows and rejects and inserts the new ones:
a failure anywhere leaves the previous landing intact, and a re-run replaces, never adds.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd

from nephos_pipeline.ingest import table_sql
from nephos_pipeline.ingest.records import Batch, Reject
from nephos_pipeline.sql_files import load_sql
from nephos_pipeline.tables import Table
from nephos_pipeline.warehouse import Warehouse


def frame(table: Table, rows: list[tuple]) -> pd.DataFrame:
    df = pd.DataFrame.from_records(rows, columns=table.column_names)
    for col in table.datetime_columns:
        df[col] = pd.to_datetime(df[col]).astype("datetime64[us]")
    return df


def create_stage(warehouse: Warehouse, conn: Any, table: Table) -> None:
    warehouse.execute(table_sql.create_stage(table), conn=conn)


def stage_rows(warehouse: Warehouse, conn: Any, table: Table, batch: Batch) -> int:
    """Append a batch's rows to the staging table (call repeatedly to bound memory)."""
    if not batch.rows:
        return 0
    return warehouse.write_frame(conn, frame(table, batch.rows), table.stage)


def _stage_rejects(warehouse: Warehouse, conn: Any, rejects: list[Reject]) -> None:
    warehouse.execute(load_sql("load/stage_rejects.sql"), conn=conn)
    if rejects:
        df = pd.DataFrame(
            {
                "ITEM_KEY": [r.item_key for r in rejects],
                "REASON": [r.reason for r in rejects],
                "RAW_ITEM": [r.raw_item for r in rejects],
            }
        )
        warehouse.write_frame(conn, df, "STG_REJECTS")


def swap_window(
    warehouse: Warehouse,
    conn: Any,
    table: Table,
    rejects: list[Reject],
    window_start: datetime | None,
    window_end: datetime | None,
    extracted_at: datetime,
) -> int:
    """Replace the window's landing rows and rejects in one transaction; returns rows landed."""
    _stage_rejects(warehouse, conn, rejects)
    params = {
        "window_start": window_start,
        "window_end": window_end,
        "extracted_at": extracted_at,
        "source_table": table.name,
    }
    with warehouse.transaction(conn) as cur:
        cur.execute(table_sql.clear_landing(table), params)
        cur.execute(table_sql.land(table), params)
        landed = int(cur.rowcount or 0)
        cur.execute(load_sql("load/clear_rejects.sql"), params)
        cur.execute(load_sql("load/land_rejects.sql"), params)
    return landed


def replace_rejects(
    warehouse: Warehouse,
    conn: Any,
    source_table: str,
    rejects: list[Reject],
    window_start: datetime | None,
    window_end: datetime | None,
    rejected_at: datetime,
) -> None:
    """Replace one window's rejects without touching landing rows, in one transaction.

    For items no extract window reads (the reconciliation's out-of-range metric items,
    stored with no window): re-running replaces them, so items since deleted disappear.
    """
    _stage_rejects(warehouse, conn, rejects)
    params = {"window_start": window_start, "window_end": window_end, "extracted_at": rejected_at,
              "source_table": source_table}
    with warehouse.transaction(conn) as cur:
        cur.execute(load_sql("load/clear_rejects.sql"), params)
        cur.execute(load_sql("load/land_rejects.sql"), params)
