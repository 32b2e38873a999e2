"""A live host that stops reporting: an anomaly insight naming its last report, resolved on resume."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pandas as pd

from nephos_pipeline.analytics import silence
from nephos_pipeline.ingest import buckets
from nephos_pipeline.insights.llm.local import LocalNarrator
from nephos_pipeline.insights.store import save_findings
from nephos_pipeline.orchestration.checks import freshness

DAY = datetime(2026, 3, 2)
LAST = DAY + timedelta(hours=10, minutes=2)  # prod-db-01's last report before it goes quiet
RESUME = DAY + timedelta(hours=16, minutes=4)
TICK = timedelta(minutes=15)


def reports(warehouse, iid: str, start: datetime, end: datetime) -> None:
    ts = pd.date_range(start, end, freq="min")
    df = pd.DataFrame({"INSTANCE_ID": iid, "TS": ts, "METRIC": "cpu_usage", "VALUE": 20.0, "LOADED_AT": ts})
    with warehouse.connection() as conn:
        warehouse.write_frame(conn, df, "METRICS")
        buckets.rebuild(warehouse, conn, start, end + TICK)  # written to METRICS directly: bucket it, as a DBA would


def fleet(warehouse) -> None:
    for iid, host, status in (("i-db", "prod-db-01", "running"), ("i-web", "prod-web-01", "running"),
                              ("i-old", "old-01", "terminated")):
        warehouse.execute("INSERT INTO INSTANCES (INSTANCE_ID, HOSTNAME, STATUS, CREATED_AT, LOADED_AT) "
                          "VALUES (%(i)s, %(h)s, %(s)s, %(c)s, %(c)s)", {"i": iid, "h": host, "s": status, "c": DAY})
    reports(warehouse, "i-web", DAY, DAY + timedelta(hours=20))
    reports(warehouse, "i-db", DAY, LAST)
    reports(warehouse, "i-old", DAY, DAY + timedelta(hours=1))  # stopped long ago, but not live


def run(warehouse, first: datetime, last: datetime) -> None:
    found, _ = silence.analyse(warehouse, first, last)
    save_findings(warehouse, LocalNarrator(), found)


def insights(warehouse) -> pd.DataFrame:
    df = warehouse.query("SELECT * FROM AI_INSIGHTS WHERE INSIGHT_TYPE = 'anomaly'")
    df["ev"] = [json.loads(e) for e in df.evidence]
    return df


def test_silent_host_is_an_insight_until_it_resumes_and_fails_freshness(warehouse):
    fleet(warehouse)
    now = DAY + timedelta(hours=13)
    run(warehouse, DAY + TICK, now)  # a range run, as a backfill does it
    df = insights(warehouse)
    assert len(df) == 1, df.title.tolist()
    row = df.iloc[0]
    assert json.loads(row.affected_instances) == ["i-db"]
    assert row.title == "prod-db-01 stopped reporting at 10:02 UTC"
    assert "since 2026-03-02 10:02 UTC" in row.description
    assert row.ev["state"] == "silent" and row.ev["last_report"].startswith("2026-03-02T10:02")
    assert row.created_at == DAY + timedelta(hours=10, minutes=30)  # first tick > 15 min after the last report
    assert row.severity == "high" and 0 < row.confidence_score < 1

    check = freshness(warehouse, now)  # per instance: the rest of the fleet is fresh, one host is not
    assert not check.passed
    assert check.metadata["stale_instances"].value == 1 and check.metadata["live_instances"].value == 2

    for tick in pd.date_range(now + TICK, DAY + timedelta(hours=17), freq=TICK):  # then tick by tick
        if tick.to_pydatetime() == DAY + timedelta(hours=16, minutes=30):
            reports(warehouse, "i-db", RESUME, DAY + timedelta(hours=20))  # reports are back (loaded late)
        run(warehouse, tick.to_pydatetime(), tick.to_pydatetime())
    df = insights(warehouse)
    assert len(df) == 1
    row = df.iloc[0]
    assert row.ev["state"] == "resolved" and row.ev["resumed_at"].startswith("2026-03-02T16:04")
    assert row.title == "prod-db-01 stopped reporting for about 6 hours, now resumed"
    assert "until 2026-03-02 16:04 UTC" in row.description and row.severity == "low"
    assert freshness(warehouse, DAY + timedelta(hours=17)).passed


def test_short_gaps_and_stopped_instances_are_not_silences(warehouse):
    fleet(warehouse)
    warehouse.execute("DELETE FROM METRICS WHERE INSTANCE_ID = 'i-web' AND TS > %(a)s AND TS < %(b)s",
                      {"a": DAY + timedelta(hours=3), "b": DAY + timedelta(hours=3, minutes=12)})  # 12 min gap
    found, _ = silence.analyse(warehouse, DAY + TICK, DAY + timedelta(hours=10))
    assert found == []
