"""The reconciliation against moto and the embedded warehouse: strays rejected, gaps found and healed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest

from nephos_pipeline.orchestration.reconciliation import build_reconciliation_automation
from nephos_pipeline.orchestration.schedules import build_jobs
from nephos_pipeline_tests.helpers import dynamodb_resource, ms, put_instance, put_metric
from nephos_pipeline_tests.reconcile.common import PARTS, check, materialization_meta, reconcile, sync

DAY = "2026-03-01"
H0 = datetime(2026, 3, 1, 10, 0)
KEYS = ["2026-03-01-10:00", "2026-03-01-11:00"]


@pytest.fixture
def stack(dynamodb_tables, warehouse):
    t = dynamodb_tables
    return t, warehouse, {"warehouse": warehouse, "dynamodb": dynamodb_resource(t.endpoint_url, t.names)}


def day_rows(warehouse):
    return warehouse.query("SELECT * FROM METRICS_RECONCILIATION ORDER BY DAY NULLS FIRST, INSTANCE_ID")


def test_epoch_second_items_land_in_rejects_with_a_reason(stack) -> None:
    t, wh, res = stack
    put_instance(t.client, t.names, "web-1")
    put_metric(t.client, t.names, "web-1", H0 + timedelta(minutes=1), cpu_usage=10)
    seconds = ms(H0 + timedelta(minutes=2)) // 1000  # the agent bug: epoch seconds
    put_metric(t.client, t.names, "web-1", seconds, cpu_usage=11)
    put_metric(t.client, t.names, "web-1", 10**16, cpu_usage=12)  # microseconds: past 2100
    assert sync(res, KEYS[0]).success
    assert wh.query("SELECT COUNT(*) AS n FROM REJECTS").n[0] == 0  # no hourly window reads them

    result = reconcile(res, DAY)
    rejects = wh.query("SELECT ITEM_KEY, REASON, RAW_ITEM, WINDOW_START FROM REJECTS ORDER BY ITEM_KEY")
    assert rejects.item_key.tolist() == [f"web-1|{10**16}", f"web-1|{seconds}"]
    assert all("not epoch milliseconds between 2000 and 2100" in r for r in rejects.reason)
    assert rejects.window_start.isna().all() and f'"{seconds}"' in rejects.raw_item[1]
    rows = day_rows(wh)
    strays = rows[rows.day.isna()].iloc[0]
    assert (strays.dynamodb_items, strays.rejected_items, strays.difference) == (2, 2, 0)
    day = rows[rows.day.notna()].iloc[0]
    assert (day.dynamodb_items, day.loaded_items, day.unread_items) == (1, 1, 0)
    meta = materialization_meta(result, "metrics_reconciliation")
    assert meta["out_of_range_rejected"].value == 2 and meta["dynamodb_items"].value == 3
    assert check(result, "metrics_nothing_unread").passed

    # Re-running replaces rather than adds; a deleted stray leaves REJECTS.
    t.client.delete_item(TableName=t.names.metrics, Key={"instance_id": {"S": "web-1"}, "timestamp": {"N": str(10**16)}})
    assert reconcile(res, DAY).success
    assert wh.query("SELECT COUNT(*) AS n FROM REJECTS").n[0] == 1


def test_check_fails_on_a_planted_gap_and_passes_after_the_resync(stack) -> None:
    t, wh, res = stack
    for iid in ("web-1", "db-2"):
        put_instance(t.client, t.names, iid)
    for minute in range(0, 120, 5):
        put_metric(t.client, t.names, "web-1", H0 + timedelta(minutes=minute), cpu_usage=minute % 100, memory_usage=3)
        put_metric(t.client, t.names, "db-2", H0 + timedelta(minutes=minute), disk_usage=50)
    put_metric(t.client, t.names, "db-2", H0 + timedelta(minutes=7), cpu_usage=150)  # rejected by the contract
    put_metric(t.client, t.names, "stray-9", H0 + timedelta(minutes=61), cpu_usage=1)  # unknown to everyone
    instance = dg.DagsterInstance.ephemeral()
    for key in KEYS:
        assert sync(res, key, instance=instance).success
    first = reconcile(res, DAY, instance=instance)
    verdict = check(first, "metrics_nothing_unread")
    assert not verdict.passed and "stray-9 2026-03-01 11:00..12:00 (1 unread" in verdict.description

    # Plant a gap: rows of web-1 deleted from the warehouse in 10:00-10:30.
    wh.execute("DELETE FROM METRICS WHERE INSTANCE_ID = 'web-1' AND TS < %(t)s::TIMESTAMP_NTZ",
               {"t": H0 + timedelta(minutes=30)})
    second = reconcile(res, DAY, instance=instance)
    verdict = check(second, "metrics_nothing_unread")
    assert not verdict.passed and verdict.severity == dg.AssetCheckSeverity.ERROR
    assert "web-1 2026-03-01 10:00..11:00 (6 unread" in verdict.description
    rows = day_rows(wh).set_index("instance_id")
    assert rows.loc["web-1"].unread_items == 6 and rows.loc["db-2"].rejected_items == 1
    assert rows.loc["db-2"].unread_items == 0 and not rows.loc["stray-9"].registered
    assert materialization_meta(second, "metrics_reconciliation")["resync_hours"].value == KEYS

    # The re-sync sensor turns that into one sync per hour; running them heals the gap.
    jobs = build_jobs(PARTS)
    auto = build_reconciliation_automation(PARTS, jobs["sync_hourly_job"], dg.DefaultScheduleStatus.STOPPED,
                                           dg.DefaultSensorStatus.STOPPED)
    resync = auto["sensors"][0]
    requests = list(resync(dg.build_sensor_context(instance=instance)))
    assert sorted(r.partition_key for r in requests) == KEYS
    for r in requests:
        assert sync(res, r.partition_key, instance=instance).success
    third = reconcile(res, DAY, instance=instance)
    assert check(third, "metrics_nothing_unread").passed
    assert day_rows(wh).unread_items.sum() == 0
    assert wh.query("SELECT COUNT(DISTINCT TS) AS n FROM METRICS WHERE INSTANCE_ID = 'stray-9'").n[0] == 1

    # Items deleted in DynamoDB but still in the warehouse: a warning, not an error.
    t.client.delete_item(TableName=t.names.metrics,
                         Key={"instance_id": {"S": "db-2"}, "timestamp": {"N": str(ms(H0 + timedelta(minutes=5)))}})
    verdict = check(reconcile(res, DAY, instance=instance), "metrics_nothing_unread")
    assert not verdict.passed and verdict.severity == dg.AssetCheckSeverity.WARN and "db-2" in verdict.description


def test_daily_schedule_reconciles_the_last_week_in_one_run() -> None:
    jobs = build_jobs(PARTS)
    auto = build_reconciliation_automation(PARTS, jobs["sync_hourly_job"], dg.DefaultScheduleStatus.STOPPED,
                                           dg.DefaultSensorStatus.STOPPED)
    schedule = auto["schedules"][0]
    assert schedule.cron_schedule == "30 1 * * *"
    req = schedule(dg.build_schedule_context(scheduled_execution_time=datetime(2026, 3, 10, 1, 30, tzinfo=UTC)))
    assert req.tags["dagster/asset_partition_range_start"] == "2026-03-03"
    assert req.tags["dagster/asset_partition_range_end"] == "2026-03-09"
    early = schedule(dg.build_schedule_context(scheduled_execution_time=datetime(2026, 1, 3, 1, 30, tzinfo=UTC)))
    assert early.tags["dagster/asset_partition_range_start"] == "2026-01-01"
