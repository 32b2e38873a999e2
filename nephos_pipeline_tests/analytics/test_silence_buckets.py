"""The silence check from report buckets (REPORTS_15M) finds what it found on the raw week.

The reference (``reference_silent_hosts.sql`` here) is ``sql/analytics/silent_hosts.sql``
as it was before REPORTS_15M: a DISTINCT over the raw METRICS rows of the week. The fleet
is rough on purpose: a silence of three hours, one still open, a host at a 20-minute
cadence (its cadence sets the threshold), one at a jittered 4 minutes, one at random
intervals, two metrics reported at different seconds, infinite values (still reports), too few reports, a late
row, and unaligned bounds (the buckets the bounds cut are read raw). Gaps, thresholds and
step counts must be equal; the cadence equal for every regular host and close (the gaps
inside a bucket are taken as their average, see the SQL) for the jittered and random ones.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nephos_pipeline.analytics import silence
from nephos_pipeline.ingest import buckets
from nephos_pipeline.tables.contract import LIVE_INSTANCE_STATUSES

REFERENCE = Path(__file__).with_name("reference_silent_hosts.sql")
DAY = datetime(2026, 3, 2)
END = DAY + timedelta(days=8)
IRREGULAR = {"i-jitter", "i-random"}


def _frame(iid: str, ts, metric: str = "cpu_usage", value=20.0) -> pd.DataFrame:
    return pd.DataFrame({"INSTANCE_ID": iid, "TS": pd.DatetimeIndex(ts), "METRIC": metric, "VALUE": value,
                         "LOADED_AT": END})


def _minutely(start: datetime, end: datetime, every: str = "min") -> pd.DatetimeIndex:
    return pd.date_range(start, end, freq=every)


@pytest.fixture
def rough(warehouse):
    rng = np.random.default_rng(11)
    hosts = ["i-regular", "i-open", "i-slow", "i-jitter", "i-random", "i-two", "i-nan", "i-few", "i-late"]
    for iid in [*hosts, "i-gone"]:
        warehouse.execute("INSERT INTO INSTANCES (INSTANCE_ID, HOSTNAME, STATUS, CREATED_AT, LOADED_AT) "
                          "VALUES (%(i)s, %(i)s, %(s)s, %(c)s, %(c)s)",
                          {"i": iid, "s": "terminated" if iid == "i-gone" else "running", "c": DAY})
    silent_from, silent_to = END - timedelta(hours=9, minutes=3), END - timedelta(hours=6, seconds=20)
    regular = _minutely(DAY, END)
    grid = _minutely(DAY, END, "4min")
    jitter = grid + pd.to_timedelta(rng.integers(-25, 25, len(grid)), unit="s")
    random_ts = DAY + pd.to_timedelta(np.cumsum(rng.exponential(150.0, 6000)), unit="s")
    slow = _minutely(DAY, END, "20min")
    frames = [
        _frame("i-regular", regular[(regular <= silent_from) | (regular >= silent_to)]),
        _frame("i-open", regular[regular <= END - timedelta(hours=2, minutes=1)]),
        _frame("i-slow", slow[(slow < END - timedelta(days=1)) | (slow > END - timedelta(days=1) + timedelta(minutes=90))]),
        _frame("i-jitter", jitter[(jitter < END - timedelta(hours=30)) | (jitter > END - timedelta(hours=29))]),
        _frame("i-random", random_ts[random_ts < END]),
        _frame("i-two", regular[regular <= END - timedelta(hours=3)], "cpu_usage"),
        _frame("i-two", regular[regular <= END - timedelta(hours=1)] + timedelta(seconds=30), "memory_usage"),
        _frame("i-nan", regular, value=np.where(np.arange(len(regular)) % 3, np.inf, 5.0)),
        _frame("i-few", regular[:6]),
        _frame("i-late", regular[regular <= END - timedelta(hours=5)]),
        _frame("i-gone", regular[:100]),
    ]
    with warehouse.connection() as conn:
        warehouse.write_frame(conn, pd.concat(frames, ignore_index=True), "METRICS")
        buckets.rebuild(warehouse, conn)
        # A late row: a report inside i-late's silence, loaded after the buckets were built.
        late_at = END - timedelta(hours=3, minutes=17, seconds=5)
        warehouse.write_frame(conn, _frame("i-late", [late_at]), "METRICS")
        buckets.rebuild(warehouse, conn, late_at, late_at + timedelta(seconds=1))
    return warehouse, hosts


def _both(warehouse, first_tick: datetime, last_tick: datetime, resumed_after: datetime | None = None):
    config = silence.SilenceConfig()
    with warehouse.connection() as conn:
        got = silence.measure(warehouse, conn, first_tick, last_tick, config, resumed_after)
        params = {
            "resumed_after": min(first_tick - silence.TICK, resumed_after or first_tick),
            "first_tick": first_tick, "last_tick": last_tick, "lookback_start": first_tick - config.lookback,
            "min_silence_seconds": config.min_silence.total_seconds(), "cadence_multiple": config.cadence_multiple,
            "min_reports": config.min_reports, "live_statuses": json.dumps(LIVE_INSTANCE_STATUSES),
        }
        want = warehouse.query(REFERENCE.read_text(), params, conn)
    return got, want


def _assert_same(got: pd.DataFrame, want: pd.DataFrame) -> None:
    assert len(want) > 0
    cols = ["instance_id", "last_report", "resumed_at"]
    pd.testing.assert_frame_equal(got[cols].reset_index(drop=True), want[cols].reset_index(drop=True),
                                  check_dtype=False)
    regular = ~got.instance_id.isin(IRREGULAR).to_numpy()
    cad_got, cad_want = got.cadence_seconds.astype(float).to_numpy(), want.cadence_seconds.astype(float).to_numpy()
    np.testing.assert_allclose(cad_got[regular], cad_want[regular], rtol=1e-12)
    np.testing.assert_allclose(cad_got[~regular], cad_want[~regular], rtol=0.15)
    np.testing.assert_allclose(got.threshold_seconds.astype(float), want.threshold_seconds.astype(float), rtol=1e-12)


@pytest.mark.parametrize("shift", [timedelta(0), timedelta(minutes=7, seconds=13)], ids=["aligned", "unaligned"])
def test_silences_from_buckets_equal_the_raw_week(rough, shift):
    warehouse, hosts = rough
    first, last = END - timedelta(days=1) + shift, END - shift
    got, want = _both(warehouse, first, last, resumed_after=END - timedelta(days=2))
    assert {"i-regular", "i-open", "i-slow", "i-jitter", "i-late"} <= set(want.instance_id)
    assert "i-few" not in set(want.instance_id) and "i-gone" not in set(want.instance_id)
    _assert_same(got, want)
    slow = got[got.instance_id == "i-slow"]
    assert (slow.threshold_seconds.astype(float) == 3 * 1200).all()  # its cadence sets the threshold


def test_one_quarter_equals_the_raw_week(rough):
    warehouse, _ = rough
    for tick in (END - timedelta(hours=6), END - timedelta(hours=2), END):
        got, want = _both(warehouse, tick, tick)
        _assert_same(got, want)


def test_a_shorter_minimum_silence_is_refused(rough):
    warehouse, _ = rough
    with warehouse.connection() as conn, pytest.raises(ValueError, match="min_silence"):
        silence.measure(warehouse, conn, END, END, silence.SilenceConfig(min_silence=timedelta(minutes=5)))
