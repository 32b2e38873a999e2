"""The change sensor killed between a tick and its cursor save loses nothing.

Dagster stores a sensor's cursor only after the tick returns; a process killed in
between leaves the previous cursor in place. That is simulated exactly: the cursor a tick
returns is thrown away and the next tick starts from the old one. Delivery is then
at-least-once (the replay re-requests what the lost tick requested, with the same run keys,
which Dagster launches only once), and running a partition twice leaves the warehouse
byte-for-byte identical (idempotent runs), so the effect is exactly-once.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dagster as dg

from nephos_pipeline.orchestration.change_sensor import build_dynamodb_change_sensor
from nephos_pipeline.orchestration.schedules import build_jobs
from nephos_pipeline.partitions import Partitions
from nephos_pipeline_tests.helpers import dynamodb_resource, put_alert, put_instance, put_metric
from nephos_pipeline_tests.reliability.common import (
    H0,
    expected_state,
    hour_windows,
    pk,
    sync_hour,
    sync_instances,
    table_rows,
    warehouse_state,
)

NOW = datetime(2026, 3, 1, 15, 20, tzinfo=UTC)
PARTS = Partitions.build()
JOBS = build_jobs(PARTS)
SENSOR = build_dynamodb_change_sensor(JOBS["sync_hourly_job"], JOBS["sync_instances_job"], PARTS, clock=lambda: NOW)
TABLES = ("METRICS", "ALERTS", "INSTANCES", "LANDING_METRICS", "LANDING_ALERTS", "LANDING_INSTANCES", "REJECTS")


def tick(t, cursor: str | None):
    ctx = dg.build_sensor_context(cursor=cursor, resources={"dynamodb": dynamodb_resource(t.endpoint_url, t.names)})
    return SENSOR(ctx)


def requests(result) -> dict[str, str | None]:
    """run key -> partition key (None for the instances sync)."""
    return {r.run_key: r.partition_key for r in result.run_requests}


def run_all(res, reqs: dict[str, str | None]) -> None:
    for _key, partition in sorted(reqs.items(), key=lambda kv: kv[1] or ""):
        result = sync_hour(res, partition) if partition else sync_instances(res)
        assert result.success


def test_ticks_lost_before_their_cursor_save_are_replayed_and_reruns_are_idempotent(stack) -> None:
    t, wh, res = stack
    saved = tick(t, None).cursor  # an earlier tick (nothing to do yet) whose cursor was saved
    for n in range(2):  # only the lost tick sees these
        put_instance(t.client, t.names, f"app-{n}")
        put_metric(t.client, t.names, f"app-{n}", H0 + timedelta(minutes=5), cpu_usage=10, memory_usage=20)
    put_alert(t.client, t.names, "al-1", "app-0", H0 + timedelta(minutes=6))
    put_metric(t.client, t.names, "app-1", H0 + timedelta(hours=2), cpu_usage=60)
    lost = tick(t, saved)  # the process dies here: lost.cursor is never stored
    replay = tick(t, saved)  # the restarted sensor starts again from the saved cursor
    assert requests(replay) == requests(lost) and replay.cursor == lost.cursor
    assert set(requests(lost).values()) == {pk(H0), pk(H0 + timedelta(hours=2)), None}

    # Dagster launches each run key once; running them all, then all over again, is harmless.
    run_all(res, requests(replay))
    first = {tbl: table_rows(wh, tbl) for tbl in TABLES if not tbl.startswith(("LANDING", "REJECTS"))}
    run_all(res, requests(replay))
    assert {tbl: table_rows(wh, tbl) for tbl in first} == first  # LOADED_AT included: nothing rewritten
    assert tick(t, replay.cursor).run_requests == []

    # The sensor keeps dying before its save while a late write lands in an hour already
    # requested: the replay from the same old cursor gets a *new* key for that hour only.
    launched = set(requests(replay))
    put_metric(t.client, t.names, "app-1", H0 + timedelta(hours=2, minutes=1), cpu_usage=61)
    again = tick(t, saved)
    new = {k: p for k, p in requests(again).items() if k not in launched}  # what Dagster launches now
    assert set(new.values()) == {pk(H0 + timedelta(hours=2))}  # H0 and the instances sync are deduplicated
    run_all(res, new)
    assert warehouse_state(wh) == expected_state(t.client, t.names, hour_windows(H0, 3))
