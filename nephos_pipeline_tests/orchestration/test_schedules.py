"""Schedule ticks at boundary times request the partition of the window that just closed."""

from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg
import pytest

from nephos_pipeline.orchestration.schedules import build_jobs, build_schedules
from nephos_pipeline.partitions import Partitions


@pytest.fixture(scope="module")
def schedules():
    jobs = build_jobs(Partitions.build())
    return {s.name: s for s in build_schedules(jobs, dg.DefaultScheduleStatus.STOPPED)}


def tick(schedule, moment: datetime):
    context = dg.build_schedule_context(scheduled_execution_time=moment)
    request = schedule(context)  # direct invocation runs the schedule's own evaluation function
    assert isinstance(request, dg.RunRequest)
    return request


@pytest.mark.parametrize(
    ("name", "at", "expected"),
    [
        # midnight UTC: the last quarter / hour / six hours of the previous day
        ("anomaly_schedule", datetime(2026, 3, 2, 0, 0, tzinfo=UTC), "2026-03-01-23:45"),
        ("hour_close_schedule", datetime(2026, 3, 2, 0, 0, tzinfo=UTC), "2026-03-01-23:00"),
        ("prediction_schedule", datetime(2026, 3, 2, 0, 0, tzinfo=UTC), "2026-03-01-18:00"),
        # on the hour and at :15
        ("anomaly_schedule", datetime(2026, 3, 2, 10, 15, tzinfo=UTC), "2026-03-02-10:00"),
        ("anomaly_schedule", datetime(2026, 3, 2, 10, 0, tzinfo=UTC), "2026-03-02-09:45"),
        ("sync_schedule", datetime(2026, 3, 2, 10, 15, tzinfo=UTC), "2026-03-02-10:00"),
        ("sync_schedule", datetime(2026, 3, 2, 10, 45, tzinfo=UTC), "2026-03-02-10:00"),
        ("hour_close_schedule", datetime(2026, 3, 2, 10, 0, tzinfo=UTC), "2026-03-02-09:00"),
        ("prediction_schedule", datetime(2026, 3, 2, 6, 0, tzinfo=UTC), "2026-03-02-00:00"),
    ],
)
def test_tick_targets_the_window_just_closed(schedules, name, at, expected):
    request = tick(schedules[name], at)
    assert request.partition_key == expected
    assert expected in request.run_key  # one key per partition: a restarted daemon cannot launch it twice


def test_fifteen_minute_syncs_of_one_hour_get_distinct_keys(schedules):
    keys = {tick(schedules["sync_schedule"], datetime(2026, 3, 2, 10, m, tzinfo=UTC)).run_key for m in (15, 30, 45)}
    assert len(keys) == 3


def test_production_ships_stopped_and_local_running():
    from nephos_pipeline.orchestration import default_status

    assert default_status({"NEPHOS_WAREHOUSE": "snowflake"})[0] == dg.DefaultScheduleStatus.STOPPED
    assert default_status({"NEPHOS_WAREHOUSE": "local"})[0] == dg.DefaultScheduleStatus.RUNNING
    assert default_status({"NEPHOS_WAREHOUSE": "local", "NEPHOS_AUTOMATION": "stopped"})[1] == dg.DefaultSensorStatus.STOPPED


def test_default_cadence_starts_each_quarters_work_at_the_same_minute():
    """One warehouse resume per quarter hour: every schedule fires on :00/:15/:30/:45, the
    quarter's sync (the hour's close at :00) before its anomaly run; the seed's cadences kept."""
    from nephos_pipeline.billing.replay import cron_minutes
    from nephos_pipeline.orchestration.schedules import COALESCED, cadence

    assert cadence({}) is COALESCED
    for cron in COALESCED.crons.values():
        assert all(m % 15 == 0 for m in cron_minutes(cron))
    syncs = sorted(cron_minutes(COALESCED.crons["sync_schedule"]) + cron_minutes(COALESCED.crons["hour_close_schedule"]))
    assert syncs == cron_minutes(COALESCED.crons["anomaly_schedule"])  # every anomaly tick has its quarter's sync
    assert len(syncs) == 96 and len(cron_minutes(COALESCED.crons["hour_close_schedule"])) == 24
    assert len(cron_minutes(COALESCED.crons["prediction_schedule"])) == 4
    p = COALESCED.priorities
    assert p["hour_close_schedule"] > p["anomaly_schedule"] > p["prediction_schedule"]
    assert p["sync_schedule"] > p["anomaly_schedule"]
    with pytest.raises(ValueError, match="NEPHOS_CADENCE"):
        cadence({"NEPHOS_CADENCE": "daily"})


def test_scheduled_runs_share_one_queue(schedules):
    """Every scheduled run carries the tag the production instance limits to one at a time."""
    from nephos_pipeline.orchestration.schedules import QUEUE_TAG, QUEUE_VALUE

    at = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
    for name in ("hour_close_schedule", "anomaly_schedule", "sync_schedule", "prediction_schedule"):
        assert tick(schedules[name], at).tags[QUEUE_TAG] == QUEUE_VALUE


def test_hour_close_is_one_run_of_the_hours_work():
    """Sync, instances snapshot, rollups and patterns of the closed hour: one partitioned run
    (the unpartitioned snapshot and rollups join it), steps in the run's own process."""
    from nephos_pipeline.definitions import build_definitions

    job = build_definitions().resolve_job_def("hour_close_job")
    keys = {k.to_user_string() for k in job.asset_layer.executable_asset_keys}
    assert {"raw_metrics", "metrics", "raw_alerts", "alerts", "raw_instances", "instances", "metric_rollups",
            "pattern_insights"} == keys
    assert job.partitions_def is not None and job.executor_def.name == "in_process"


def test_resolving_the_jobs_warns_about_nothing():
    """The hour's close mixes backfill policies on purpose; users starting `dg dev` or the demo
    see no warning about it, and no other job mixes them."""
    import warnings

    from nephos_pipeline.definitions import build_definitions

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        defs = build_definitions()
        for name in ("hour_close_job", "sync_hourly_job", "pattern_job", "anomaly_job", "prediction_job"):
            defs.resolve_job_def(name)
    assert not [w for w in seen if "BackfillPolic" in str(w.message)]


def test_pattern_refuses_an_hour_still_open(tmp_path, monkeypatch):
    """Patterns share the sync's partitions (the open hour has one): that hour fails clearly."""
    from nephos_pipeline.clock import utc_now
    from nephos_pipeline.definitions import build_definitions

    monkeypatch.setenv("NEPHOS_HOME", str(tmp_path))
    monkeypatch.setenv("NEPHOS_WAREHOUSE", "local")
    open_hour = utc_now().replace(minute=0, second=0, microsecond=0).strftime("%Y-%m-%d-%H:%M")
    job = build_definitions().resolve_job_def("pattern_job")
    result = job.execute_in_process(partition_key=open_hour, instance=dg.DagsterInstance.ephemeral(),
                                    raise_on_error=False)
    assert not result.success
    failure = result.failure_data_for_node("pattern_insights")
    assert failure is not None and "has not closed yet" in failure.error.message


def test_hourly_cadence_scores_the_hours_four_quarters_in_one_run():
    from nephos_pipeline.orchestration.schedules import HOURLY

    jobs = build_jobs(Partitions.build({}))
    hourly = {s.name: s for s in build_schedules(jobs, dg.DefaultScheduleStatus.STOPPED, HOURLY)}
    assert "sync_schedule" not in hourly  # the hour's close syncs it
    assert hourly["anomaly_schedule"].cron_schedule == "0 * * * *"
    request = tick(hourly["anomaly_schedule"], datetime(2026, 3, 2, 10, 0, tzinfo=UTC))
    assert request.tags["dagster/asset_partition_range_start"] == "2026-03-02-09:00"
    assert request.tags["dagster/asset_partition_range_end"] == "2026-03-02-09:45"
    assert tick(hourly["hour_close_schedule"], datetime(2026, 3, 2, 10, 0, tzinfo=UTC)).partition_key == "2026-03-02-09:00"
