"""Detection paths beside peak novelty, for what "beyond anything this week" misses.

Why: peak novelty only sees a window that leaves the week's whole range. Two kinds of
incident stay inside it and are common on real fleets:

* **A shift inside the daily range** (a resize halving office-hours CPU, traffic surging
  at night to a level that is normal at noon). The default's ``step`` path (``step_shift``)
  finds it after one day of history: the whole window steps out of the same hour's range
  on the previous days *and* away from the level of the hour before (see its docstring).
  The older ``seasonal shift`` path (off in the default, kept for comparison) compares the
  window mean with the same hour over the trailing week: it must leave that hour's whole
  range, differ from its median by ``seasonal_z`` robust sigmas *and* by ``seasonal_rel``
  of it, for ``seasonal_ticks`` consecutive windows, after a full week of history (with
  less, every Saturday morning looks like an outage to it).
* **A collapse of a non-negative metric** (a byte counter falling to 1 %). Its z is
  bounded (a drop to 0 is only mean/std sigmas away), so the ``drop`` path uses the
  metric's own units: the whole window, its high included, is below 1/``drop_ratio`` of
  the week's lowest low (or 1/``drop_seasonal_ratio`` of the same hour's lowest mean) and
  its mean below 1/``drop_ratio`` of the usual level.

Pure numpy/pandas on the columns of ``sql/analytics/anomaly_scores.sql``; persistence and
the hour before a step use the previous windows of the same series in the scores frame,
so the caller scores ``detector.LOOKBACK_TICKS`` extra ticks before its range
(``anomaly/chunks.py`` does).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from nephos_pipeline.analytics.anomaly.config import MAD_TO_SIGMA, DetectorConfig

TICK = pd.Timedelta(minutes=15)


def _col(scores: pd.DataFrame, name: str) -> np.ndarray:
    return scores[name].to_numpy(float)


def earlier(scores: pd.DataFrame, values: np.ndarray, lags: range) -> list[np.ndarray]:
    """Per lag k: each row's ``values`` of its series' window k ticks earlier, NaN when that
    window is missing (not exactly k x 15 minutes before). Rows are matched within the
    series by tick, so the frame may be in any order; it is sorted once for every lag."""
    frame = pd.DataFrame({"i": scores["instance_id"].to_numpy(), "m": scores["metric"].to_numpy(),
                          "t": pd.to_datetime(scores["tick"]).to_numpy(), "x": np.asarray(values, float)})
    frame = frame.sort_values(["i", "m", "t"], kind="stable")
    groups = frame.groupby(["i", "m"], sort=False)
    rows = frame.index.to_numpy()
    out = []
    for k in lags:
        gap = (frame["t"] - groups["t"].shift(k)).to_numpy()
        shifted = np.full(len(frame), np.nan)
        shifted[rows] = np.where(gap == np.timedelta64(15 * k, "m"), groups["x"].shift(k).to_numpy(float), np.nan)
        out.append(shifted)
    return out


def persistent(scores: pd.DataFrame, mask: np.ndarray, ticks: int) -> np.ndarray:
    """True where ``mask`` also held for the series' ``ticks - 1`` previous consecutive windows."""
    if ticks <= 1 or not mask.any():
        return mask
    held = mask.copy()
    for before in earlier(scores, mask, range(1, ticks)):
        held &= before == 1.0
    return held


def seasonal_shift(scores: pd.DataFrame, config: DetectorConfig) -> dict[str, np.ndarray]:
    """Per row: hit (bool), value (window mean), centre, spread and z of the seasonal path."""
    mean, centre = _col(scores, "value"), _col(scores, "seasonal_centre")
    level = np.nan_to_num(np.abs(_col(scores, "median_centre")))
    spread = np.fmax(np.nan_to_num(MAD_TO_SIGMA * _col(scores, "seasonal_spread")),
                     np.fmax(config.spread_floor_rel * level, config.spread_floor_abs))
    with np.errstate(invalid="ignore"):
        z = np.nan_to_num((mean - centre) / spread)
        big = np.abs(mean - centre) >= (config.seasonal_rel or 0.0) * np.abs(centre)
    usable = ((_col(scores, "baseline_hours") >= config.seasonal_min_hours)
              & (_col(scores, "seasonal_buckets") >= 3 * config.min_seasonal_buckets) & big)
    threshold = config.seasonal_z or np.inf
    with np.errstate(invalid="ignore"):
        up = usable & (z > threshold) & (mean > _col(scores, "seasonal_high"))
        down = usable & (z < -threshold) & (mean < _col(scores, "seasonal_low"))
    hit = persistent(scores, up, config.seasonal_ticks) | persistent(scores, down, config.seasonal_ticks)
    return {"hit": hit, "value": mean, "centre": centre, "spread": spread, "z": z}


def collapse(scores: pd.DataFrame, config: DetectorConfig) -> np.ndarray:
    """Rows where a non-negative series fell below 1/drop_ratio of anything this week.

    "Anything this week" is the week's lowest low or, when ``drop_seasonal_ratio`` is set,
    the lowest 15-minute mean of the same hour on the previous days divided by that
    (larger) ratio. Why both: an outage that starts mid-window leaves its first minutes in
    that window's low, which becomes the week's lowest low for the next window, so the
    outage hides behind its own start; the same-hour baseline leaves today's windows out.
    """
    ratio = config.drop_ratio or np.inf
    low, usual, high = _col(scores, "baseline_low"), _col(scores, "median_centre"), _col(scores, "window_high")
    with np.errstate(invalid="ignore"):
        below = (low > 0) & (high < low / ratio)
        if config.drop_seasonal_ratio is not None:
            same_hour = _col(scores, "seasonal_low")
            below |= ((_col(scores, "seasonal_buckets") >= config.min_seasonal_buckets) & (same_hour > 0)
                      & (high < same_hour / config.drop_seasonal_ratio))
        return ((_col(scores, "baseline_hours") >= config.min_baseline_hours) & below
                & (_col(scores, "value") < usual / ratio))


def _before(scores: pd.DataFrame, lag: int, span: int) -> np.ndarray:
    """Per row: the mean window mean of the series over lags ``lag`` .. ``lag + span - 1``.

    NaN unless all those windows are present and consecutive.
    """
    return sum(earlier(scores, _col(scores, "value"), range(lag, lag + span))) / span


def weekday_low(scores: pd.DataFrame, config: DetectorConfig) -> np.ndarray:
    """Per row: the same hour's lowest mean a fall is judged against.

    A weekday window (Monday to Friday, UTC, by the window's start) with at least
    ``min_seasonal_buckets`` same-hour windows on weekdays in its trailing week gets the
    lowest of those; any other window the lowest of every day (``seasonal_low``). Why: once
    the trailing week holds a weekend, the same hour's lowest mean is the weekend's quiet,
    and a weekday resize to 40-55 % is below the weekdays' range but not 1.3 times below a
    Sunday's. A weekend window keeps every day: its own kind is the low one anyway, a week
    holds at most two such days (too few to set a floor), and the weekend of a week ago
    would still be the host's level before a resize that the weekdays since have absorbed.
    """
    same_low = _col(scores, "seasonal_low")
    weekday = (pd.to_datetime(scores["tick"]) - TICK).dt.dayofweek.to_numpy() < 5
    enough = _col(scores, "seasonal_weekday_buckets") >= config.min_seasonal_buckets
    return np.where(weekday & enough, _col(scores, "seasonal_weekday_low"), same_low)


def step_shift(scores: pd.DataFrame, config: DetectorConfig) -> dict[str, np.ndarray]:
    """A step out of the same-hour range, away from the hour before it (level shifts, surges).

    Why: the seasonal path needs a full week (with fewer days, a Saturday looks like an
    outage) and 50 % *and* 3 robust sigmas. A resize or a night-time surge is visible with
    one previous day if it is a *step*: the whole window (its high for a fall, its low for
    a rise, so 1-3 minute bursts do not count) is ``step_ratio`` times beyond the same hour's
    range on the previous days *and* beyond the level of the hour just before. A Saturday
    morning is below the weekdays' range but at the level of the hour before it (the
    ramp that did not happen), so it is not a step; an office-hours ramp is a step, but
    inside the same hour's range. With ``step_weekday_low`` a weekday's fall is judged
    against the same hour on weekdays (``weekday_low``). Falls must hold ``step_ticks_down`` windows, rises
    ``step_ticks_up``. A fall may use its own, smaller ratio (``step_ratio_down``): a resize
    to 40-55 % at night or on a weekend evening leaves a window high (its 80th percentile,
    above the mean) that 1.5 times does not put below the quiet hour's lowest mean.

    A rise may be judged on partial windows (``step_whole_up`` < ``step_ticks_up``): a
    20-35 minute surge that starts mid-window fills one window whole and the next (or
    the one before) only in part, so "two whole windows" misses it. Then every window of
    the rise must have its mean *and* its high beyond the step (the level held for about
    4 of its 15 minutes and lifted the window's average: one 1-3 minute burst does not
    do both), and ``step_whole_up`` of them their low too. One whole window alone (an
    exactly 15-minute burst, a lunch peak) is still not a step.
    """
    ratio = config.step_ratio or np.inf
    mean, low, high = _col(scores, "value"), _col(scores, "window_low"), _col(scores, "window_high")
    centre = _col(scores, "seasonal_centre")
    usable = ((_col(scores, "baseline_hours") >= config.min_baseline_hours)
              & (_col(scores, "seasonal_buckets") >= config.min_seasonal_buckets))
    level = np.nan_to_num(np.abs(_col(scores, "median_centre")))
    spread = np.fmax(np.nan_to_num(MAD_TO_SIGMA * _col(scores, "seasonal_spread")),
                     np.fmax(config.spread_floor_rel * level, config.spread_floor_abs))
    hit = np.zeros(len(mean), dtype=bool)
    same_low, same_high = _col(scores, "seasonal_low"), _col(scores, "seasonal_high")
    down_before = _before(scores, config.step_ticks_down, 4)
    fall_low = weekday_low(scores, config) if config.step_weekday_low else same_low
    with np.errstate(invalid="ignore"):
        down = config.step_ratio_down or ratio
        fell = usable & (down_before > 0) & (high * down < fall_low) & (high * down < down_before)
    hit |= persistent(scores, fell, config.step_ticks_down)
    ticks = config.step_ticks_up
    before = _before(scores, ticks, 4)
    step = ratio * np.maximum(same_high, before)  # NaN (no step) without either
    with np.errstate(invalid="ignore"):
        whole = usable & (before > 0) & (low > step)
        partial = usable & (before > 0) & (np.minimum(mean, high) > step)
    if config.step_whole_up >= ticks:
        hit |= persistent(scores, whole, ticks)
    else:  # every window at least partial, and ``step_whole_up`` of them (1 or more) whole
        wholes = whole.astype(int) + sum((w == 1.0).astype(int) for w in earlier(scores, whole, range(1, ticks)))
        hit |= persistent(scores, whole | partial, ticks) & (wholes >= max(config.step_whole_up, 1))
    with np.errstate(invalid="ignore"):
        z = np.nan_to_num((mean - centre) / spread)
    return {"hit": hit, "value": mean, "centre": centre, "spread": spread, "z": z}
