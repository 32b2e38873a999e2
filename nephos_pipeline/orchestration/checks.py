"""Data-quality checks on the warehouse tables: blocking where downstream must not run.

Each check is one query in ``sql/checks``; checks look back a bounded window (7 days) so
their cost does not grow with history.
"""

import json
from datetime import datetime, timedelta

import pandas as pd
from dagster import AssetCheckResult, AssetChecksDefinition, AssetCheckSeverity, MetadataValue, asset_check

from nephos_pipeline import insight_types, metric_catalogue
from nephos_pipeline.clock import utc_now_naive as _now
from nephos_pipeline.metadata import markdown_table
from nephos_pipeline.sql_files import load_sql
from nephos_pipeline.tables.contract import LIVE_INSTANCE_STATUSES
from nephos_pipeline.warehouse import Warehouse

LOOKBACK = timedelta(days=7)
MAX_AGE_MINUTES = 120


def _table(df) -> MetadataValue:
    return MetadataValue.md(markdown_table(df.head(20)))


def _rows_check(warehouse: Warehouse, sql_name: str, what: str, since: bool = True,
               params: dict | None = None) -> AssetCheckResult:
    bound = {**({"since": _now() - LOOKBACK} if since else {}), **(params or {})}
    df = warehouse.query(load_sql(f"checks/{sql_name}.sql"), bound or None)
    meta = {"offending_rows": len(df)}
    if not df.empty:
        meta["sample"] = _table(df)
    return AssetCheckResult(passed=df.empty, metadata=meta, description=what if df.empty else f"{what}: FAILED")


def freshness(warehouse: Warehouse, now: datetime) -> AssetCheckResult:
    """Per instance, so one silent host fails the check however fresh the rest of the fleet is.

    An instance counts when its STATUS is one the contract calls live; one with no row
    in the lookback is stale too, unless it was created less than MAX_AGE_MINUTES ago.
    """
    df = warehouse.query(load_sql("checks/metrics_freshness.sql"),
                         {"now": now, "since": now - LOOKBACK, "live_statuses": json.dumps(LIVE_INSTANCE_STATUSES)})
    limit = timedelta(minutes=MAX_AGE_MINUTES)
    age = pd.to_numeric(df.age_minutes, errors="coerce")
    created = pd.to_datetime(df.created_at, errors="coerce")
    new = created.notna() & (created > now - limit)
    stale = df[(age > MAX_AGE_MINUTES) | (age.isna() & ~new)]
    meta = {"live_instances": len(df), "stale_instances": len(stale),
            "max_age_minutes": int(age.max()) if age.notna().any() else -1}
    if not stale.empty:
        meta["stale"] = _table(stale[["instance_id", "hostname", "status", "last_ts", "age_minutes"]])
    what = f"{len(stale)} of {len(df)} live instances silent for over {MAX_AGE_MINUTES} minutes"
    return AssetCheckResult(passed=stale.empty, severity=AssetCheckSeverity.WARN, metadata=meta, description=what)


def build_checks() -> list[AssetChecksDefinition]:
    @asset_check(asset="metrics", blocking=True, description="Every landed key (extract minus rejects) is in METRICS, per hour.")
    def metrics_match_landing(warehouse: Warehouse) -> AssetCheckResult:
        return _rows_check(warehouse, "metrics_match_landing", "loaded rows equal the raw extract minus rejects")

    @asset_check(asset="metrics", blocking=True, description="No duplicate (instance_id, ts, metric).")
    def metrics_unique_keys(warehouse: Warehouse) -> AssetCheckResult:
        return _rows_check(warehouse, "metrics_duplicates", "no duplicate natural keys")

    @asset_check(asset="metrics", blocking=True, description="Each metric within its valid range (metric_catalogue.py).")
    def metrics_values_in_range(warehouse: Warehouse) -> AssetCheckResult:
        return _rows_check(warehouse, "metrics_ranges", "values within their ranges",
                           params={"catalogue": metric_catalogue.sql_param()})

    @asset_check(asset="metrics", description="Every live instance (contract status) reported within 2 hours.")
    def metrics_fresh(warehouse: Warehouse) -> AssetCheckResult:
        return freshness(warehouse, _now())

    @asset_check(asset="alerts", blocking=True, description="No duplicate alert_id.")
    def alerts_unique_keys(warehouse: Warehouse) -> AssetCheckResult:
        return _rows_check(warehouse, "alerts_duplicates", "no duplicate alert ids", since=False)

    def _insights_check(asset_name: str):
        @asset_check(asset=asset_name, name=f"{asset_name}_rows_valid",
                     description="Type and severity from their enums, confidence in 0..1, expires_at > created_at.")
        def check(warehouse: Warehouse) -> AssetCheckResult:
            return _rows_check(warehouse, "insights_valid", "AI_INSIGHTS rows valid", since=False,
                               params={"insight_types": insight_types.sql_param()})

        return check

    insight_checks = [_insights_check(t.asset) for t in insight_types.INSIGHT_TYPES.values()]
    return [metrics_match_landing, metrics_unique_keys, metrics_values_in_range, metrics_fresh, alerts_unique_keys,
            *insight_checks]
