"""Dagster wiring for extract-and-load: raw extracts -> landing, then MERGE into tables.

Built from the table registry (``nephos_pipeline.tables``): per table, ``raw_<name>`` reads
DynamoDB and replaces its window in the landing table (with rejects), and ``<name>``
MERGEs the landed window into the typed table. Hourly tables are partitioned; snapshot
tables (Instances) are not. Partitioned assets use a single-run backfill policy, so a
multi-day backfill is one run that queries each instance's whole range once.
"""

from collections.abc import Iterable

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
from nephos_pipeline.ingest import extraction, table_sql
from nephos_pipeline.ingest.merge import merge_window
from nephos_pipeline.metadata import markdown_table
from nephos_pipeline.orchestration.pools import table_pools
from nephos_pipeline.partitions import Partitions, window_of
from nephos_pipeline.settings import warehouse_kinds
from nephos_pipeline.tables import TABLES, Table
from nephos_pipeline.warehouse import Warehouse
from nephos_pipeline.warehouse.schema import ensure_schema

GROUP_EXTRACT = "extract"
GROUP_WAREHOUSE = "warehouse"


class ExtractConfig(Config):
    """Set by the change sensor on tables read per instance (``raw_metrics``): ids with items
    in the hour that the Instances table lacks."""

    unregistered_instance_ids: list[str] = []


def _raw_asset(table: Table, parts: Partitions) -> AssetsDefinition:
    """``raw_<name>``: read DynamoDB, replace the window (or snapshot) in the landing table."""
    hourly = table.partitioned
    spec = dict(
        name=table.raw_asset, group_name=GROUP_EXTRACT, kinds={"dynamodb"},
        partitions_def=parts.hourly_open if hourly else None,
        backfill_policy=BackfillPolicy.single_run() if hourly else None,
        pool=table_pools(table)[table.raw_asset], deps=[f"raw_{name}" for name in table.after],
        description=table.extract_description,
    )

    def extract(context: AssetExecutionContext, warehouse: Warehouse, dynamodb: DynamoDBResource,
                stream_ids: list[str]) -> MaterializeResult:
        ensure_schema(warehouse)
        start, end = window_of(context) if hourly else (None, None)
        result = extraction.extract(warehouse, dynamodb, table, start, end, _now(), log=context.log,
                                    stream_ids=stream_ids)
        return MaterializeResult(metadata=result.metadata())

    if table.read_per_instance:  # only these take the sensor's unregistered instance ids
        @asset(**spec)
        def _raw_per_instance(context: AssetExecutionContext, config: ExtractConfig, warehouse: Warehouse,
                              dynamodb: DynamoDBResource) -> MaterializeResult:
            return extract(context, warehouse, dynamodb, config.unregistered_instance_ids)

        return _raw_per_instance

    @asset(**spec)
    def _raw(context: AssetExecutionContext, warehouse: Warehouse, dynamodb: DynamoDBResource) -> MaterializeResult:
        return extract(context, warehouse, dynamodb, [])

    return _raw


def _merged_asset(table: Table, parts: Partitions) -> AssetsDefinition:
    """``<name>``: MERGE the landed window into the typed table, with a preview of the result."""
    hourly = table.partitioned

    @asset(
        name=table.name, group_name=GROUP_WAREHOUSE, kinds=warehouse_kinds(),
        partitions_def=parts.hourly_open if hourly else None,
        backfill_policy=BackfillPolicy.single_run() if hourly else None,
        deps=[table.raw_asset], pool=table_pools(table)[table.name], description=table.description,
    )
    def _merged(context: AssetExecutionContext, warehouse: Warehouse) -> MaterializeResult:
        ensure_schema(warehouse)
        start, end = window_of(context) if hourly else (None, None)
        with warehouse.connection() as conn:
            counts = merge_window(warehouse, conn, table, start, end, _now())
            df = warehouse.query(table_sql.preview(table), {"window_start": start, "window_end": end}, conn)
        meta = {
            "rows_inserted": counts.inserted,
            "rows_updated": counts.updated,
            "rows_deleted": counts.deleted,
            "preview": MetadataValue.md(markdown_table(df) if not df.empty else "_no rows_"),
        }
        if start is not None:
            meta["window_start"] = start.isoformat()
            meta["window_end"] = end.isoformat()
        return MaterializeResult(metadata=meta)

    return _merged


def build_ingest_assets(parts: Partitions, tables: Iterable[Table] = TABLES) -> list[AssetsDefinition]:
    """Two assets per registered table: its extract (``raw_<name>``) and its MERGE (``<name>``)."""
    tables = list(tables)
    return [*(_raw_asset(t, parts) for t in tables), *(_merged_asset(t, parts) for t in tables)]
