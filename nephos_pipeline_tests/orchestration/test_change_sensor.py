"""The change sensor driven against a real moto server's DynamoDB Streams.

The sensor's clock is fixed (``NOW``) so "which hours have closed" does not depend on when
the tests run; the items' timestamps are ours, so every expected partition is exact.
"""

import json
import logging
import time
from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest

from nephos_pipeline.dynamodb.tables import ensure_tables
from nephos_pipeline.ingest.assets import build_ingest_assets
from nephos_pipeline.orchestration.change_sensor import START_ENV, build_dynamodb_change_sensor, plan_runs
from nephos_pipeline.orchestration.streams import Change, StreamCursor, hour_of
from nephos_pipeline.partitions import Partitions
from nephos_pipeline.settings import TableNames
from nephos_pipeline_tests.helpers import dynamodb_resource, ms, put_alert, put_instance, put_metric

PARTS = Partitions.build()  # partitions start 2026-01-01-00:00 (pinned in conftest)
HOURLY = dg.define_asset_job("sync_hourly_job", selection=["raw_metrics", "metrics", "raw_alerts", "alerts"])
INSTANCES = dg.define_asset_job("sync_instances_job", selection=["raw_instances", "instances"])
NOW = datetime(2026, 3, 10, 12, 20, tzinfo=UTC)
H = [hour_of(NOW) - timedelta(hours=n) for n in range(10)]  # H[0] is the open hour


def pk(hour: datetime) -> str:
    return hour.strftime("%Y-%m-%d-%H:%M")


def make_sensor(now: datetime = NOW, **kwargs) -> dg.SensorDefinition:
    return build_dynamodb_change_sensor(HOURLY, INSTANCES, PARTS, clock=lambda: now, **kwargs)


def tick(sensor: dg.SensorDefinition, t, cursor: str | None = None):
    ctx = dg.build_sensor_context(cursor=cursor, resources={"dynamodb": dynamodb_resource(t.endpoint_url, t.names)})
    return sensor(ctx)


def hourly(result) -> dict[str, str]:
    """partition key -> run key of the hourly runs requested."""
    return {r.partition_key: r.run_key for r in result.run_requests if r.job_name == "sync_hourly_job"}


def instance_runs(result) -> list[str]:
    return [r.run_key for r in result.run_requests if r.job_name == "sync_instances_job"]


@pytest.fixture(autouse=True)
def _default_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(START_ENV, raising=False)


@pytest.fixture
def sensor_log(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Route ``context.log`` (a standalone InstigationLogger caplog cannot see) to a normal logger."""
    logger = logging.getLogger("nephos.tests.change_sensor")
    monkeypatch.setattr(dg.SensorEvaluationContext, "log", property(lambda self: logger))
    caplog.set_level(logging.INFO, logger=logger.name)
    return caplog


def test_sensor_definition_wiring() -> None:
    sensor = make_sensor()
    assert sensor.name == "dynamodb_change_sensor" and sensor.minimum_interval_seconds == 30
    assert sensor.default_status == dg.DefaultSensorStatus.STOPPED and sensor.required_resource_keys == {"dynamodb"}
    with pytest.raises(TypeError):
        build_dynamodb_change_sensor("sync_hourly_job", INSTANCES, PARTS)


def test_insert_requests_exactly_that_hour_and_then_nothing(dynamodb_tables) -> None:
    t, sensor = dynamodb_tables, make_sensor()
    put_metric(t.client, t.names, "i-1", H[3] + timedelta(minutes=5), cpu_usage=10)
    first = tick(sensor, t)
    assert set(hourly(first)) == {pk(H[3])} and instance_runs(first) == []
    again = tick(sensor, t, first.cursor)
    assert again.run_requests == [] and "no changed partitions" in again.skip_reason.skip_message
    assert json.loads(again.cursor)["v"] == 1


def test_nothing_changed_skips_with_a_cursor(dynamodb_tables) -> None:
    result = tick(make_sensor(), dynamodb_tables)
    assert result.run_requests == [] and result.skip_reason is not None
    assert set(StreamCursor.from_json(result.cursor)[0].streams) == {"metrics", "alerts", "instances"}


def test_modify_and_remove_map_to_old_and_new_hours(dynamodb_tables) -> None:
    t, sensor = dynamodb_tables, make_sensor()
    put_metric(t.client, t.names, "i-1", H[5], cpu_usage=10)
    put_alert(t.client, t.names, "al-1", "i-1", H[4] + timedelta(minutes=30))
    inserted = tick(sensor, t)
    assert set(hourly(inserted)) == {pk(H[5]), pk(H[4])}
    put_metric(t.client, t.names, "i-1", H[5], cpu_usage=99)  # MODIFY
    put_alert(t.client, t.names, "al-1", "i-1", H[2])  # MODIFY that moves created_at: both hours
    modified = tick(sensor, t, inserted.cursor)
    assert set(hourly(modified)) == {pk(H[5]), pk(H[4]), pk(H[2])}
    t.client.delete_item(TableName=t.names.metrics, Key={"instance_id": {"S": "i-1"}, "timestamp": {"N": str(ms(H[5]))}})
    t.client.delete_item(TableName=t.names.alerts, Key={"alert_id": {"S": "al-1"}})
    removed = tick(sensor, t, modified.cursor)
    assert set(hourly(removed)) == {pk(H[5]), pk(H[2])}
    assert not set(hourly(removed).values()) & (set(hourly(modified).values()) | set(hourly(inserted).values()))


def test_late_item_reruns_its_old_hour_only(dynamodb_tables) -> None:
    t, sensor = dynamodb_tables, make_sensor()
    put_metric(t.client, t.names, "i-1", H[1], cpu_usage=10)
    current = tick(sensor, t)
    late = hour_of(NOW - timedelta(days=20))
    put_metric(t.client, t.names, "i-2", late + timedelta(minutes=59), cpu_usage=10)
    assert set(hourly(tick(sensor, t, current.cursor))) == {pk(late)}


def test_instances_changes_request_one_sync_per_tick(dynamodb_tables) -> None:
    t, sensor = dynamodb_tables, make_sensor()
    for name in ("i-1", "i-2", "i-3"):
        put_instance(t.client, t.names, name)
    put_instance(t.client, t.names, "i-1", status={"S": "stopped"})
    first = tick(sensor, t)
    assert len(instance_runs(first)) == 1 and hourly(first) == {}
    put_instance(t.client, t.names, "i-4")
    second = tick(sensor, t, first.cursor)
    assert len(instance_runs(second)) == 1 and instance_runs(second) != instance_runs(first)


def test_table_recreated_restarts_from_the_new_streams_start(dynamodb_tables, sensor_log) -> None:
    t, sensor = dynamodb_tables, make_sensor()
    put_metric(t.client, t.names, "i-1", H[3], cpu_usage=10)
    before = tick(sensor, t)
    t.client.delete_table(TableName=t.names.metrics)
    ensure_tables(t.client, t.names)
    put_metric(t.client, t.names, "i-1", H[3], cpu_usage=20)  # moto reuses shard id and sequence numbers
    after = tick(sensor, t, before.cursor)
    assert set(hourly(after)) == {pk(H[3])} and hourly(after) != hourly(before)  # a new key, not deduplicated
    old, new = (StreamCursor.from_json(r.cursor)[0].streams["metrics"] for r in (before, after))
    assert old.arn != new.arn and old.shards == new.shards
    assert "stream ARN changed" in sensor_log.text


@pytest.mark.parametrize("cursor", ["{not json", '{"metrics": "1100000000017454423009"}', '{"v": 0, "streams": {}}'])
def test_corrupt_or_old_cursor_resets_with_a_warning(dynamodb_tables, sensor_log, cursor: str) -> None:
    t = dynamodb_tables
    put_metric(t.client, t.names, "i-1", H[2], cpu_usage=10)
    result = tick(make_sensor(), t, cursor)
    assert set(hourly(result)) == {pk(H[2])} and StreamCursor.from_json(result.cursor)[1] is None
    assert any(r.levelno == logging.WARNING and "cursor reset" in r.message for r in sensor_log.records)


def test_endpoint_down_skips_with_reason_and_keeps_cursor() -> None:
    cursor = StreamCursor().to_json()
    resource = dynamodb_resource("http://127.0.0.1:9", TableNames(), max_attempts=1)
    ctx = dg.build_sensor_context(cursor=cursor, resources={"dynamodb": resource})
    result = make_sensor()(ctx)
    assert isinstance(result, dg.SkipReason)
    assert "http://127.0.0.1:9" in result.skip_message and "cursor kept" in result.skip_message
    assert ctx.cursor == cursor


def test_contract_violations_are_counted_and_skipped(dynamodb_tables, sensor_log) -> None:
    t, sensor = dynamodb_tables, make_sensor()
    put_metric(t.client, t.names, "i-1", ms(H[4]) // 1000, cpu_usage=10)  # epoch seconds
    put_alert(t.client, t.names, "al-1", "i-1", H[4], created_at={"S": "yesterday"})
    only_bad = tick(sensor, t)
    assert only_bad.run_requests == [] and "2 contract violation(s)" in only_bad.skip_reason.skip_message
    put_metric(t.client, t.names, "i-1", H[1], cpu_usage=10)
    put_metric(t.client, t.names, "i-1", 99, cpu_usage=10)
    mixed = tick(sensor, t, only_bad.cursor)
    assert set(hourly(mixed)) == {pk(H[1])} and "1 contract violation(s)" in sensor_log.text


def test_changes_before_the_start_or_in_the_future_are_skipped(dynamodb_tables) -> None:
    t = dynamodb_tables
    put_metric(t.client, t.names, "i-1", datetime(2025, 6, 1, tzinfo=UTC), cpu_usage=1)
    put_metric(t.client, t.names, "i-1", NOW + timedelta(days=3), cpu_usage=1)
    message = tick(make_sensor(), t).skip_reason.skip_message
    assert "1 change(s) before the partitions start" in message and "1 change(s) in the future" in message


def test_open_hour_waits_in_the_cursor_until_it_closes(dynamodb_tables) -> None:
    t = dynamodb_tables
    put_metric(t.client, t.names, "i-1", NOW - timedelta(minutes=5), cpu_usage=10)
    waiting = tick(make_sensor(), t)
    assert waiting.run_requests == [] and pk(H[0]) in StreamCursor.from_json(waiting.cursor)[0].pending
    later = make_sensor(now=NOW + timedelta(hours=1))
    released, replay = tick(later, t, waiting.cursor), tick(later, t, waiting.cursor)
    assert set(hourly(released)) == {pk(H[0])} and hourly(released) == hourly(replay)
    assert StreamCursor.from_json(released.cursor)[0].pending == {}
    assert tick(later, t, released.cursor).run_requests == []


def test_bounded_work_continues_next_tick_without_loss(dynamodb_tables, sensor_log) -> None:
    t, sensor = dynamodb_tables, make_sensor(max_records_per_tick=3)
    for n in range(1, 8):
        put_metric(t.client, t.names, f"i-{n}", H[n] + timedelta(minutes=n), cpu_usage=n)
    put_alert(t.client, t.names, "al-1", "i-1", H[8])
    put_instance(t.client, t.names, "i-1")
    cursor, seen, instances, ticks = None, set(), 0, 0
    while ticks < 10:
        result, ticks = tick(sensor, t, cursor), ticks + 1
        cursor = result.cursor
        if not result.run_requests:
            break
        seen |= set(hourly(result))
        instances += len(instance_runs(result))
    assert seen == {pk(H[n]) for n in range(1, 9)} and instances == 1 and ticks >= 4
    assert "work bound reached" in sensor_log.text


def test_run_keys_are_deterministic_on_replay_and_new_for_new_changes(dynamodb_tables) -> None:
    t, sensor = dynamodb_tables, make_sensor()
    put_metric(t.client, t.names, "i-1", H[2], cpu_usage=1)
    put_metric(t.client, t.names, "i-1", H[3], cpu_usage=1)
    first, crashed_replay = tick(sensor, t), tick(sensor, t)  # the cursor save never happened
    assert first.run_requests == crashed_replay.run_requests and first.cursor == crashed_replay.cursor
    put_metric(t.client, t.names, "i-2", H[2], cpu_usage=1)
    second = tick(sensor, t, first.cursor)
    assert set(hourly(second)) == {pk(H[2])} and hourly(second)[pk(H[2])] != hourly(first)[pk(H[2])]
    assert hourly(tick(sensor, t, first.cursor)) == hourly(second)


def test_replay_after_more_writes_dedups_untouched_hours_only(dynamodb_tables) -> None:
    t, sensor = dynamodb_tables, make_sensor()
    start = tick(sensor, t).cursor
    put_metric(t.client, t.names, "i-1", H[2], cpu_usage=1)
    put_metric(t.client, t.names, "i-1", H[3], cpu_usage=1)
    first = tick(sensor, t, start)
    put_metric(t.client, t.names, "i-2", H[3], cpu_usage=1)  # arrives before the replay
    replay = tick(sensor, t, start)
    assert hourly(replay)[pk(H[2])] == hourly(first)[pk(H[2])]  # Dagster drops the duplicate
    assert hourly(replay)[pk(H[3])] != hourly(first)[pk(H[3])]  # the new write is not lost


def test_latest_start_skips_history_then_follows(dynamodb_tables, monkeypatch: pytest.MonkeyPatch) -> None:
    t, sensor = dynamodb_tables, make_sensor()
    put_metric(t.client, t.names, "i-1", H[5], cpu_usage=1)
    monkeypatch.setenv(START_ENV, "LATEST")
    first = tick(sensor, t)
    assert first.run_requests == []
    put_metric(t.client, t.names, "i-1", H[4], cpu_usage=1)
    assert set(hourly(tick(sensor, t, first.cursor))) == {pk(H[4])}
    monkeypatch.setenv(START_ENV, "EARLIEST")
    assert START_ENV in tick(sensor, t, first.cursor).skip_message


def test_missing_table_is_warned_and_the_others_are_read(dynamodb_tables, sensor_log) -> None:
    t = dynamodb_tables
    t.client.delete_table(TableName=t.names.alerts)
    put_metric(t.client, t.names, "i-1", H[2], cpu_usage=1)
    result = tick(make_sensor(), t)
    assert set(hourly(result)) == {pk(H[2])} and "not found" in sensor_log.text
    assert "alerts" not in StreamCursor.from_json(result.cursor)[0].streams


def test_resync_requests_the_retention_window() -> None:
    arn = "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/x"
    plan = plan_runs([Change("metrics", arn, "s1", "7", None), Change("instances", arn, "s1", "", None)],
                     {}, NOW, hour_of(PARTS.hourly.start))
    assert set(plan.hourly) == {pk(hour_of(NOW - timedelta(hours=n))) for n in range(1, 25)}
    assert set(plan.pending) == {pk(H[0])} and plan.instances and plan.resyncs == 2
    again = plan_runs([Change("metrics", arn, "s1", "7", None)], {}, NOW, hour_of(PARTS.hourly.start))
    assert again.hourly == plan.hourly


def test_run_requests_resolve_against_the_real_jobs(dynamodb_tables) -> None:
    t = dynamodb_tables
    real_hour = hour_of(datetime.now(UTC)) - timedelta(hours=3)
    sensor = build_dynamodb_change_sensor(HOURLY, INSTANCES, PARTS)
    resource = dynamodb_resource(t.endpoint_url, t.names)
    defs = dg.Definitions(assets=build_ingest_assets(PARTS), jobs=[HOURLY, INSTANCES], sensors=[sensor],
                          resources={"dynamodb": resource, "warehouse": dg.ResourceDefinition.none_resource()})
    put_metric(t.client, t.names, "i-1", real_hour, cpu_usage=1)
    put_instance(t.client, t.names, "i-1")
    ctx = dg.build_sensor_context(resources={"dynamodb": resource}, definitions=defs)
    data = sensor.evaluate_tick(ctx)
    assert {(r.job_name, r.partition_key) for r in data.run_requests} == {
        ("sync_hourly_job", pk(real_hour)), ("sync_instances_job", None)}
    assert all(r.tags["nephos/trigger"] == "dynamodb-stream" for r in data.run_requests)


# ---- a closed hour already synced by its scheduled run (coverage.py) ----------------------


def _run_of(instance: dg.DagsterInstance, hour: datetime, started: float | None, job: str = "sync_hourly_job") -> str:
    """A run of the hourly job (or ``job``) for that partition, as the schedule makes it;
    ``started``: the epoch second its RUN_START event is stored with (None: still queued)."""
    from dagster._core.events import DagsterEvent, DagsterEventType
    from dagster._core.events.log import EventLogEntry
    from dagster._core.utils import make_new_run_id

    run = instance.add_run(dg.DagsterRun(job_name=job, run_id=make_new_run_id(),
                                         status=dg.DagsterRunStatus.NOT_STARTED,
                                         tags={"dagster/partition": pk(hour), "dagster/schedule_name": "sync_hourly"}))
    if started is not None:
        instance.handle_new_event(EventLogEntry(
            error_info=None, level=logging.DEBUG, user_message="", run_id=run.run_id, timestamp=started,
            dagster_event=DagsterEvent(DagsterEventType.RUN_START.value, job_name=job)))
    return run.run_id


def _tick_with(instance: dg.DagsterInstance, t, cursor: str | None = None):
    put_instance(t.client, t.names, "i-1")  # registered: only the sensor's run queries unregistered ids
    ctx = dg.build_sensor_context(cursor=cursor, instance=instance,
                                  resources={"dynamodb": dynamodb_resource(t.endpoint_url, t.names)})
    return make_sensor()(ctx)


def test_scheduled_run_already_covering_the_hour_is_not_duplicated(dynamodb_tables) -> None:
    t = dynamodb_tables
    with dg.DagsterInstance.ephemeral() as instance:
        put_metric(t.client, t.names, "i-1", H[1] + timedelta(minutes=59), cpu_usage=10)
        put_metric(t.client, t.names, "i-1", H[2] + timedelta(minutes=5), cpu_usage=10)
        _run_of(instance, H[1], started=time.time() + 30)  # started after the records were written
        result = _tick_with(instance, t)
        assert set(hourly(result)) == {pk(H[2])}  # H[2] has no run: requested as before
        assert pk(H[1]) not in StreamCursor.from_json(result.cursor)[0].pending


def test_the_hours_close_run_covers_the_hour_and_other_jobs_do_not(dynamodb_tables) -> None:
    """The :00 sync is a run of ``hour_close_job`` (orchestration/schedules.py): it covers the
    hour when the sensor is told so (``covering_jobs``, as the code location builds it)."""
    t = dynamodb_tables
    with dg.DagsterInstance.ephemeral() as instance:
        put_metric(t.client, t.names, "i-1", H[1] + timedelta(minutes=59), cpu_usage=10)
        _run_of(instance, H[1], started=time.time() + 30, job="hour_close_job")
        put_instance(t.client, t.names, "i-1")
        ctx = dg.build_sensor_context(instance=instance, resources={"dynamodb": dynamodb_resource(t.endpoint_url, t.names)})
        assert hourly(make_sensor(covering_jobs=("hour_close_job",))(ctx)) == {}
        assert set(hourly(_tick_with(instance, t))) == {pk(H[1])}  # without it, that run is not counted


def test_late_record_after_the_scheduled_run_started_is_requested(dynamodb_tables) -> None:
    t = dynamodb_tables
    with dg.DagsterInstance.ephemeral() as instance:
        _run_of(instance, H[1], started=time.time() - 60)  # the scheduled run read the hour a minute ago
        put_metric(t.client, t.names, "i-1", H[1] + timedelta(minutes=59), cpu_usage=10)  # then this arrived
        assert set(hourly(_tick_with(instance, t))) == {pk(H[1])}


def test_hour_waits_while_its_run_is_queued_and_is_requested_if_it_never_runs(dynamodb_tables) -> None:
    t = dynamodb_tables
    with dg.DagsterInstance.ephemeral() as instance:
        run_id = _run_of(instance, H[1], started=None)
        put_metric(t.client, t.names, "i-1", H[1] + timedelta(minutes=59), cpu_usage=10)
        waiting = _tick_with(instance, t)
        assert hourly(waiting) == {} and pk(H[1]) in StreamCursor.from_json(waiting.cursor)[0].pending
        instance.report_run_canceled(instance.get_run_by_id(run_id))
        assert set(hourly(_tick_with(instance, t, waiting.cursor))) == {pk(H[1])}


def test_just_closed_hour_waits_for_the_schedules_final_run() -> None:
    """At :00:10 the :45 run of the hour exists but does not cover its last quarter; the
    final run is not submitted yet: wait (pending), do not duplicate it."""
    from nephos_pipeline.orchestration import coverage

    with dg.DagsterInstance.ephemeral() as instance:
        _run_of(instance, H[1], started=(H[1] + timedelta(minutes=45)).timestamp())
        runs = instance.get_run_records(dg.RunsFilter(tags={"dagster/partition": pk(H[1])}))
        written, end = (H[1] + timedelta(minutes=59)).timestamp(), H[0]
        assert coverage.judge(runs, written, end, end + timedelta(seconds=10))[0] == coverage.WAIT
        assert coverage.judge(runs, written, end, end + timedelta(minutes=5))[0] == coverage.REQUEST
        _run_of(instance, H[1], started=(end + timedelta(seconds=5)).timestamp())
        runs = instance.get_run_records(dg.RunsFilter(tags={"dagster/partition": pk(H[1])}))
        assert coverage.judge(runs, written, end, end + timedelta(seconds=40))[0] == coverage.COVERED
