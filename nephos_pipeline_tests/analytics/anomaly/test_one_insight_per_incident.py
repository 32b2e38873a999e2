"""One insight per incident: CPU and load together, and a level shift, on the real SQL.

A host's history goes into a local warehouse; ``anomaly_findings.analyse`` runs over the
incident (as a backfill range, and window by window with the insights saved in between,
as the 15-minute schedule runs it), and AI_INSIGHTS is checked.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest

from nephos_pipeline.analytics import anomaly_findings
from nephos_pipeline.insights.llm.local import LocalNarrator
from nephos_pipeline.insights.store import save_findings
from nephos_pipeline.warehouse.local import LocalWarehouse
from nephos_pipeline.warehouse.schema import ensure_schema

START = pd.Timestamp("2026-03-02 00:00")  # a Monday
VCPUS = 4


@pytest.fixture
def warehouse(tmp_path) -> Iterator[LocalWarehouse]:
    warnings.simplefilter("ignore")
    wh = LocalWarehouse(path=str(tmp_path / "wh"))
    ensure_schema(wh)
    yield wh


def host_history(days: int, seed: int = 3) -> pd.DataFrame:
    """1-minute CPU (office hours, noise, short bursts) and its 1-minute load average."""
    index = pd.date_range(START, periods=days * 1440, freq="1min")
    hours = index.hour + index.minute / 60
    rng = np.random.default_rng(seed)
    office = 1 / (1 + np.exp(-(hours - 8.5) / 0.5)) / (1 + np.exp(-(18 - hours) / 0.8))
    office = np.where(index.dayofweek >= 5, 0.3 * office, office)
    bursts = (rng.random(len(index)) < 0.03) * rng.uniform(5, 25, len(index))
    cpu = np.clip(15 + 25 * office + bursts + rng.normal(0, 1.5, len(index)), 0, 100)
    return pd.DataFrame({"cpu_usage": cpu}, index=index)


def with_load(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame["load_avg"] = (frame["cpu_usage"] / 100 * VCPUS).ewm(alpha=0.63, adjust=False).mean()
    return frame


def load(wh: LocalWarehouse, frame: pd.DataFrame) -> None:
    long = frame.rename_axis("TS").reset_index().melt(id_vars="TS", var_name="METRIC", value_name="VALUE")
    long["INSTANCE_ID"], long["LOADED_AT"] = "i-host", START
    with wh.connection() as conn:
        wh.write_frame(conn, long[["INSTANCE_ID", "TS", "METRIC", "VALUE", "LOADED_AT"]], "METRICS")


def analyse_in_steps(wh: LocalWarehouse, first: pd.Timestamp, last: pd.Timestamp, step: pd.Timedelta) -> None:
    """As the schedule runs it: one range after another, saving insights in between."""
    at = first
    while at <= last:
        end = min(at + step - pd.Timedelta(minutes=15), last)
        findings, _ = anomaly_findings.analyse(wh, at.to_pydatetime(), end.to_pydatetime())
        save_findings(wh, LocalNarrator(), findings)
        at = end + pd.Timedelta(minutes=15)


def anomaly_insights(wh: LocalWarehouse) -> pd.DataFrame:
    rows = wh.query("SELECT * FROM AI_INSIGHTS WHERE INSIGHT_TYPE = 'anomaly' ORDER BY CREATED_AT")
    rows["ev"] = [json.loads(e) for e in rows.evidence]
    return rows


@pytest.mark.parametrize("step", [pd.Timedelta(hours=1), pd.Timedelta(hours=24)])
def test_cpu_and_load_rising_together_are_one_insight_naming_both(warehouse, step):
    frame = host_history(8)
    at = START + pd.Timedelta(days=7, hours=10, minutes=3)  # a Monday, office hours
    frame.loc[at:at + pd.Timedelta(minutes=40), "cpu_usage"] = 96.0
    load(warehouse, with_load(frame))
    analyse_in_steps(warehouse, START + pd.Timedelta(days=7, hours=8), START + pd.Timedelta(days=7, hours=20), step)
    insights = anomaly_insights(warehouse)
    assert len(insights) == 1, insights[["metric", "created_at", "title"]].to_dict("records")
    row = insights.iloc[0]
    assert set(row.ev["metrics"]) == {"cpu_usage", "load_avg"}
    assert {r["metric"] for r in row.ev["related"]} == {"load_avg"} - {row.metric} or row.metric == "load_avg"
    assert at <= row.created_at <= at + pd.Timedelta(minutes=30)
    assert row.severity in ("high", "critical")
    assert "CPU" in row.title and "Load" in row.title  # one insight names both metrics


def test_a_level_shift_is_one_insight_and_the_baseline_adapts(warehouse):
    frame = host_history(9)
    shift = START + pd.Timedelta(days=7, hours=2, minutes=7)  # a resize, at night: CPU halves for good
    frame.loc[shift:, "cpu_usage"] *= 0.45
    load(warehouse, with_load(frame))
    first, last = START + pd.Timedelta(days=7), START + pd.Timedelta(days=8, hours=23, minutes=45)
    analyse_in_steps(warehouse, first, last, pd.Timedelta(hours=6))
    insights = anomaly_insights(warehouse)
    assert len(insights) == 1, insights[["metric", "created_at", "title"]].to_dict("records")
    row = insights.iloc[0]
    assert row.ev["direction"] == "below" and set(row.ev["metrics"]) == {"cpu_usage", "load_avg"}
    # A step out of the same hour's range and away from the hour before (the step path) finds
    # it after three windows in a row (persistence): within the hour.
    assert shift <= row.created_at <= shift + pd.Timedelta(hours=1)
    # The incident stayed open while the host stayed shifted (the hold), not by new flags alone.
    assert pd.Timestamp(row.ev["last_tick"]) >= last - pd.Timedelta(minutes=15)
