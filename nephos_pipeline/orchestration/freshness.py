"""Freshness policies for the insight assets: a stalled pipeline shows as stale in the UI.

Each window follows the asset's schedule (orchestration/schedules.py): *warn* after about two
missed ticks, *fail* after about three, so one slow or retried run does not flap the status
but a stopped daemon, a paused schedule or a failing chain does. The daemon evaluates them
(``freshness: enabled`` in the instance; on by default since Dagster 1.12) and the asset's
health in the UI turns WARN/FAIL.

Dagster evaluates these on the asset's latest materialization of any partition, so a
backfill of old partitions counts as fresh; the schedules always target the window that
just closed, so in normal operation the latest materialization is the newest window.
"""

from __future__ import annotations

from datetime import timedelta

from dagster import FreshnessPolicy

FRESHNESS: dict[str, FreshnessPolicy] = {
    # every 15 min
    "anomaly_insights": FreshnessPolicy.time_window(fail_window=timedelta(minutes=50),
                                                    warn_window=timedelta(minutes=35)),
    # hourly
    "pattern_insights": FreshnessPolicy.time_window(fail_window=timedelta(hours=3, minutes=15),
                                                    warn_window=timedelta(hours=2, minutes=15)),
    # every 6 h
    "prediction_insights": FreshnessPolicy.time_window(fail_window=timedelta(hours=18, minutes=30),
                                                       warn_window=timedelta(hours=12, minutes=30)),
    "insights_summary": FreshnessPolicy.time_window(fail_window=timedelta(hours=18, minutes=30),
                                                    warn_window=timedelta(hours=12, minutes=30)),
}
