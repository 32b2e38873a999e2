"""Dagster wiring for the two writes that are not insights: batch alerts and archiving.

Each is an asset of its own, downstream of the insight asset it follows, so the lineage
shows them and each can be re-run (or backfilled) on its own: ``batch_alerts`` turns the
high and critical anomalies of its 15-minute window into ALERTS rows; ``insights_archive``
moves insights that expired more than a day before the end of its 6-hour window to
AI_INSIGHTS_ARCHIVE. Both run in the job of the asset they follow (``schedules.py``).
"""

from datetime import timedelta

from dagster import AssetExecutionContext, AssetsDefinition, BackfillPolicy, MaterializeResult, asset

from nephos_pipeline.insights.batch_alerts import raise_batch_alerts
from nephos_pipeline.insights.store import archive_expired
from nephos_pipeline.orchestration.pools import pool
from nephos_pipeline.partitions import ANOMALY_QUARTERS_PER_RUN, Partitions, window_of
from nephos_pipeline.settings import warehouse_kinds
from nephos_pipeline.warehouse import Warehouse

GROUP = "analytics"
ARCHIVE_AFTER = timedelta(days=1)  # an expired insight stays in AI_INSIGHTS this long (the API's recent history)


def build_side_effect_assets(parts: Partitions) -> list[AssetsDefinition]:
    kinds = warehouse_kinds()

    @asset(group_name=GROUP, kinds=kinds, partitions_def=parts.quarter_hourly, deps=["anomaly_insights"],
           backfill_policy=BackfillPolicy.multi_run(max_partitions_per_run=ANOMALY_QUARTERS_PER_RUN), pool=pool("batch_alerts"),
           description="High and critical anomalies of the window as ALERTS rows (SOURCE = 'batch').")
    def batch_alerts(context: AssetExecutionContext, warehouse: Warehouse) -> MaterializeResult:
        start, end = window_of(context)
        return MaterializeResult(metadata={"batch_alerts": raise_batch_alerts(warehouse, start, end)})

    @asset(group_name=GROUP, kinds=kinds, partitions_def=parts.six_hourly, deps=["insights_summary"],
           backfill_policy=BackfillPolicy.multi_run(max_partitions_per_run=28), pool=pool("insights_archive"),
           description="Moves insights expired for over a day to AI_INSIGHTS_ARCHIVE (sql/insights/archive_expired.sql).")
    def insights_archive(context: AssetExecutionContext, warehouse: Warehouse) -> MaterializeResult:
        _, end = window_of(context)
        return MaterializeResult(metadata={"archived_expired": archive_expired(warehouse, end - ARCHIVE_AFTER)})

    return [batch_alerts, insights_archive]
