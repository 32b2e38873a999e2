"""Partition definitions shared by every asset chain (UTC).

One start date for all of them: Dagster splits single-run backfills unpredictably when
assets in one chain start on different dates (dagster issue #19625).

The default start is the first day of the previous month (UTC): at most ~62 days, so at
most ~6,000 quarter-hour partitions, which keeps the UI's partition bars and check pages
responsive (a fixed 2026-01-01 meant 31,787 and growing). It moves forward once a month;
partitions before it drop out of the UI (their materializations stay in the instance).
Production, with history to keep backfillable, sets ``NEPHOS_PARTITIONS_START``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from dagster import HourlyPartitionsDefinition, TimeWindowPartitionsDefinition

from nephos_pipeline.clock import PARTITION_FMT as FMT

# The length of each definition's window, by its attribute name on Partitions.
# Quarters per run of an anomaly backfill (anomaly_insights and batch_alerts, one job): two
# days. Why not 7: a run's process grew with its range (1,000 hosts: 1,271 MB for 1 day,
# 1,785 MB for 2, 3,012 MB for 7, memory the embedded warehouse keeps outside its cap), and
# each run is its own process, so 2-day runs keep a 7-day backfill under 2 GB in 4 runs
# (docs/benchmarks.md, "Daily week medians").
ANOMALY_QUARTERS_PER_RUN = 192
STEPS = {"hourly": timedelta(hours=1), "hourly_open": timedelta(hours=1), "quarter_hourly": timedelta(minutes=15),
         "six_hourly": timedelta(hours=6)}


def default_start(today: date | None = None) -> str:
    """The first day of the previous month, UTC, as a partition key."""
    today = today or datetime.now(UTC).date()
    first = today.replace(day=1)
    previous = (first - timedelta(days=1)).replace(day=1)
    return datetime(previous.year, previous.month, 1).strftime(FMT)


@dataclass(frozen=True)
class Partitions:
    hourly: HourlyPartitionsDefinition
    hourly_open: HourlyPartitionsDefinition  # includes the hour in progress (end_offset=1)
    quarter_hourly: TimeWindowPartitionsDefinition
    six_hourly: TimeWindowPartitionsDefinition

    @classmethod
    def build(cls, env: Mapping[str, str] | None = None) -> Partitions:
        """``NEPHOS_PARTITIONS_START`` (``YYYY-MM-DD-HH:MM``, UTC) moves the first partition."""
        env = os.environ if env is None else env
        start = env.get("NEPHOS_PARTITIONS_START") or default_start()
        fmt = FMT
        return cls(
            hourly=HourlyPartitionsDefinition(start_date=start, timezone="UTC"),
            # Sync assets also have the current, still-open hour, so the 15-minute sync can
            # refresh it and anomaly detection sees data minutes old, not up to an hour old.
            hourly_open=HourlyPartitionsDefinition(start_date=start, timezone="UTC", end_offset=1),
            quarter_hourly=TimeWindowPartitionsDefinition(
                start=start, cron_schedule="*/15 * * * *", fmt=fmt, timezone="UTC"
            ),
            six_hourly=TimeWindowPartitionsDefinition(start=start, cron_schedule="0 */6 * * *", fmt=fmt, timezone="UTC"),
        )


def window_of(context: Any) -> tuple[datetime, datetime]:
    """The run's partition window (one partition or a backfill range) as naive UTC datetimes."""
    tw = context.partition_time_window
    return tw.start.astimezone(UTC).replace(tzinfo=None), tw.end.astimezone(UTC).replace(tzinfo=None)
