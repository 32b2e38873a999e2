"""An instance that reports before it is registered: every item reaches METRICS (moto + embedded warehouse)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest

from nephos_pipeline.orchestration.discovery import metric_ids_by_hour, unregistered_by_hour
from nephos_pipeline.orchestration.streams import Change, StreamCursor
from nephos_pipeline_tests.helpers import dynamodb_resource, ms, put_instance, put_metric
from nephos_pipeline_tests.reconcile.common import check, sensor_at, sync

H0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
NOW = H0 + timedelta(hours=3, minutes=5)  # 10:00, 11:00 and 12:00 have closed


def key(hour: datetime) -> str:
    return hour.strftime("%Y-%m-%d-%H:%M")


@pytest.fixture
def stack(dynamodb_tables, warehouse):
    t = dynamodb_tables
    return t, warehouse, {"warehouse": warehouse, "dynamodb": dynamodb_resource(t.endpoint_url, t.names)}


def ghost_items(warehouse) -> set[int]:
    df = warehouse.query("SELECT DISTINCT TS FROM METRICS WHERE INSTANCE_ID = 'ghost-7'")
    return {ms(ts.to_pydatetime()) for ts in df["ts"]}


def tick(sensor, t, cursor):
    ctx = dg.build_sensor_context(cursor=cursor, resources={"dynamodb": dynamodb_resource(t.endpoint_url, t.names)})
    return sensor(ctx)


def test_metrics_written_before_and_after_registration_all_reach_metrics(stack) -> None:
    t, wh, res = stack
    put_instance(t.client, t.names, "web-1")
    written = set()
    for minute in range(0, 120, 10):  # ghost-7 reports for two hours before anyone registers it
        at = H0 + timedelta(minutes=minute)
        put_metric(t.client, t.names, "ghost-7", at, cpu_usage=20 + minute / 10)
        put_metric(t.client, t.names, "web-1", at, cpu_usage=5)
        written.add(ms(at))
    # The schedule's syncs of 10:00 and 11:00 ran first: they query registered ids only.
    for hour in (H0, H0 + timedelta(hours=1)):
        assert sync(res, key(hour)).success
    assert ghost_items(wh) == set()

    first = tick(sensor_at(NOW), t, None)
    requests = {r.partition_key: r for r in first.run_requests if r.job_name == "sync_hourly_job"}
    assert set(requests) == {key(H0), key(H0 + timedelta(hours=1))}
    for r in requests.values():
        assert r.run_config["ops"]["raw_metrics"]["config"]["unregistered_instance_ids"] == ["ghost-7"]
        result = sync(res, r.partition_key, r.run_config)
        assert result.success
    assert ghost_items(wh) == written
    warn = check(result, "metrics_from_registered_instances")
    assert not warn.passed and warn.severity == dg.AssetCheckSeverity.WARN and "ghost-7" in warn.description

    # Registered at 12:10; it keeps reporting; 10:00 is re-synced by a backfill without any config.
    put_instance(t.client, t.names, "ghost-7")
    for minute in (15, 25):
        at = H0 + timedelta(hours=2, minutes=minute)
        put_metric(t.client, t.names, "ghost-7", at, memory_usage=40)
        written.add(ms(at))
    later = tick(sensor_at(NOW + timedelta(hours=1)), t, first.cursor)
    hour2 = [r for r in later.run_requests if r.partition_key == key(H0 + timedelta(hours=2))]
    assert len(hour2) == 1 and not hour2[0].run_config  # registered now: a plain sync
    result = sync(res, key(H0 + timedelta(hours=2)))
    assert sync(res, key(H0)).success
    assert ghost_items(wh) == written
    assert check(result, "metrics_from_registered_instances").passed
    row = wh.query("SELECT * FROM METRIC_INSTANCE_IDS WHERE INSTANCE_ID = 'ghost-7'").iloc[0]
    assert row.found_by == "stream" and bool(row.registered)


def test_deregistered_instance_keeps_its_rows_on_resync(stack) -> None:
    """An id read once stays queried for windows near its items, registered or not."""
    t, wh, res = stack
    put_instance(t.client, t.names, "old-1")
    put_metric(t.client, t.names, "old-1", H0 + timedelta(minutes=5), cpu_usage=1)
    assert sync(res, key(H0)).success
    t.client.delete_item(TableName=t.names.instances, Key={"instance_id": {"S": "old-1"}})
    assert sync(res, key(H0)).success  # a re-sync after deregistration: the row must stay
    assert wh.query("SELECT COUNT(*) AS n FROM METRICS WHERE INSTANCE_ID = 'old-1'").n[0] == 1


def _record(iid: str, at: datetime, seq: int) -> Change:
    keys = {"instance_id": {"S": iid}, "timestamp": {"N": str(ms(at))}}
    return Change("metrics", "arn", "shard-1", str(seq), {"dynamodb": {"Keys": keys, "NewImage": keys}})


def test_unregistered_ids_wait_with_their_open_hour_in_the_cursor() -> None:
    changes = [_record("ghost", H0, 1), _record("web", H0, 2), _record("ghost", H0 + timedelta(hours=1), 3)]
    seen = metric_ids_by_hour(changes)
    assert seen == {key(H0): {"ghost", "web"}, key(H0 + timedelta(hours=1)): {"ghost"}}
    now, later = unregistered_by_hour(seen, {"web"}, {}, requested=[key(H0)], pending=[key(H0 + timedelta(hours=1))])
    assert now == {key(H0): ["ghost"]} and later == {key(H0 + timedelta(hours=1)): ["ghost"]}
    cursor = StreamCursor(unregistered=later)
    again, reset = StreamCursor.from_json(cursor.to_json())
    assert reset is None and again.unregistered == later
    # the hour closes next tick, with no new records: the carried id goes with its run
    now, later = unregistered_by_hour({}, set(), again.unregistered, requested=list(later), pending=[])
    assert now == {key(H0 + timedelta(hours=1)): ["ghost"]} and later == {}
