"""Lookback rows scored without the week baseline give the same flags, for every detector.

Why: ``anomaly/chunks.py`` scores ``detector.LOOKBACK_TICKS`` ticks before each slice
only for the persistence rules (``shifts.persistent``, ``shifts.earlier``), and asks the
scoring SQL to skip the week baseline there (``week_from``): its join and two medians are
most of the statement, and a quarter scores 9 ticks for 1 of its own. That is exact only
while no rule reads a week column of a lookback row, except in the detectors that say so
(``DetectorConfig.lookback_reads_week``). These tests check that the SQL nulls exactly
those columns, that every compared detector flags the same rows, and probe which columns
of the lookback rows the flags depend on, so a rule that starts reading a week column
there fails here instead of silently changing detection.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from nephos_pipeline.analytics.anomaly import chunks, detector
from nephos_pipeline.ingest import buckets
from nephos_pipeline_tests.analytics.conftest import END, clone

WEEK = ["baseline_points", "baseline_buckets", "mean_centre", "std_spread", "median_centre", "mad_spread",
        "peak_mean", "peak_std", "trough_mean", "trough_std", "baseline_high", "baseline_low"]
LOOKBACK = detector.LOOKBACK_TICKS * chunks.TICK
LAST = END.replace(tzinfo=None, minute=0)


@pytest.fixture(scope="module")
def scored(loaded_fleet_dir, tmp_path_factory) -> list[tuple]:
    """Full and week-less scores of ranges that start at the first flag of each path and
    direction (a rise, a planted fall), so the flags of their first ticks depend on the lookback
    rows (the probe below is sensitive to what each path reads of them)."""
    wh = clone(loaded_fleet_dir, tmp_path_factory.mktemp("lookback") / "warehouse")
    out = []
    with wh.connection() as conn:
        # A fall as a resize makes it (the simulated week has rises only): a third of the CPU for 4 hours.
        host = wh.query("SELECT MIN(INSTANCE_ID) AS i FROM METRICS", None, conn)["i"].iloc[0]
        fall = (LAST - timedelta(hours=30), LAST - timedelta(hours=26))
        wh.execute("UPDATE METRICS SET VALUE = VALUE / 3 WHERE INSTANCE_ID = %(i)s AND METRIC = 'cpu_usage' "
                   "AND TS > %(a)s AND TS <= %(b)s", {"i": host, "a": fall[0], "b": fall[1]}, conn)
        buckets.rebuild(wh, conn, fall[0], fall[1] + chunks.TICK)
        week = detector.score_ticks(wh, conn, LAST - timedelta(days=5), LAST)
        flags = detector.flag(week, detector.DEFAULT)
        flags = flags[flags.tick >= pd.Timestamp(LAST - timedelta(days=5)) + LOOKBACK]
        starts = flags.groupby(["method", "direction"]).tick.min()
        assert ("step_shift", "high") in starts.index and ("step_shift", "low") in starts.index  # planted shifts
        for first in sorted(set(starts)):
            first = first.to_pydatetime()
            last = first + timedelta(hours=3)
            full = detector.score_ticks(wh, conn, first - LOOKBACK, last)
            blind = detector.score_ticks(wh, conn, first - LOOKBACK, last, week_from=first)
            out.append((first, full, blind))
    return out


def own_flags(scores: pd.DataFrame, config: detector.DetectorConfig, first) -> pd.DataFrame:
    flags = detector.flag(scores, config)
    return flags[flags.tick >= pd.Timestamp(first)].reset_index(drop=True)


def test_sql_nulls_only_the_week_baseline_of_lookback_rows(scored):
    for first, full, blind in scored:
        _same_but_the_lookback_week(first, full, blind)


def _same_but_the_lookback_week(first, full: pd.DataFrame, blind: pd.DataFrame) -> None:
    look = (full.tick < pd.Timestamp(first)).to_numpy()
    assert look.any() and (~look).any()
    assert blind.loc[look, WEEK].isna().all().all() and full.loc[look, WEEK].notna().all().all()
    rest = full.columns.difference(["std_spread"])
    kept = [c for c in rest if c not in WEEK]  # baseline_hours, windows and same-hour columns of every row
    pd.testing.assert_frame_equal(blind[kept], full[kept], check_dtype=False, rtol=1e-10, atol=1e-12)
    own_week = [c for c in WEEK if c != "std_spread"]
    pd.testing.assert_frame_equal(blind.loc[~look, own_week], full.loc[~look, own_week], rtol=1e-10, atol=1e-12)
    pd.testing.assert_series_equal(blind.loc[~look, "std_spread"], full.loc[~look, "std_spread"], rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("config", detector.COMPARED, ids=lambda c: c.name)
def test_flags_without_lookback_week_are_the_same(scored, config):
    for first, full, blind in scored:
        used = full if config.lookback_reads_week else blind
        want = own_flags(full, config, first)
        pd.testing.assert_frame_equal(own_flags(used, config, first), want, check_dtype=False)


GARBLES = (lambda x: np.full(len(x), np.nan), lambda x: x * 10 + 7, lambda x: x * 0.01 - 1)


def columns_read_on_lookback(scores: pd.DataFrame, config: detector.DetectorConfig, first) -> set[str]:
    """The numeric columns whose lookback rows, garbled, change the flags of the range."""
    base = own_flags(scores, config, first)
    look = scores.tick < pd.Timestamp(first)
    read = set()
    for column in scores.columns.difference(["tick", "instance_id", "metric"]):
        for garble in GARBLES:
            changed = scores.copy()
            changed.loc[look, column] = garble(changed.loc[look, column].to_numpy(float))
            if not own_flags(changed, config, first).equals(base):
                read.add(column)
                break
    return read


@pytest.mark.parametrize("config", [detector.DEFAULT, detector.NOVELTY_STEP, detector.NOVELTY_STEP_WEEKDAY],
                         ids=lambda c: c.name)
def test_lookback_rows_keep_every_column_a_rule_reads(scored, config):
    read = set().union(*(columns_read_on_lookback(full, config, first) for first, full, _ in scored))
    # The probe sees what the step path reads of the windows before: their level, history and same hour.
    assert {"value", "baseline_hours", "seasonal_buckets"} <= read
    if not config.lookback_reads_week:
        assert not read & set(WEEK), (f"{config.name} reads {sorted(read & set(WEEK))} of lookback rows: make "
                                      "DetectorConfig.lookback_reads_week true for it, or stop reading them")
