"""The table registry: every DynamoDB table the batch layer reads, declared once.

Adding a table is a module here (its converter and :class:`Table` declaration), one line in
``TABLES``, its DDL in ``sql/ddl/`` and its MERGE and prune files in ``sql/load/``; see
``docs/extending.md``. Below the DynamoDB layer: imports only the contract and the metric
catalogue.
"""

from __future__ import annotations

from collections.abc import Iterable

from nephos_pipeline.tables.alerts import ALERTS
from nephos_pipeline.tables.declaration import Converted, Table, TableSpec
from nephos_pipeline.tables.instances import INSTANCES
from nephos_pipeline.tables.metrics import METRICS

#: In this order: the change sensor, ``doctor`` and the sync lists follow it.
TABLES: tuple[Table, ...] = (METRICS, ALERTS, INSTANCES)


def get(name: str | Table, tables: Iterable[Table] = TABLES) -> Table:
    """The declaration of ``name`` (a declaration is returned as it is)."""
    if isinstance(name, Table):
        return name
    for table in tables:
        if table.name == name:
            return table
    raise KeyError(f"no table {name!r} in the registry (known: {', '.join(t.name for t in tables)})")


def names(tables: Iterable[Table] = TABLES) -> tuple[str, ...]:
    return tuple(t.name for t in tables)


def sync_assets(partitioned: bool, tables: Iterable[Table] = TABLES) -> list[str]:
    """The extract and MERGE assets of the hourly tables (``True``) or the snapshot tables."""
    return [key for t in tables if t.partitioned == partitioned for key in (t.raw_asset, t.name)]


#: What ``sync_hourly_job`` and ``sync_instances_job`` materialize (the runner and tests too).
SYNC_HOURLY: list[str] = sync_assets(True)
SYNC_SNAPSHOT: list[str] = sync_assets(False)

__all__ = ["ALERTS", "INSTANCES", "METRICS", "SYNC_HOURLY", "SYNC_SNAPSHOT", "TABLES", "Converted", "Table",
           "TableSpec", "get", "names", "sync_assets"]
