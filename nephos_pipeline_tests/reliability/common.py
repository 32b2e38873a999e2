"""Shared pieces of the reliability tests: running the sync, and comparing with DynamoDB.

``expected_state`` is the oracle: a full (consistent) Scan of the three DynamoDB tables,
converted with the *same* contract rules the loader uses (``ingest.records``). The
warehouse must equal it exactly, minus ``LOADED_AT``, for every window that was synced.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

import dagster as dg
import pandas as pd

from nephos_pipeline.ingest import records
from nephos_pipeline.ingest.assets import build_ingest_assets
from nephos_pipeline.partitions import Partitions
from nephos_pipeline.settings import TableNames
from nephos_pipeline.tables import ALERTS, INSTANCES, METRICS, SYNC_HOURLY, SYNC_SNAPSHOT
from nephos_pipeline.warehouse import Warehouse

H0 = datetime(2026, 3, 1, 10, 0)
KEY = "2026-03-01-10:00"
ASSETS = build_ingest_assets(Partitions.build())
FMT = "%Y-%m-%d-%H:%M"
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}  # console only; the event log keeps all


def pk(hour: datetime) -> str:
    return hour.strftime(FMT)


def materialize(resources: dict, selection: Sequence[str], partition_key: str | None = None,
                instance: dg.DagsterInstance | None = None, raise_on_error: bool = True,
                tags: dict | None = None, run_config: dict | None = None) -> dg.ExecuteInProcessResult:
    return dg.materialize(ASSETS, resources=resources, partition_key=partition_key, selection=list(selection),
                          instance=instance, raise_on_error=raise_on_error, tags=tags,
                          run_config=QUIET if run_config is None else run_config)


def sync_hour(resources: dict, key: str = KEY, **kwargs: Any) -> dg.ExecuteInProcessResult:
    """What ``sync_hourly_job`` runs for one partition."""
    return materialize(resources, SYNC_HOURLY, key, **kwargs)


def sync_instances(resources: dict, **kwargs: Any) -> dg.ExecuteInProcessResult:
    """What ``sync_instances_job`` runs (minus the rollup views)."""
    return materialize(resources, SYNC_SNAPSHOT, **kwargs)


def step_error(result: dg.ExecuteInProcessResult) -> str:
    failures = [e for e in result.all_events if e.is_step_failure]
    return str(failures[0].step_failure_data.error) if failures else ""


# ---- reading DynamoDB and the warehouse as comparable sets ----------------------------


def scan_all(client: Any, table: str) -> list[dict]:
    items: list[dict] = []
    for page in client.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
        items += page["Items"]
    return items


def _norm(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime().replace(tzinfo=None)
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, float):
        return float(value)
    return value


def _tags(value: Any) -> Any:
    if value is None:
        return None
    return json.dumps(json.loads(value) if isinstance(value, str) else value, sort_keys=True, ensure_ascii=False)


def _in(ts: datetime | None, windows: Iterable[tuple[datetime, datetime]] | None) -> bool:
    return windows is None or (ts is not None and any(lo <= ts < hi for lo, hi in windows))


def expected_state(client: Any, names: TableNames, windows: Iterable[tuple[datetime, datetime]] | None = None,
                   instance_ids: set[str] | None = None) -> dict[str, set[tuple]]:
    """What METRICS/ALERTS/INSTANCES must hold for the synced ``windows``, from DynamoDB.

    Every metric item counts, registered instance or not: the loader also reads ids it knows
    report (docs/data-contract.md, "Instance ids"). ``instance_ids`` limits the metrics to
    those ids, for a test that runs an extract alone (no sensor, no reconciliation).
    """
    windows = list(windows) if windows is not None else None
    instances = scan_all(client, names.instances)
    metric_items = [i for i in scan_all(client, names.metrics)
                    if instance_ids is None or i["instance_id"]["S"] in instance_ids]
    metrics = {(r[0], r[1], r[2], float(r[3])) for r in records.rows(METRICS, metric_items).rows if _in(r[1], windows)}
    alerts = {tuple(_norm(v) for v in r) for r in records.rows(ALERTS, scan_all(client, names.alerts)).rows
              if _in(r[2], windows)}
    insts = {(*r[:5], _tags(r[5]), *r[6:]) for r in records.rows(INSTANCES, instances).rows}
    return {"METRICS": metrics, "ALERTS": alerts, "INSTANCES": insts}


def warehouse_state(warehouse: Warehouse) -> dict[str, set[tuple]]:
    """The three typed tables as sets (LOADED_AT and ALERTS.SOURCE left out)."""
    m = warehouse.query("SELECT INSTANCE_ID, TS, METRIC, VALUE FROM METRICS")
    a = warehouse.query("SELECT ALERT_ID, INSTANCE_ID, CREATED_AT, SEVERITY, METRIC, VALUE, THRESHOLD, MESSAGE, "
                        "STATUS, RESOLVED_AT FROM ALERTS")
    i = warehouse.query("SELECT INSTANCE_ID, HOSTNAME, REGION, PLAN, STATUS, TO_JSON(TAGS) AS TAGS, CREATED_AT, "
                        "UPDATED_AT, LAST_DEPLOYED_AT FROM INSTANCES")
    rows = {name: [tuple(_norm(v) for v in row) for row in df.itertuples(index=False, name=None)]
            for name, df in (("METRICS", m), ("ALERTS", a), ("INSTANCES", i))}
    rows["INSTANCES"] = [(*r[:5], _tags(r[5]), *r[6:]) for r in rows["INSTANCES"]]
    state = {name: set(r) for name, r in rows.items()}
    for name, r in rows.items():  # a set would hide duplicates: count them too
        assert len(r) == len(state[name]), f"{name} holds duplicate rows"
    return state


def table_rows(warehouse: Warehouse, table: str) -> list[tuple]:
    """Every row of ``table`` (all columns, LOADED_AT included), sorted: an exact snapshot."""
    df = warehouse.query(f"SELECT * FROM {table}")  # noqa: S608 - fixed table names
    return sorted((tuple(_norm(v) for v in row) for row in df.itertuples(index=False, name=None)), key=repr)


def hour_windows(first: datetime, hours: int) -> list[tuple[datetime, datetime]]:
    return [(first + timedelta(hours=h), first + timedelta(hours=h + 1)) for h in range(hours)]
