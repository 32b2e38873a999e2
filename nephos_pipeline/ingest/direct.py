"""Load contract items straight into the warehouse, skipping only the DynamoDB transport.

For benchmarks that fill a warehouse with weeks of data and for analysis tests that need a
simulated fleet quickly: items go through the same contract check, landing swap and MERGE
as an extract does, so what lands is what the pipeline would have landed.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from nephos_pipeline import tables
from nephos_pipeline.ingest import landing, records
from nephos_pipeline.ingest.merge import merge_window
from nephos_pipeline.warehouse import Warehouse

CHUNK = 200_000


def load_items(
    warehouse: Warehouse,
    items: Iterable[tuple[str, dict[str, Any]]],
    window_start: datetime,
    window_end: datetime,
    loaded_at: datetime,
) -> dict[str, int]:
    """Land and MERGE ``(table name, AttributeValue item)`` pairs for one window.

    Table names are those of the registry (``metrics`` | ``alerts`` | ``instances``); a
    snapshot table is landed whole. Returns items per table.
    """
    totals = dict.fromkeys(tables.names(), 0)
    rejects: dict[str, list] = {k: [] for k in totals}
    pending: dict[str, list] = {k: [] for k in totals}
    with warehouse.connection() as conn:
        for table in tables.TABLES:
            landing.create_stage(warehouse, conn, table)

        def flush(key: str) -> None:
            batch = records.rows(tables.get(key), pending[key])
            landing.stage_rows(warehouse, conn, tables.get(key), batch)
            rejects[key] += batch.rejects
            totals[key] += batch.items
            pending[key] = []

        for key, item in items:
            pending[key].append(item)
            if len(pending[key]) >= CHUNK:
                flush(key)
        for table in tables.TABLES:
            flush(table.name)
            bounds = (window_start, window_end) if table.partitioned else (None, None)
            landing.swap_window(warehouse, conn, table, rejects[table.name], *bounds, loaded_at)
            merge_window(warehouse, conn, table, *bounds, loaded_at)
    return totals
