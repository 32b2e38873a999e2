"""Materialize the pipeline in-process over time ranges (used by ``nephos demo`` and tests).

The same assets and resources as ``dagster dev``; each call is one Dagster run per
partitions definition (ranges use Dagster's partition-range tags, so a range is one run,
as a UI backfill with the single-run policy would be).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import dagster as dg

from nephos_pipeline import insight_types
from nephos_pipeline.analytics.assets import build_analytics_assets
from nephos_pipeline.clock import floor_time
from nephos_pipeline.ingest.assets import build_ingest_assets
from nephos_pipeline.partitions import STEPS, Partitions
from nephos_pipeline.tables import SYNC_HOURLY, SYNC_SNAPSHOT

SYNC = [*SYNC_SNAPSHOT, *SYNC_HOURLY]


@dataclass
class Runner:
    resources: Mapping[str, Any]
    instance: dg.DagsterInstance | None = None
    parts: Partitions | None = None
    progress: Callable[[str], None] = lambda _msg: None
    log_level: str = "DEBUG"

    def __post_init__(self) -> None:
        self.parts = self.parts or Partitions.build()
        self.assets = [*build_ingest_assets(self.parts), *build_analytics_assets(self.parts)]
        self.run_config = {"loggers": {"console": {"config": {"log_level": self.log_level}}}}

    def run(self, selection: list[str], pdef: Any | None, start: datetime | None = None,
            end: datetime | None = None) -> dg.ExecuteInProcessResult:
        """Materialize ``selection`` for the partitions whose windows lie in [start, end)."""
        tags: dict[str, str] = {}
        if pdef is not None:
            keys = partition_keys(pdef, start, end)
            if not keys:
                raise ValueError(f"no complete partitions between {start} and {end}")
            tags = {"dagster/asset_partition_range_start": keys[0], "dagster/asset_partition_range_end": keys[-1]}
            self.progress(f"{', '.join(selection)}: {len(keys)} partition(s) {keys[0]} .. {keys[-1]}")
        else:
            self.progress(", ".join(selection))
        return dg.materialize(self.assets, resources=self.resources, instance=self.instance, tags=tags,
                              selection=selection, run_config=self.run_config)

    def sync(self, start: datetime, end: datetime) -> dg.ExecuteInProcessResult:
        return self.run(SYNC, self.parts.hourly, start, end)

    def analyse(self, end: datetime, anomaly_hours: float = 24) -> list[dg.ExecuteInProcessResult]:
        """Rollups, then one run per insight type (``insight_types.py``, in its order).

        Types analysed at least hourly (patterns, anomalies) cover the last ``anomaly_hours``;
        slower ones (predictions, the summary) their latest window. Patterns go first, as the
        hourly schedule keeps them current in production: a known recurring daily spike is
        then not reported again as an anomaly. Each run includes the type's side effects.
        """
        runs = [self.run(["metric_rollups"], None)]
        for t in insight_types.INSIGHT_TYPES.values():
            step = STEPS[t.partitions]
            last = floor_time(end, step)
            span = timedelta(hours=anomaly_hours) if step <= timedelta(hours=1) else step
            runs.append(self.run([t.asset, *t.then], getattr(self.parts, t.partitions), last - span, last))
        return runs


def partition_keys(pdef: Any, start: datetime, end: datetime) -> list[str]:
    """Keys of the partitions whose whole window lies in [start, end) (naive = UTC)."""
    from datetime import UTC

    start = start if start.tzinfo else start.replace(tzinfo=UTC)
    end = end if end.tzinfo else end.replace(tzinfo=UTC)
    windows = pdef.get_partition_keys_in_time_window(dg.TimeWindow(start, end))
    return [k for k in windows if pdef.time_window_for_partition_key(k).end <= end
            and pdef.time_window_for_partition_key(k).start >= start]
