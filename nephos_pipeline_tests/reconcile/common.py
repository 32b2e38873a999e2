"""Running syncs, the change sensor and the reconciliation the way the deployment does, in-process."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import dagster as dg

from nephos_pipeline.ingest.assets import build_ingest_assets
from nephos_pipeline.orchestration.change_sensor import build_dynamodb_change_sensor
from nephos_pipeline.partitions import Partitions
from nephos_pipeline.reconcile.assets import build_reconciliation_assets, build_reconciliation_checks
from nephos_pipeline.tables import SYNC_HOURLY, SYNC_SNAPSHOT
from nephos_pipeline.tables.contract import MAX_MS, MIN_MS
from nephos_pipeline.warehouse import Warehouse
from nephos_pipeline_tests.reliability.common import scan_all

PARTS = Partitions.build()  # the start pinned in conftest
ASSETS = [*build_ingest_assets(PARTS), *build_reconciliation_assets(PARTS), *build_reconciliation_checks()]
HOURLY_JOB = dg.define_asset_job("sync_hourly_job", selection=SYNC_HOURLY)
INSTANCES_JOB = dg.define_asset_job("sync_instances_job", selection=SYNC_SNAPSHOT)
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
RANGE = ("dagster/asset_partition_range_start", "dagster/asset_partition_range_end")


def sensor_at(now: datetime) -> dg.SensorDefinition:
    return build_dynamodb_change_sensor(HOURLY_JOB, INSTANCES_JOB, PARTS, clock=lambda: now)


def sync(resources: dict, key: str, run_config: dict | None = None, **kwargs: Any) -> dg.ExecuteInProcessResult:
    """What ``sync_hourly_job`` runs for one partition (with the sensor's config, if any)."""
    config = {**QUIET, **(run_config or {})}
    return dg.materialize(ASSETS, resources=resources, partition_key=key, selection=SYNC_HOURLY,
                          run_config=config, **kwargs)


def reconcile(resources: dict, first_day: str, last_day: str | None = None, **kwargs: Any) -> dg.ExecuteInProcessResult:
    """``reconciliation_job`` over whole days (one run, as the schedule and a backfill launch it)."""
    tags = dict(zip(RANGE, (first_day, last_day or first_day), strict=True))
    return dg.materialize(ASSETS, resources=resources, selection=["metrics_reconciliation"], tags=tags,
                          run_config=QUIET, **kwargs)


def check(result: dg.ExecuteInProcessResult, name: str) -> dg.AssetCheckEvaluation:
    return next(e for e in result.get_asset_check_evaluations() if e.check_name == name)


def materialization_meta(result: dg.ExecuteInProcessResult, asset: str) -> dict:
    return result.asset_materializations_for_node(asset)[-1].metadata


def dynamodb_items_per_instance(client: Any, table: str) -> Counter:
    return Counter(i["instance_id"]["S"] for i in scan_all(client, table))


def warehouse_items_per_instance(warehouse: Warehouse) -> tuple[Counter, Counter]:
    """(loaded, rejected) distinct items per instance, computed here independently of the asset:
    loaded = distinct (instance, ts) in METRICS; rejected = distinct item keys in REJECTS whose
    item is not loaded."""
    loaded_df = warehouse.query("SELECT INSTANCE_ID, TS FROM METRICS GROUP BY 1, 2")
    loaded_keys = {(r.instance_id, r.ts.to_pydatetime()) for r in loaded_df.itertuples()}
    loaded = Counter(iid for iid, _ in loaded_keys)
    rejected_keys = set()
    for raw in warehouse.query("SELECT RAW_ITEM FROM REJECTS WHERE SOURCE_TABLE = 'metrics'")["raw_item"]:
        item = json.loads(raw)
        iid, ms = item["instance_id"]["S"], int(float(item["timestamp"]["N"]))
        ts = datetime.fromtimestamp(ms / 1000, tz=UTC).replace(tzinfo=None) if MIN_MS <= ms < MAX_MS else None
        if (iid, ts) not in loaded_keys:
            rejected_keys.add((iid, ms))
    return loaded, Counter(iid for iid, _ in rejected_keys)
