"""Chunked scoring (hosts x time slices) gives exactly what one big scoring statement gives."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timedelta

import pandas as pd
import pytest

from nephos_pipeline.analytics import anomaly_findings
from nephos_pipeline.analytics.anomaly import chunks, detector
from nephos_pipeline.settings import Chunking
from nephos_pipeline_tests.analytics.conftest import END

ONE_STATEMENT = Chunking(instances=10**6, rows=10**9)
SMALL = Chunking(instances=3, rows=50)  # 3 hosts x 6 metrics -> 2-tick slices


def test_plan_covers_every_host_and_tick_exactly_once():
    series = pd.DataFrame({"instance_id": [f"i-{n}" for n in range(7) for _ in range(6)],
                           "metric": [f"m{k}" for _ in range(7) for k in range(6)]})
    first = datetime(2026, 3, 1)
    last = first + 20 * chunks.TICK
    plan = chunks.plan(series, first, last, Chunking(instances=3, rows=40))
    covered = [(h, c.first_tick + k * chunks.TICK) for c in plan for h in c.instance_ids
               for k in range(int((c.last_tick - c.first_tick) / chunks.TICK) + 1)]
    assert len(covered) == len(set(covered)) == 7 * 21
    assert max(len(c.instance_ids) for c in plan) == 3
    assert max(len(c.instance_ids) * 6 * ((c.last_tick - c.first_tick) / chunks.TICK + 1) for c in plan) <= 40


def test_one_tick_reads_bigger_host_groups():
    series = pd.DataFrame({"instance_id": [f"i-{n:03d}" for n in range(10) for _ in range(6)],
                           "metric": [f"m{k}" for _ in range(10) for k in range(6)]})
    first = datetime(2026, 3, 1)
    setting = Chunking(instances=3, rows=10**6, tick_instances=5)
    assert [len(c.instance_ids) for c in chunks.plan(series, first, first, setting)] == [5, 5]
    assert [len(c.instance_ids) for c in chunks.plan(series, first, first + chunks.TICK, setting)] == [3, 3, 3, 1]
    assert Chunking.from_env({"NEPHOS_CHUNK_TICK_INSTANCES": "7"}).tick_instances == 7


def test_bad_setting_is_a_clear_error():
    assert Chunking.from_env({"NEPHOS_CHUNK_INSTANCES": "25"}).instances == 25
    with pytest.raises(ValueError, match="NEPHOS_CHUNK_ROWS"):
        Chunking.from_env({"NEPHOS_CHUNK_ROWS": "0"})


def test_chunked_flags_equal_one_statement(fleet_warehouse):
    end = END.replace(tzinfo=None, minute=0)
    first, last = end - timedelta(hours=8) + chunks.TICK, end
    with fleet_warehouse.connection() as conn:
        # One statement over the range and the lookback persistence rules read, flags of the range kept.
        scores = detector.score_ticks(fleet_warehouse, conn, first - detector.LOOKBACK_TICKS * chunks.TICK, last)
        whole = detector.flag(scores, detector.DEFAULT)
        whole = whole[whole["tick"] >= pd.Timestamp(first)].reset_index(drop=True)
        small, levels_small, scored_small = chunks.flag_range(fleet_warehouse, conn, first, last, chunking=SMALL)
        big, levels_big, scored_big = chunks.flag_range(fleet_warehouse, conn, first, last, chunking=ONE_STATEMENT)
    assert len(whole) >= 1
    pd.testing.assert_frame_equal(small, whole, check_dtype=False)
    pd.testing.assert_frame_equal(big, whole, check_dtype=False)
    assert scored_small == scored_big == 8 * 6
    # Levels are kept for flagged series only (not the whole fleet); from each series' first
    # flag on (all the incident lifecycle reads) both chunkings keep the same rows.
    first_flag = whole.groupby(["instance_id", "metric"])["tick"].min()

    def after_first_flag(levels: pd.DataFrame) -> pd.DataFrame:
        since = [first_flag[(i, m)] for i, m in zip(levels.instance_id, levels.metric, strict=True)]
        kept = levels[pd.to_datetime(levels["tick"]) >= pd.Series(since, index=levels.index)]
        return kept.sort_values(["tick", "instance_id", "metric"]).reset_index(drop=True)

    assert set(zip(levels_big.instance_id, levels_big.metric, strict=True)) == set(first_flag.index)
    pd.testing.assert_frame_equal(after_first_flag(levels_small), after_first_flag(levels_big), check_dtype=False)


@pytest.mark.parametrize("config", detector.COMPARED, ids=lambda c: c.name)
def test_every_detector_flags_as_one_full_statement(loaded_fleet_dir, tmp_path, config):
    """Chunks score their lookback ticks without the week baseline unless the detector
    reads it there (``lookback_reads_week``): same flags as one statement scoring every
    column of every tick, for every compared detector."""
    from nephos_pipeline_tests.analytics.conftest import clone

    end = END.replace(tzinfo=None, minute=0)
    first, last = end - timedelta(hours=30) + chunks.TICK, end
    wh = clone(loaded_fleet_dir, tmp_path / "warehouse")
    with wh.connection() as conn:
        scores = detector.score_ticks(wh, conn, first - detector.LOOKBACK_TICKS * chunks.TICK, last)
        whole = detector.flag(scores, config)
        whole = whole[whole["tick"] >= pd.Timestamp(first)].reset_index(drop=True)
        # 16-tick slices: a slice boundary (lookback ticks scored without the week) every 4 hours.
        got, _, _ = chunks.flag_range(wh, conn, first, last, config, Chunking(instances=4, rows=4 * 6 * 16))
    assert len(whole) >= 1
    pd.testing.assert_frame_equal(got, whole, check_dtype=False)


def test_chunked_findings_equal_unchunked(fleet_warehouse):
    end = END.replace(tzinfo=None, minute=0)
    first, last = end - timedelta(hours=8) + chunks.TICK, end
    small, stats_small = anomaly_findings.analyse(fleet_warehouse, first, last, chunking=SMALL)
    big, stats_big = anomaly_findings.analyse(fleet_warehouse, first, last, chunking=ONE_STATEMENT)
    assert len(big) >= 1
    assert [_rounded(asdict(f)) for f in small] == [_rounded(asdict(f)) for f in big]
    assert stats_small == stats_big


def _rounded(value):
    """Sums over the same rows may differ in the last bits (parallel aggregation order)."""
    if isinstance(value, float):
        return float(f"{value:.10g}")
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_rounded(v) for v in value]
    return value
