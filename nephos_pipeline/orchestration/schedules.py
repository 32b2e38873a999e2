"""Jobs and schedules at the seed's cadence (UTC); each tick targets the window just closed.

- every 15 minutes: sync the current hour (so the anomaly scan sees fresh data), then
  anomaly detection on the quarter that just closed;
- hourly: sync the hour that just closed (final pass, picks up late items), the instances
  snapshot, and pattern analysis of that hour;
- every 6 hours: predictive analysis and the executive summary.

Schedules, not declarative automation: each tick's target partition is explicit and
visible in the UI's schedule history, and runs are keyed by partition so a daemon restart
never launches a tick twice.
"""

from datetime import UTC, datetime, timedelta

from dagster import (
    DefaultScheduleStatus,
    RunRequest,
    ScheduleDefinition,
    ScheduleEvaluationContext,
    define_asset_job,
    schedule,
)

from nephos_pipeline.partitions import Partitions

SYNC_HOURLY = ["raw_metrics", "metrics", "raw_alerts", "alerts"]
SYNC_INSTANCES = ["raw_instances", "instances"]
FMT = "%Y-%m-%d-%H:%M"


def floor(moment: datetime, step: timedelta) -> datetime:
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    return epoch + ((moment.astimezone(UTC) - epoch) // step) * step


def build_jobs(parts: Partitions) -> dict:
    return {
        "sync_hourly_job": define_asset_job("sync_hourly_job", selection=SYNC_HOURLY, partitions_def=parts.hourly_open,
                                            description="Extract and load Metrics and Alerts for one hour."),
        "sync_instances_job": define_asset_job("sync_instances_job", selection=[*SYNC_INSTANCES, "metric_rollups"],
                                               description="Instances snapshot and the rollup views."),
        "anomaly_job": define_asset_job("anomaly_job", selection=["anomaly_insights"],
                                        partitions_def=parts.quarter_hourly),
        "pattern_job": define_asset_job("pattern_job", selection=["pattern_insights"], partitions_def=parts.hourly),
        "prediction_job": define_asset_job("prediction_job", selection=["prediction_insights", "insights_summary"],
                                           partitions_def=parts.six_hourly),
    }


def _request(job_name: str, partition_start: datetime) -> RunRequest:
    key = partition_start.strftime(FMT)
    return RunRequest(run_key=f"{job_name}:{key}", partition_key=key)


def build_schedules(jobs: dict, status: DefaultScheduleStatus) -> list[ScheduleDefinition]:
    q, h, six = timedelta(minutes=15), timedelta(hours=1), timedelta(hours=6)

    @schedule(job=jobs["sync_hourly_job"], cron_schedule="*/15 * * * *", execution_timezone="UTC",
              default_status=status, description="Every 15 min: sync the hour in progress; on the hour, the hour just closed.")
    def sync_schedule(context: ScheduleEvaluationContext) -> RunRequest:
        t = context.scheduled_execution_time
        return _request("sync_hourly_job", floor(t - timedelta(minutes=1), h)) if t.minute == 0 else \
            RunRequest(run_key=f"sync_hourly_job:{floor(t, h).strftime(FMT)}:{t.minute:02d}",
                       partition_key=floor(t, h).strftime(FMT))

    @schedule(job=jobs["sync_instances_job"], cron_schedule="5 * * * *", execution_timezone="UTC",
              default_status=status, description="Hourly: the Instances snapshot and rollup views.")
    def instances_schedule(context: ScheduleEvaluationContext) -> RunRequest:
        return RunRequest(run_key=f"sync_instances_job:{floor(context.scheduled_execution_time, h).strftime(FMT)}")

    @schedule(job=jobs["anomaly_job"], cron_schedule="2,17,32,47 * * * *", execution_timezone="UTC",
              default_status=status, description="Every 15 min: anomaly detection on the quarter that just closed.")
    def anomaly_schedule(context: ScheduleEvaluationContext) -> RunRequest:
        return _request("anomaly_job", floor(context.scheduled_execution_time, q) - q)

    @schedule(job=jobs["pattern_job"], cron_schedule="10 * * * *", execution_timezone="UTC",
              default_status=status, description="Hourly: pattern analysis of the hour that just closed.")
    def pattern_schedule(context: ScheduleEvaluationContext) -> RunRequest:
        return _request("pattern_job", floor(context.scheduled_execution_time, h) - h)

    @schedule(job=jobs["prediction_job"], cron_schedule="20 */6 * * *", execution_timezone="UTC",
              default_status=status, description="Every 6 h: predictions and the executive summary.")
    def prediction_schedule(context: ScheduleEvaluationContext) -> RunRequest:
        return _request("prediction_job", floor(context.scheduled_execution_time, six) - six)

    return [sync_schedule, instances_schedule, anomaly_schedule, pattern_schedule, prediction_schedule]
