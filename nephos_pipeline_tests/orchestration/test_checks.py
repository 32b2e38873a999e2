"""Asset checks fail on seeded bad data and pass on good data."""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
import pytest

from nephos_pipeline.orchestration.checks import build_checks

NOW = datetime.utcnow().replace(microsecond=0, second=0)


def put_metrics(wh, rows, table="METRICS"):
    df = pd.DataFrame(rows, columns=["INSTANCE_ID", "TS", "METRIC", "VALUE"])
    if table == "METRICS":
        df["LOADED_AT"] = NOW
    else:
        df["EXTRACTED_AT"] = NOW
    with wh.connection() as conn:
        wh.write_frame(conn, df, table)


def evaluate(wh, name):
    for check in build_checks():
        spec = next(iter(check.check_specs))
        if spec.name == name:
            return check.op.compute_fn.decorated_fn(warehouse=wh)
    raise KeyError(name)


@pytest.fixture
def good(warehouse):
    rows = [("i-1", NOW - timedelta(minutes=m), "cpu_usage", 10.0 + m) for m in range(5)]
    put_metrics(warehouse, rows)
    put_metrics(warehouse, rows, "LANDING_METRICS")
    warehouse.execute("INSERT INTO INSTANCES (INSTANCE_ID, STATUS, LOADED_AT) VALUES ('i-1', 'active', SYSDATE())")
    return warehouse


CHECKS = ["metrics_match_landing", "metrics_unique_keys", "metrics_values_in_range", "metrics_fresh",
          "alerts_unique_keys", "anomaly_insights_rows_valid"]


@pytest.mark.parametrize("name", CHECKS)
def test_checks_pass_on_good_data(good, name):
    assert evaluate(good, name).passed


def test_checks_fail_on_bad_data(good):
    put_metrics(good, [("i-1", NOW - timedelta(minutes=1), "cpu_usage", 150.0)])  # duplicate key, out of range
    put_metrics(good, [("i-2", NOW - timedelta(minutes=2), "disk_usage", 5.0)], "LANDING_METRICS")  # not loaded
    good.execute(
        "INSERT INTO ALERTS (ALERT_ID, SOURCE, LOADED_AT) VALUES ('a', 'agent', SYSDATE()), ('a', 'agent', SYSDATE())")
    good.execute(
        "INSERT INTO AI_INSIGHTS (INSIGHT_ID, INSIGHT_TYPE, FINGERPRINT, SEVERITY, TITLE, DESCRIPTION, "
        "CONFIDENCE_SCORE, AI_GENERATED, CREATED_AT, LAST_SEEN_AT, EXPIRES_AT) VALUES "
        "('x', 'guess', 'f', 'urgent', 't', 'd', 1.5, FALSE, SYSDATE(), SYSDATE(), DATEADD(DAY, -1, SYSDATE()))")
    for name in ["metrics_match_landing", "metrics_unique_keys", "metrics_values_in_range", "alerts_unique_keys",
                 "anomaly_insights_rows_valid"]:
        result = evaluate(good, name)
        assert not result.passed, name
        assert result.metadata["offending_rows"].value >= 1


def test_freshness_fails_when_live_fleet_stops_reporting(warehouse):
    put_metrics(warehouse, [("i-1", NOW - timedelta(hours=3), "cpu_usage", 1.0)])
    warehouse.execute("INSERT INTO INSTANCES (INSTANCE_ID, STATUS, LOADED_AT) VALUES ('i-1', 'active', SYSDATE())")
    assert not evaluate(warehouse, "metrics_fresh").passed


def test_freshness_is_per_instance_and_knows_running(warehouse):
    """One silent 'running' host fails the check however fresh the rest of the fleet is."""
    put_metrics(warehouse, [("i-1", NOW - timedelta(minutes=1), "cpu_usage", 1.0),
                            ("i-2", NOW - timedelta(hours=5), "cpu_usage", 1.0)])
    warehouse.execute("INSERT INTO INSTANCES (INSTANCE_ID, STATUS, LOADED_AT) VALUES "
                      "('i-1', 'running', SYSDATE()), ('i-2', 'running', SYSDATE()), ('i-3', 'stopped', SYSDATE())")
    result = evaluate(warehouse, "metrics_fresh")
    assert not result.passed
    assert result.metadata["stale_instances"].value == 1
    warehouse.execute("UPDATE INSTANCES SET STATUS = 'stopped' WHERE INSTANCE_ID = 'i-2'")
    assert evaluate(warehouse, "metrics_fresh").passed
