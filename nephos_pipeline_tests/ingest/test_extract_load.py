"""Extract-and-load against a real moto server and the embedded warehouse."""

from __future__ import annotations

from datetime import datetime, timedelta

import dagster as dg
import pytest

from nephos_pipeline.ingest.assets import build_ingest_assets
from nephos_pipeline.partitions import Partitions
from nephos_pipeline_tests.helpers import dynamodb_resource, ms, put_alert, put_instance, put_metric

H0 = datetime(2026, 3, 1, 10, 0)
KEY = "2026-03-01-10:00"


@pytest.fixture
def stack(dynamodb_tables, warehouse):
    t = dynamodb_tables
    resources = {"warehouse": warehouse, "dynamodb": dynamodb_resource(t.endpoint_url, t.names)}
    return t, warehouse, resources


def run(resources, partition_key=None, tags=None, select=None):
    assets = build_ingest_assets(Partitions.build())
    selection = select or [a for a in assets]
    return dg.materialize(selection, resources=resources, partition_key=partition_key, tags=tags)


def snapshot(warehouse, table):
    df = warehouse.query(f"SELECT * FROM {table}")  # noqa: S608 - fixed table names
    return df.sort_values(list(df.columns)[:3]).reset_index(drop=True)


def partitioned(assets):
    return [a for a in assets if a.partitions_def is not None]


def test_partition_window_boundaries_and_extras(stack):
    t, wh, res = stack
    put_instance(t.client, t.names, "web-01")
    put_metric(t.client, t.names, "web-01", ms(H0) - 1, cpu_usage=1)  # previous hour
    put_metric(t.client, t.names, "web-01", ms(H0), cpu_usage=2, gpu_usage=9)  # first ms: in
    put_metric(t.client, t.names, "web-01", ms(H0 + timedelta(hours=1)) - 1, cpu_usage=3)  # last ms: in
    put_metric(t.client, t.names, "web-01", ms(H0 + timedelta(hours=1)), cpu_usage=4)  # next hour
    assets = build_ingest_assets(Partitions.build())
    result = dg.materialize(assets, resources=res, partition_key=KEY, selection=["raw_metrics", "metrics", "raw_instances"])
    assert result.success
    df = snapshot(wh, "METRICS")
    assert sorted(df.value.tolist()) == [2.0, 3.0, 9.0]
    assert set(df.metric) == {"cpu_usage", "gpu_usage"}


def test_pagination_reads_every_item(stack):
    t, wh, res = stack
    put_instance(t.client, t.names, "big-01")
    pad = {"S": "x" * 20_000}  # ~20 KB items: 1 MB Query pages hold ~50, so 120 items need 3 pages
    for i in range(120):
        put_metric(t.client, t.names, "big-01", H0 + timedelta(seconds=20 * i), cpu_usage=i % 100, padding=pad)
    result = run(res, KEY)
    meta = result.asset_materializations_for_node("raw_metrics")[0].metadata
    assert meta["items_read"].value == 120 and meta["items_loaded"].value == 120
    assert meta["dynamodb_requests"].value >= 3
    assert wh.query("SELECT COUNT(*) AS n FROM METRICS").n[0] == 120


def test_merge_is_idempotent_and_late_items_are_picked_up(stack):
    t, wh, res = stack
    put_instance(t.client, t.names, "web-01")
    put_instance(t.client, t.names, "db-01")
    for m in range(0, 60, 5):
        put_metric(t.client, t.names, "web-01", H0 + timedelta(minutes=m), cpu_usage=10 + m / 10, memory_usage=50)
        put_metric(t.client, t.names, "db-01", H0 + timedelta(minutes=m), disk_usage=70)
    put_alert(t.client, t.names, "al-1", "web-01", H0 + timedelta(minutes=3))
    assert run(res, KEY).success
    first = {tbl: snapshot(wh, tbl) for tbl in ("METRICS", "ALERTS", "INSTANCES")}
    assert len(first["METRICS"]) == 36 and len(first["ALERTS"]) == 1 and len(first["INSTANCES"]) == 2
    second = run(res, KEY)
    for tbl, df in first.items():
        assert snapshot(wh, tbl).equals(df), tbl
    merged = second.asset_materializations_for_node("metrics")[0].metadata
    assert merged["rows_inserted"].value == 0 and merged["rows_updated"].value == 0

    # A late item for the same hour, an in-place alert update and a deleted item.
    put_metric(t.client, t.names, "web-01", H0 + timedelta(minutes=7), cpu_usage=99)
    t.client.update_item(
        TableName=t.names.alerts, Key={"alert_id": {"S": "al-1"}},
        UpdateExpression="SET #s = :r", ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":r": {"S": "resolved"}},
    )
    t.client.delete_item(TableName=t.names.metrics, Key={"instance_id": {"S": "db-01"}, "timestamp": {"N": str(ms(H0))}})
    assert run(res, KEY).success
    metrics = snapshot(wh, "METRICS")
    assert len(metrics) == 36 - 1 + 1
    assert 99.0 in metrics.value.tolist()
    assert snapshot(wh, "ALERTS").status.tolist() == ["resolved"]


def test_bad_items_are_rejected_and_counted_not_fatal(stack):
    t, wh, res = stack
    hostile = "'; DROP TABLE METRICS; --"
    put_instance(t.client, t.names, hostile)
    put_metric(t.client, t.names, hostile, H0 + timedelta(minutes=1), cpu_usage=5)
    put_metric(t.client, t.names, hostile, H0 + timedelta(minutes=2), cpu_usage={"S": "45"})
    put_metric(t.client, t.names, hostile, H0 + timedelta(minutes=3), cpu_usage=150)
    put_metric(t.client, t.names, hostile, H0 + timedelta(minutes=4), memory_usage={"S": "NaN"})  # DynamoDB refuses N NaN; agents send it as a string
    result = run(res, KEY)
    assert result.success
    meta = result.asset_materializations_for_node("raw_metrics")[0].metadata
    assert (meta["items_read"].value, meta["items_loaded"].value, meta["items_rejected"].value) == (4, 1, 3)
    rejects = wh.query("SELECT REASON, ITEM_KEY FROM REJECTS WHERE SOURCE_TABLE = 'metrics' ORDER BY REASON")
    assert len(rejects) == 3 and all(k.startswith(hostile) for k in rejects.item_key)
    assert wh.query("SELECT INSTANCE_ID FROM METRICS").instance_id.tolist() == [hostile]
    # re-running replaces the window's rejects rather than adding to them
    run(res, KEY)
    assert wh.query("SELECT COUNT(*) AS n FROM REJECTS").n[0] == 3


def test_three_day_backfill_is_one_run_and_matches_partition_by_partition(stack, tmp_path):
    t, wh, res = stack
    put_instance(t.client, t.names, "web-01")
    for m in range(0, 3 * 24 * 60, 40):
        put_metric(t.client, t.names, "web-01", H0 + timedelta(minutes=m), cpu_usage=m % 97)
    last = (H0 + timedelta(days=3) - timedelta(hours=1)).strftime("%Y-%m-%d-%H:%M")
    tags = {"dagster/asset_partition_range_start": KEY, "dagster/asset_partition_range_end": last}
    assets = build_ingest_assets(Partitions.build())
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize(assets, resources=res, tags=tags, instance=instance,
                            selection=["raw_metrics", "metrics", "raw_instances"])
    assert result.success
    assert len(instance.get_runs()) == 1  # the single-run backfill policy: 72 partitions, one run
    ranged = snapshot(wh, "METRICS").drop(columns=["loaded_at"])
    assert len(ranged) == 3 * 24 * 60 // 40

    from nephos_pipeline.warehouse import LocalWarehouse
    from nephos_pipeline.warehouse.schema import ensure_schema

    other = LocalWarehouse(path=str(tmp_path / "one-by-one"))
    ensure_schema(other)
    res2 = {**res, "warehouse": other}
    for hour in range(72):
        key = (H0 + timedelta(hours=hour)).strftime("%Y-%m-%d-%H:%M")
        dg.materialize(assets, resources=res2, partition_key=key, selection=["raw_metrics", "metrics"])
    assert snapshot(other, "METRICS").drop(columns=["loaded_at"]).equals(ranged)


def test_unreachable_dynamodb_fails_with_the_endpoint_named(warehouse):
    from nephos_pipeline.settings import TableNames

    res = {"warehouse": warehouse, "dynamodb": dynamodb_resource("http://127.0.0.1:9", TableNames(), max_attempts=1)}
    result = run(res, KEY, select=None) if False else dg.materialize(
        build_ingest_assets(Partitions.build()), resources=res, partition_key=KEY,
        selection=["raw_metrics"], raise_on_error=False,
    )
    assert not result.success
    failure = [e for e in result.all_events if e.is_step_failure][0]
    assert "127.0.0.1:9" in str(failure.step_failure_data.error)
    assert warehouse.query("SELECT COUNT(*) AS n FROM LANDING_METRICS").n[0] == 0
