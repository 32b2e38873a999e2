"""The Dagster code location: assets, checks, jobs, schedules, sensors and resources.

Built by a function (``dagster dev`` and ``dagster definitions validate`` call it when they
load the location) so that configuration is read at load time, not at import.
"""

from __future__ import annotations

import dagster as dg

from nephos_pipeline.ingest.assets import build_ingest_assets
from nephos_pipeline.partitions import Partitions
from nephos_pipeline.resources import build_resources


def build_definitions() -> dg.Definitions:
    parts = Partitions.build()
    assets = [*build_ingest_assets(parts)]
    extra: dict = {}
    try:  # analytics and orchestration register themselves once they exist
        from nephos_pipeline.analytics.assets import build_analytics_assets

        assets += build_analytics_assets(parts)
    except ModuleNotFoundError as exc:
        if not (exc.name or "").startswith("nephos_pipeline.analytics"):
            raise
    try:
        from nephos_pipeline.orchestration import build_orchestration

        extra = build_orchestration(parts, assets)
    except ModuleNotFoundError as exc:
        if not (exc.name or "").startswith("nephos_pipeline.orchestration"):
            raise
    return dg.Definitions(assets=assets, resources=build_resources(), **extra)


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions()
