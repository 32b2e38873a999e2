"""The reconciliation's job, daily schedule, and the sensor that re-syncs what it found unread.

- ``reconciliation_job`` (daily partitions): on demand from the UI or the CLI, any range of
  days in one run, because one Scan covers any range.
- ``reconciliation_schedule`` (01:30 UTC): the last ``RECONCILE_DAYS`` closed days in one
  run. A Scan reads the whole table whatever the range, so re-checking a week costs the same
  read units as checking a day; it catches items that arrived late or while the change
  sensor was down longer than the stream keeps records (24 h).
- ``reconciliation_resync_sensor``: after each reconciliation, requests a sync of every hour
  it found disagreeing. Ids found only by the Scan were recorded in METRIC_INSTANCE_IDS, so
  the re-sync queries them: this is how an unregistered instance's hours older than the
  stream are synced.
"""

from datetime import UTC, timedelta

from dagster import (
    AssetKey,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    EventLogEntry,
    RunRequest,
    ScheduleEvaluationContext,
    SensorEvaluationContext,
    SkipReason,
    asset_sensor,
    define_asset_job,
    schedule,
)

from nephos_pipeline.clock import partition_start, utc_now
from nephos_pipeline.partitions import Partitions
from nephos_pipeline.reconcile.assets import ASSET, daily_partitions, resync_hours_of

RECONCILE_DAYS = 7
RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"
TAG = "nephos/trigger"


def build_reconciliation_automation(parts: Partitions, sync_job, schedule_status: DefaultScheduleStatus,
                                    sensor_status: DefaultSensorStatus) -> dict:
    """``{"jobs", "schedules", "sensors"}`` for the reconciliation; ``sync_job`` is ``sync_hourly_job``."""
    days = daily_partitions(parts)
    first_day = parts.hourly.start.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    job = define_asset_job("reconciliation_job", selection=[ASSET], partitions_def=days,
                           description="Count DynamoDB Metrics items against METRICS + REJECTS (one Scan per run).")

    @schedule(job=job, cron_schedule="30 1 * * *", execution_timezone="UTC", default_status=schedule_status,
              description=f"Daily 01:30: reconcile the last {RECONCILE_DAYS} closed days in one run (one Scan).")
    def reconciliation_schedule(context: ScheduleEvaluationContext) -> RunRequest | SkipReason:
        today = context.scheduled_execution_time.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        last = today - timedelta(days=1)
        first = max(today - timedelta(days=RECONCILE_DAYS), first_day)
        if last < first:
            return SkipReason("no closed day since the partitions start")
        keys = (first.strftime("%Y-%m-%d"), last.strftime("%Y-%m-%d"))
        return RunRequest(run_key=f"reconciliation_job:{keys[0]}..{keys[1]}",
                          tags={RANGE_START: keys[0], RANGE_END: keys[1]})

    @asset_sensor(asset_key=AssetKey(ASSET), job=sync_job, name="reconciliation_resync_sensor",
                  default_status=sensor_status, minimum_interval_seconds=60,
                  description="Re-syncs the hours a reconciliation found with unread or extra items.")
    def reconciliation_resync_sensor(context: SensorEvaluationContext, asset_event: EventLogEntry):
        materialization = asset_event.asset_materialization
        hours = resync_hours_of(dict(materialization.metadata)) if materialization else []
        if not hours:
            return SkipReason("the latest reconciliation found nothing to re-sync")
        context.log.info(f"re-syncing {len(hours)} hour(s): {', '.join(hours[:10])}")
        return [RunRequest(run_key=f"reconcile:{asset_event.run_id}:{h}", partition_key=h,
                           tags={TAG: "reconciliation"}) for h in hours if _closed(h)]

    return {"jobs": [job], "schedules": [reconciliation_schedule], "sensors": [reconciliation_resync_sensor]}


def _closed(key: str) -> bool:
    return partition_start(key) + timedelta(hours=1) <= utc_now()
