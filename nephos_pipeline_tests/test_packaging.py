"""The code location loads, validates, and a built wheel carries the SQL it runs."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_definitions_load_with_every_asset_schedule_and_sensor(monkeypatch, tmp_path):
    monkeypatch.setenv("NEPHOS_HOME", str(tmp_path))
    from nephos_pipeline.definitions import build_definitions

    defs = build_definitions()
    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    assert {"raw_metrics", "metrics", "metric_rollups", "anomaly_insights", "insights_summary",
            "metrics_reconciliation"} <= keys
    assert {s.name for s in defs.schedules} == {
        "hour_close_schedule", "sync_schedule", "anomaly_schedule", "prediction_schedule",
        "reconciliation_schedule"}
    assert [s.name for s in defs.sensors] == [
        "dynamodb_change_sensor", "reconciliation_resync_sensor", "run_failure_alert_sensor", "run_retry_resolved_sensor"]


def test_dagster_definitions_validate(tmp_path):
    env = {"PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin", "NEPHOS_HOME": str(tmp_path),
           "DAGSTER_HOME": str(tmp_path), "HOME": str(tmp_path)}
    result = subprocess.run(
        [str(Path(sys.executable).parent / "dagster"), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=ROOT, capture_output=True, text=True, env=env, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_wheel_contains_the_sql_files(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True, capture_output=True, timeout=300,
    )
    wheel = next(tmp_path.glob("nephos_pipeline-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for sql in (ROOT / "sql").rglob("*.sql"):
        assert f"nephos_pipeline/sql/{sql.relative_to(ROOT / 'sql')}" in names
    assert "nephos_pipeline/api/templates/page.html" in names
    assert "nephos_pipeline/orchestration/local_dagster.yaml" in names  # the local instance settings
