"""DynamoDB faults injected on the wire (``FaultProxy``), through the pipeline's own client.

Throttling and 5xx bursts must be absorbed by botocore's standard retry mode (with
back-off) and the run must succeed with exactly the data in DynamoDB. A connection lost
for good in the middle of an extract must fail the run without touching the landing or
typed tables; the re-run must complete with no duplicates.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dagster as dg

from nephos_pipeline.orchestration.change_sensor import build_dynamodb_change_sensor
from nephos_pipeline.partitions import Partitions
from nephos_pipeline_tests.helpers import dynamodb_resource, put_alert, put_instance, put_metric
from nephos_pipeline_tests.reliability.common import (
    H0,
    KEY,
    expected_state,
    hour_windows,
    step_error,
    sync_hour,
    sync_instances,
    table_rows,
    warehouse_state,
)

MAX_ATTEMPTS = 8  # what resources.build_dynamodb configures for production


def _fleet(t, instances: int = 4, minutes: range = range(0, 60, 10)) -> None:
    for n in range(instances):
        put_instance(t.client, t.names, f"web-{n:02d}")
        for m in minutes:
            put_metric(t.client, t.names, f"web-{n:02d}", H0 + timedelta(minutes=m), cpu_usage=10 + n + m / 100,
                       memory_usage=40 + n)
    put_alert(t.client, t.names, "al-1", "web-00", H0 + timedelta(minutes=7))


def _resources(t, warehouse, proxy) -> dict:
    return {"warehouse": warehouse,
            "dynamodb": dynamodb_resource(proxy.endpoint_url, t.names, max_attempts=MAX_ATTEMPTS)}


def _assert_matches_dynamodb(t, warehouse) -> None:
    assert warehouse_state(warehouse) == expected_state(t.client, t.names, hour_windows(H0, 1))


def test_throttling_is_retried_with_backoff_and_the_run_succeeds(dynamodb_tables, warehouse, fault_proxy,
                                                                 fast_backoff) -> None:
    t = dynamodb_tables
    _fleet(t)
    fault_proxy.inject("throttle", 3, ["Query"])  # consecutive: one Query is refused three times
    fault_proxy.inject("throttle", 2, ["Scan"])
    res = _resources(t, warehouse, fault_proxy)
    hourly = sync_hour(res)
    assert hourly.success and sync_instances(res).success
    _assert_matches_dynamodb(t, warehouse)
    assert fault_proxy.outcomes().count("throttle") == 5
    meta = hourly.asset_materializations_for_node("raw_metrics")[0].metadata
    assert meta["items_read"].value == 24 and meta["items_loaded"].value == 24
    # botocore backed off once per refused request, on its throttling scale (1 s base, not 25 ms)
    assert [scale for _, scale, _ in fast_backoff.delays] == [1.0] * 5


def test_bursts_of_5xx_dropped_and_truncated_responses_are_retried(dynamodb_tables, warehouse, fault_proxy,
                                                                  fast_backoff) -> None:
    t = dynamodb_tables
    _fleet(t)
    fault_proxy.inject("http_500", 3)
    fault_proxy.inject("http_503", 3)
    fault_proxy.inject("truncate", 1, ["Query"])
    fault_proxy.inject("drop", 1, ["Scan"])
    res = _resources(t, warehouse, fault_proxy)
    assert sync_hour(res).success and sync_instances(res).success
    _assert_matches_dynamodb(t, warehouse)
    outcomes = fault_proxy.outcomes()
    assert {o: outcomes.count(o) for o in ("http_500", "http_503", "truncate", "drop")} == {
        "http_500": 3, "http_503": 3, "truncate": 1, "drop": 1}
    assert len(fast_backoff.delays) == 8 and {scale for _, scale, _ in fast_backoff.delays} == {0.025}


def test_connection_lost_mid_extract_fails_cleanly_and_the_rerun_has_no_duplicates(
        dynamodb_tables, warehouse, fault_proxy, fast_backoff) -> None:
    t = dynamodb_tables
    _fleet(t)
    res = _resources(t, warehouse, fault_proxy)
    assert sync_hour(res).success and sync_instances(res).success
    before = {tbl: table_rows(warehouse, tbl) for tbl in ("METRICS", "LANDING_METRICS", "REJECTS", "ALERTS")}

    # New data arrives, then the link dies after two of the four per-instance Queries.
    for n in range(4):
        put_metric(t.client, t.names, f"web-{n:02d}", H0 + timedelta(minutes=55), cpu_usage=99)
    put_metric(t.client, t.names, "web-01", H0, cpu_usage=1)  # an update in place
    fault_proxy.cut(after=2, operations=["Query"])
    mark = len(fault_proxy.log)
    failed = sync_hour(res, raise_on_error=False)
    assert not failed.success
    queries = [outcome for op, outcome in fault_proxy.log[mark:] if op == "Query"]
    assert queries.count("ok") == 2 and queries.count("drop") >= 2 * MAX_ATTEMPTS  # two Queries ran out of retries
    failures = [e.step_key for e in failed.all_events if e.is_step_failure]
    assert failures == ["raw_metrics"]
    assert fault_proxy.endpoint_url.split("//")[1] in step_error(failed)  # names where it tried
    ran = {e.step_key for e in failed.all_events if e.event_type == dg.DagsterEventType.STEP_SUCCESS}
    assert "metrics" not in ran  # the MERGE never saw a half extract
    for tbl, rows in before.items():
        assert table_rows(warehouse, tbl) == rows, f"{tbl} changed by the failed run"

    fault_proxy.heal()
    assert sync_hour(res).success
    _assert_matches_dynamodb(t, warehouse)  # warehouse_state also fails on duplicate rows
    landing = warehouse.query("SELECT COUNT(*) AS n, COUNT(DISTINCT INSTANCE_ID || TS::VARCHAR || METRIC) AS k "
                              "FROM LANDING_METRICS")
    assert landing.n[0] == landing.k[0] == len(expected_state(t.client, t.names, hour_windows(H0, 1))["METRICS"]) == 51


def test_sensor_reads_streams_through_throttling_and_5xx(dynamodb_tables, fault_proxy, fast_backoff) -> None:
    t = dynamodb_tables
    now = datetime(2026, 3, 1, 15, 20, tzinfo=UTC)
    jobs = [dg.define_asset_job(n, selection=s) for n, s in (("sync_hourly_job", ["metrics"]),
                                                               ("sync_instances_job", ["instances"]))]
    sensor = build_dynamodb_change_sensor(*jobs, Partitions.build(), clock=lambda: now)
    put_metric(t.client, t.names, "web-00", H0 + timedelta(minutes=5), cpu_usage=1)
    put_metric(t.client, t.names, "web-00", H0 + timedelta(hours=2), cpu_usage=1)
    fault_proxy.inject("throttle", 3, ["GetRecords"])  # GetRecords is sequential: one call refused 3 times
    fault_proxy.inject("http_500", 2, ["DescribeStream", "GetShardIterator"])
    fault_proxy.inject("http_503", 1, ["DescribeTable"])
    resource = dynamodb_resource(fault_proxy.endpoint_url, t.names, max_attempts=MAX_ATTEMPTS)
    result = sensor(dg.build_sensor_context(resources={"dynamodb": resource}))
    assert {r.partition_key for r in result.run_requests} == {KEY, "2026-03-01-12:00"}
    assert {"throttle", "http_500", "http_503"} <= set(fault_proxy.outcomes())
    throttled = [(attempt, delay) for attempt, scale, delay in fast_backoff.delays if scale == 1.0]
    assert [a for a, _ in throttled] == [1, 2, 3]  # exponential: caps of 1 s, 2 s, 4 s
