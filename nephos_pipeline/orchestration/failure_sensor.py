"""Run failure visibility: a failed run becomes an ALERTS row (SOURCE = 'pipeline').

Operators of Nephos already watch ALERTS (the page, their alert routing); a run that fails
at 03:00 should show up there, not only in the Dagster UI. One row per failed run, keyed
``dagster-run-<run id>``, with the job, partition and the first error line; when a retry of
that run succeeds (the instance retries failed runs, ``deploy/dagster.yaml``), the rows of
the runs it retried are marked resolved.

Both sensors write through the same ``warehouse`` resource as the assets (Snowflake in
production, the embedded warehouse locally), with bound parameters. They launch no runs,
so unlike the schedules they ship running in production too.
"""

from __future__ import annotations

from datetime import UTC, datetime

from dagster import (
    DagsterInstance,
    DagsterRunStatus,
    DefaultSensorStatus,
    RunFailureSensorContext,
    RunsFilter,
    RunStatusSensorContext,
    SensorDefinition,
    run_failure_sensor,
    run_status_sensor,
)

from nephos_pipeline.sql_files import load_sql
from nephos_pipeline.warehouse import Warehouse
from nephos_pipeline.warehouse.schema import ensure_schema

MESSAGE_CAP = 2000
PARENT_TAG = "dagster/parent_run_id"
ROOT_TAG = "dagster/root_run_id"
INTERVAL_S = 15
DAGSTER_WRAPPERS = {"DagsterExecutionStepExecutionError", "DagsterUserCodeExecutionError"}


def alert_id(run_id: str) -> str:
    return f"dagster-run-{run_id}"


def _utc(timestamp: float | None) -> datetime:
    moment = datetime.fromtimestamp(timestamp, UTC) if timestamp else datetime.now(UTC)
    return moment.replace(tzinfo=None)


def failure_message(job_name: str, run_id: str, tags: dict[str, str], error: str | None) -> str:
    """One line an operator can act on: which job, which window, which attempt, what broke."""
    where = tags.get("dagster/partition") or (
        f"{tags['dagster/asset_partition_range_start']}..{tags['dagster/asset_partition_range_end']}"
        if "dagster/asset_partition_range_start" in tags else "unpartitioned")
    attempt = int(tags.get("dagster/retry_number", "0")) + 1
    lines = (error or "").strip().splitlines()
    first_line = lines[0] if lines else "no error message"
    text = f"Dagster run {run_id} of {job_name} ({where}, attempt {attempt}) failed: {first_line}"
    return text[:MESSAGE_CAP]


def first_error(context: RunFailureSensorContext) -> str | None:
    """The first failed step's own error (what broke), else the run failure event's message.

    Dagster wraps a step's exception in DagsterExecutionStepExecutionError; its cause is the
    exception our code raised (WarehouseUnavailable, a throttling error, ...), whose own
    cause (the driver's error) is one level too deep to be the headline.
    """
    for event in context.get_step_failure_events():
        error = getattr(event.event_specific_data, "error", None)
        if error is not None:
            while error.cause is not None and error.cls_name in DAGSTER_WRAPPERS:
                error = error.cause
            return error.message
    return context.failure_event.message if context.failure_event else None


def succeeded_retry_end(instance: DagsterInstance, run_id: str) -> datetime | None:
    """When a retry of ``run_id`` (direct, or of a retry of it) already succeeded, its end time.

    Why: a quick retry can succeed before the failure sensor's tick records the failure; the
    resolve sensor then finds no row to resolve, so the failure is recorded resolved here.
    """
    for tag in (PARENT_TAG, ROOT_TAG):
        records = instance.get_run_records(
            RunsFilter(tags={tag: run_id}, statuses=[DagsterRunStatus.SUCCESS]), limit=1)
        if records:
            return _utc(records[0].end_time)
    return None


def build_failure_sensors() -> list[SensorDefinition]:
    @run_failure_sensor(name="run_failure_alert_sensor", minimum_interval_seconds=INTERVAL_S,
                        default_status=DefaultSensorStatus.RUNNING,
                        description="Records each failed run as an ALERTS row (SOURCE = 'pipeline').")
    def run_failure_alert_sensor(context: RunFailureSensorContext, warehouse: Warehouse) -> None:
        run = context.dagster_run
        error = first_error(context)
        record = context.instance.get_run_record_by_id(run.run_id)
        failed_at = _utc(record.end_time if record else None)
        resolved_at = succeeded_retry_end(context.instance, run.run_id)
        ensure_schema(warehouse)
        warehouse.execute(load_sql("orchestration/record_run_failure.sql"), {
            "alert_id": alert_id(run.run_id), "failed_at": failed_at, "severity": "high",
            "message": failure_message(run.job_name, run.run_id, dict(run.tags), error),
            "status": "open" if resolved_at is None else "resolved", "resolved_at": resolved_at,
            "loaded_at": _utc(None),
        })
        context.log.info(f"recorded failed run {run.run_id} as ALERTS {alert_id(run.run_id)}")

    @run_status_sensor(name="run_retry_resolved_sensor", run_status=DagsterRunStatus.SUCCESS,
                       minimum_interval_seconds=INTERVAL_S, default_status=DefaultSensorStatus.RUNNING,
                       description="Resolves the pipeline alerts of failed runs whose retry succeeded.")
    def run_retry_resolved_sensor(context: RunStatusSensorContext, warehouse: Warehouse) -> None:
        tags = context.dagster_run.tags
        if PARENT_TAG not in tags:
            return
        warehouse.execute(load_sql("orchestration/resolve_run_failure.sql"), {
            "resolved_at": _utc(None), "parent_alert_id": alert_id(tags[PARENT_TAG]),
            "root_alert_id": alert_id(tags.get(ROOT_TAG, tags[PARENT_TAG])),
        })

    return [run_failure_alert_sensor, run_retry_resolved_sensor]
