"""Data-quality checks on the warehouse tables: blocking where downstream must not run.

Each check is one query in ``sql/checks``; checks look back a bounded window (7 days) so
their cost does not grow with history.
"""

from datetime import UTC, datetime, timedelta

from dagster import AssetCheckResult, AssetChecksDefinition, AssetCheckSeverity, MetadataValue, asset_check

from nephos_pipeline.metadata import markdown_table
from nephos_pipeline.sql_files import load_sql
from nephos_pipeline.warehouse import Warehouse

LOOKBACK = timedelta(days=7)
MAX_AGE_MINUTES = 120


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _table(df) -> MetadataValue:
    return MetadataValue.md(markdown_table(df.head(20)))


def _rows_check(warehouse: Warehouse, sql_name: str, what: str, since: bool = True) -> AssetCheckResult:
    df = warehouse.query(load_sql(f"checks/{sql_name}.sql"), {"since": _now() - LOOKBACK} if since else None)
    meta = {"offending_rows": len(df)}
    if not df.empty:
        meta["sample"] = _table(df)
    return AssetCheckResult(passed=df.empty, metadata=meta, description=what if df.empty else f"{what}: FAILED")


def build_checks() -> list[AssetChecksDefinition]:
    @asset_check(asset="metrics", blocking=True, description="Every landed key (extract minus rejects) is in METRICS, per hour.")
    def metrics_match_landing(warehouse: Warehouse) -> AssetCheckResult:
        return _rows_check(warehouse, "metrics_match_landing", "loaded rows equal the raw extract minus rejects")

    @asset_check(asset="metrics", blocking=True, description="No duplicate (instance_id, ts, metric).")
    def metrics_unique_keys(warehouse: Warehouse) -> AssetCheckResult:
        return _rows_check(warehouse, "metrics_duplicates", "no duplicate natural keys")

    @asset_check(asset="metrics", blocking=True, description="Percentages within 0-100; rates and load not negative.")
    def metrics_values_in_range(warehouse: Warehouse) -> AssetCheckResult:
        return _rows_check(warehouse, "metrics_ranges", "values within their ranges")

    @asset_check(asset="metrics", description="Newest METRICS row at most 2 hours old while the fleet is live.")
    def metrics_fresh(warehouse: Warehouse) -> AssetCheckResult:
        row = warehouse.query(load_sql("checks/metrics_freshness.sql"), {"now": _now()}).iloc[0]
        live = int(row.active_instances or 0) > 0
        age = None if row.age_minutes is None or row.age_minutes != row.age_minutes else int(row.age_minutes)
        passed = (not live) or (age is not None and age <= MAX_AGE_MINUTES)
        return AssetCheckResult(
            passed=passed, severity=AssetCheckSeverity.WARN,
            metadata={"age_minutes": age if age is not None else -1, "active_instances": int(row.active_instances or 0)},
        )

    @asset_check(asset="alerts", blocking=True, description="No duplicate alert_id.")
    def alerts_unique_keys(warehouse: Warehouse) -> AssetCheckResult:
        return _rows_check(warehouse, "alerts_duplicates", "no duplicate alert ids", since=False)

    def _insights_check(asset_name: str):
        @asset_check(asset=asset_name, name=f"{asset_name}_rows_valid",
                     description="Type and severity from their enums, confidence in 0..1, expires_at > created_at.")
        def check(warehouse: Warehouse) -> AssetCheckResult:
            return _rows_check(warehouse, "insights_valid", "AI_INSIGHTS rows valid", since=False)

        return check

    insight_checks = [_insights_check(a) for a in ("anomaly_insights", "pattern_insights", "prediction_insights",
                                                   "insights_summary")]
    return [metrics_match_landing, metrics_unique_keys, metrics_values_in_range, metrics_fresh, alerts_unique_keys,
            *insight_checks]
