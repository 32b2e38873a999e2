"""The run-failure sensors on a real failed run (ephemeral instance) and the embedded warehouse."""

from __future__ import annotations

import dagster as dg

from nephos_pipeline.orchestration.failure_sensor import (
    MESSAGE_CAP,
    alert_id,
    build_failure_sensors,
    failure_message,
)


@dg.op
def extract_window() -> None:
    raise RuntimeError("cannot open warehouse: lock held\nstack line that operators do not need")


@dg.op
def fine() -> None:
    return None


def _run(instance: dg.DagsterInstance, op, tags: dict[str, str] | None = None) -> dg.ExecuteInProcessResult:
    job = dg.GraphDefinition(name="sync_hourly_job", node_defs=[op]).to_job(tags=tags or {})
    return job.execute_in_process(instance=instance, raise_on_error=False)


def _alerts(warehouse):
    return warehouse.query("SELECT ALERT_ID, SOURCE, STATUS, SEVERITY, MESSAGE, RESOLVED_AT FROM ALERTS "
                           "WHERE SOURCE = 'pipeline' ORDER BY ALERT_ID")


def test_failed_run_becomes_one_pipeline_alert_then_resolved_by_its_retry(warehouse):
    failure_sensor, resolved_sensor = build_failure_sensors()
    with dg.DagsterInstance.ephemeral() as instance:
        failed = _run(instance, extract_window, {"dagster/partition": "2026-11-01-10:00"})
        assert not failed.success
        context = dg.build_run_status_sensor_context(
            sensor_name=failure_sensor.name, dagster_event=failed.get_run_failure_event(),
            dagster_instance=instance, dagster_run=failed.dagster_run).for_run_failure()
        failure_sensor(context, warehouse=warehouse)
        failure_sensor(context, warehouse=warehouse)  # a tick evaluated twice: still one row

        rows = _alerts(warehouse)
        assert len(rows) == 1
        row = rows.iloc[0]
        assert row.alert_id == alert_id(failed.run_id) and row.status == "open" and row.severity == "high"
        assert failed.run_id in row.message and "2026-11-01-10:00" in row.message
        assert "lock held" in row.message and "stack line" not in row.message

        retry = _run(instance, fine, {"dagster/parent_run_id": failed.run_id, "dagster/root_run_id": failed.run_id})
        assert retry.success
        context = dg.build_run_status_sensor_context(
            sensor_name=resolved_sensor.name, dagster_event=retry.get_run_success_event(),
            dagster_instance=instance, dagster_run=retry.dagster_run)
        resolved_sensor(context, warehouse=warehouse)
    row = _alerts(warehouse).iloc[0]
    assert row.status == "resolved" and row.resolved_at is not None


def test_a_retry_that_succeeds_before_the_failure_is_recorded_still_resolves_it(warehouse):
    """The daemon can react to the retry's success before the failure (seen in the deployment test)."""
    failure_sensor, resolved_sensor = build_failure_sensors()
    with dg.DagsterInstance.ephemeral() as instance:
        failed = _run(instance, extract_window)
        retry = _run(instance, fine, {"dagster/parent_run_id": failed.run_id, "dagster/root_run_id": failed.run_id})
        resolved_sensor(dg.build_run_status_sensor_context(
            sensor_name=resolved_sensor.name, dagster_event=retry.get_run_success_event(),
            dagster_instance=instance, dagster_run=retry.dagster_run), warehouse=warehouse)
        assert _alerts(warehouse).empty  # nothing to resolve yet
        failure_sensor(dg.build_run_status_sensor_context(
            sensor_name=failure_sensor.name, dagster_event=failed.get_run_failure_event(),
            dagster_instance=instance, dagster_run=failed.dagster_run).for_run_failure(), warehouse=warehouse)
    row = _alerts(warehouse).iloc[0]
    assert row.alert_id == alert_id(failed.run_id) and row.status == "resolved" and row.resolved_at is not None


def test_agent_alerts_are_untouched_by_the_resolve(warehouse):
    # A successful run that is not a retry resolves nothing.
    _, resolved_sensor = build_failure_sensors()
    with dg.DagsterInstance.ephemeral() as instance:
        ok = _run(instance, fine)
        context = dg.build_run_status_sensor_context(
            sensor_name=resolved_sensor.name, dagster_event=ok.get_run_success_event(),
            dagster_instance=instance, dagster_run=ok.dagster_run)
        resolved_sensor(context, warehouse=warehouse)
    assert _alerts(warehouse).empty


def test_message_names_the_window_attempt_and_is_capped():
    tags = {"dagster/asset_partition_range_start": "2026-11-01-00:00",
            "dagster/asset_partition_range_end": "2026-11-07-23:00", "dagster/retry_number": "1"}
    text = failure_message("pattern_job", "r1", tags, "x" * 5000)
    assert "2026-11-01-00:00..2026-11-07-23:00" in text and "attempt 2" in text
    assert len(text) == MESSAGE_CAP
    assert "no error message" in failure_message("pattern_job", "r1", {}, None)
