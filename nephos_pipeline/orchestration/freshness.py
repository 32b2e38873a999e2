"""Freshness policies for the insight assets: a stalled pipeline shows as stale in the UI.

Each window follows the asset's schedule (orchestration/schedules.py) and is declared with
its insight type in ``nephos_pipeline/insight_types.py``: *warn* after about two missed
ticks, *fail* after about three, so one slow or retried run does not flap the status but a
stopped daemon, a paused schedule or a failing chain does. The daemon evaluates them
(``freshness: enabled`` in the instance; on by default since Dagster 1.12) and the asset's
health in the UI turns WARN/FAIL.

Dagster evaluates these on the asset's latest materialization of any partition, so a
backfill of old partitions counts as fresh; the schedules always target the window that
just closed, so in normal operation the latest materialization is the newest window.
"""

from __future__ import annotations

from dagster import FreshnessPolicy

from nephos_pipeline import insight_types

FRESHNESS: dict[str, FreshnessPolicy] = {
    t.asset: FreshnessPolicy.time_window(warn_window=t.freshness[0], fail_window=t.freshness[1])
    for t in insight_types.INSIGHT_TYPES.values() if t.freshness
}
