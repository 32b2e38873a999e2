"""Does a run of that partition already sync a closed hour's changes? Then the sensor skips it.

Every hour the hour's close (``hour_close_job`` at :00) syncs the hour that just closed,
and the change sensor's first tick after the hour sees the same hour's records: without
this check both run, and
the second sync re-reads and re-MERGEs the same hour (about a quarter of the :00 quarter's
warehouse time, docs/benchmarks.md "The Snowflake bill").

The rule, per closed hour the sensor would request (``judge``):

- a run of that partition **started** (or succeeded) at least ``margin_s`` after the
  hour's latest change was written reads DynamoDB after that change: **covered**, skipped.
  Its extract queries the whole hour, so it sees every change written before it started;
  the margin absorbs the stream's whole-second creation times and clock skew between
  DynamoDB and the Dagster host. If that run fails, the instance retries it and the failure
  sensor raises an alert, as for the sensor's own runs.
- a run of that partition is queued or starting (it has not read yet), or the hour closed
  less than ``grace`` ago and no run covers it yet (the schedule may not have submitted its
  final run of the hour; the runs of the hour in progress at :15, :30, :45 do not cover
  what came after them): **wait**, the hour stays pending in the cursor and is judged again next tick. A queued
  run that is cancelled instead of started therefore leads to a request, not a loss.
- otherwise (no run, or every run started before the change: late data): **request**.

Hours with unregistered instance ids are always requested: only the sensor's run queries them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Protocol

from dagster import DagsterRunStatus, RunRecord

from nephos_pipeline.clock import partition_start


class RunPlan(Protocol):
    """The parts of the change sensor's plan (``change_sensor.RunPlan``) this module moves."""

    hourly: dict[str, str]
    pending: dict[str, str]
    changed: dict[str, float]
    covered: dict[str, str]


MARGIN_S = 5.0
GRACE = timedelta(seconds=90)
NOT_READ_YET = {DagsterRunStatus.QUEUED, DagsterRunStatus.NOT_STARTED, DagsterRunStatus.STARTING}
READ = {DagsterRunStatus.STARTED, DagsterRunStatus.SUCCESS}
COVERED, WAIT, REQUEST = "covered", "wait", "request"


def judge(runs: Sequence[RunRecord], written: float, hour_end: datetime, now: datetime,
          margin_s: float = MARGIN_S, grace: timedelta = GRACE) -> tuple[str, str | None]:
    """(verdict, run id of the covering or awaited run) for one closed hour."""
    for record in runs:
        run = record.dagster_run
        if run.status in READ and record.start_time is not None and record.start_time - margin_s >= written:
            return COVERED, run.run_id
    for record in runs:
        if record.dagster_run.status in NOT_READ_YET:
            return WAIT, record.dagster_run.run_id
    if now < hour_end + grace:  # the schedule's final run of the hour may not be submitted yet
        return WAIT, None
    return REQUEST, None


def apply(plan: RunPlan, runs_of: Callable[[str], Sequence[RunRecord]], now: datetime, skip: set[str]) -> None:
    """Move covered hours of ``plan.hourly`` to ``plan.covered`` and waiting ones back to
    ``plan.pending`` (signature kept, so the run key stays the same); hours in ``skip`` are
    left to be requested."""
    for key, run_key in sorted(plan.hourly.items()):
        if key in skip:
            continue
        verdict, run_id = judge(runs_of(key), plan.changed.get(key, now.timestamp()),
                                partition_start(key) + timedelta(hours=1), now)
        if verdict == REQUEST:
            continue
        del plan.hourly[key]
        if verdict == COVERED:
            plan.covered[key] = run_id or ""
        else:
            plan.pending[key] = run_key.rsplit(":", 1)[1]
