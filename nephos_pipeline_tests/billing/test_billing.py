"""The credit model on hand-worked examples: Snowflake's rules, the replay, statement kinds."""

from __future__ import annotations

import pytest

from nephos_pipeline.billing import rules
from nephos_pipeline.billing.replay import Launch, cron_minutes, replay_day
from nephos_pipeline.billing.statements import JobProfile, Statement, needs_warehouse


def test_resumes_follow_the_60_second_minimum_and_auto_suspend():
    # 0-10 s and 40-45 s: one resume (the gap of 30 s < AUTO_SUSPEND 60), billed 45 + 60 = 105 s.
    # 200-201 s: a new resume (155 s after the last end), billed max(60, 1 + 60) = 61 s.
    # 400-400.5 s with AUTO_SUSPEND 0: the 60 s minimum applies.
    got = rules.resumes([(40, 45), (0, 10), (200, 201)], auto_suspend_s=60)
    assert [(r.start_s, r.last_end_s, r.billed_s, r.statements) for r in got] == [(0, 45, 105, 2), (200, 201, 61, 1)]
    assert rules.resumes([(400, 400.5)], auto_suspend_s=0)[0].billed_s == 60
    # a statement arriving exactly when the warehouse suspends resumes it again
    assert len(rules.resumes([(0, 1), (61, 62)], auto_suspend_s=60)) == 2
    assert rules.credits(3600) == 1.0  # XSMALL: 1 credit an hour
    with pytest.raises(ValueError):
        rules.resumes([(5, 1)])


def test_cron_minutes():
    assert cron_minutes("*/15 * * * *")[:5] == [0, 15, 30, 45, 60]
    assert len(cron_minutes("*/15 * * * *")) == 96
    assert cron_minutes("20 */6 * * *") == [20, 380, 740, 1100]
    assert cron_minutes("2,17 3 * * *") == [182, 197]
    with pytest.raises(ValueError):
        cron_minutes("0 0 1 * *")


def test_statement_kinds():
    assert needs_warehouse("MERGE INTO METRICS t USING LANDING_METRICS s ON ...")
    assert needs_warehouse("-- a comment\nSELECT 1")
    assert needs_warehouse("CREATE TABLE X AS SELECT * FROM Y")
    assert not needs_warehouse("CREATE OR REPLACE VIEW METRICS_HOURLY AS SELECT 1")
    assert not needs_warehouse("CREATE TABLE IF NOT EXISTS METRICS (A INT)")
    assert not needs_warehouse("BEGIN")
    assert not needs_warehouse("  commit")


def test_a_day_replayed_by_hand():
    """Two jobs every hour: coalesced (same minute, back to back) vs staggered by 5 minutes.

    sync: 10 s run, warehouse busy 2-6 s; score: 4 s run, busy 1-3 s; 5 s to start a run.
    Coalesced at :00: sync runs 5-15 s (busy 7-11), score runs 20-24 s (busy 21-23):
    one resume 7-23 s, billed 16 + 60 = 76 s an hour, 24 x 76 = 1824 s a day.
    Staggered (score at :05): two resumes of 4 + 60 and 2 + 60 s = 126 s an hour, 3024 s a day.
    """
    profiles = {"sync": JobProfile("sync", 10, [Statement(0, 1, "BEGIN", False), Statement(2, 4, "MERGE")]),
                "score": JobProfile("score", 4, [Statement(1, 2, "SELECT")])}
    together = [Launch("score", "score", "0 * * * *", priority=1), Launch("sync", "sync", "0 * * * *", priority=2)]
    day = replay_day(together, profiles, run_start_s=5)
    assert [(r.job, r.start_s, r.end_s) for r in day.runs[:2]] == [("sync", 5, 15), ("score", 20, 24)]
    assert len(day.resumes) == 24
    assert day.resumes[0].start_s == 7 and day.resumes[0].last_end_s == 23
    assert day.billed_s == 24 * 76
    assert day.credits() == pytest.approx(24 * 76 / 3600)
    staggered = [Launch("sync", "sync", "0 * * * *"), Launch("score", "score", "5 * * * *")]
    apart = replay_day(staggered, profiles, run_start_s=5)
    assert len(apart.resumes) == 48
    assert apart.billed_s == 24 * (64 + 62)


def test_a_production_statement_log_becomes_a_profile():
    """The Snowflake-protocol server's log (sql, seconds, at = when it finished) feeds the same model."""
    from types import SimpleNamespace

    from nephos_pipeline.billing.statements import profile_from_log

    logged = [SimpleNamespace(sql="MERGE INTO METRICS ...", seconds=2.0, at=1012.0),
              SimpleNamespace(sql="BEGIN", seconds=0.0, at=1005.0),
              SimpleNamespace(sql="SELECT 1", seconds=1.0, at=1020.0)]
    profile = profile_from_log("sync_hourly_job", logged, run_started_at=1000.0)
    assert [(s.offset_s, s.seconds, s.warehouse) for s in profile.statements] == [
        (5.0, 0.0, False), (10.0, 2.0, True), (19.0, 1.0, True)]
    assert profile.wall_s == 20.0 and profile.warehouse_seconds == 3.0


def test_suspension_waits_for_snowflakes_poll():
    # Polls every 30 s at phase 0 (0, 30, 60, ...). Work 0-10 s, AUTO_SUSPEND 30: due at 40 s,
    # suspended at the 60 s poll, billed 60 s. Work 0-35 s: due at 65, suspended at 90, billed 90.
    assert rules.suspends_at(10, 30, poll_s=30) == 60 and rules.suspends_at(35, 30, poll_s=30) == 90
    assert rules.suspends_at(30, 30, poll_s=30) == 60  # due exactly at a poll
    assert rules.suspends_at(35, 30, poll_s=30, phase_s=10) == 70
    assert [r.billed_s for r in rules.resumes([(0, 35)], auto_suspend_s=30, poll_s=30)] == [90]
    # work arriving after AUTO_SUSPEND but before the poll is still on the same resume
    got = rules.resumes([(0, 10), (45, 50)], auto_suspend_s=30, poll_s=30)
    assert [(r.start_s, r.last_end_s, r.billed_s) for r in got] == [(0, 50, 90)]
    assert len(rules.resumes([(0, 10), (45, 50)], auto_suspend_s=30)) == 2  # exact suspension: two


def test_replay_averages_the_unknown_poll_phase():
    profiles = {"job": JobProfile("job", 20, [Statement(0, 20, "SELECT")])}
    day = replay_day([Launch("job", "job", "0 * * * *")], profiles, run_start_s=0, auto_suspend_s=30, poll_s=30)
    # busy 0-20 s each hour, due at 50 s; polls at phases 0, 5, .., 25 s suspend it at 60, 65,
    # 70, 75, 50, 55 s: billed (60 s minimum) 60, 65, 70, 75, 60, 60 -> 65 s an hour on average
    assert day.billed_by_phase == [24 * s for s in (60.0, 65.0, 70.0, 75.0, 60.0, 60.0)]
    assert day.billed_s == pytest.approx(24 * 65)
    assert day.resume_count == 24


def test_auto_suspend_is_read_from_account_setup():
    assert rules.auto_suspend_s("CREATE WAREHOUSE IF NOT EXISTS W\n  WAREHOUSE_SIZE = 'XSMALL'\n  AUTO_SUSPEND = 90\n;") == 90
    assert rules.auto_suspend_s("CREATE DATABASE X;") == rules.DEFAULT_AUTO_SUSPEND_S
    assert rules.auto_suspend_s("-- CREATE WAREHOUSE docs; AUTO_SUSPEND = 60\nCREATE WAREHOUSE W AUTO_SUSPEND = 30;") == 30
    shipped = rules.auto_suspend_s()
    assert shipped >= 30 and shipped % 30 == 0  # what Snowflake's 30-second poll can honour
