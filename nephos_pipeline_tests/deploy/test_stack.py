"""The deployment, for real: PostgreSQL, the code location as a gRPC server, daemon, webserver.

Everything is started from the deployment files (``deploy/``), outside containers (see
``stack.py``), against the embedded warehouse in a temp NEPHOS_HOME and the moto DynamoDB
server. The instance is ``deploy/dagster.yaml`` unchanged: Postgres storage, the queued run
coordinator with pools at run granularity, run monitoring and run retries. One test, in
phases, because starting the stack is most of its cost:

1. a schedule tick (``anomaly_schedule``, started as if 16 minutes ago) launches its run;
   a backfill of 193 anomaly quarters becomes two runs (192 per run, the asset's backfill
   policy); all complete, one after another (one pool);
2. with the warehouse held busy by this test (another process holding the DuckDB file):
   ``pattern_job`` fails after its 30 s busy timeout - a transient failure - and is retried
   by the daemon; meanwhile two ``sync_hourly_job`` runs for the same hour (the
   sensor-and-schedule case) are serialised by their pools, while ``sync_instances_job``
   (other pools) runs beside the first of them;
3. the run-failure sensor records the failed run in ALERTS (SOURCE = 'pipeline'), and
   marks it resolved once the retry succeeded.

Run timings come from the run records in Postgres.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from nephos_pipeline.partitions import ANOMALY_QUARTERS_PER_RUN
from nephos_pipeline.sql_files import load_sql
from nephos_pipeline.warehouse import LocalWarehouse
from nephos_pipeline.warehouse.schema import ensure_schema
from nephos_pipeline_tests.deploy import stack
from nephos_pipeline_tests.deploy.postgres import free_port, postgres_bin, running_postgres
from nephos_pipeline_tests.fixtures.dynamodb import DynamoDBTables
from nephos_pipeline_tests.helpers import put_alert, put_instance, put_metric

LOCATION, REPOSITORY = "nephos_pipeline", "__repository__"
FMT = "%Y-%m-%d-%H:%M"

START_SCHEDULE = """
mutation Start($selector: ScheduleSelector!) {
  startSchedule(scheduleSelector: $selector) {
    __typename
    ... on ScheduleStateResult { scheduleState { status } }
    ... on PythonError { message }
  }
}"""

LAUNCH_RUN = """
mutation Launch($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
    ... on InvalidSubsetError { message }
  }
}"""

LAUNCH_BACKFILL = """
mutation Backfill($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message }
  }
}"""

WORKSPACE = """
query { workspaceOrError { ... on Workspace { locationEntries { name loadStatus
  locationOrLoadError { __typename ... on PythonError { message } } } } } }"""

INSTANCE = "query { instance { runLauncher { name } runQueuingSupported } }"


def _env(home: Path, dagster_home: Path, pg_env: dict, tables: DynamoDBTables, start: datetime) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEPHOS_", "DAGSTER_", "AWS_", "SNOWFLAKE_"))}
    env.update(tables.env())
    env.update(pg_env)
    env.update({"DAGSTER_HOME": str(dagster_home), "NEPHOS_HOME": str(home), "NEPHOS_WAREHOUSE": "local",
                "NEPHOS_AUTOMATION": "stopped", "NEPHOS_PARTITIONS_START": start.strftime("%Y-%m-%d-00:00"),
                "PYTHONUNBUFFERED": "1"})
    return env


def _seed(tables: DynamoDBTables, hour: datetime) -> None:
    for instance_id in ("i-deploy-1", "i-deploy-2"):
        put_instance(tables.client, tables.names, instance_id)
        for minute in range(0, 60, 15):
            put_metric(tables.client, tables.names, instance_id, hour + timedelta(minutes=minute), cpu_usage=30.0 + minute)
    put_alert(tables.client, tables.names, "al-deploy-1", "i-deploy-1", hour + timedelta(minutes=20))


def _launch(gql, job: str, partition: str | None = None, tags: dict | None = None) -> str:
    all_tags = {**(tags or {}), **({"dagster/partition": partition} if partition else {})}
    params = {"selector": {"repositoryLocationName": LOCATION, "repositoryName": REPOSITORY, "jobName": job},
              "runConfigData": {}, "executionMetadata": {"tags": [{"key": k, "value": v} for k, v in all_tags.items()]}}
    result = gql(LAUNCH_RUN, {"params": params})["launchRun"]
    assert result["__typename"] == "LaunchRunSuccess", result
    return result["run"]["runId"]


def _interval(instance, run_id: str) -> tuple[float, float]:
    record = instance.get_run_record_by_id(run_id)
    assert record.start_time and record.end_time, (run_id, record.dagster_run.status)
    return record.start_time, record.end_time


def _overlap(a: tuple[float, float], b: tuple[float, float]) -> float:
    return min(a[1], b[1]) - max(a[0], b[0])


@pytest.mark.slow
def test_deployment_stack(tmp_path: Path, dynamodb_tables: DynamoDBTables, monkeypatch) -> None:
    if postgres_bin() is None:
        pytest.skip("PostgreSQL is not installed and could not be installed (make test runs "
                    "scripts/ensure_postgresql.sh): the deployment test needs its initdb/pg_ctl")
    from dagster import DagsterInstance, DagsterRunStatus, RunsFilter
    from dagster._core.scheduler.instigation import InstigatorType, ScheduleInstigatorData

    started = time.monotonic()
    now = datetime.now(UTC)
    hour = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=2)
    home, dagster_home = tmp_path / "nephos", tmp_path / "dagster_home"
    home.mkdir()
    _seed(dynamodb_tables, hour)
    warehouse = LocalWarehouse(path=str(home / "warehouse"))
    ensure_schema(warehouse)
    warehouse.execute_script(load_sql("views/rollups.sql"))

    grpc_port, web_port = free_port(), free_port()
    workspace = stack.write_instance(dagster_home, grpc_port)
    services = stack.compose()["services"]
    procs = stack.Processes(tmp_path)
    procs.describe = lambda: _runs_table(instance)
    timings: dict[str, float] = {}
    with running_postgres() as pg:
        env = _env(home, dagster_home, pg.env(), dynamodb_tables, now - timedelta(days=8))
        for key, value in {**pg.env(), "DAGSTER_HOME": str(dagster_home)}.items():
            monkeypatch.setenv(key, value)
        instance = DagsterInstance.get()
        try:
            # -- the code location (Dockerfile CMD), its compose healthcheck, webserver, daemon ----
            assert services["nephos_code"]["command"] == stack.dockerfile_cmd()
            procs.start("code", stack.local_command(stack.dockerfile_cmd(), grpc_port), env)
            health = stack.local_command(services["nephos_code"]["healthcheck"]["test"][1:], grpc_port)
            stack.wait_for("the gRPC code server", lambda: subprocess.run(
                health, env=env, capture_output=True, timeout=30).returncode == 0, 180, procs, 1.0)
            timings["code server up"] = time.monotonic() - started
            procs.start("webserver", stack.local_command(services["webserver"]["command"], web_port, workspace), env)
            gql = stack.GraphQL(f"http://127.0.0.1:{web_port}")

            def loaded():
                entries = gql(WORKSPACE, timeout=10)["workspaceOrError"]["locationEntries"]
                entry = next((e for e in entries if e["name"] == LOCATION), None)
                return entry and entry["loadStatus"] == "LOADED" and entry
            entry = stack.wait_for("the webserver to load the location", loaded, 180, procs, 1.0)
            assert entry["locationOrLoadError"]["__typename"] == "RepositoryLocation", entry
            assert gql(INSTANCE)["instance"] == {"runLauncher": {"name": "DefaultRunLauncher"},
                                                 "runQueuingSupported": True}

            # The schedule, started as if 16 minutes ago: the daemon's first pass owes it one tick.
            selector = {"repositoryLocationName": LOCATION, "repositoryName": REPOSITORY,
                        "scheduleName": "anomaly_schedule"}
            assert gql(START_SCHEDULE, {"selector": selector})["startSchedule"]["__typename"] == "ScheduleStateResult"
            state = next(s for s in instance.all_instigator_state(instigator_type=InstigatorType.SCHEDULE)
                         if s.name == "anomaly_schedule")
            instance.update_instigator_state(state.with_data(ScheduleInstigatorData(
                cron_schedule=state.instigator_data.cron_schedule, start_timestamp=time.time() - 16 * 60)))

            # compose's one-shot init_pools service, then the daemon.
            init = stack.local_command(services["init_pools"]["command"], 0)
            init[0] = sys.executable if init[0] == "python" else init[0]
            out = subprocess.run(init, env=env, capture_output=True, text=True, timeout=120, cwd=stack.REPO)
            assert out.returncode == 0 and "nephos_metrics=1" in out.stdout, out.stdout + out.stderr
            procs.start("daemon", stack.local_command(services["daemon"]["command"], 0, workspace), env)

            # -- phase 1: a schedule tick and a two-run job backfill ----------------------------
            # One quarter more than anomaly_insights backfills per run (its backfill policy), so two runs.
            per_run = ANOMALY_QUARTERS_PER_RUN
            quarters = [(hour - timedelta(minutes=15 * i)).strftime(FMT) for i in range(per_run + 1, 0, -1)]
            backfill = gql(LAUNCH_BACKFILL, {"params": {
                "selector": {"partitionSetName": "anomaly_job_partition_set",
                             "repositorySelector": {"repositoryLocationName": LOCATION, "repositoryName": REPOSITORY}},
                "partitionNames": quarters}})["launchPartitionBackfill"]
            assert backfill["__typename"] == "LaunchBackfillSuccess", backfill
            backfill_id = backfill["backfillId"]

            def runs(**tags):
                return instance.get_runs(filters=RunsFilter(tags=tags))

            def done(run_list, n):
                return len(run_list) >= n and all(r.is_finished for r in run_list) and run_list
            schedule_runs = stack.wait_for("the schedule's run", lambda: done(
                runs(**{"dagster/schedule_name": "anomaly_schedule"}), 1), 240, procs)
            backfill_runs = stack.wait_for("the backfill's runs", lambda: done(
                runs(**{"dagster/backfill": backfill_id}), 2), 240, procs)
            timings["schedule + backfill done"] = time.monotonic() - started
            for run in [*schedule_runs, *backfill_runs]:
                assert run.status == DagsterRunStatus.SUCCESS, (run.run_id, run.job_name, procs.tails())
            ranges = sorted((r.tags["dagster/asset_partition_range_start"], r.tags["dagster/asset_partition_range_end"])
                            for r in backfill_runs)
            assert ranges == [(quarters[0], quarters[-2]), (quarters[-1], quarters[-1])], ranges
            stack.wait_for("the backfill to complete", lambda: instance.get_backfill(backfill_id).status.value
                           == "COMPLETED_SUCCESS", 60, procs)
            # Same pool (nephos_ai_insights): the three insight runs ran one after another.
            insight_runs = [*schedule_runs, *backfill_runs]
            spans = sorted(_interval(instance, r.run_id) for r in insight_runs)
            assert all(later[0] >= earlier[1] for earlier, later in zip(spans, spans[1:], strict=False)), spans

            # -- phase 2: warehouse busy -> a failed, retried run; conflicting vs unrelated runs --
            hour_key = hour.strftime(FMT)
            with warehouse.connection() as held:  # this process now holds the DuckDB file
                held.cursor().execute("SELECT 1")
                failing = _launch(gql, "pattern_job", hour_key)
                # STARTED (its worker is executing steps), not merely STARTING: the runs launched next
                # must reach the warehouse after it, so none of them waits as long as it does.
                stack.wait_for("the failing run to start", lambda: instance.get_run_by_id(failing).status
                               in (DagsterRunStatus.STARTED, DagsterRunStatus.FAILURE), 180, procs)
                first = _launch(gql, "sync_hourly_job", hour_key, {"nephos/trigger": "dynamodb-stream"})
                second = _launch(gql, "sync_hourly_job", hour_key, {"nephos/trigger": "schedule"})
                other = _launch(gql, "sync_instances_job")

                def phase2_ready():
                    status = {r: instance.get_run_by_id(r).status for r in (failing, first, second, other)}
                    started_sync = [r for r in (first, second) if status[r] == DagsterRunStatus.STARTED]
                    ready = (status[failing] == DagsterRunStatus.FAILURE and status[other] == DagsterRunStatus.STARTED
                             and len(started_sync) == 1)
                    return ready and status
                status = stack.wait_for("the busy-warehouse phase", phase2_ready, 240, procs)
                timings["retry failure seen"] = time.monotonic() - started
            # While the first sync ran, the second (same pools) was still queued.
            queued = second if status[first] == DagsterRunStatus.STARTED else first
            assert status[queued] == DagsterRunStatus.QUEUED, status

            retry = stack.wait_for("the retry of the failed run", lambda: done(
                runs(**{"dagster/parent_run_id": failing}), 1), 240, procs)[0]
            finals = stack.wait_for("the phase-2 runs", lambda: all(
                instance.get_run_by_id(r).is_finished for r in (first, second, other)), 240, procs)
            assert finals
            timings["phase 2 done"] = time.monotonic() - started
            assert retry.status == DagsterRunStatus.SUCCESS, procs.tails()
            for run_id in (first, second, other):
                assert instance.get_run_by_id(run_id).status == DagsterRunStatus.SUCCESS, (run_id, procs.tails())
            assert "WarehouseUnavailable" in _failure_text(instance, failing)
            spans = {r: _interval(instance, r) for r in (first, second, other)}
            assert _overlap(spans[first], spans[second]) <= 0, spans  # serialised
            ran_first = first if queued == second else second
            assert _overlap(spans[ran_first], spans[other]) > 0, spans  # in parallel

            # -- phase 3: the failure is in ALERTS, then resolved by the successful retry ---------
            def alert():
                frame = warehouse.query("SELECT ALERT_ID, SOURCE, STATUS, MESSAGE FROM ALERTS "
                                        "WHERE ALERT_ID = %(id)s", {"id": f"dagster-run-{failing}"})
                return len(frame) == 1 and frame.status[0] == "resolved" and frame.iloc[0].to_dict()
            row = stack.wait_for("the pipeline alert, resolved", alert, 120, procs, 2.0)
            assert row["source"] == "pipeline" and failing in row["message"] and "pattern_job" in row["message"]
            assert "WarehouseUnavailable" in row["message"], row
            timings["alert resolved"] = time.monotonic() - started
        finally:
            procs.stop_all()
            instance.dispose()
    print("\n" + ", ".join(f"{k} at {v:.0f}s" for k, v in timings.items()))
    for p in procs.procs:
        assert p.process.poll() is not None, f"{p.name} still running"


def _failure_text(instance, run_id: str) -> str:
    from dagster import DagsterEventType

    records = instance.get_records_for_run(run_id, of_type=DagsterEventType.STEP_FAILURE).records
    return " ".join(r.event_log_entry.dagster_event.event_specific_data.error.to_string() for r in records)


def _runs_table(instance) -> str:
    """Every run in the instance with its status and tags: what a failed wait needs to show."""
    lines = ["--- runs (Postgres) ---"]
    for record in instance.get_run_records():
        run = record.dagster_run
        tags = {k: v for k, v in run.tags.items() if k.startswith(("dagster/partition", "dagster/asset_partition", "dagster/backfill",
                                                                      "dagster/schedule", "dagster/parent", "nephos/"))}
        lines.append(f"{run.run_id[:8]} {run.job_name:<20} {run.status.value:<10} start={record.start_time} "
                     f"end={record.end_time} {tags}")
    return "\n".join(lines)
