"""The Dagster code location: assets, checks, jobs, schedules, sensors and resources.

Built by a function (``dg dev`` and ``dg check defs`` call it when they
load the location) so that configuration is read at load time, not at import.
"""

from __future__ import annotations

import warnings

import dagster as dg

from nephos_pipeline import settings
from nephos_pipeline.analytics.assets import build_analytics_assets
from nephos_pipeline.ingest.assets import build_ingest_assets
from nephos_pipeline.orchestration import build_orchestration
from nephos_pipeline.partitions import Partitions
from nephos_pipeline.reconcile.assets import build_reconciliation_assets
from nephos_pipeline.resources import build_resources


def build_definitions() -> dg.Definitions:
    parts = Partitions.build()
    with warnings.catch_warnings():
        # backfill_policy is marked beta; we rely on it knowingly (see README, Orchestration).
        warnings.simplefilter("ignore", dg.BetaWarning)
        assets = [*build_ingest_assets(parts), *build_analytics_assets(parts), *build_reconciliation_assets(parts)]
        orchestration = build_orchestration(parts, assets)
    # The embedded warehouse is one DuckDB file that one process writes at a time, so local
    # runs execute their steps in the run's own process: no per-step subprocess that
    # re-imports the code location (~20 s a step on 2 cores) only to wait for the lock.
    executor = dg.in_process_executor if settings.warehouse_kind() == "local" else None
    # hour_close_job closes an hour in one run (orchestration/schedules.py): its sync assets
    # back-fill in one run, its pattern assets 168 partitions a run, and Dagster warns about
    # the mix each time it resolves the job (every `dg dev` start, every demo). Backfills use
    # the per-table jobs, never this one, so the warning is about nothing we do: silenced for
    # this job alone, any other job's mix still warns.
    warnings.filterwarnings("ignore", message=r"Asset job hour_close_job materializes assets with varying "
                            r"BackfillPolicies", category=UserWarning)
    return dg.Definitions(assets=assets, resources=build_resources(), executor=executor, **orchestration)


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions()
