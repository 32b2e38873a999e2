"""The Dagster UI for real: ``dagster-webserver`` on loopback, driven through its GraphQL API.

Why a subprocess and GraphQL instead of loading ``Definitions`` in-process: this is what a
new user gets from ``make dev``. The code location is loaded from ``workspace.yaml`` by a
code server, the lineage and the automation are read from the same API the UI renders,
and runs are launched the way the UI's *Materialize* button launches them (``launchRun``
-> ``DefaultRunLauncher`` -> a run worker subprocess) against the local stack: the moto
DynamoDB server and the embedded (DuckDB) warehouse.

No daemon runs here, so the instance uses ``DefaultRunCoordinator``: Dagster's default,
``QueuedRunCoordinator``, would leave every run QUEUED waiting for a daemon. With
``NEPHOS_AUTOMATION=stopped`` the schedules and the sensor add no runs of their own.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from nephos_pipeline.warehouse import LocalWarehouse
from nephos_pipeline_tests.fixtures.dynamodb import DynamoDBTables
from nephos_pipeline_tests.helpers import put_alert, put_instance, put_metric

REPO = Path(__file__).resolve().parents[2]
LOCATION = "nephos_pipeline"  # workspace.yaml's location_name
REPOSITORY = "__repository__"  # the repository Dagster builds around a Definitions object
SERVER_DEADLINE_S = 90.0  # webserver + code server start; ~10-20 s on a busy 2-core box
RUN_DEADLINE_S = 300.0  # one run, including its worker's import of the code location
PARTITION_FMT = "%Y-%m-%d-%H:%M"

ASSETS = {
    "raw_instances", "raw_metrics", "raw_alerts", "metrics", "alerts", "instances",
    "metric_rollups", "anomaly_insights", "pattern_insights", "prediction_insights", "insights_summary",
    "batch_alerts", "insights_archive",
}
GROUPS = {"extract": {"raw_instances", "raw_metrics", "raw_alerts"},
          "warehouse": {"metrics", "alerts", "instances"},
          "analytics": {"metric_rollups", "anomaly_insights", "pattern_insights", "prediction_insights",
                        "insights_summary", "batch_alerts", "insights_archive"}}
# raw extracts -> tables -> rollups -> insights -> summary (upstream, downstream)
EDGES = {
    ("raw_metrics", "metrics"), ("raw_alerts", "alerts"), ("raw_instances", "instances"),
    ("metrics", "metric_rollups"),
    ("metric_rollups", "anomaly_insights"), ("metric_rollups", "pattern_insights"),
    ("metric_rollups", "prediction_insights"),
    ("anomaly_insights", "insights_summary"), ("pattern_insights", "insights_summary"),
    ("prediction_insights", "insights_summary"),
    ("anomaly_insights", "batch_alerts"), ("insights_summary", "insights_archive"),  # side effects as assets
}
SCHEDULES = {"hour_close_schedule", "sync_schedule", "anomaly_schedule", "prediction_schedule"}
SENSOR = "dynamodb_change_sensor"

INSTANCE_YAML = """\
# Test instance: no daemon, so runs are launched at once (not queued) in a subprocess.
run_coordinator:
  module: dagster._core.run_coordinator
  class: DefaultRunCoordinator
run_launcher:
  module: dagster._core.launcher
  class: DefaultRunLauncher
code_servers:
  local_startup_timeout: 300
telemetry:
  enabled: false
"""

# ---- GraphQL documents (checked against the running server's schema, Dagster 1.13) ------

WORKSPACE_QUERY = """
query Workspace {
  workspaceOrError {
    __typename
    ... on Workspace {
      locationEntries {
        name
        loadStatus
        locationOrLoadError {
          __typename
          ... on RepositoryLocation { repositories { name } }
          ... on PythonError { message stack }
        }
      }
    }
    ... on PythonError { message }
  }
}
"""

INSTANCE_QUERY = """
query Instance { instance { runLauncher { name } runQueuingSupported } }
"""

ASSET_NODES_QUERY = """
query AssetLineage {
  assetNodes {
    assetKey { path }
    groupName
    isPartitioned
    dependencyKeys { path }
    dependedByKeys { path }
  }
}
"""

REPOSITORY_QUERY = """
query Automation($selector: RepositorySelector!) {
  repositoryOrError(repositorySelector: $selector) {
    __typename
    ... on Repository {
      schedules { name cronSchedule executionTimezone pipelineName scheduleState { status } }
      sensors { name targets { pipelineName } sensorState { status } }
      jobs { name }
    }
    ... on RepositoryNotFoundError { message }
    ... on PythonError { message }
  }
}
"""

LAUNCH_RUN_MUTATION = """
mutation Launch($executionParams: ExecutionParams!) {
  launchRun(executionParams: $executionParams) {
    __typename
    ... on LaunchRunSuccess { run { runId status } }
    ... on PythonError { message stack }
    ... on RunConfigValidationInvalid { errors { message } }
    ... on InvalidSubsetError { message }
    ... on PipelineNotFoundError { message }
    ... on RunConflict { message }
    ... on ConflictingExecutionParamsError { message }
    ... on UnauthorizedError { message }
    ... on NoModeProvidedError { message }
    ... on PresetNotFoundError { message }
    ... on InvalidStepError { invalidStepKey }
    ... on InvalidOutputError { stepKey invalidOutputName }
  }
}
"""

RUN_QUERY = """
query Run($runId: ID!) {
  runOrError(runId: $runId) {
    __typename
    ... on Run {
      status
      jobName
      creationTime
      startTime
      endTime
      tags { key value }
      stepStats { stepKey status }
      assetMaterializations { assetKey { path } partition }
    }
    ... on RunNotFoundError { message }
    ... on PythonError { message }
  }
}
"""

RUN_ERRORS_QUERY = """
query RunErrors($runId: ID!) {
  logsForRun(runId: $runId, limit: 1000) {
    __typename
    ... on EventConnection {
      events {
        __typename
        ... on MessageEvent { message level stepKey }
        ... on ErrorEvent { error { message } }
      }
    }
  }
}
"""

TERMINAL = {"SUCCESS", "FAILURE", "CANCELED"}


class GraphQLError(AssertionError):
    """The server answered with GraphQL ``errors`` (a malformed query or a resolver crash)."""


class GraphQL:
    """POST /graphql with urllib: no client library needed, nothing the UI does not do."""

    def __init__(self, base_url: str) -> None:
        self.url = f"{base_url}/graphql"

    def __call__(self, query: str, variables: dict[str, Any] | None = None, timeout: float = 60.0) -> dict:
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        request = urllib.request.Request(self.url, data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - loopback only
            payload = json.load(response)
        if payload.get("errors"):
            raise GraphQLError(json.dumps(payload["errors"], indent=1)[:4000])
        return payload["data"]


@dataclass
class Webserver:
    """A running ``dagster-webserver`` and what a test needs to talk to it or debug it."""

    base_url: str
    process: subprocess.Popen
    log_path: Path
    nephos_home: Path
    gql: GraphQL

    def log_tail(self, lines: int = 60) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _seed_hour(now: datetime | None = None) -> datetime:
    """A closed hour two hours back: a real partition whatever the CI clock says."""
    now = now or datetime.now(UTC)
    return now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=2)


def _server_env(home: Path, tables: DynamoDBTables, partitions_start: datetime) -> dict[str, str]:
    """The inherited environment minus anything that could point the server elsewhere
    (a developer's NEPHOS_*/DAGSTER_*/AWS_*/SNOWFLAKE_* settings), plus the test's own."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("NEPHOS_", "DAGSTER_", "AWS_", "SNOWFLAKE_"))}
    env.update(tables.env())
    env.update({
        "DAGSTER_HOME": str(home / "dagster"),
        "NEPHOS_HOME": str(home),
        "NEPHOS_WAREHOUSE": "local",
        "NEPHOS_AUTOMATION": "stopped",
        # Pinned near the seeded hour, so the test does not depend on the default start
        # date lying in the past of the machine's clock.
        "NEPHOS_PARTITIONS_START": partitions_start.strftime("%Y-%m-%d-00:00"),
        "PYTHONUNBUFFERED": "1",
    })
    return env


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM the whole process group (webserver, code server, run workers), then SIGKILL."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def _wait_until_loaded(server: Webserver, deadline_s: float) -> float:
    """Poll until the server answers *and* the code location has loaded; returns seconds."""
    started = time.monotonic()
    last = "no answer yet"
    while time.monotonic() - started < deadline_s:
        if server.process.poll() is not None:
            pytest.fail(f"dagster-webserver exited with {server.process.returncode}:\n{server.log_tail()}")
        try:
            data = server.gql(WORKSPACE_QUERY, timeout=10)
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as exc:
            last = f"{type(exc).__name__}: {exc}"
        else:
            entries = data["workspaceOrError"].get("locationEntries") or []
            entry = next((e for e in entries if e["name"] == LOCATION), None)
            if entry is not None and entry["loadStatus"] == "LOADED":
                location = entry["locationOrLoadError"] or {}
                if location.get("__typename") == "PythonError":
                    pytest.fail(f"code location failed to load: {location['message']}\n{location['stack']}")
                return time.monotonic() - started
            last = f"location entry {entry!r}"
        time.sleep(1.0)
    pytest.fail(f"dagster-webserver not ready within {deadline_s:.0f}s ({last}):\n{server.log_tail()}")


@pytest.fixture
def webserver(tmp_path: Path, dynamodb_tables: DynamoDBTables) -> Iterator[Webserver]:
    """``dagster-webserver -h 127.0.0.1 -p <free> -w workspace.yaml`` in its own process group."""
    home = tmp_path / "nephos"
    (home / "dagster").mkdir(parents=True)
    (home / "dagster" / "dagster.yaml").write_text(INSTANCE_YAML)
    port = _free_port()
    log_path = tmp_path / "webserver.log"
    env = _server_env(home, dynamodb_tables, _seed_hour() - timedelta(days=1))
    # Same interpreter as the test: `python -m dagster_webserver` is the dagster-webserver script.
    cmd = [sys.executable, "-m", "dagster_webserver", "-h", "127.0.0.1", "-p", str(port),
           "-w", str(REPO / "workspace.yaml")]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    base_url = f"http://127.0.0.1:{port}"
    server = Webserver(base_url, process, log_path, home, GraphQL(base_url))
    try:
        ready_s = _wait_until_loaded(server, SERVER_DEADLINE_S)
        print(f"\nwebserver ready in {ready_s:.1f}s on {base_url}")
        yield server
    finally:
        _stop(process)


# ---- helpers for the checks ------------------------------------------------------------

def _name(key: dict) -> str:
    return "/".join(key["path"])


def _seed(tables: DynamoDBTables, hour: datetime) -> list[str]:
    """Two instances, six metric reports each in ``hour``, one alert: contract-shaped items."""
    ids = ["i-ui-0001", "i-ui-0002"]
    for instance_id in ids:
        put_instance(tables.client, tables.names, instance_id, hostname=f"web-{instance_id[-1]}")
        for minute in range(0, 60, 10):
            put_metric(tables.client, tables.names, instance_id, hour + timedelta(minutes=minute),
                       cpu_usage=20 + minute, memory_usage=41.5)
    put_alert(tables.client, tables.names, "al-ui-1", ids[0], hour + timedelta(minutes=30))
    return ids


def _launch(gql: GraphQL, job_name: str, *, assets: list[str] | None = None, partition: str | None = None,
            run_config: dict | None = None) -> str:
    """``launchRun`` as the UI sends it; a partition is the ``dagster/partition`` tag."""
    selector: dict[str, Any] = {"repositoryLocationName": LOCATION, "repositoryName": REPOSITORY, "jobName": job_name}
    if assets:
        selector["assetSelection"] = [{"path": [a]} for a in assets]
    params: dict[str, Any] = {"selector": selector, "runConfigData": run_config or {}}
    if partition:
        params["executionMetadata"] = {"tags": [{"key": "dagster/partition", "value": partition}]}
    result = gql(LAUNCH_RUN_MUTATION, {"executionParams": params})["launchRun"]
    assert result["__typename"] == "LaunchRunSuccess", f"launchRun {job_name}: {json.dumps(result)[:3000]}"
    return result["run"]["runId"]


def _run_errors(gql: GraphQL, run_id: str) -> str:
    events = gql(RUN_ERRORS_QUERY, {"runId": run_id})["logsForRun"].get("events") or []
    lines = [f"[{e.get('stepKey') or '-'}] {e.get('message', '')} {(e.get('error') or {}).get('message', '')}"
             for e in events if e.get("level") in ("ERROR", "CRITICAL") or e.get("error")]
    return "\n".join(lines[-20:]) or "(no error events)"


def _wait_for_run(server: Webserver, run_id: str, deadline_s: float = RUN_DEADLINE_S) -> dict:
    """Poll ``runOrError`` until the run ends; fail with its error events unless SUCCESS."""
    started, run = time.monotonic(), {}
    while time.monotonic() - started < deadline_s:
        run = server.gql(RUN_QUERY, {"runId": run_id})["runOrError"]
        assert run["__typename"] == "Run", run
        if run["status"] in TERMINAL:
            break
        time.sleep(2.0)
    else:
        pytest.fail(f"run {run_id} still {run.get('status')} after {deadline_s:.0f}s:\n{server.log_tail()}")
    assert run["status"] == "SUCCESS", (
        f"run {run_id} ({run['jobName']}) ended {run['status']}:\n{_run_errors(server.gql, run_id)}"
    )
    return run


def _materialized(run: dict) -> set[tuple[str, str | None]]:
    return {(_name(m["assetKey"]), m["partition"]) for m in run["assetMaterializations"]}


# ---- the test ----------------------------------------------------------------------------

@pytest.mark.slow
def test_ui_shows_lineage_and_automation_and_runs_materializations(
    webserver: Webserver, dynamodb_tables: DynamoDBTables
) -> None:
    gql = webserver.gql

    # The instance the UI launches with: runs start at once, each in its own subprocess.
    instance = gql(INSTANCE_QUERY)["instance"]
    assert instance["runLauncher"]["name"] == "DefaultRunLauncher"
    assert instance["runQueuingSupported"] is False

    # Assets -> Global asset lineage: every asset, in its group, with its edges.
    nodes = {_name(n["assetKey"]): n for n in gql(ASSET_NODES_QUERY)["assetNodes"]}
    assert ASSETS <= set(nodes), f"missing assets: {sorted(ASSETS - set(nodes))}"
    for group, members in GROUPS.items():
        assert {a for a in members if nodes[a]["groupName"] == group} == members, group
    edges = {(_name(up), name) for name, n in nodes.items() for up in n["dependencyKeys"]}
    assert EDGES <= edges, f"missing lineage edges: {sorted(EDGES - edges)}"
    reverse = {(name, _name(down)) for name, n in nodes.items() for down in n["dependedByKeys"]}
    assert EDGES <= reverse, f"edges not mirrored in dependedByKeys: {sorted(EDGES - reverse)}"
    assert not nodes["instances"]["isPartitioned"] and nodes["metrics"]["isPartitioned"]

    # Automation: the five schedules and the change sensor, stopped as NEPHOS_AUTOMATION says.
    repo = gql(REPOSITORY_QUERY, {"selector": {"repositoryLocationName": LOCATION,
                                               "repositoryName": REPOSITORY}})["repositoryOrError"]
    assert repo["__typename"] == "Repository", repo
    schedules = {s["name"]: s for s in repo["schedules"]}
    assert SCHEDULES <= set(schedules), f"missing schedules: {sorted(SCHEDULES - set(schedules))}"
    assert schedules["sync_schedule"]["pipelineName"] == "sync_hourly_job"
    assert all(s["executionTimezone"] == "UTC" for s in schedules.values())
    assert {s["scheduleState"]["status"] for s in schedules.values()} == {"STOPPED"}
    sensors = {s["name"]: s for s in repo["sensors"]}
    assert SENSOR in sensors, f"sensors: {sorted(sensors)}"
    assert {t["pipelineName"] for t in sensors[SENSOR]["targets"]} == {"sync_hourly_job", "sync_instances_job"}
    assert sensors[SENSOR]["sensorState"]["status"] == "STOPPED"
    assert {"sync_hourly_job", "sync_instances_job"} <= {j["name"] for j in repo["jobs"]}

    hour = _seed_hour()
    partition = hour.strftime(PARTITION_FMT)
    instance_ids = _seed(dynamodb_tables, hour)

    # 1. What "Materialize" on raw_instances + instances sends: an asset selection on the
    #    implicit asset job (locally the in-process executor, see definitions.py).
    started = time.monotonic()
    run = _wait_for_run(webserver, _launch(gql, "__ASSET_JOB", assets=["raw_instances", "instances"]))
    print(f"raw_instances+instances run: {time.monotonic() - started:.1f}s")
    assert _materialized(run) == {("raw_instances", None), ("instances", None)}

    # 2. One partition of the sync job, as the sensor or a schedule tick would request it.
    started = time.monotonic()
    run = _wait_for_run(webserver, _launch(gql, "sync_hourly_job", partition=partition))
    print(f"sync_hourly_job[{partition}] run: {time.monotonic() - started:.1f}s")
    assert {"key": "dagster/partition", "value": partition} in run["tags"]
    assert _materialized(run) == {(a, partition) for a in ("raw_metrics", "metrics", "raw_alerts", "alerts")}
    assert {s["status"] for s in run["stepStats"]} == {"SUCCESS"}  # assets and their checks

    # The runs wrote the embedded warehouse under NEPHOS_HOME (the workers have exited).
    warehouse = LocalWarehouse(path=str(webserver.nephos_home / "warehouse"))
    instances = warehouse.query("SELECT INSTANCE_ID, HOSTNAME FROM INSTANCES ORDER BY INSTANCE_ID")
    assert list(instances.instance_id) == instance_ids
    assert list(instances.hostname) == ["web-1", "web-2"]
    metrics = warehouse.query(
        "SELECT INSTANCE_ID, COUNT(*) AS N, MIN(TS) AS FIRST_TS FROM METRICS GROUP BY INSTANCE_ID ORDER BY INSTANCE_ID")
    assert list(metrics.instance_id) == instance_ids
    assert list(metrics.n) == [12, 12]  # 6 reports x (cpu_usage, memory_usage)
    assert [pd.Timestamp(ts) for ts in metrics.first_ts] == [pd.Timestamp(hour.replace(tzinfo=None))] * 2
    alerts = warehouse.query("SELECT ALERT_ID, INSTANCE_ID FROM ALERTS")
    assert list(alerts.alert_id) == ["al-ui-1"]
