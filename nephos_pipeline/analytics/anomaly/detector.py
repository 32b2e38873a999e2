"""Score 15-minute ticks against trailing baselines and flag the ones that stand out.

Why split SQL scoring from Python flagging: the warehouse does the heavy, set-based part
once per range (``sql/analytics/anomaly_scores.sql`` returns every method's centre and
spread), and the choice of method, threshold and spread floor is a small vectorised step
here, so the benchmark can compare detectors on one query and the ``anomaly_insights``
asset runs exactly the same code with ``DEFAULT``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from nephos_pipeline.analytics.anomaly import shifts
from nephos_pipeline.analytics.anomaly.config import (  # noqa: F401  (re-exported: the detectors by name)
    COMPARED,
    DEFAULT,
    MAD_TO_SIGMA,
    NOVELTY_SEASONAL,
    NOVELTY_STEP,
    NOVELTY_STEP_WEEKDAY,
    PEAK_NOVELTY_3,
    ROLLING_MAD,
    SEASONAL_MAD,
    SEED_RULE,
    DetectorConfig,
    Method,
    Statistic,
)
from nephos_pipeline.sql_files import load_sql
from nephos_pipeline.warehouse.base import Warehouse

FLAG_COLUMNS = [
    "tick", "instance_id", "metric", "method", "value", "z", "direction",
    "baseline_centre", "baseline_spread", "baseline_points", "usual_level",
]


def lookback_ticks(config: DetectorConfig) -> int:
    """Ticks before a range a detector reads: persistence runs, and for the step path the
    hour before the first window of a run (lags up to 2 x ticks + 2, see ``shifts.step_shift``)."""
    ticks = config.seasonal_ticks - 1 if config.seasonal_z is not None else 0
    if config.step_ratio is not None:
        ticks = max(ticks, 2 * max(config.step_ticks_down, config.step_ticks_up) + 2)
    return ticks


LOOKBACK_TICKS = max(lookback_ticks(c) for c in COMPARED)  # extra ticks to score before a range
# The week median and MAD are taken once a UTC day (at its first tick, 00:15) and shared by
# its 96 ticks (see anomaly_scores.sql): a range's two big medians were about 80 % of its
# scoring, and the default reads them only for its spread floor, the usual level (severity
# in the metric's units, collapse) and the step z. Measured on the detection benchmark: the
# same NAB and fleet figures as per tick (docs/benchmarks.md, "Scale").
MEDIAN_TICKS = 96


def score_ticks(
    warehouse: Warehouse,
    conn: Any,
    range_start: datetime,
    range_end: datetime,
    instance_ids: Sequence[str] | None = None,
    with_seasonal: bool = True,
    week_from: datetime | None = None,
    median_ticks: int = MEDIAN_TICKS,
) -> pd.DataFrame:
    """Every method's baseline for each tick in [range_start, range_end] (UTC, naive).

    Causal by construction (see the SQL), so one call over a range equals calling it per
    tick. Columns: see ``sql/analytics/anomaly_scores.sql``. ``with_seasonal=False`` skips
    the hour-of-day baseline (NULL columns), which only ``seasonal_mad`` reads.
    ``week_from``: ticks before it get no week baseline (NULL columns but
    ``baseline_hours``; the week join and its medians are most of the statement's cost),
    for lookback ticks a detector reads only through its persistence masks
    (``DetectorConfig.lookback_reads_week``). ``median_ticks``: ticks that share one week
    median and MAD, taken at the first of each aligned block (1: the per-tick definition).
    """
    if median_ticks < 1:
        raise ValueError(f"median_ticks must be 1 or more, not {median_ticks}")
    params = {
        "with_seasonal": 1 if with_seasonal else 0,
        "week_from": None if week_from is None else _naive_utc(week_from),
        "median_ticks": int(median_ticks),
        "range_start": _naive_utc(range_start),
        "range_end": _naive_utc(range_end),
        "instance_ids_json": None if instance_ids is None else json.dumps(list(instance_ids)),
    }
    scores = warehouse.query(load_sql("analytics/anomaly_scores.sql"), params, conn)
    if scores.empty:
        return scores
    scores["tick"] = pd.to_datetime(scores["tick"])
    numeric = scores.columns.difference(["tick", "instance_id", "metric"])
    scores[numeric] = scores[numeric].apply(pd.to_numeric, errors="coerce").astype(float)
    return scores


def _col(scores: pd.DataFrame, name: str) -> np.ndarray:
    return scores[name].to_numpy(float)


def evaluate(scores: pd.DataFrame, config: DetectorConfig) -> dict[str, np.ndarray]:
    """Per row: the scored value, baseline centre, floored spread and z (0 where unusable)."""
    level = np.abs(_col(scores, "median_centre"))
    rolling_sigma = MAD_TO_SIGMA * _col(scores, "mad_spread")
    floor = np.fmax(config.spread_floor_rel * np.fmax(np.nan_to_num(level), np.nan_to_num(rolling_sigma)),
                    config.spread_floor_abs)

    def guarded(spread: np.ndarray) -> np.ndarray:
        return np.fmax(np.nan_to_num(spread, nan=0.0), floor)

    usable = _col(scores, "baseline_hours") >= config.min_baseline_hours
    if config.method == "peak_novelty":
        high, low = _col(scores, "window_high"), _col(scores, "window_low")
        up_spread, down_spread = guarded(_col(scores, "peak_std")), guarded(_col(scores, "trough_std"))
        with np.errstate(invalid="ignore"):
            up = np.where(high > _col(scores, "baseline_high"), (high - _col(scores, "peak_mean")) / up_spread, 0.0)
            down = np.where(low < _col(scores, "baseline_low"), (low - _col(scores, "trough_mean")) / down_spread, 0.0)
        up, down = np.nan_to_num(up), np.nan_to_num(down)
        is_up = np.abs(up) >= np.abs(down)
        value = np.where(is_up, high, low)
        centre = np.where(is_up, _col(scores, "peak_mean"), _col(scores, "trough_mean"))
        spread = np.where(is_up, up_spread, down_spread)
        z = np.where(is_up, up, down)
    else:
        if config.method == "mean_std":
            centre, spread = _col(scores, "mean_centre"), guarded(_col(scores, "std_spread"))
        elif config.method == "median_mad":
            centre, spread = _col(scores, "median_centre"), guarded(rolling_sigma)
        else:
            centre = _col(scores, "seasonal_centre")
            spread = guarded(MAD_TO_SIGMA * _col(scores, "seasonal_spread"))
            usable &= _col(scores, "seasonal_buckets") >= config.min_seasonal_buckets
        value = _window_statistic(scores, config, centre)
        with np.errstate(invalid="ignore"):
            z = (value - centre) / spread
    usable &= np.isfinite(z) & np.isfinite(value)
    return {"value": value, "centre": centre, "spread": spread, "z": np.where(usable, z, 0.0)}


def _window_statistic(scores: pd.DataFrame, config: DetectorConfig, centre: np.ndarray) -> np.ndarray:
    """The window mean, or (``extreme``) its point farthest from the centre, as a per-row rule sees it."""
    mean = _col(scores, "value")
    if config.statistic == "mean":
        return mean
    high, low = _col(scores, "window_max"), _col(scores, "window_min")
    return np.where(np.abs(high - centre) >= np.abs(low - centre), high, low)


def flag(scores: pd.DataFrame, config: DetectorConfig) -> pd.DataFrame:
    """Rows whose |z| under ``config`` exceeds its threshold, sorted by tick.

    Columns: tick, instance_id, metric, method, value, z, direction ('high'/'low'),
    baseline_centre, baseline_spread, baseline_points, usual_level.
    """
    if scores.empty:
        return pd.DataFrame(columns=FLAG_COLUMNS)
    scored = evaluate(scores, config)
    z = scored["z"]
    hit = z > config.z_threshold
    if config.flag_low:
        hit |= z < -config.z_threshold
    method = np.full(len(z), config.method, dtype=object)
    paths = (("seasonal_shift", shifts.seasonal_shift, config.seasonal_z),
             ("step_shift", shifts.step_shift, config.step_ratio))
    for name, path, setting in paths:  # a window flagged by an earlier path keeps that path
        if setting is None:
            continue
        found = path(scores, config)
        extra = found["hit"] & ~hit & (config.flag_low | (found["z"] > 0))
        for key in ("value", "centre", "spread", "z"):
            scored[key] = np.where(extra, found[key], scored[key])
        method[extra], hit = name, hit | extra
    if config.drop_ratio is not None and config.flag_low:
        extra = shifts.collapse(scores, config) & ~hit
        # z stays the (small) trough z: the evidence is the size of the fall, see severity_for.
        scored["value"] = np.where(extra, _col(scores, "window_high"), scored["value"])
        scored["centre"] = np.where(extra, _col(scores, "median_centre"), scored["centre"])
        method[extra], hit = "collapse", hit | extra
    z = scored["z"]
    direction = np.where((z > 0) & (method != "collapse"), "high", "low")
    out = pd.DataFrame(
        {
            "tick": scores["tick"].to_numpy()[hit],
            "instance_id": scores["instance_id"].to_numpy()[hit],
            "metric": scores["metric"].to_numpy()[hit],
            "method": method[hit],
            "value": scored["value"][hit],
            "z": z[hit],
            "direction": direction[hit],
            "baseline_centre": scored["centre"][hit],
            "baseline_spread": scored["spread"][hit],
            "baseline_points": _col(scores, "baseline_points")[hit],
            # The series' usual 15-minute mean (the week's median), to tell a level shift.
            "usual_level": _col(scores, "median_centre")[hit],
        }
    )
    return out.sort_values(["tick", "instance_id", "metric"], kind="stable").reset_index(drop=True)


def severity_for(z: float, value: float | None = None, usual: float | None = None) -> str:
    """Severity from |z| and from the size of the change in the metric's own units.

    z: 3-4 medium, 4-6 high, > 6 (or infinite) critical, below 3 low. Why: 4 and 6 sigma
    are the conventional "clearly" and "practically never by chance" levels. Own units:
    a value at a quarter (or 4 times) of its usual level is at least high, and at half (or
    twice) at least medium, because a counter falling to 1 % of its traffic is an outage
    whatever its z (a fall to 0 is only mean/std sigmas away).
    """
    magnitude = abs(float(z))
    by_z = "low"
    if not np.isnan(magnitude):
        by_z = "critical" if magnitude > 6.0 else "high" if magnitude >= 4.0 else "medium" if magnitude >= 3.0 else "low"
    by_units = "low"
    if value is not None and usual is not None and np.isfinite(value) and np.isfinite(usual) and usual > 0 and value >= 0:
        ratio = max(value / usual, usual / value) if value > 0 else np.inf
        by_units = "high" if ratio >= 4.0 else "medium" if ratio >= 2.0 else "low"
    order = ("low", "medium", "high", "critical")
    return max(by_z, by_units, key=order.index)


def _naive_utc(moment: datetime) -> datetime:
    """METRICS.TS is UTC TIMESTAMP_NTZ: convert aware datetimes, keep naive ones as UTC."""
    stamp = pd.Timestamp(moment)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return stamp.to_pydatetime()
