"""The DynamoDB change sensor: stream records -> runs for exactly the partitions they touch.

Why run keys look the way they do: Dagster launches a run key at most once, ever. A key
is therefore a hash of the partition and of the *sequence ranges* (stream ARN, shard,
first-last sequence number) whose records touched it. Replaying a tick from the same
cursor (crash before the cursor was saved) reads the same ranges and reproduces the same
keys, which Dagster drops; any new record has a sequence number never hashed before, so
it always yields a new key. Stream ARNs are part of the hash because a recreated table
may restart sequence numbers (moto does).

Hours that have not closed yet have no Dagster partition (hourly partitions end at the
last complete hour), so changes to them wait in the cursor (``pending``) and are requested
on the first tick after the hour closes, instead of being dropped.

A closed hour that a run of its partition already reads after its latest change (the
hour's close at :00, ``hour_close_job``) is not requested again: ``coverage.py``.

After ``TrimmedDataAccessException`` (records lost to the 24-hour stream retention) the
sensor requests every hour of the last 24 hours for that table (the instances sync for
Instances): whatever was trimmed lies in that window.
"""

import hashlib
import os
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError
from dagster import (
    DagsterInvariantViolationError,
    DefaultSensorStatus,
    JobDefinition,
    RunRecord,
    RunRequest,
    RunsFilter,
    SensorDefinition,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from nephos_pipeline import tables
from nephos_pipeline.clock import partition_start, utc_now
from nephos_pipeline.dynamodb.resource import DynamoDBResource
from nephos_pipeline.dynamodb.tables import stream_arn, table_names_by_logical_name
from nephos_pipeline.ingest.extraction import instance_ids
from nephos_pipeline.orchestration import coverage, discovery
from nephos_pipeline.orchestration.streams import (
    PARTITION_FMT,
    START_POSITIONS,
    Change,
    StreamCursor,
    hour_of,
    partitions_for_record,
    read_changes,
    resync_hours,
    written_at,
)
from nephos_pipeline.partitions import Partitions
from nephos_pipeline.tables.contract import ContractError

if TYPE_CHECKING:
    from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

START_ENV = "NEPHOS_STREAM_START"
SENSOR_NAME = "dynamodb_change_sensor"
FUTURE_TOLERANCE = timedelta(minutes=15)  # writer clocks may run a little ahead
TAG = "nephos/trigger"
PARTITION_TAG = "dagster/partition"


def _digest(parts: Iterable[str]) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]


@dataclass
class RunPlan:
    """What one tick requests, and why it skipped the rest (for the log / skip reason)."""

    hourly: dict[str, str] = field(default_factory=dict)  # partition key -> run key
    instances: str | None = None  # run key of the instances sync, at most one per tick
    pending: dict[str, str] = field(default_factory=dict)
    changed: dict[str, float] = field(default_factory=dict)  # partition key -> latest write, epoch s
    covered: dict[str, str] = field(default_factory=dict)  # partition key -> run id already syncing it
    records: int = 0
    violations: list[str] = field(default_factory=list)
    before_start: int = 0
    future: int = 0
    resyncs: int = 0

    def summary(self) -> str:
        parts = [f"{self.records} stream record(s)", f"{len(self.hourly)} hourly run(s)",
                 f"{'1' if self.instances else '0'} instances run(s)"]
        if self.violations:
            parts.append(f"{len(self.violations)} contract violation(s) skipped (first: {self.violations[0]})")
        if self.before_start:
            parts.append(f"{self.before_start} change(s) before the partitions start skipped")
        if self.future:
            parts.append(f"{self.future} change(s) in the future skipped")
        if self.resyncs:
            parts.append(f"{self.resyncs} re-sync(s) of the stream retention window")
        if self.covered:
            parts.append(f"{len(self.covered)} hour(s) already covered by their scheduled run "
                         f"({', '.join(sorted(self.covered))})")
        if self.pending:
            parts.append(f"waiting for open hour(s) {', '.join(sorted(self.pending))}")
        return "; ".join(parts)


def _snapshot(table_kind: str) -> bool:
    """A change to a snapshot table (Instances) is synced by the snapshot job, not by hour."""
    return not tables.get(table_kind).partitioned


def plan_runs(changes: list[Change], pending: dict[str, str], now: datetime, first_hour: datetime,
              changed: dict[str, float] | None = None) -> RunPlan:
    """Map changes to run keys. Pure and deterministic in (changes, pending, changed, now).

    ``plan.changed`` is when each requested or pending hour was last written (a re-sync or
    a record without a creation time counts as written ``now``)."""
    plan, ranges = RunPlan(pending=dict(pending)), defaultdict(dict)  # hour -> {(arn, shard): [lo, hi]}
    plan.changed = {k: (changed or {}).get(k, now.timestamp()) for k in pending}
    markers: dict[datetime | str, set[str]] = defaultdict(set)  # "instances" or hour -> tokens
    latest: dict[datetime, float] = defaultdict(float)  # hour -> latest write of this tick's records
    for change in changes:
        where = (change.stream_arn, change.shard_id)
        if change.resync:
            plan.resyncs += 1
            token = f"resync|{change.stream_arn}|{change.shard_id}|{change.sequence_number}"
            targets = ["instances"] if _snapshot(change.table_kind) else resync_hours(now)
            for target in targets:
                markers[target].add(token)
                if target != "instances":
                    latest[target] = now.timestamp()
            continue
        plan.records += 1
        try:
            hours = partitions_for_record(change.table_kind, change.record or {})
        except ContractError as exc:
            plan.violations.append(f"{change.table_kind} seq {change.sequence_number}: {exc}")
            continue
        seq = int(change.sequence_number)
        targets = ["instances"] if _snapshot(change.table_kind) else sorted(hours)
        for target in targets:
            if target != "instances" and target < first_hour:
                plan.before_start += 1
            elif target != "instances" and target > now + FUTURE_TOLERANCE:
                plan.future += 1
            else:
                lo, hi = ranges[target].get(where, (seq, seq))
                ranges[target][where] = (min(lo, seq), max(hi, seq))
                if target != "instances":
                    latest[target] = max(latest[target], written_at(change.record, now.timestamp()))
    for target, by_shard in ranges.items():
        markers[target] |= {f"{arn}|{shard}|{lo}-{hi}" for (arn, shard), (lo, hi) in by_shard.items()}
    for target, tokens in markers.items():
        sig = _digest(sorted(tokens))
        if target == "instances":
            plan.instances = f"dynamodb:instances:{sig}"
        elif target >= first_hour:
            key = target.strftime(PARTITION_FMT)
            plan.pending[key] = _digest([plan.pending[key], sig]) if key in plan.pending else sig
            plan.changed[key] = max(plan.changed.get(key, 0.0), latest[target])
    for key, sig in sorted(plan.pending.items()):
        if partition_start(key) + timedelta(hours=1) <= now:  # Dagster has the partition now
            plan.hourly[key] = f"dynamodb:{key}:{sig}"
            del plan.pending[key]
    return plan


def _runs_of(context: SensorEvaluationContext, job_names: Sequence[str]) -> Callable[[str], list[RunRecord]] | None:
    """Run records of the jobs that sync an hour (the hourly sync, the hour's close) for a
    partition, newest first; None without an instance (a context built in a test without
    one): then every closed hour is requested."""
    try:
        instance = context.instance
    except DagsterInvariantViolationError:
        return None

    def runs(key: str) -> list[RunRecord]:
        found = [r for name in job_names
                 for r in instance.get_run_records(RunsFilter(job_name=name, tags={PARTITION_TAG: key}), limit=20)]
        return sorted(found, key=lambda r: r.create_timestamp, reverse=True)
    return runs


def _stream_arns(dynamodb: DynamoDBResource, warnings: list[str]) -> dict[str, str]:
    """Current stream ARN per table kind; a missing table or stream is warned about and left
    out (its cursor entry is kept), so one bad table does not stop the others."""
    client, arns = dynamodb.client(), {}
    for kind, table in table_names_by_logical_name(dynamodb.tables).items():
        try:
            arn = stream_arn(client, table)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise
            warnings.append(f"{kind}: table {table!r} not found; not read this tick")
            continue
        if arn is None:
            warnings.append(f"{kind}: table {table!r} has no enabled stream; not read this tick")
        else:
            arns[kind] = arn
    return arns


def build_dynamodb_change_sensor(
    hourly_job: "JobDefinition | UnresolvedAssetJobDefinition",
    instances_job: "JobDefinition | UnresolvedAssetJobDefinition",
    parts: Partitions,
    *,
    name: str = SENSOR_NAME,
    default_status: DefaultSensorStatus = DefaultSensorStatus.STOPPED,
    minimum_interval_seconds: int = 30,
    max_records_per_tick: int = 5000,
    max_seconds_per_tick: float = 20.0,
    clock: Callable[[], datetime] | None = None,
    covering_jobs: Sequence[str] = (),
) -> SensorDefinition:
    """The sensor over every registered table's stream; needs the ``dynamodb`` resource.

    Both jobs must be job objects (``define_asset_job`` results): a sensor with several
    targets cannot be given job names in Dagster 1.13. ``max_seconds_per_tick`` bounds the
    reading (plus one in-flight request, ``read_timeout_s``), well inside Dagster's 60 s
    sensor timeout. ``clock`` is for tests. ``covering_jobs``: other jobs whose runs of an
    hour also sync it (``hour_close_job``), counted by ``coverage.py`` like the hourly job's.
    """
    for job in (hourly_job, instances_job):
        if isinstance(job, str) or not hasattr(job, "name"):
            raise TypeError(f"expected a job definition, got {job!r}")
    now = clock or utc_now
    first_hour = hour_of(parts.hourly.start)

    @sensor(name=name, jobs=[hourly_job, instances_job], default_status=default_status,
            minimum_interval_seconds=minimum_interval_seconds,
            description="Runs the hours (and the instances sync) that changed in DynamoDB, read from its Streams.")
    def _sensor(context: SensorEvaluationContext, dynamodb: DynamoDBResource) -> SensorResult | SkipReason:
        start = (os.environ.get(START_ENV) or "TRIM_HORIZON").strip().upper()
        if start not in START_POSITIONS:
            return SkipReason(f"{START_ENV} must be one of {', '.join(START_POSITIONS)}, got {start!r}; cursor kept")
        cursor, reset = StreamCursor.from_json(context.cursor)
        if reset:
            context.log.warning(f"{reset} from {start}")
        warnings: list[str] = []
        began = time.monotonic()
        try:
            arns = _stream_arns(dynamodb, warnings)
            changes, new_cursor, read_warnings = read_changes(
                dynamodb.streams_client(), arns, cursor, start, max_records_per_tick, began + max_seconds_per_tick
            )
            seen = discovery.metric_ids_by_hour(changes)
            # One projected Scan of the (small) Instances table, only on ticks with metric records.
            registered = set(instance_ids(dynamodb.client(), dynamodb.table_name(tables.INSTANCES))) if seen else set()
        except (BotoCoreError, ClientError) as exc:
            return SkipReason(f"{dynamodb.describe()} could not be read ({type(exc).__name__}: {exc}); "
                              "cursor kept, retrying next tick")
        for warning in [*warnings, *read_warnings]:
            context.log.warning(warning)
        moment = now()
        plan = plan_runs(changes, new_cursor.pending, moment, first_hour, new_cursor.changed)
        unregistered, new_cursor.unregistered = discovery.unregistered_by_hour(
            seen, registered, new_cursor.unregistered, plan.hourly, plan.pending)
        if (runs_of := _runs_of(context, (hourly_job.name, *covering_jobs))) is not None:
            coverage.apply(plan, runs_of, moment, set(unregistered))
        new_cursor.pending = plan.pending
        new_cursor.changed = {k: plan.changed[k] for k in plan.pending if k in plan.changed}
        summary = plan.summary()
        if ids := sorted({i for v in [*unregistered.values(), *new_cursor.unregistered.values()] for i in v}):
            summary += (f"; metrics from {len(ids)} unregistered instance id(s) ({', '.join(ids[:10])}"
                        f"{', ...' if len(ids) > 10 else ''}): their hours are synced with them")
        if plan.records >= max_records_per_tick or time.monotonic() - began >= max_seconds_per_tick:
            summary += "; work bound reached, continuing next tick"
        context.log.info(summary)
        runs = [RunRequest(run_key=key, job_name=hourly_job.name, partition_key=pk, tags={TAG: "dynamodb-stream"},
                           run_config=discovery.run_config(unregistered[pk]) if pk in unregistered else None)
                for pk, key in sorted(plan.hourly.items())]
        if plan.instances:
            runs.append(RunRequest(run_key=plan.instances, job_name=instances_job.name, tags={TAG: "dynamodb-stream"}))
        if not runs:
            return SensorResult(skip_reason=SkipReason(f"no changed partitions: {summary}"), cursor=new_cursor.to_json())
        return SensorResult(run_requests=runs, cursor=new_cursor.to_json())

    return _sensor


__all__ = ["build_dynamodb_change_sensor", "plan_runs", "RunPlan", "START_ENV", "SENSOR_NAME"]
