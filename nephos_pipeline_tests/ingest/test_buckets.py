"""METRICS_15M, kept by the load, gives exactly the anomaly scores of re-aggregating raw rows
(and REPORTS_15M, kept with it, equals a rebuild).

The reference is ``sql/analytics/anomaly_scores.sql`` with its ``buckets`` CTE as it was
before the table (the raw 1-minute rows of [range_start - 7 days, range_end] aggregated on
every call). A small simulated fleet is loaded in two windows whose boundary splits a
bucket, then a late hour arrives (a corrected value and an item that was missing); the
scores from the table must equal the reference on every column.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pandas as pd
import pytest

from nephos_pipeline.analytics.anomaly import detector
from nephos_pipeline.ingest import buckets
from nephos_pipeline.ingest.direct import load_items
from nephos_pipeline.simulator.fleet import iter_fleet_items
from nephos_pipeline.simulator.spec import FleetSpec
from nephos_pipeline.simulator.writer import serialize
from nephos_pipeline.sql_files import load_sql
from nephos_pipeline.warehouse import LocalWarehouse
from nephos_pipeline.warehouse import schema as schema_module
from nephos_pipeline.warehouse.schema import ensure_schema

END = datetime(2026, 3, 9, 0, 0)
SPLIT = END - timedelta(days=1, hours=2)  # aligned: the bucket ending here is in both windows
LATE_HOUR = END - timedelta(hours=20)
T0 = datetime(2026, 3, 9, 1, 0)

RAW_BUCKETS = """buckets AS (
    SELECT
        m.INSTANCE_ID,
        m.METRIC,
        CEIL(DATEDIFF('millisecond', '1970-01-01'::TIMESTAMP_NTZ, m.TS) / 900000) AS bucket_no,
        COUNT(*) AS n,
        SUM(m.VALUE) AS s,
        SUM(m.VALUE * m.VALUE) AS ss,
        AVG(m.VALUE) AS bucket_mean,
        MIN(m.VALUE) AS bucket_min,
        MAX(m.VALUE) AS bucket_max,
        PERCENTILE_DISC(0.2) WITHIN GROUP (ORDER BY m.VALUE) AS bucket_low,
        PERCENTILE_DISC(0.8) WITHIN GROUP (ORDER BY m.VALUE) AS bucket_high
    FROM METRICS m
    WHERE m.TS > DATEADD('minute', -15 * %(median_ticks)s, DATEADD('day', -7, %(range_start)s::TIMESTAMP_NTZ))
      AND m.TS <= %(range_end)s::TIMESTAMP_NTZ
      AND ABS(m.VALUE) < 1e150
      AND (
          %(instance_ids_json)s IS NULL
          OR m.INSTANCE_ID IN (
              SELECT f.VALUE::VARCHAR FROM TABLE(FLATTEN(INPUT => PARSE_JSON(%(instance_ids_json)s))) f
          )
      )
    GROUP BY m.INSTANCE_ID, m.METRIC, bucket_no
),
"""


def raw_scores(wh: LocalWarehouse, conn, first: datetime, last: datetime, instance_ids=None) -> pd.DataFrame:
    """The scores as they were computed before METRICS_15M (the reference)."""
    sql = load_sql("analytics/anomaly_scores.sql")
    sql = sql[:sql.index("buckets AS (")] + RAW_BUCKETS + sql[sql.index("series AS ("):]  # the CTE after buckets
    params = {"with_seasonal": 1, "week_from": None, "median_ticks": detector.MEDIAN_TICKS,
              "range_start": first, "range_end": last,
              "instance_ids_json": None if instance_ids is None else pd.Series(instance_ids).to_json(orient="values")}
    scores = wh.query(sql, params, conn)
    scores["tick"] = pd.to_datetime(scores["tick"])
    numeric = scores.columns.difference(["tick", "instance_id", "metric"])
    scores[numeric] = scores[numeric].apply(pd.to_numeric, errors="coerce").astype(float)
    return scores


def _items(spec: FleetSpec) -> list[tuple[str, dict]]:
    return [(table, item) for table, item in iter_fleet_items(spec) if table != "alerts"]


def _window(items, start: datetime, end: datetime) -> list[tuple[str, dict]]:
    lo, hi = (int(t.replace(tzinfo=UTC).timestamp() * 1000) for t in (start, end))
    return [(table, serialize(item)) for table, item in items
            if table == "instances" or lo <= item["timestamp"] < hi]


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    """A 3-host fleet, 8 days, loaded in two windows, then a late hour re-loaded."""
    spec = FleetSpec(start=(END - timedelta(days=8)).replace(tzinfo=UTC), end=END.replace(tzinfo=UTC),
                     instances=3, seed=11)
    items = _items(spec)
    wh = LocalWarehouse(path=str(tmp_path_factory.mktemp("buckets") / "wh"))
    ensure_schema(wh)
    first = END - timedelta(days=8)
    load_items(wh, _window(items, first, SPLIT), first, SPLIT, T0)
    load_items(wh, _window(items, SPLIT, END), SPLIT, END, T0)
    with wh.connection() as conn:
        before = wh.query("SELECT * FROM METRICS_15M ORDER BY INSTANCE_ID, METRIC, BUCKET_NO", None, conn)
    # The late hour: one value corrected (a spike the agent re-sent) and an item that was missing.
    hour = [(t, dict(i)) for t, i in items if t == "instances" or
            LATE_HOUR <= datetime.fromtimestamp(i["timestamp"] / 1000, UTC).replace(tzinfo=None) < LATE_HOUR + timedelta(hours=1)]
    metric_rows = [i for t, i in hour if t == "metrics"]
    metric_rows[5]["cpu_usage"] = Decimal("99.5")
    extra = dict(metric_rows[9], timestamp=metric_rows[9]["timestamp"] + 17_000, cpu_usage=Decimal("97.25"))
    hour.append(("metrics", extra))
    late = [(t, serialize(i)) for t, i in hour]
    load_items(wh, late, LATE_HOUR, LATE_HOUR + timedelta(hours=1), T0 + timedelta(hours=1))
    return wh, before, metric_rows[5]["instance_id"]


def test_scores_from_the_table_equal_the_raw_aggregation_late_row_included(loaded):
    wh, _, late_host = loaded
    first, last = LATE_HOUR - timedelta(hours=2), END  # 89 ticks: the late hour, the split, the last day
    with wh.connection() as conn:
        got = detector.score_ticks(wh, conn, first, last)
        want = raw_scores(wh, conn, first, last)
        one_host = detector.score_ticks(wh, conn, first + timedelta(minutes=7), last - timedelta(minutes=7), [late_host])
        one_host_want = raw_scores(wh, conn, first + timedelta(minutes=7), last - timedelta(minutes=7), [late_host])
    assert len(got) == 89 * 3 * 6
    pd.testing.assert_frame_equal(got, want, check_dtype=False, rtol=1e-10, atol=1e-12)
    assert len(one_host) == 87 * 6
    pd.testing.assert_frame_equal(one_host, one_host_want, check_dtype=False, rtol=1e-10, atol=1e-12)
    # The late values are in: the late hour's CPU high of that host reflects the corrected spike.
    spike = got[(got.instance_id == late_host) & (got.metric == "cpu_usage")
                & (got.tick > pd.Timestamp(LATE_HOUR)) & (got.tick <= pd.Timestamp(LATE_HOUR + timedelta(hours=1)))]
    assert spike.window_max.max() == 99.5


def test_incremental_buckets_equal_a_rebuild_and_the_late_hour_changed_only_its_buckets(loaded):
    wh, before, _ = loaded
    cols = ["instance_id", "metric", "bucket_no"]
    with wh.connection() as conn:
        kept = wh.query("SELECT * FROM METRICS_15M ORDER BY INSTANCE_ID, METRIC, BUCKET_NO", None, conn)
        reports = wh.query("SELECT * FROM REPORTS_15M ORDER BY INSTANCE_ID, BUCKET_NO", None, conn)
        with wh.transaction(conn) as cur:
            buckets.refresh(cur, None, None, T0)
        rebuilt = wh.query("SELECT * FROM METRICS_15M ORDER BY INSTANCE_ID, METRIC, BUCKET_NO", None, conn)
        reports_rebuilt = wh.query("SELECT * FROM REPORTS_15M ORDER BY INSTANCE_ID, BUCKET_NO", None, conn)
    values = kept.columns.difference(["refreshed_at"])
    pd.testing.assert_frame_equal(kept[values], rebuilt[values], check_dtype=False, rtol=1e-12)
    # The report buckets (the silence check's) too, the late hour's extra report included.
    values = reports.columns.difference(["refreshed_at"])
    assert 0 < len(reports) <= len(rebuilt) and reports.reports.sum() > len(reports)
    pd.testing.assert_frame_equal(reports[values], reports_rebuilt[values], check_dtype=False)
    late_no = int(LATE_HOUR.replace(tzinfo=UTC).timestamp()) // 900
    changed = kept.merge(before, on=cols, suffixes=("", "_before"))
    changed = changed[(changed.n != changed.n_before) | (changed.bucket_max != changed.bucket_max_before)]
    assert len(kept) == len(before)
    assert set(changed.bucket_no) <= set(range(late_no + 1, late_no + 5)) and len(changed) >= 1
    # Re-computed buckets carry the late load's time; the others are as they were.
    assert set(kept[kept.bucket_no.between(late_no, late_no + 4)].refreshed_at) == {pd.Timestamp(T0 + timedelta(hours=1))}


def _two_hours_of_one_host(tmp_path) -> LocalWarehouse:
    """A warehouse with 120 one-minute CPU rows of one host in METRICS, values 0..119."""
    wh = LocalWarehouse(path=str(tmp_path / "wh"))
    ensure_schema(wh)
    ts = pd.date_range("2026-03-01 00:01", periods=120, freq="1min")
    frame = pd.DataFrame({"INSTANCE_ID": "i-1", "TS": ts, "METRIC": "cpu_usage", "VALUE": range(120),
                          "LOADED_AT": ts[0]})
    with wh.connection() as conn:
        wh.write_frame(conn, frame, "METRICS")
    return wh


def test_an_existing_deployment_gets_its_history_bucketed_once(tmp_path):
    wh = _two_hours_of_one_host(tmp_path)
    with wh.connection() as conn:  # METRICS loaded before METRICS_15M existed
        wh.execute("DROP TABLE METRICS_15M", None, conn)
        wh.execute("DELETE FROM NEPHOS_SCHEMA_VERSION", None, conn)
    schema_module._applied.clear()
    assert ensure_schema(wh)  # the new schema version: table created, history bucketed
    with wh.connection() as conn:
        got = wh.query("SELECT BUCKET_NO, N, BUCKET_MIN, BUCKET_MAX FROM METRICS_15M ORDER BY BUCKET_NO", None, conn)
        assert buckets.fill_history(wh, conn) == 0  # not again
    assert got.n.tolist() == [15] * 8 and got.bucket_min.tolist() == [15.0 * k for k in range(8)]


def test_a_deployment_with_metrics_15m_gets_its_report_buckets(tmp_path):
    """REPORTS_15M came after METRICS_15M: a deployment that has the one gets the other filled."""
    wh = _two_hours_of_one_host(tmp_path)
    with wh.connection() as conn:
        buckets.rebuild(wh, conn)
        wh.execute("DROP TABLE REPORTS_15M", None, conn)
        wh.execute("DELETE FROM NEPHOS_SCHEMA_VERSION", None, conn)
    schema_module._applied.clear()
    assert ensure_schema(wh)
    with wh.connection() as conn:
        got = wh.query("SELECT BUCKET_NO, REPORTS, FIRST_TS, LAST_TS FROM REPORTS_15M ORDER BY BUCKET_NO", None, conn)
    assert got.reports.tolist() == [15] * 8
    first = pd.Timestamp("2026-03-01 00:01")
    assert got.first_ts.iloc[0] == first and got.last_ts.iloc[-1] == first + pd.Timedelta(minutes=119)
