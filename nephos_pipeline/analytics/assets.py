"""Dagster wiring for the analyses: rollups, anomaly, pattern, prediction, summary.

Each insight asset is partitioned on its seed cadence; a partition analyses the data as
it stood at the end of its window. Backfills run several partitions per run, and every
analysis is set-based over the run's range (``anomaly_findings``, ``patterns`` and
``predictions.analyse``) with the findings of running each partition alone, so a 30-day
backfill is a handful of runs of seconds to minutes.
"""

from datetime import timedelta

from dagster import (
    AssetExecutionContext,
    AssetsDefinition,
    BackfillPolicy,
    Failure,
    MaterializeResult,
    asset,
)

from nephos_pipeline.analytics import anomaly_findings, patterns, predictions, silence
from nephos_pipeline.analytics.common import window_ends
from nephos_pipeline.analytics.partition_metadata import report
from nephos_pipeline.analytics.side_effects import build_side_effect_assets
from nephos_pipeline.analytics.summary import active_insights, summary_finding
from nephos_pipeline.clock import utc_now_naive
from nephos_pipeline.insights.llm.base import Narrator
from nephos_pipeline.insights.store import save_findings
from nephos_pipeline.orchestration.freshness import FRESHNESS
from nephos_pipeline.orchestration.pools import pool
from nephos_pipeline.partitions import ANOMALY_QUARTERS_PER_RUN, Partitions, window_of
from nephos_pipeline.settings import warehouse_kinds
from nephos_pipeline.sql_files import load_sql
from nephos_pipeline.warehouse import Warehouse
from nephos_pipeline.warehouse.schema import ensure_schema

GROUP = "analytics"


def build_analytics_assets(parts: Partitions) -> list[AssetsDefinition]:
    kinds = warehouse_kinds()

    @asset(group_name=GROUP, kinds=kinds, deps=["metrics", "alerts"], pool=pool("metric_rollups"),
           description="METRICS_HOURLY, METRICS_DAILY, INSTANCE_HEALTH and ALERTS_DAILY views (sql/views).")
    def metric_rollups(warehouse: Warehouse) -> MaterializeResult:
        ensure_schema(warehouse)
        warehouse.execute_script(load_sql("views/rollups.sql"))
        days = warehouse.query("SELECT COUNT(*) AS N FROM METRICS_DAILY").n[0]
        return MaterializeResult(metadata={"views": "METRICS_HOURLY, METRICS_DAILY, INSTANCE_HEALTH, ALERTS_DAILY",
                                           "daily_rows": int(days)})

    @asset(group_name=GROUP, kinds=kinds, partitions_def=parts.quarter_hourly,
           deps=["metrics", "alerts", "instances", metric_rollups],
           backfill_policy=BackfillPolicy.multi_run(max_partitions_per_run=ANOMALY_QUARTERS_PER_RUN),
           pool=pool("anomaly_insights"), freshness_policy=FRESHNESS["anomaly_insights"],
           description="Each 15-minute window against a trailing 7-day seasonal baseline; one insight per incident; "
                       "live hosts that stopped reporting.")
    def anomaly_insights(context: AssetExecutionContext, warehouse: Warehouse, narrator: Narrator) -> MaterializeResult:
        start, end = window_of(context)
        first_tick = start + anomaly_findings.TICK
        findings, stats = anomaly_findings.analyse(warehouse, first_tick, end)
        silent, silent_stats = silence.analyse(warehouse, first_tick, end)  # hosts that stopped reporting
        result = save_findings(warehouse, narrator, findings + silent)  # high ones become ALERTS: side_effects.py
        return MaterializeResult(metadata=report(context, warehouse, "anomaly", result, findings + silent, end,
                                                 {**stats, **silent_stats}))

    # Partitioned like the sync (``hourly_open``: the hour in progress has a partition too), so
    # the hour's close is one run (``orchestration/schedules.py``); an open hour is refused below.
    @asset(group_name=GROUP, kinds=kinds, partitions_def=parts.hourly_open,
           deps=["metrics", "alerts", "instances", metric_rollups],
           backfill_policy=BackfillPolicy.multi_run(max_partitions_per_run=168),
           pool=pool("pattern_insights"), freshness_policy=FRESHNESS["pattern_insights"],
           description="Trends, correlations, recurring daily spikes and recurring alerts over the last 24 h / 7 days.")
    def pattern_insights(context: AssetExecutionContext, warehouse: Warehouse, narrator: Narrator) -> MaterializeResult:
        start, end = window_of(context)
        if end > utc_now_naive():
            raise Failure(f"pattern_insights {start:%Y-%m-%d %H:%M} .. {end:%H:%M} UTC: the hour has not closed yet; "
                          "patterns are measured on closed hours (run it after the hour ends)")
        findings, stats = patterns.analyse(warehouse, start, end)
        result = save_findings(warehouse, narrator, findings)
        return MaterializeResult(metadata=report(context, warehouse, "pattern", result, findings, end,
                                                 {"strong_correlations": stats["strong_correlations"]}))

    @asset(group_name=GROUP, kinds=kinds, partitions_def=parts.six_hourly,
           deps=["metrics", "instances", metric_rollups],
           backfill_policy=BackfillPolicy.multi_run(max_partitions_per_run=28),
           pool=pool("prediction_insights"), freshness_policy=FRESHNESS["prediction_insights"],
           description="Least-squares trends, 24/48 h forecasts and time to 90% for disk and memory.")
    def prediction_insights(context: AssetExecutionContext, warehouse: Warehouse, narrator: Narrator) -> MaterializeResult:
        start, end = window_of(context)
        findings, _ = predictions.analyse(warehouse, start, end)
        result = save_findings(warehouse, narrator, findings)
        return MaterializeResult(metadata=report(context, warehouse, "prediction", result, findings, end))

    @asset(group_name=GROUP, kinds=kinds, partitions_def=parts.six_hourly,
           deps=[anomaly_insights, pattern_insights, prediction_insights],
           backfill_policy=BackfillPolicy.multi_run(max_partitions_per_run=28),
           pool=pool("insights_summary"), freshness_policy=FRESHNESS["insights_summary"],
           description="Executive summary of the active insights.")
    def insights_summary(context: AssetExecutionContext, warehouse: Warehouse, narrator: Narrator) -> MaterializeResult:
        start, end = window_of(context)
        findings = [summary_finding(active_insights(warehouse, t), t, t - timedelta(hours=6))
                    for t in window_ends(start, end, timedelta(hours=6))]
        result = save_findings(warehouse, narrator, findings)
        return MaterializeResult(metadata=report(context, warehouse, "summary", result, findings, end))

    return [metric_rollups, anomaly_insights, pattern_insights, prediction_insights, insights_summary,
            *build_side_effect_assets(parts)]

