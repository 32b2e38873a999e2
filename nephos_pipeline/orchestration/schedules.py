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
minute and the run queue takes it in dependency order (``dagster/priority``), back to back,
on one resume; and a quarter holds as few runs as it can, because every run start (a run
worker loading the code) is billed warehouse idle time. So the hour's work is one run,
``hour_close_job`` at :00: the final sync of the closed hour, the instances snapshot, the
rollup views and the hour's patterns (Dagster lets unpartitioned assets join a partitioned
run; the pattern asset shares the sync's hourly partitions for this), then the anomaly
run; :15, :30 and :45 are a sync of the hour in progress and the anomaly run (a sync and an
anomaly run have different partitions, so they cannot be one run). When Dagster resolves
``hour_close_job`` it warns that its assets have different backfill policies: backfills
use the per-table jobs (``orchestration/backfill.py``), not this one. Every job
runs its steps in the run's own process (one step at a time: they are warehouse
statements; a subprocess per step would re-import the code location while the warehouse
waits). ``NEPHOS_CADENCE``: ``seed`` (default: the seed's cadences, coalesced) or
``hourly`` (the low-cost mode: one resume an hour; the hour's four anomaly windows scored
in one run after the hour's close).
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
    in_process_executor,
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
# Every scheduled run carries it; the production instance (deploy/dagster.yaml) runs them
# one at a time, in priority order, as the local instance runs every run.
QUEUE_TAG, QUEUE_VALUE = "nephos/queue", "schedules"
# The hour's work in one run (see the module docstring): sync, snapshot, rollups, patterns.
_PATTERN = insight_types.get("pattern")
HOUR_CLOSE = [*SYNC_HOURLY, *SYNC_SNAPSHOT, "metric_rollups", _PATTERN.asset, *_PATTERN.then]


@dataclass(frozen=True)
class Cadence:
    """Cron (UTC) and queue priority of each schedule; the credit model replays the same table.
    A schedule without a cron is not built in that cadence."""

    name: str
    crons: Mapping[str, str]  # schedule name -> "minute hour * * *"
    priorities: Mapping[str, int]


PRIORITIES = {"hour_close_schedule": 40, "sync_schedule": 40, "anomaly_schedule": 20, "prediction_schedule": 0}
JOB_OF = {"hour_close_schedule": "hour_close_job", "sync_schedule": "sync_hourly_job", "anomaly_schedule": "anomaly_job",
          "prediction_schedule": "prediction_job",
          # the seed's own schedules, replayed by the credit model for comparison
          "instances_schedule": "sync_instances_job", "pattern_schedule": "pattern_job"}
# The seed's staggered minutes and separate hourly jobs, kept for the credit model's comparison only.
SEED_STAGGERED = Cadence("seed_staggered", {
    "sync_schedule": "*/15 * * * *", "instances_schedule": "5 * * * *", "anomaly_schedule": "2,17,32,47 * * * *",
    "pattern_schedule": "10 * * * *", "prediction_schedule": "20 */6 * * *"}, dict.fromkeys(JOB_OF, 0))
COALESCED = Cadence("seed", {
    "hour_close_schedule": "0 * * * *", "sync_schedule": "15,30,45 * * * *", "anomaly_schedule": "*/15 * * * *",
    "prediction_schedule": "0 */6 * * *"}, PRIORITIES)
HOURLY = Cadence("hourly", {
    "hour_close_schedule": "0 * * * *", "anomaly_schedule": "0 * * * *", "prediction_schedule": "0 */6 * * *"},
    PRIORITIES)


def cadence(env: Mapping[str, str] | None = None) -> Cadence:
    """``NEPHOS_CADENCE``: ``seed`` (default) or ``hourly`` (low-cost)."""
    env = os.environ if env is None else env
    name = (env.get("NEPHOS_CADENCE") or "seed").strip().lower()
    if name not in CADENCES:
        raise ValueError(f"NEPHOS_CADENCE must be one of {', '.join(CADENCES)}, got {name!r}")
    return COALESCED if name == "seed" else HOURLY


def build_jobs(parts: Partitions) -> dict:
    one_process = in_process_executor
    return {
        "sync_hourly_job": define_asset_job("sync_hourly_job", selection=SYNC_HOURLY, partitions_def=parts.hourly_open,
                                            executor_def=one_process,
                                            description="Extract and load Metrics and Alerts for one hour."),
        "sync_instances_job": define_asset_job("sync_instances_job", selection=[*SYNC_SNAPSHOT, "metric_rollups"],
                                               executor_def=one_process,
                                               description="Instances snapshot and the rollup views."),
        "hour_close_job": define_asset_job("hour_close_job", selection=HOUR_CLOSE, partitions_def=parts.hourly_open,
                                           executor_def=one_process,
                                           description="Close an hour in one run: its final sync, the instances "
                                                       "snapshot, the rollup views and the hour's patterns."),
        **insight_jobs(parts),
    }


def insight_jobs(parts: Partitions) -> dict:
    """One job per ``job`` named in the insight-type registry, partitioned like its assets."""
    pdefs = {t.job: getattr(parts, t.partitions) for t in insight_types.INSIGHT_TYPES.values()}
    return {job: define_asset_job(job, selection=assets, partitions_def=pdefs[job], executor_def=in_process_executor)
            for job, assets in insight_types.jobs().items()}


def _tags(priority: int) -> dict[str, str]:
    return {PRIORITY_TAG: str(priority), QUEUE_TAG: QUEUE_VALUE}


def _request(job_name: str, partition_start: datetime, priority: int = 0) -> RunRequest:
    key = partition_start.strftime(FMT)
    return RunRequest(run_key=f"{job_name}:{key}", partition_key=key, tags=_tags(priority))


def build_schedules(jobs: dict, status: DefaultScheduleStatus, plan: Cadence | None = None) -> list[ScheduleDefinition]:
    q, h, six = timedelta(minutes=15), timedelta(hours=1), timedelta(hours=6)
    plan = plan or cadence()
    cron, prio = plan.crons, plan.priorities

    @schedule(job=jobs["hour_close_job"], cron_schedule=cron["hour_close_schedule"], execution_timezone="UTC",
              default_status=status, description="Hourly: close the hour just ended in one run (final sync, "
                                                 "instances snapshot, rollup views, patterns).")
    def hour_close_schedule(context: ScheduleEvaluationContext) -> RunRequest:
        return _request("hour_close_job", floor(context.scheduled_execution_time, h) - h, prio["hour_close_schedule"])

    @schedule(job=jobs["sync_hourly_job"], cron_schedule=cron.get("sync_schedule", "15,30,45 * * * *"),
              execution_timezone="UTC", default_status=status,
              description="At :15, :30, :45: sync the hour in progress (the hour's close syncs it at :00).")
    def sync_schedule(context: ScheduleEvaluationContext) -> RunRequest:
        t = context.scheduled_execution_time
        return RunRequest(run_key=f"sync_hourly_job:{floor(t, h).strftime(FMT)}:{t.minute:02d}",
                          partition_key=floor(t, h).strftime(FMT), tags=_tags(prio["sync_schedule"]))

    @schedule(job=jobs["anomaly_job"], cron_schedule=cron["anomaly_schedule"], execution_timezone="UTC",
              default_status=status, description="Anomaly detection on the quarter(s) closed since the last tick.")
    def anomaly_schedule(context: ScheduleEvaluationContext) -> RunRequest:
        t = context.scheduled_execution_time
        if plan.name != "hourly":
            return _request("anomaly_job", floor(t, q) - q, prio["anomaly_schedule"])
        first, last = floor(t, h) - h, floor(t, h) - q  # the four quarters of the hour just closed, one run
        return RunRequest(run_key=f"anomaly_job:{first.strftime(FMT)}...{last.strftime(FMT)}",
                          tags={**_tags(prio["anomaly_schedule"]),
                                ASSET_PARTITION_RANGE_START_TAG: first.strftime(FMT),
                                ASSET_PARTITION_RANGE_END_TAG: last.strftime(FMT)})

    @schedule(job=jobs["prediction_job"], cron_schedule=cron["prediction_schedule"], execution_timezone="UTC",
              default_status=status, description="Every 6 h: predictions and the executive summary.")
    def prediction_schedule(context: ScheduleEvaluationContext) -> RunRequest:
        return _request("prediction_job", floor(context.scheduled_execution_time, six) - six, prio["prediction_schedule"])

    built = [hour_close_schedule, sync_schedule, anomaly_schedule, prediction_schedule]
    return [s for s in built if s.name in cron]
