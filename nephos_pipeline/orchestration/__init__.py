"""Orchestration: jobs, schedules, the DynamoDB change sensor and asset checks."""

import os
from collections.abc import Mapping

from dagster import DefaultScheduleStatus, DefaultSensorStatus

from nephos_pipeline import settings
from nephos_pipeline.partitions import Partitions


def default_status(env: Mapping[str, str] | None = None) -> tuple[DefaultScheduleStatus, DefaultSensorStatus]:
    """Production ships stopped (the seed: start with manual runs); the local stack running.

    ``NEPHOS_AUTOMATION=running|stopped`` overrides either default.
    """
    env = os.environ if env is None else env
    wanted = (env.get("NEPHOS_AUTOMATION") or "").strip().lower()
    running = wanted == "running" or (not wanted and settings.warehouse_kind(env) == "local")
    if running:
        return DefaultScheduleStatus.RUNNING, DefaultSensorStatus.RUNNING
    return DefaultScheduleStatus.STOPPED, DefaultSensorStatus.STOPPED


def build_orchestration(parts: Partitions, assets: list) -> dict:
    from nephos_pipeline.orchestration.change_sensor import build_dynamodb_change_sensor
    from nephos_pipeline.orchestration.checks import build_checks
    from nephos_pipeline.orchestration.failure_sensor import build_failure_sensors
    from nephos_pipeline.orchestration.reconciliation import build_reconciliation_automation
    from nephos_pipeline.orchestration.schedules import build_jobs, build_schedules
    from nephos_pipeline.reconcile.assets import build_reconciliation_checks

    schedule_status, sensor_status = default_status()
    jobs = build_jobs(parts)
    sensor = build_dynamodb_change_sensor(jobs["sync_hourly_job"], jobs["sync_instances_job"], parts,
                                          default_status=sensor_status, covering_jobs=("hour_close_job",))
    reconciliation = build_reconciliation_automation(parts, jobs["sync_hourly_job"], schedule_status, sensor_status)
    return {
        "jobs": [*jobs.values(), *reconciliation["jobs"]],
        "schedules": [*build_schedules(jobs, schedule_status), *reconciliation["schedules"]],
        "sensors": [sensor, *reconciliation["sensors"], *build_failure_sensors()],
        "asset_checks": [*build_checks(), *build_reconciliation_checks()],
    }
