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
from nephos_pipeline_tests.analytics.conftest import END, clone

WEEK = ["baseline_points", "baseline_buckets", "mean_centre", "std_spread", "median_centre", "mad_spread",
        "peak_mean", "peak_std", "trough_mean", "trough_std", "baseline_high", "baseline_low"]
LOOKBACK = detector.LOOKBACK_TICKS * chunks.TICK
LAST = END.replace(tzinfo=None, minute=0)


@pytest.fixture(scope="module")
def scored(loaded_fleet_dir, tmp_path_factory):
    """Full and week-less scores of a range that starts inside a step incident, so the
    flags of its first ticks depend on the lookback rows (the probe below is sensitive)."""
    wh = clone(loaded_fleet_dir, tmp_path_factory.mktemp("lookback") / "warehouse")
    with wh.connection() as conn:
        week = detector.score_ticks(wh, conn, LAST - timedelta(days=5), LAST)
        steps = detector.flag(week, detector.DEFAULT)
        steps = steps[(steps.method == "step_shift") & (steps.tick >= pd.Timestamp(LAST - timedelta(days=5)) + LOOKBACK)]
        assert not steps.empty  # the simulated week has planted level shifts
        first = steps.tick.min().to_pydatetime()
        last = first + timedelta(hours=6)
        full = detector.score_ticks(wh, conn, first - LOOKBACK, last)
        blind = detector.score_ticks(wh, conn, first - LOOKBACK, last, week_from=first)
    return first, full, blind


def own_flags(scores: pd.DataFrame, config: detector.DetectorConfig, first) -> pd.DataFrame:
    flags = detector.flag(scores, config)
    return flags[flags.tick >= pd.Timestamp(first)].reset_index(drop=True)


def test_sql_nulls_only_the_week_baseline_of_lookback_rows(scored):
    first, full, blind = scored
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
    first, full, blind = scored
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


@pytest.mark.parametrize("config", [detector.DEFAULT, detector.NOVELTY_STEP], ids=lambda c: c.name)
def test_lookback_rows_keep_every_column_a_rule_reads(scored, config):
    first, full, _ = scored
    read = columns_read_on_lookback(full, config, first)
    # The probe sees what the step path reads of the windows before: their level, history and same hour.
    assert {"value", "baseline_hours", "seasonal_buckets"} <= read
    assert not config.lookback_reads_week and not read & set(WEEK)
