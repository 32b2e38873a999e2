"""Dagster wiring for extract-and-load: raw extracts -> landing, then MERGE into tables.

``raw_*`` assets read DynamoDB and replace their window in the landing tables (with
rejects); ``metrics``/``alerts``/``instances`` MERGE the landed window into the typed
tables. Partitioned assets use a single-run backfill policy, so a multi-day backfill is
one run that queries each instance's whole range once.
"""


from datetime import datetime

from dagster import (
    AssetExecutionContext,
    AssetsDefinition,
    BackfillPolicy,
    Config,
    MaterializeResult,
    MetadataValue,
    asset,
)

from nephos_pipeline.clock import utc_now_naive as _now
from nephos_pipeline.dynamodb.resource import DynamoDBResource
from nephos_pipeline.ingest import extraction
from nephos_pipeline.ingest.merge import merge_window
from nephos_pipeline.metadata import markdown_table
from nephos_pipeline.orchestration.pools import pool
from nephos_pipeline.partitions import Partitions, window_of
from nephos_pipeline.settings import warehouse_kinds
from nephos_pipeline.warehouse import Warehouse
from nephos_pipeline.warehouse.schema import ensure_schema

GROUP_EXTRACT = "extract"
GROUP_WAREHOUSE = "warehouse"


class RawMetricsConfig(Config):
    """Set by the change sensor: ids with items in the hour that the Instances table lacks."""

    unregistered_instance_ids: list[str] = []


def _preview(warehouse: Warehouse, conn, sql: str, params: dict) -> MetadataValue:
    df = warehouse.query(sql, params, conn)
    return MetadataValue.md(markdown_table(df) if not df.empty else "_no rows_")


def build_ingest_assets(parts: Partitions) -> list[AssetsDefinition]:
    policy = BackfillPolicy.single_run()
    kinds = warehouse_kinds()

    @asset(group_name=GROUP_EXTRACT, kinds={"dynamodb"}, pool=pool("raw_instances"), description="Full snapshot of the Instances table (parallel Scan).")
    def raw_instances(warehouse: Warehouse, dynamodb: DynamoDBResource) -> MaterializeResult:
        ensure_schema(warehouse)
        result = extraction.extract_instances(warehouse, dynamodb, _now())
        return MaterializeResult(metadata=result.metadata())

    @asset(
        group_name=GROUP_EXTRACT,
        kinds={"dynamodb"},
        partitions_def=parts.hourly_open,
        backfill_policy=policy,
        pool=pool("raw_metrics"),
        deps=[raw_instances],
        description="Metrics items per hour: a Query per instance (registered or known to report) over the window, "
                    "landed with rejects.",
    )
    def raw_metrics(context: AssetExecutionContext, config: RawMetricsConfig, warehouse: Warehouse,
                    dynamodb: DynamoDBResource) -> MaterializeResult:
        ensure_schema(warehouse)
        start, end = window_of(context)
        result = extraction.extract_metrics(warehouse, dynamodb, start, end, _now(), log=context.log,
                                            stream_ids=config.unregistered_instance_ids)
        return MaterializeResult(metadata=result.metadata())

    @asset(
        group_name=GROUP_EXTRACT,
        kinds={"dynamodb"},
        partitions_def=parts.hourly_open,
        backfill_policy=policy,
        pool=pool("raw_alerts"),
        description="Alerts created in the hour (filtered parallel Scan; see dynamodb/extract.py).",
    )
    def raw_alerts(context: AssetExecutionContext, warehouse: Warehouse, dynamodb: DynamoDBResource) -> MaterializeResult:
        ensure_schema(warehouse)
        start, end = window_of(context)
        result = extraction.extract_alerts(warehouse, dynamodb, start, end, _now())
        return MaterializeResult(metadata=result.metadata())

    def _merge(context, warehouse: Warehouse, entity: str, window: tuple[datetime | None, datetime | None], preview_sql: str):
        ensure_schema(warehouse)
        start, end = window
        with warehouse.connection() as conn:
            counts = merge_window(warehouse, conn, entity, start, end, _now())
            preview = _preview(warehouse, conn, preview_sql, {"window_start": start, "window_end": end})
        meta = {
            "rows_inserted": counts.inserted,
            "rows_updated": counts.updated,
            "rows_deleted": counts.deleted,
            "preview": preview,
        }
        if start is not None:
            meta["window_start"] = start.isoformat()
            meta["window_end"] = end.isoformat()
        return MaterializeResult(metadata=meta)

    @asset(
        name="metrics", key_prefix=None, group_name=GROUP_WAREHOUSE, kinds=kinds,
        partitions_def=parts.hourly_open, backfill_policy=policy, deps=[raw_metrics], pool=pool("metrics"),
        description="METRICS (long format: instance, ts, metric, value), MERGEd from the landed window.",
    )
    def metrics_table(context: AssetExecutionContext, warehouse: Warehouse) -> MaterializeResult:
        return _merge(context, warehouse, "metrics", window_of(context),
                      "SELECT * FROM METRICS WHERE TS >= %(window_start)s::TIMESTAMP_NTZ AND TS < %(window_end)s::TIMESTAMP_NTZ "
                      "ORDER BY TS, INSTANCE_ID, METRIC LIMIT 5")

    @asset(
        name="alerts", group_name=GROUP_WAREHOUSE, kinds=kinds,
        partitions_def=parts.hourly_open, backfill_policy=policy, deps=[raw_alerts], pool=pool("alerts"),
        description="ALERTS, MERGEd by alert_id from the landed window.",
    )
    def alerts_table(context: AssetExecutionContext, warehouse: Warehouse) -> MaterializeResult:
        return _merge(context, warehouse, "alerts", window_of(context),
                      "SELECT ALERT_ID, INSTANCE_ID, CREATED_AT, SEVERITY, STATUS FROM ALERTS "
                      "WHERE CREATED_AT >= %(window_start)s::TIMESTAMP_NTZ AND CREATED_AT < %(window_end)s::TIMESTAMP_NTZ "
                      "ORDER BY CREATED_AT LIMIT 5")

    @asset(
        name="instances", group_name=GROUP_WAREHOUSE, kinds=kinds, deps=[raw_instances], pool=pool("instances"),
        description="INSTANCES, MERGEd by instance_id from the latest snapshot.",
    )
    def instances_table(context: AssetExecutionContext, warehouse: Warehouse) -> MaterializeResult:
        return _merge(context, warehouse, "instances", (None, None),
                      "SELECT INSTANCE_ID, HOSTNAME, REGION, STATUS, LAST_DEPLOYED_AT FROM INSTANCES ORDER BY INSTANCE_ID LIMIT 5")

    return [raw_instances, raw_metrics, raw_alerts, metrics_table, alerts_table, instances_table]
