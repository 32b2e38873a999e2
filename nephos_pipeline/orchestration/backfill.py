"""Backfills from the command line: the runs a UI backfill would launch, run here, in order.

``dagster job backfill`` ignores backfill policies (30 days of anomaly partitions become
2,880 runs) and needs the daemon. This plans the same runs the UI's asset backfill would:
one run per job and chunk of partitions, the chunk size taken from the assets' backfill
policies (extract/load: the whole range; anomaly: 192 quarters; pattern: 168 hours;
prediction and summary: 28 six-hour windows), and executes them one after another in
this process with the project's own jobs, against the configured DynamoDB and warehouse.
Each run is recorded in the Dagster instance with its job name, its partition range and
``nephos/backfill`` tags, so it shows in the UI like any other run.

The order matters: sync first; patterns before anomalies (a known recurring spike is
then not reported again as an anomaly, as the schedules keep it in production);
predictions and the summary last.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import dagster as dg

from nephos_pipeline import insight_types

BACKFILL_TAG = "nephos/backfill"
TRIGGER_TAG = "nephos/trigger"
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


@dataclass(frozen=True)
class Stage:
    """A job (narrowed to ``assets``; ``None``: the whole job) run for one ``--assets`` name."""

    name: str
    job: str
    assets: tuple[str, ...] | None = None


# Execution order. ``--assets`` picks names; consecutive picks of one job merge into one run.
STAGES: tuple[Stage, ...] = (
    Stage("sync", "sync_instances_job", ("raw_instances", "instances")),  # metrics are queried per instance
    Stage("rollups", "sync_instances_job", ("metric_rollups",)),
    Stage("sync", "sync_hourly_job"),
    # one stage per insight type (insight_types.py order: patterns before anomalies), with its side effects
    *(Stage(t.name, t.job, (t.asset, *t.then)) for t in insight_types.INSIGHT_TYPES.values()),
)
STAGE_NAMES = tuple(dict.fromkeys(s.name for s in STAGES))


@dataclass
class PlannedRun:
    stage: str
    job: str
    assets: tuple[str, ...] | None
    keys: list[str] = field(default_factory=list)  # partition keys; empty for unpartitioned jobs

    def describe(self) -> str:
        what = self.job if self.assets is None else f"{self.job} [{', '.join(self.assets)}]"
        if not self.keys:
            return what
        return f"{what}: {len(self.keys)} partition(s) {self.keys[0]} .. {self.keys[-1]}"


@dataclass
class RunOutcome:
    planned: PlannedRun
    run_id: str
    success: bool
    seconds: float


def select_stages(names: Iterable[str] | None) -> list[Stage]:
    """The stages for ``names`` in execution order, consecutive ones of one job merged."""
    wanted = set(names or STAGE_NAMES)
    unknown = wanted - set(STAGE_NAMES)
    if unknown:
        raise ValueError(f"unknown --assets {sorted(unknown)}; choose from {', '.join(STAGE_NAMES)}")
    chosen: list[Stage] = []
    for stage in (s for s in STAGES if s.name in wanted):
        last = chosen[-1] if chosen else None
        if last is not None and last.job == stage.job:
            assets = None if last.assets is None or stage.assets is None else last.assets + stage.assets
            chosen[-1] = Stage(f"{last.name}+{stage.name}", stage.job, assets)
        else:
            chosen.append(stage)
    return [_whole_job_if_complete(s) for s in chosen]


def _whole_job_if_complete(stage: Stage) -> Stage:
    """A stage naming every asset of its job runs the job as defined (no asset subset)."""
    full = {s.job: set() for s in STAGES}
    for s in STAGES:
        full[s.job] |= set(s.assets or ())
    if stage.assets is not None and set(stage.assets) == full[stage.job]:
        return Stage(stage.name, stage.job)
    return stage


def partition_keys(pdef: dg.PartitionsDefinition, start: datetime, end: datetime) -> list[str]:
    """Keys of the partitions whose whole window lies in [start, end) (naive = UTC)."""
    start = start if start.tzinfo else start.replace(tzinfo=UTC)
    end = end if end.tzinfo else end.replace(tzinfo=UTC)
    keys = pdef.get_partition_keys_in_time_window(dg.TimeWindow(start, end))  # type: ignore[attr-defined]
    windows = ((k, pdef.time_window_for_partition_key(k)) for k in keys)  # type: ignore[attr-defined]
    return [k for k, w in windows if w.start >= start and w.end <= end]


def max_partitions_per_run(job: dg.JobDefinition, assets: Sequence[str] | None) -> int | None:
    """The smallest ``max_partitions_per_run`` of the job's assets' policies (``None``: one run)."""
    sizes = []
    for key in job.asset_layer.executable_asset_keys:
        if assets is not None and key.to_user_string() not in assets:
            continue
        policy = job.asset_layer.get(key).backfill_policy
        if policy is not None and policy.max_partitions_per_run is not None:
            sizes.append(policy.max_partitions_per_run)
    return min(sizes) if sizes else None


def plan(defs: dg.Definitions, stages: Sequence[Stage], start: datetime, end: datetime,
         skipped: list[str] | None = None) -> list[PlannedRun]:
    """The runs, in order. A stage with no complete partition in the range (a 2-hour range
    has no 6-hour window) is left out and named in ``skipped``; no run at all is an error."""
    runs: list[PlannedRun] = []
    for stage in stages:
        job = defs.resolve_job_def(stage.job)
        if job.partitions_def is None:
            runs.append(PlannedRun(stage.name, stage.job, stage.assets))
            continue
        keys = partition_keys(job.partitions_def, start, end)
        if not keys:
            if skipped is not None:
                skipped.append(f"{stage.name} ({stage.job}): no complete partition in the range")
            continue
        size = max_partitions_per_run(job, stage.assets) or len(keys)
        runs += [PlannedRun(stage.name, stage.job, stage.assets, keys[i:i + size]) for i in range(0, len(keys), size)]
    if not runs:
        first = next((_first_key(defs.resolve_job_def(s.job)) for s in stages), "?")
        raise ValueError(f"no complete partition between {start:%Y-%m-%d %H:%M} and {end:%Y-%m-%d %H:%M} UTC "
                         f"(partitions start {first}; NEPHOS_PARTITIONS_START moves it)")
    return runs


def _first_key(job: dg.JobDefinition) -> str:
    first = job.partitions_def.get_first_partition_key() if job.partitions_def else None
    return first or "?"


def execute(defs: dg.Definitions, runs: Sequence[PlannedRun], instance: dg.DagsterInstance,
            say: Callable[[str], None], backfill_id: str | None = None,
            heartbeat_s: float = 8.0, log_level: str = "CRITICAL") -> list[RunOutcome]:
    """Run the plan in order; stop at the first failed run (later stages read its output).

    Dagster's console log stays quiet (``log_level``): a failure is reported here as one
    line per failed step; its full story (logs, stack) is in the run's page in the UI.
    """
    backfill_id = backfill_id or f"cli-{uuid.uuid4().hex[:8]}"
    outcomes: list[RunOutcome] = []
    run_config = {"loggers": {"console": {"config": {"log_level": log_level}}}}
    for n, planned in enumerate(runs, start=1):
        tags = {BACKFILL_TAG: backfill_id, TRIGGER_TAG: "nephos-backfill", "nephos/stage": planned.stage}
        if planned.keys:
            tags.update({RANGE_START_TAG: planned.keys[0], RANGE_END_TAG: planned.keys[-1]})
        label = f"run {n}/{len(runs)} {planned.describe()}"
        say(f"{label} ...")
        started = time.monotonic()
        job = defs.resolve_job_def(planned.job)
        with _Heartbeat(say, label, started, heartbeat_s):
            result = job.execute_in_process(
                instance=instance, tags=tags, run_config=run_config, raise_on_error=False,
                asset_selection=[dg.AssetKey(a) for a in planned.assets] if planned.assets else None,
            )
        seconds = time.monotonic() - started
        outcomes.append(RunOutcome(planned, result.run_id, result.success, seconds))
        say(f"{label}: {'succeeded' if result.success else 'FAILED'} in {seconds:.0f}s (run {result.run_id[:8]})")
        if not result.success:
            for event in result.all_events:
                if event.is_step_failure and event.event_specific_data is not None:
                    error = getattr(event.event_specific_data, "error", None)
                    say(f"  {event.step_key}: {root_cause(error)}")
            break
    return outcomes


def root_cause(error: object) -> str:
    """The innermost error's first line: what went wrong, without Dagster's wrapping and stack."""
    while getattr(error, "cause", None) is not None:
        error = error.cause  # type: ignore[attr-defined]
    message = (getattr(error, "message", None) or "unknown error").strip()
    return message.splitlines()[0] if message else "unknown error"


class _Heartbeat:
    """Prints ``<label>: still running (Ns)`` every ``every`` seconds while a run executes."""

    def __init__(self, say: Callable[[str], None], label: str, started: float, every: float) -> None:
        self.say, self.label, self.started, self.every = say, label, started, every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="nephos-backfill-heartbeat", daemon=True)

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            self.say(f"{self.label}: still running ({time.monotonic() - self.started:.0f}s)")

    def __enter__(self) -> _Heartbeat:
        if self.every > 0:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
