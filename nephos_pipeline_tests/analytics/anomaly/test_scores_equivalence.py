"""The shipped scoring SQL returns exactly the rows of its per-tick definition.

The reference (``reference_anomaly_scores.sql`` here) is ``sql/analytics/anomaly_scores.sql``
as it was before it was tuned for 1,000 instances: every (series, tick) joined to its
buckets on the two VARCHAR ids. Detection figures were measured on that version, so the
shipped one must give the same rows, column for column (floats to 1e-10: DuckDB adds up
parallel sums in another order, run to run; ``std_spread`` to 1e-8, as its sum-of-squares
form cancels about eps x mean^2 / variance, so the order of those sums shows from the
tenth digit even between two runs of the same statement). The shipped default shares one
week median and MAD per hour (``detector.MEDIAN_TICKS``); with ``median_ticks=1`` it is the
per-tick definition, and the last test checks the hourly one against medians computed here
from the buckets. The fleet is the simulated week with its planted
incidents, made harder the way real fleets are: a host silent for three hours, a metric
missing for a day, a late row re-bucketed into an old window, and a host that joined two
days ago (a baseline shorter than 672 buckets) next to one with eight days of history.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nephos_pipeline.analytics.anomaly import detector
from nephos_pipeline.ingest import buckets
from nephos_pipeline_tests.analytics.conftest import END

REFERENCE = Path(__file__).with_name("reference_anomaly_scores.sql")
LAST = END.replace(tzinfo=None, minute=0)
FIRST = LAST - timedelta(hours=20)


def assert_same(got: pd.DataFrame, want: pd.DataFrame) -> None:
    rest = got.columns.difference(["std_spread"])
    pd.testing.assert_frame_equal(got[rest], want[rest], check_dtype=False, rtol=1e-10, atol=1e-12)
    pd.testing.assert_series_equal(got["std_spread"], want["std_spread"], check_dtype=False, rtol=1e-8, atol=1e-12)


def reference_scores(wh, conn, first: datetime, last: datetime, instance_ids=None, seasonal: bool = True) -> pd.DataFrame:
    params = {"with_seasonal": 1 if seasonal else 0, "range_start": first, "range_end": last,
              "instance_ids_json": None if instance_ids is None else json.dumps(list(instance_ids))}
    scores = wh.query(REFERENCE.read_text(), params, conn)
    scores["tick"] = pd.to_datetime(scores["tick"])
    numeric = scores.columns.difference(["tick", "instance_id", "metric"])
    scores[numeric] = scores[numeric].apply(pd.to_numeric, errors="coerce").astype(float)
    return scores


@pytest.fixture(scope="module")
def rough_fleet(loaded_fleet_dir, tmp_path_factory):
    from nephos_pipeline_tests.analytics.conftest import clone

    wh = clone(loaded_fleet_dir, tmp_path_factory.mktemp("rough") / "warehouse")
    with wh.connection() as conn:
        hosts = wh.query("SELECT DISTINCT INSTANCE_ID FROM METRICS ORDER BY 1", None, conn)["instance_id"].tolist()
        # A host silent for three hours inside the scored range, a metric missing for a day.
        wh.execute("DELETE FROM METRICS WHERE INSTANCE_ID = %(i)s AND TS > %(a)s AND TS <= %(b)s",
                   {"i": hosts[0], "a": LAST - timedelta(hours=9), "b": LAST - timedelta(hours=6)}, conn)
        wh.execute("DELETE FROM METRICS WHERE INSTANCE_ID = %(i)s AND METRIC = 'memory_usage' AND TS > %(a)s "
                   "AND TS <= %(b)s", {"i": hosts[1], "a": LAST - timedelta(days=4), "b": LAST - timedelta(days=3)}, conn)
        # A late row (a spike re-sent) into an old window and one inside the range.
        late = pd.DataFrame({"INSTANCE_ID": hosts[2], "METRIC": "cpu_usage", "VALUE": [97.5, 99.0],
                             "TS": [LAST - timedelta(days=2, minutes=7, seconds=30), LAST - timedelta(hours=2, minutes=3)],
                             "LOADED_AT": LAST})
        # A host that joined two days ago, reporting every 5 minutes with a daily cycle.
        ts = pd.date_range(LAST - timedelta(days=2), LAST, freq="5min")[1:]
        hours = ts.hour.to_numpy() + ts.minute.to_numpy() / 60
        new = pd.DataFrame({"INSTANCE_ID": "i-newcomer", "TS": np.tile(ts, 2),
                            "METRIC": ["cpu_usage"] * len(ts) + ["load_avg"] * len(ts),
                            "VALUE": np.concatenate([30 + 20 * np.sin(hours / 24 * 2 * np.pi) + (np.arange(len(ts)) % 7),
                                                     1.5 + (np.arange(len(ts)) % 5) * 0.1]),
                            "LOADED_AT": LAST})
        # A host with more than a week of history (the simulated fleet has exactly 7 days), so
        # the 672-bucket bound of the trailing week matters.
        rng = np.random.default_rng(5)
        ts = pd.date_range(LAST - timedelta(days=8, hours=2), LAST, freq="5min")[1:]
        veteran = pd.DataFrame({"INSTANCE_ID": "i-veteran", "TS": ts, "METRIC": "cpu_usage",
                                "VALUE": 40 + 15 * np.cos(ts.hour.to_numpy() / 24 * 2 * np.pi) + rng.gamma(2.0, 3.0, len(ts)),
                                "LOADED_AT": LAST})
        wh.write_frame(conn, pd.concat([late, new, veteran], ignore_index=True), "METRICS")
        buckets.rebuild(wh, conn)  # as a DBA would after a manual correction
    return wh, hosts


@pytest.mark.parametrize("seasonal", [True, False])
def test_scores_equal_the_per_tick_definition(rough_fleet, seasonal):
    wh, hosts = rough_fleet
    with wh.connection() as conn:
        got = detector.score_ticks(wh, conn, FIRST, LAST, with_seasonal=seasonal, median_ticks=1)
        want = reference_scores(wh, conn, FIRST, LAST, seasonal=seasonal)
    assert len(got) == len(want) > 80 * 6 * len(hosts)  # the newcomer's rows included
    assert set(got.instance_id) == set(hosts) | {"i-newcomer", "i-veteran"}
    assert got.baseline_buckets.min() < 672 == got.baseline_buckets.max()  # short, gapped and full baselines
    assert got.seasonal_buckets.min() < 28 if seasonal else got.seasonal_buckets.isna().all()
    assert_same(got, want)


def test_one_host_unaligned_range_equals_the_definition(rough_fleet):
    wh, hosts = rough_fleet
    first, last = FIRST + timedelta(minutes=7), LAST - timedelta(minutes=7)
    with wh.connection() as conn:
        got = detector.score_ticks(wh, conn, first, last, [hosts[0], "i-newcomer", "i-veteran"], median_ticks=1)
        want = reference_scores(wh, conn, first, last, [hosts[0], "i-newcomer", "i-veteran"])
    assert len(got) == len(want) and set(got.instance_id) == {hosts[0], "i-newcomer", "i-veteran"}
    assert_same(got, want)


def test_week_median_is_shared_by_the_ticks_of_a_block(rough_fleet):
    """Default scoring: median_centre and mad_spread of tick T are those of the 672 buckets
    before the first tick of T's block of ``detector.MEDIAN_TICKS`` (computed here with
    numpy from METRICS_15M); every other column is the per-tick definition's. The range
    starts on a block's last tick, so its first median reaches back before the range's own
    trailing week (the buckets the statement reads must include them)."""
    wh, hosts = rough_fleet
    block = detector.MEDIAN_TICKS
    ids = [hosts[0], hosts[2], "i-newcomer", "i-veteran"]
    first_no = (_tick_no(LAST) - 24) // block * block  # a block's last tick, 6 to 6 h + a block before LAST
    first = pd.Timestamp(0).to_pydatetime() + timedelta(minutes=15 * first_no)
    with wh.connection() as conn:
        got = detector.score_ticks(wh, conn, first, LAST, ids)
        exact = detector.score_ticks(wh, conn, first, LAST, ids, median_ticks=1)
        kept = wh.query("SELECT INSTANCE_ID, METRIC, BUCKET_NO, BUCKET_MEAN FROM METRICS_15M", None, conn)
    assert block > 1 and len(got) == len(exact) > 20 * 6
    assert (_tick_no(got.tick.min()) - 1) % block == block - 1  # the range starts on a block's last tick
    rest = got.columns.difference(["median_centre", "mad_spread", "std_spread"])
    pd.testing.assert_frame_equal(got[rest], exact[rest], check_dtype=False, rtol=1e-10, atol=1e-12)
    series = {key: frame.set_index("bucket_no")["bucket_mean"].astype(float).sort_index()
              for key, frame in kept.groupby(["instance_id", "metric"])}
    medians, mads = [], []
    for row in got.itertuples():
        tick_no = _tick_no(row.tick)
        anchor = tick_no - (tick_no - 1) % block
        values = series[(row.instance_id, row.metric)].loc[anchor - 672: anchor - 1].to_numpy()
        centre = np.median(values) if len(values) else np.nan
        medians.append(centre)
        mads.append(np.median(np.abs(values - centre)) if len(values) else np.nan)
    np.testing.assert_allclose(got["median_centre"], medians, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(got["mad_spread"], mads, rtol=1e-10, atol=1e-12)
    assert (np.abs(np.asarray(medians) - exact["median_centre"].to_numpy()) > 1e-9).any()  # not the per-tick one


def _tick_no(moment) -> int:
    return int((pd.Timestamp(moment) - pd.Timestamp(0)) / pd.Timedelta(minutes=15))
