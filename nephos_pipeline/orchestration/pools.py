"""Concurrency pools: one per table an asset writes.

Why pools rather than run tags: a pool is declared on the asset, so it holds for every run
that materializes it, whatever launched the run (a schedule, the change sensor, a UI
backfill of an asset selection). Run tags only exist on the jobs we define, and a UI
backfill of selected assets runs under an implicit job without them.

The production instance (``deploy/dagster.yaml``) sets ``concurrency.pools.granularity:
run`` and ``default_limit: 1``: the run queue starts a run only when every pool its assets
belong to is free, so two runs that write the same table window (the 15-minute
``sync_schedule`` and a sensor-triggered sync of the same hour, or a backfill and a
schedule tick) never overlap, while runs writing different tables (a sync and the pattern
analysis) run side by side on Snowflake. The local instance keeps one run at a time
(``max_concurrent_runs: 1``) because the embedded warehouse is one DuckDB file.

The four insight assets share one pool, ``nephos_ai_insights``: they all MERGE into
AI_INSIGHTS, and ``insights_archive`` (with them) moves expired rows of every type, so one writer
at a time keeps a row from being archived while another run extends it. They are short
runs; the parallelism that matters is extraction (DynamoDB-bound) beside analysis.
REJECTS rows are keyed by table and window, and the ALERTS rows written by the
``batch_alerts`` asset (``SOURCE = 'batch'``) and by the failure sensor (``SOURCE = 'pipeline'``) are never
touched by the agent-alert MERGE or prune, which only see ``SOURCE = 'agent'``.
"""

from __future__ import annotations

from nephos_pipeline import insight_types
from nephos_pipeline.tables import TABLES, Table

AI_INSIGHTS_POOL = "nephos_ai_insights"


def table_pools(table: Table) -> dict[str, str]:
    """``raw_<name>`` writes LANDING_<NAME> (its window, + its REJECTS rows); ``<name>`` writes <NAME>."""
    return {table.raw_asset: f"nephos_landing_{table.name}", table.name: f"nephos_{table.name}"}


# asset name -> pool (what it writes); the registered tables' two assets each by ``table_pools``
# (the ``alerts`` MERGE writes only SOURCE = 'agent' rows of ALERTS).
POOLS: dict[str, str] = {
    **{asset: name for t in TABLES for asset, name in table_pools(t).items()},
    "metrics_reconciliation": "nephos_metrics_reconciliation",  # METRICS_RECONCILIATION day (+ its REJECTS rows)
    "metric_rollups": "nephos_rollup_views",  # CREATE OR REPLACE VIEW ...
    "batch_alerts": "nephos_batch_alerts",  # ALERTS SOURCE = 'batch'
    "insights_archive": AI_INSIGHTS_POOL,  # moves expired AI_INSIGHTS rows to AI_INSIGHTS_ARCHIVE
    # every insight type's asset (insight_types.py): its AI_INSIGHTS rows
    **{t.asset: AI_INSIGHTS_POOL for t in insight_types.INSIGHT_TYPES.values()},
}


def pool(asset_name: str) -> str:
    """The pool of ``asset_name``; a KeyError names an asset that was added without one."""
    if asset_name in {t.asset for t in insight_types.INSIGHT_TYPES.values()}:
        return AI_INSIGHTS_POOL  # also a type registered after import (a test, a worked example)
    return POOLS[asset_name]


def initialize_pools(instance) -> list[str]:
    """Give every pool the instance's default limit before the first run needs it.

    Dagster creates a pool's limit the first time the run queue sees a run that needs it, but
    in that same pass the pool still counts as unlimited, so the first two runs of a brand-new
    pool can start together (seen in our deployment test). Initializing the pools at deploy
    time closes that gap. A limit changed by hand (UI or ``dagster instance concurrency set``)
    is left alone; only limits that follow the default are (re)set to it.
    """
    default = instance.global_op_concurrency_default_limit
    if default is None:
        raise SystemExit("the instance has no concurrency.pools.default_limit: nothing to initialize "
                         "(deploy/dagster.yaml sets 1)")
    names = sorted(set(POOLS.values()))
    for name in names:
        instance.event_log_storage.initialize_concurrency_limit_to_default(name)
    return names


def main() -> None:
    """``python -m nephos_pipeline.orchestration.pools``: run once per deploy (compose: init_pools)."""
    from dagster import DagsterInstance

    with DagsterInstance.get() as instance:
        names = initialize_pools(instance)
        limits = {name: instance.event_log_storage.get_concurrency_info(name).slot_count for name in names}
    print("pool limits: " + ", ".join(f"{name}={limit}" for name, limit in limits.items()))


if __name__ == "__main__":
    main()
