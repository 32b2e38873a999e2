"""``nephos backfill``: policy-sized runs of the project's jobs, recorded in the local instance."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest

from nephos_pipeline.cli.backfill import backfill
from nephos_pipeline.definitions import build_definitions
from nephos_pipeline.orchestration.backfill import (
    BACKFILL_TAG,
    RANGE_END_TAG,
    RANGE_START_TAG,
    plan,
    select_stages,
)
from nephos_pipeline.simulator.spec import FleetSpec
from nephos_pipeline.simulator.writer import write_fleet


@pytest.fixture
def local_env(monkeypatch, tmp_path, dynamodb_tables):
    """Settings for the CLI: these tables, a fresh NEPHOS_HOME (warehouse + Dagster instance)."""
    for key, value in {**dynamodb_tables.env(), "NEPHOS_HOME": str(tmp_path / "home"),
                       "NEPHOS_WAREHOUSE": "local", "NEPHOS_LLM": "local"}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    return dynamodb_tables


def test_ten_days_plan_a_handful_of_runs_sized_by_the_backfill_policies():
    start = datetime(2026, 3, 1, tzinfo=UTC)
    runs = plan(build_definitions(), select_stages(None), start, start + timedelta(days=10))
    by_job = {}
    for r in runs:
        by_job.setdefault(r.job, []).append(len(r.keys))
    assert by_job == {
        "sync_instances_job": [0],  # instances + rollup views: unpartitioned
        "sync_hourly_job": [240],  # single-run policy: the whole range at once
        "pattern_job": [168, 72],  # at most 168 hours per run
        "anomaly_job": [192] * 5,  # at most 192 quarters (2 days) per run: partitions.ANOMALY_QUARTERS_PER_RUN
        "prediction_job": [28, 12],  # predictions + summary: at most 28 six-hour windows
    }
    assert len(runs) == 11
    assert [s.name for s in select_stages(["summary", "sync"])] == ["sync", "sync", "summary"]
    with pytest.raises(ValueError, match="unknown --assets"):
        select_stages(["everything"])


def test_backfill_runs_the_jobs_in_process_and_records_them_in_the_local_instance(local_env, tmp_path, capsys):
    end = datetime(2026, 3, 3, 6, 0, tzinfo=UTC)
    write_fleet(local_env.client, local_env.names, FleetSpec(start=end - timedelta(hours=30), end=end, instances=2))
    start = end - timedelta(hours=6)
    assert backfill(start, end, ["sync", "rollups", "anomaly", "prediction", "summary"]) == 0
    out = capsys.readouterr().out
    assert "run 1/4 sync_instances_job" in out and "backfill done: 4 run(s)" in out

    instance = dg.DagsterInstance.from_config(str(tmp_path / "home" / "dagster"))
    runs = list(reversed(instance.get_runs()))  # newest first -> in launch order
    assert [r.job_name for r in runs] == ["sync_instances_job", "sync_hourly_job", "anomaly_job", "prediction_job"]
    assert len({r.tags[BACKFILL_TAG] for r in runs}) == 1  # one backfill id ties them together
    anomaly = runs[2]
    assert (anomaly.tags[RANGE_START_TAG], anomaly.tags[RANGE_END_TAG]) == ("2026-03-03-00:00", "2026-03-03-05:45")
    assert all(r.is_success for r in runs)
    instance.dispose()


def test_a_failed_run_stops_the_backfill_with_a_non_zero_exit(local_env, tmp_path, capsys):
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "warehouse").write_text("not a warehouse folder")  # every run fails to open it
    end = datetime(2026, 3, 3, 6, 0, tzinfo=UTC)
    assert backfill(end - timedelta(hours=2), end, ["sync", "anomaly", "prediction"]) == 1
    out = capsys.readouterr().out
    assert "skipped prediction (prediction_job): no complete partition in the range" in out  # 2 h < one 6-h window
    assert "run 1/3 sync_instances_job" in out and "FAILED" in out
    assert "run 2/3" not in out  # stopped at the first failed run
