"""Warehouse failures in the middle of a MERGE (or of a landing swap) change nothing.

Two ways to fail: an exception injected between the statements of the transaction (the
MERGE has run, the prune has not), and the whole process SIGKILLed while the MERGE's
transaction is open. Either way the target table must be exactly as before (LOADED_AT
included), and the re-run must complete and match DynamoDB.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from nephos_pipeline.warehouse import LocalWarehouse
from nephos_pipeline_tests.helpers import dynamodb_resource, put_alert, put_instance, put_metric
from nephos_pipeline_tests.reliability.common import (
    H0,
    KEY,
    expected_state,
    hour_windows,
    materialize,
    step_error,
    sync_hour,
    sync_instances,
    table_rows,
    warehouse_state,
)
from nephos_pipeline_tests.reliability.faults import FlakyWarehouse

ROOT = Path(__file__).resolve().parents[2]
TYPED = ("METRICS", "ALERTS", "INSTANCES")


def _seed(t) -> None:
    for n in range(3):
        put_instance(t.client, t.names, f"db-{n}")
        for m in range(0, 60, 15):
            put_metric(t.client, t.names, f"db-{n}", H0 + timedelta(minutes=m), cpu_usage=20 + n, disk_usage=50 + m / 10)
    put_alert(t.client, t.names, "al-1", "db-0", H0 + timedelta(minutes=1))
    put_alert(t.client, t.names, "al-2", "db-1", H0 + timedelta(minutes=2))


def _change(t) -> None:
    """Inserts, an update, a delete in every table: a MERGE that would touch everything."""
    put_metric(t.client, t.names, "db-0", H0 + timedelta(minutes=59), cpu_usage=77)
    put_metric(t.client, t.names, "db-1", H0, cpu_usage=99, disk_usage=99)
    t.client.delete_item(TableName=t.names.metrics,
                         Key={"instance_id": {"S": "db-2"}, "timestamp": {"N": str(int(H0.timestamp() * 1000) + 15 * 60_000)}})
    put_alert(t.client, t.names, "al-1", "db-0", H0 + timedelta(minutes=1), status={"S": "resolved"})
    t.client.delete_item(TableName=t.names.alerts, Key={"alert_id": {"S": "al-2"}})
    put_alert(t.client, t.names, "al-3", "db-2", H0 + timedelta(minutes=30))
    put_instance(t.client, t.names, "db-0", hostname="db-0.renamed")
    t.client.delete_item(TableName=t.names.instances, Key={"instance_id": {"S": "db-1"}})
    put_instance(t.client, t.names, "db-3")


def _baseline(t, res) -> dict[str, list[tuple]]:
    assert sync_hour(res).success and sync_instances(res).success
    return {tbl: table_rows(res["warehouse"], tbl) for tbl in TYPED}


def test_exception_inside_every_merge_leaves_the_targets_unchanged_then_rerun_completes(
        dynamodb_tables, warehouse) -> None:
    t = dynamodb_tables
    flaky = FlakyWarehouse(path=warehouse.path)
    res = {"warehouse": flaky, "dynamodb": dynamodb_resource(t.endpoint_url, t.names)}
    _seed(t)
    before = _baseline(t, res)
    _change(t)
    plan = flaky.arm("MERGE INTO", at=2, times=3)  # after the MERGE ran, before the prune/commit
    try:
        hourly = sync_hour(res, raise_on_error=False)
        instances = sync_instances(res, raise_on_error=False)
    finally:
        flaky.disarm()
    assert not hourly.success and not instances.success and len(plan["hits"]) == 3
    assert "InjectedFault" in step_error(hourly) and "InjectedFault" in step_error(instances)
    for tbl in TYPED:
        assert table_rows(warehouse, tbl) == before[tbl], f"{tbl} changed by a failed MERGE"

    # The landings did commit (their own transactions): the re-run of the MERGEs alone completes.
    assert materialize(res, ["metrics", "alerts"], KEY).success
    assert materialize(res, ["instances"]).success
    assert warehouse_state(warehouse) == expected_state(t.client, t.names, hour_windows(H0, 1))


def test_exception_inside_the_landing_swap_keeps_the_previous_landing_and_rejects(dynamodb_tables, warehouse) -> None:
    t = dynamodb_tables
    flaky = FlakyWarehouse(path=warehouse.path)
    res = {"warehouse": flaky, "dynamodb": dynamodb_resource(t.endpoint_url, t.names)}
    _seed(t)
    put_metric(t.client, t.names, "db-0", H0 + timedelta(minutes=3), cpu_usage=400)  # a reject
    _baseline(t, res)
    landing = {tbl: table_rows(warehouse, tbl) for tbl in ("LANDING_METRICS", "REJECTS", "METRICS")}
    _change(t)
    plan = flaky.arm("DELETE FROM LANDING_METRICS", at=4)  # old rows deleted, new inserted, rejects cleared
    try:
        failed = materialize(res, ["raw_metrics", "metrics"], KEY, raise_on_error=False)
    finally:
        flaky.disarm()
    assert not failed.success and len(plan["hits"]) == 1
    for tbl, rows in landing.items():
        assert table_rows(warehouse, tbl) == rows, f"{tbl} changed by a failed swap"
    assert materialize(res, ["raw_metrics", "metrics"], KEY).success
    assert warehouse_state(warehouse)["METRICS"] == expected_state(t.client, t.names, hour_windows(H0, 1))["METRICS"]


def test_process_killed_inside_the_merge_transaction_leaves_metrics_unchanged(dynamodb_tables, warehouse,
                                                                              tmp_path: Path) -> None:
    t = dynamodb_tables
    res = {"warehouse": warehouse, "dynamodb": dynamodb_resource(t.endpoint_url, t.names)}
    _seed(t)
    before = _baseline(t, res)["METRICS"]
    _change(t)
    ready = tmp_path / "frozen"
    args = {"warehouse": warehouse.path, "endpoint": t.endpoint_url,
            "tables": [t.names.metrics, t.names.alerts, t.names.instances], "selection": ["raw_metrics", "metrics"],
            "partition": KEY, "marker": "MERGE INTO METRICS", "ready": str(ready)}
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    child = subprocess.Popen([sys.executable, "-m", "nephos_pipeline_tests.reliability.merge_child", json.dumps(args)],
                             cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 90
        while not ready.exists() and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert ready.exists(), f"child never reached the MERGE (rc={child.poll()}): {child.stderr.read()[-2000:]!r}"
        os.kill(child.pid, signal.SIGKILL)  # mid-transaction: the MERGE ran, COMMIT did not
    finally:
        if child.poll() is None:
            child.kill()
        child.wait(timeout=30)
        child.stderr.close()
    assert child.returncode == -signal.SIGKILL

    reopened = LocalWarehouse(path=warehouse.path)  # a fresh open replays DuckDB's WAL
    assert table_rows(reopened, "METRICS") == before
    landed = reopened.query("SELECT COUNT(*) AS n FROM LANDING_METRICS WHERE VALUE = 77").n[0]
    assert landed == 1  # the child's landing swap committed before the kill; only the MERGE was lost
    assert materialize({**res, "warehouse": reopened}, ["raw_metrics", "metrics"], KEY).success
    assert warehouse_state(reopened)["METRICS"] == expected_state(t.client, t.names, hour_windows(H0, 1))["METRICS"]
