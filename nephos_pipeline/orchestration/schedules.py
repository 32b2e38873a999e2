"""Jobs and schedules at the seed's cadence (UTC); each tick targets the window just closed.

- every 15 minutes: sync the current hour (so the anomaly scan sees fresh data), then
  anomaly detection on the quarter that just closed;
- hourly: sync the hour that just closed (final pass, picks up late items), the instances
  snapshot, and pattern analysis of that hour;
- every 6 hours: predictive analysis and the executive summary.

Schedules, not declarative automation: each tick's target partition is explicit and
visible in the UI's schedule history, and runs are keyed by partition so a daemon restart
never launches a tick twice.

Shaped to the Snowflake bill (issue 16, ``docs/benchmarks.md``): a warehouse resume bills
at least 60 s plus ``AUTO_SUSPEND``, so everything due in a quarter hour starts at the same
minute and the run queue takes it in dependency order (``dagster/priority``: sync, then
instances, anomaly, pattern, prediction), back to back, on one resume. The seed's
staggered minutes (:00, :02, :05, :10, :20) cost a resume each. ``NEPHOS_CADENCE``:
``seed`` (default: the seed's cadences, coalesced) or ``hourly`` (the low-cost mode: one
resume an hour; the hour's four anomaly windows scored in one run).
"""

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from dagster import (
    DefaultScheduleStatus,
    RunRequest,
    ScheduleDefinition,
    ScheduleEvaluationContext,
    define_asset_job,
    schedule,
)

from nephos_pipeline import insight_types
from nephos_pipeline.clock import PARTITION_FMT as FMT
from nephos_pipeline.clock import floor_time as floor
from nephos_pipeline.partitions import Partitions
from nephos_pipeline.tables import SYNC_HOURLY, SYNC_SNAPSHOT

# The run tags Dagster reads for one run over a range of partitions (as a single-run backfill).
ASSET_PARTITION_RANGE_START_TAG = "dagster/asset_partition_range_start"
ASSET_PARTITION_RANGE_END_TAG = "dagster/asset_partition_range_end"

CADENCES = ("seed", "hourly")
PRIORITY_TAG = "dagster/priority"


@dataclass(frozen=True)
class Cadence:
    """Cron (UTC) and queue priority of each schedule; the credit model replays the same table."""

    name: str
    crons: Mapping[str, str]  # schedule name -> "minute hour * * *"
    priorities: Mapping[str, int]


PRIORITIES = {"sync_schedule": 40, "instances_schedule": 30, "anomaly_schedule": 20, "pattern_schedule": 10,
              "prediction_schedule": 0}
JOB_OF = {"sync_schedule": "sync_hourly_job", "instances_schedule": "sync_instances_job",
          "anomaly_schedule": "anomaly_job", "pattern_schedule": "pattern_job", "prediction_schedule": "prediction_job"}
# The seed's staggered minutes, kept for the credit model's comparison only.
SEED_STAGGERED = Cadence("seed_staggered", {
    "sync_schedule": "*/15 * * * *", "instances_schedule": "5 * * * *", "anomaly_schedule": "2,17,32,47 * * * *",
    "pattern_schedule": "10 * * * *", "prediction_schedule": "20 */6 * * *"}, dict.fromkeys(PRIORITIES, 0))
COALESCED = Cadence("seed", {
    "sync_schedule": "*/15 * * * *", "instances_schedule": "0 * * * *", "anomaly_schedule": "*/15 * * * *",
    "pattern_schedule": "0 * * * *", "prediction_schedule": "0 */6 * * *"}, PRIORITIES)
HOURLY = Cadence("hourly", {
    "sync_schedule": "0 * * * *", "instances_schedule": "0 * * * *", "anomaly_schedule": "0 * * * *",
    "pattern_schedule": "0 * * * *", "prediction_schedule": "0 */6 * * *"}, PRIORITIES)


def cadence(env: Mapping[str, str] | None = None) -> Cadence:
    """``NEPHOS_CADENCE``: ``seed`` (default) or ``hourly`` (low-cost)."""
    env = os.environ if env is None else env
    name = (env.get("NEPHOS_CADENCE") or "seed").strip().lower()
    if name not in CADENCES:
        raise ValueError(f"NEPHOS_CADENCE must be one of {', '.join(CADENCES)}, got {name!r}")
    return COALESCED if name == "seed" else HOURLY


def build_jobs(parts: Partitions) -> dict:
    return {
        "sync_hourly_job": define_asset_job("sync_hourly_job", selection=SYNC_HOURLY, partitions_def=parts.hourly_open,
                                            description="Extract and load Metrics and Alerts for one hour."),
        "sync_instances_job": define_asset_job("sync_instances_job", selection=[*SYNC_SNAPSHOT, "metric_rollups"],
                                               description="Instances snapshot and the rollup views."),
        **insight_jobs(parts),
    }


def insight_jobs(parts: Partitions) -> dict:
    """One job per ``job`` named in the insight-type registry, partitioned like its assets."""
    pdefs = {t.job: getattr(parts, t.partitions) for t in insight_types.INSIGHT_TYPES.values()}
    return {job: define_asset_job(job, selection=assets, partitions_def=pdefs[job])
            for job, assets in insight_types.jobs().items()}


def _request(job_name: str, partition_start: datetime, priority: int = 0) -> RunRequest:
    key = partition_start.strftime(FMT)
    return RunRequest(run_key=f"{job_name}:{key}", partition_key=key, tags={PRIORITY_TAG: str(priority)})


def build_schedules(jobs: dict, status: DefaultScheduleStatus, plan: Cadence | None = None) -> list[ScheduleDefinition]:
    q, h, six = timedelta(minutes=15), timedelta(hours=1), timedelta(hours=6)
    plan = plan or cadence()
    cron, prio = plan.crons, plan.priorities

    @schedule(job=jobs["sync_hourly_job"], cron_schedule=cron["sync_schedule"], execution_timezone="UTC",
              default_status=status, description="Every 15 min: sync the hour in progress; on the hour, the hour just closed.")
    def sync_schedule(context: ScheduleEvaluationContext) -> RunRequest:
        t = context.scheduled_execution_time
        tags = {PRIORITY_TAG: str(prio["sync_schedule"])}
        return _request("sync_hourly_job", floor(t - timedelta(minutes=1), h), prio["sync_schedule"]) \
            if t.minute == 0 else RunRequest(run_key=f"sync_hourly_job:{floor(t, h).strftime(FMT)}:{t.minute:02d}",
                                             partition_key=floor(t, h).strftime(FMT), tags=tags)

    @schedule(job=jobs["sync_instances_job"], cron_schedule=cron["instances_schedule"], execution_timezone="UTC",
              default_status=status, description="Hourly: the Instances snapshot and rollup views.")
    def instances_schedule(context: ScheduleEvaluationContext) -> RunRequest:
        return RunRequest(run_key=f"sync_instances_job:{floor(context.scheduled_execution_time, h).strftime(FMT)}",
                          tags={PRIORITY_TAG: str(prio["instances_schedule"])})

    @schedule(job=jobs["anomaly_job"], cron_schedule=cron["anomaly_schedule"], execution_timezone="UTC",
              default_status=status, description="Anomaly detection on the quarter(s) closed since the last tick.")
    def anomaly_schedule(context: ScheduleEvaluationContext) -> RunRequest:
        t = context.scheduled_execution_time
        if plan.name != "hourly":
            return _request("anomaly_job", floor(t, q) - q, prio["anomaly_schedule"])
        first, last = floor(t, h) - h, floor(t, h) - q  # the four quarters of the hour just closed, one run
        return RunRequest(run_key=f"anomaly_job:{first.strftime(FMT)}...{last.strftime(FMT)}",
                          tags={PRIORITY_TAG: str(prio["anomaly_schedule"]),
                                ASSET_PARTITION_RANGE_START_TAG: first.strftime(FMT),
                                ASSET_PARTITION_RANGE_END_TAG: last.strftime(FMT)})

    @schedule(job=jobs["pattern_job"], cron_schedule=cron["pattern_schedule"], execution_timezone="UTC",
              default_status=status, description="Hourly: pattern analysis of the hour that just closed.")
    def pattern_schedule(context: ScheduleEvaluationContext) -> RunRequest:
        return _request("pattern_job", floor(context.scheduled_execution_time, h) - h, prio["pattern_schedule"])

    @schedule(job=jobs["prediction_job"], cron_schedule=cron["prediction_schedule"], execution_timezone="UTC",
              default_status=status, description="Every 6 h: predictions and the executive summary.")
    def prediction_schedule(context: ScheduleEvaluationContext) -> RunRequest:
        return _request("prediction_job", floor(context.scheduled_execution_time, six) - six, prio["prediction_schedule"])

    return [sync_schedule, instances_schedule, anomaly_schedule, pattern_schedule, prediction_schedule]
