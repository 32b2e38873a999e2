"""Load contract items straight into the warehouse, skipping only the DynamoDB transport.

For benchmarks that fill a warehouse with weeks of data and for analysis tests that need a
simulated fleet quickly: items go through the same contract check, landing swap and MERGE
as an extract does, so what lands is what the pipeline would have landed.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

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
    """Land and MERGE ``(table key, AttributeValue item)`` pairs for one window.

    Table keys are ``metrics`` | ``alerts`` | ``instances``. Returns items per table.
    """
    entities = {"metrics": landing.METRICS, "alerts": landing.ALERTS, "instances": landing.INSTANCES}
    convert = {"metrics": records.metric_rows, "alerts": records.alert_rows, "instances": records.instance_rows}
    totals = dict.fromkeys(entities, 0)
    rejects: dict[str, list] = {k: [] for k in entities}
    pending: dict[str, list] = {k: [] for k in entities}
    with warehouse.connection() as conn:
        for entity in entities.values():
            landing.create_stage(warehouse, conn, entity)

        def flush(key: str) -> None:
            batch = convert[key](pending[key])
            landing.stage_rows(warehouse, conn, entities[key], batch)
            rejects[key] += batch.rejects
            totals[key] += batch.items
            pending[key] = []

        for key, item in items:
            pending[key].append(item)
            if len(pending[key]) >= CHUNK:
                flush(key)
        for key in entities:
            flush(key)
        for key, entity in entities.items():
            bounds = (None, None) if key == "instances" else (window_start, window_end)
            landing.swap_window(warehouse, conn, entity, rejects[key], *bounds, loaded_at)
            merge_window(warehouse, conn, key, *bounds, loaded_at)
    return totals
