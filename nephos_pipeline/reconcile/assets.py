"""Dagster wiring: the ``metrics_reconciliation`` asset (daily) and its checks.

The asset proves that every Metrics item in DynamoDB is either in METRICS or in REJECTS.
It is daily-partitioned with a single-run backfill policy: a Scan reads the whole table
whatever the range, so a run over any number of days is one Scan, and the daily schedule
re-checks the last week for the price of one day (see ``orchestration/reconciliation.py``).
"""

import json
from datetime import UTC, timedelta

import pandas as pd
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetExecutionContext,
    AssetsDefinition,
    BackfillPolicy,
    Config,
    DailyPartitionsDefinition,
    MaterializeResult,
    MetadataValue,
    asset,
    asset_check,
)

from nephos_pipeline.clock import utc_now_naive as _now
from nephos_pipeline.dynamodb.resource import DynamoDBResource
from nephos_pipeline.ingest import records
from nephos_pipeline.ingest.extraction import instance_ids
from nephos_pipeline.metadata import markdown_table
from nephos_pipeline.orchestration.pools import pool
from nephos_pipeline.partitions import Partitions, window_of
from nephos_pipeline.reconcile import scan
from nephos_pipeline.reconcile.compare import reconcile
from nephos_pipeline.sql_files import load_sql
from nephos_pipeline.tables import INSTANCES, METRICS
from nephos_pipeline.warehouse import Warehouse
from nephos_pipeline.warehouse.schema import ensure_schema

ASSET = "metrics_reconciliation"
FUTURE_HORIZON = timedelta(days=1)  # items further ahead than this are reported as outside every partition
MAX_RESYNC_HOURS = 24 * 31


def daily_partitions(parts: Partitions) -> DailyPartitionsDefinition:
    """Days on the same start as every other partition set (see ``partitions.py``)."""
    return DailyPartitionsDefinition(start_date=parts.hourly.start.strftime("%Y-%m-%d"), timezone="UTC")


class ReconcileConfig(Config):
    scan_segments: int = 4  # parallel Scan segments (DynamoDB suggests one per ~2 GB of table)


def _md(df) -> MetadataValue:
    return MetadataValue.md(markdown_table(df) if not df.empty else "_none_")


def build_reconciliation_assets(parts: Partitions) -> list[AssetsDefinition]:
    first_partition = parts.hourly.start.astimezone(UTC).replace(tzinfo=None)

    @asset(
        name=ASSET, group_name="warehouse", kinds={"dynamodb"}, partitions_def=daily_partitions(parts),
        backfill_policy=BackfillPolicy.single_run(), deps=["metrics"], pool=pool(ASSET),
        description="Metrics items per instance and day in DynamoDB (keys-only parallel Scan) against METRICS "
                    "loaded + REJECTS rejected; out-of-range timestamps are rejected here. One Scan per run.",
    )
    def metrics_reconciliation(context: AssetExecutionContext, config: ReconcileConfig, warehouse: Warehouse,
                               dynamodb: DynamoDBResource) -> MaterializeResult:
        ensure_schema(warehouse)
        start, end = window_of(context)
        now = _now()
        client = dynamodb.client()
        registered = set(instance_ids(client, dynamodb.table_name(INSTANCES)))
        counts = scan.count_keys(client, dynamodb.table_name(METRICS), start, end, first_partition,
                                 max(end, now + FUTURE_HORIZON), config.scan_segments)
        strays = records.rows(METRICS, scan.get_items(client, dynamodb.table_name(METRICS), counts.out_of_range))
        result = reconcile(warehouse, counts, registered, strays.rejects, start, end, now)
        hours = result.resync_hours()
        unregistered = sorted(set(counts.ranges) - registered)
        if result.unread:
            context.log.warning(f"{result.unread} item(s) neither loaded nor rejected in {len(hours)} hour(s); "
                                "the reconciliation sensor re-syncs them")
        meta = {
            "window_start": start.isoformat(), "window_end": end.isoformat(),
            "dynamodb_items": counts.items, "items_scanned": counts.scanned, "scan_requests": counts.requests,
            "read_units_reported": round(counts.read_units, 1),
            "unread_items": result.unread, "extra_items": result.extra,
            "out_of_range_rejected": len(strays.rejects),
            "items_outside_partitions": sum(counts.outside_partitions.values()),
            "instances": len({iid for iid, _ in counts.by_hour}),
            "unregistered_instances": len(unregistered),
            "unregistered_instance_ids": ", ".join(unregistered[:20]) or "-",
            "hours_with_difference": _md(result.hours.head(50)),
            "resync_hours": MetadataValue.json(hours[:MAX_RESYNC_HOURS]),
        }
        if counts.outside_partitions:
            top = counts.outside_partitions.most_common(20)
            meta["outside_partitions_by_instance"] = MetadataValue.json(dict(top))
        return MaterializeResult(metadata=meta)

    return [metrics_reconciliation]


def _ranges(df) -> str:
    parts = []
    for row in df.head(10).itertuples(index=False):
        first, last = row.first_hour_with_difference, row.last_hour_with_difference
        span = "timestamps outside 2000-2100" if pd.isna(row.day) or pd.isna(first) else \
            f"{first:%Y-%m-%d %H:00}..{last + timedelta(hours=1):%H:00}"
        parts.append(f"{row.instance_id} {span} ({int(row.unread_items)} unread, {int(row.extra_items)} extra)")
    return "; ".join(parts)


def build_reconciliation_checks() -> list:
    @asset_check(asset=ASSET, description="Every Metrics item in DynamoDB is loaded or rejected (each reconciled "
                                          "day's latest verdict). Not blocking: nothing runs downstream of it.")
    def metrics_nothing_unread(warehouse: Warehouse) -> AssetCheckResult:
        df = warehouse.query(load_sql("checks/metrics_unread.sql"))
        unread = int(df["unread_items"].sum()) if not df.empty else 0
        extra = int(df["extra_items"].sum()) if not df.empty else 0
        meta = {"unread_items": unread, "extra_items": extra, "instance_days": len(df),
                "instance_ids": ", ".join(sorted(set(df["instance_id"])) if not df.empty else []) or "-"}
        if not df.empty:
            meta["differences"] = _md(df.head(20))
        if unread:
            return AssetCheckResult(passed=False, severity=AssetCheckSeverity.ERROR, metadata=meta,
                                    description=f"{unread} item(s) neither loaded nor rejected: {_ranges(df)}")
        if extra:
            return AssetCheckResult(passed=False, severity=AssetCheckSeverity.WARN, metadata=meta,
                                    description=f"the warehouse holds {extra} item(s) DynamoDB no longer has: "
                                                f"{_ranges(df)}")
        return AssetCheckResult(passed=True, metadata=meta, description="every item is loaded or rejected")

    @asset_check(asset="metrics", description="Metric items arrive only from instances in the Instances table "
                                              "(warns, naming the ids; their items are loaded all the same).")
    def metrics_from_registered_instances(warehouse: Warehouse) -> AssetCheckResult:
        df = warehouse.query(load_sql("checks/unregistered_instances.sql"))
        meta = {"unregistered_instances": len(df)}
        if df.empty:
            return AssetCheckResult(passed=True, metadata=meta)
        meta["instances"] = _md(df.head(20))
        ids = ", ".join(df["instance_id"].head(10))
        return AssetCheckResult(passed=False, severity=AssetCheckSeverity.WARN, metadata=meta,
                                description=f"metrics arrive for {len(df)} unregistered instance id(s): {ids}")

    return [metrics_nothing_unread, metrics_from_registered_instances]


def resync_hours_of(metadata: dict) -> list[str]:
    """The ``resync_hours`` a materialization recorded (JSON metadata), for the re-sync sensor."""
    value = metadata.get("resync_hours")
    hours = getattr(value, "value", value) or []
    if isinstance(hours, str):
        hours = json.loads(hours)
    return [h for h in hours if isinstance(h, str)]
