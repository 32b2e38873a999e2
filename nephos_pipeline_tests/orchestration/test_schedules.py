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
        ("anomaly_schedule", datetime(2026, 3, 2, 0, 2, tzinfo=UTC), "2026-03-01-23:45"),
        ("pattern_schedule", datetime(2026, 3, 2, 0, 10, tzinfo=UTC), "2026-03-01-23:00"),
        ("prediction_schedule", datetime(2026, 3, 2, 0, 20, tzinfo=UTC), "2026-03-01-18:00"),
        ("sync_schedule", datetime(2026, 3, 2, 0, 0, tzinfo=UTC), "2026-03-01-23:00"),
        # on the hour and at :15
        ("anomaly_schedule", datetime(2026, 3, 2, 10, 17, tzinfo=UTC), "2026-03-02-10:00"),
        ("anomaly_schedule", datetime(2026, 3, 2, 10, 2, tzinfo=UTC), "2026-03-02-09:45"),
        ("sync_schedule", datetime(2026, 3, 2, 10, 15, tzinfo=UTC), "2026-03-02-10:00"),
        ("pattern_schedule", datetime(2026, 3, 2, 10, 10, tzinfo=UTC), "2026-03-02-09:00"),
        ("prediction_schedule", datetime(2026, 3, 2, 6, 20, tzinfo=UTC), "2026-03-02-00:00"),
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
    """One warehouse resume per quarter hour: every schedule fires on :00/:15/:30/:45, sync first."""
    from nephos_pipeline.billing.replay import cron_minutes
    from nephos_pipeline.orchestration.schedules import COALESCED, cadence

    assert cadence({}) is COALESCED
    for cron in COALESCED.crons.values():
        assert all(m % 15 == 0 for m in cron_minutes(cron))
    assert len(cron_minutes(COALESCED.crons["anomaly_schedule"])) == 96  # the seed's cadences are kept
    assert len(cron_minutes(COALESCED.crons["pattern_schedule"])) == 24
    assert len(cron_minutes(COALESCED.crons["prediction_schedule"])) == 4
    p = COALESCED.priorities
    assert p["sync_schedule"] > p["instances_schedule"] > p["anomaly_schedule"] > p["pattern_schedule"]
    with pytest.raises(ValueError, match="NEPHOS_CADENCE"):
        cadence({"NEPHOS_CADENCE": "daily"})


def test_hourly_cadence_scores_the_hours_four_quarters_in_one_run():
    from nephos_pipeline.orchestration.schedules import HOURLY

    jobs = build_jobs(Partitions.build({}))
    hourly = {s.name: s for s in build_schedules(jobs, dg.DefaultScheduleStatus.STOPPED, HOURLY)}
    assert hourly["anomaly_schedule"].cron_schedule == "0 * * * *"
    request = tick(hourly["anomaly_schedule"], datetime(2026, 3, 2, 10, 0, tzinfo=UTC))
    assert request.tags["dagster/asset_partition_range_start"] == "2026-03-02-09:00"
    assert request.tags["dagster/asset_partition_range_end"] == "2026-03-02-09:45"
    assert tick(hourly["sync_schedule"], datetime(2026, 3, 2, 10, 0, tzinfo=UTC)).partition_key == "2026-03-02-09:00"
