"""Least-squares fits for the predictions, from sums the warehouse computed (no SQL here).

``sql/analytics/prediction_trends.sql`` returns, per series, REGR_* results for a line over
the lookback and the cross products of a small design over the recent window (1, hours,
hours², a daily sin/cos pair). Solving those normal equations is a few numbers per series,
so it is done here; the daily harmonic keeps a daily cycle from passing for a trend.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from nephos_pipeline.analytics.common import finite, slope_stats


@dataclass(frozen=True)
class Fit:
    """One least-squares line: value at the window end, slope per hour, its SE and R²."""

    name: str  # "72h" | "recent" | "curve"
    value_at_end: float
    slope: float  # at the window end
    se: float  # of the slope, or of the curvature for the quadratic fit
    r2: float
    n: int
    curvature: float = 0.0  # quadratic term per hour², 0 for straight lines

    def hours_to(self, threshold: float, slope: float | None = None, curvature: float | None = None) -> float:
        """Hours until the fit reaches ``threshold`` (0 if it is there, inf if it never does).

        A curve (curvature > 0, rising at the end) is extrapolated at its *growth rate*,
        r = y''/y' = 2c/b at the window end, as an exponential (see ``_growth_hours``),
        not as the parabola itself: a leak that accelerates keeps accelerating, and a
        parabola fitted over 24 h of it has the window's mean curvature, lower than at its
        end, so it forecast exponential leaks about a third too late. On a true parabola
        the exponential is slightly early (up to ~10 % at half-way), which is the safer error.
        """
        b = self.slope if slope is None else slope
        c = self.curvature if curvature is None else curvature
        gap = threshold - self.value_at_end
        if gap <= 0:
            return 0.0
        if c > 0 and b > 0:
            return _growth_hours(gap, b, 2 * c / b)
        if c > 0:  # not rising yet at the end: the parabola's positive root
            return (-b + math.sqrt(b * b + 4 * c * gap)) / (2 * c)
        return gap / b if b > 0 else math.inf

    def at(self, hours: float) -> float:
        b, c = self.slope, max(self.curvature, 0.0)
        if c > 0 and b > 0:
            rate = 2 * c / b
            return self.value_at_end + b * math.expm1(min(rate * hours, 50.0)) / rate
        return self.value_at_end + b * hours + c * hours * hours

    def bounds(self, threshold: float) -> tuple[float, float]:
        """Earliest and latest crossing within 2 standard errors (of the slope or the curvature)."""
        if self.curvature:
            return (self.hours_to(threshold, curvature=self.curvature + 2 * self.se),
                    self.hours_to(threshold, curvature=max(self.curvature - 2 * self.se, 0.0)))
        return self.hours_to(threshold, self.slope + 2 * self.se), self.hours_to(threshold, self.slope - 2 * self.se)


def _growth_hours(gap: float, slope: float, rate: float) -> float:
    """Hours for y' = slope * e^(rate h) to add ``gap``: solve slope (e^(rate h) - 1) / rate = gap."""
    return math.log1p(gap * rate / slope) / rate


def line_fit(row: Any, prefix: str, name: str, min_points: int) -> Fit | None:
    get = lambda col: finite(getattr(row, f"{prefix}{col}", None))  # noqa: E731
    n, slope, value, r2 = get("n"), get("slope_per_hour"), get("value_at_end"), get("r2")
    if None in (n, slope, value, r2) or n < min_points:
        return None
    se, _p = slope_stats(n, get("sxx"), get("syy"), get("sxy"))
    return Fit(name, value, slope, se or 0.0, r2, int(n))


_DESIGN = ("1", "X", "XX", "S", "C")  # the recent window's columns: 1, hours, hours², daily sin, cos


def _design_sums(row: Any) -> tuple[np.ndarray, np.ndarray, float] | None:
    """X'X (5x5), X'y and y'y of the recent window, from the SQL's Q_* columns."""
    def get(a: str, b: str) -> float | None:  # the SQL names each pair once, in _DESIGN order
        return finite(getattr(row, f"q_{a}{b}".lower(), None))
    xtx = np.zeros((5, 5))
    for i, a in enumerate(_DESIGN):
        for j, b in enumerate(_DESIGN):
            pair = get(a, b) if i <= j else xtx[j, i]
            if pair is None:
                return None
            xtx[i, j] = pair
    xty = [finite(getattr(row, f"q_{a}y".lower(), None)) for a in _DESIGN]
    yty = finite(getattr(row, "q_yy", None))
    if None in xty or yty is None:
        return None
    return xtx, np.array(xty), yty


def recent_fit(row: Any, min_points: int, curved: bool) -> Fit | None:
    """Least squares over the recent window with a daily harmonic: a line, or a curve (x²).

    The harmonic absorbs the daily cycle, which over half a day looks like a trend and over
    a day like curvature. The forecast uses the trend part only (value, slope, curvature).
    """
    sums = _design_sums(row)
    if sums is None:
        return None
    xtx, xty, yty = sums
    n = xtx[0, 0]
    cols = [0, 1, 2, 3, 4] if curved else [0, 1, 3, 4]
    if n < max(min_points, len(cols) + 2):
        return None
    a, v = xtx[np.ix_(cols, cols)], xty[cols]
    try:
        inverse = np.linalg.inv(a)
    except np.linalg.LinAlgError:
        return None
    beta = inverse @ v
    sse = max(yty - float(beta @ v), 0.0)
    sst = yty - xty[0] ** 2 / n
    if sst <= 0:
        return None
    sigma2 = sse / (n - len(cols))
    k = 2 if curved else 1  # the coefficient whose SE bounds the crossing
    se = math.sqrt(max(sigma2 * inverse[k, k], 0.0))
    return Fit("curve" if curved else "recent", float(beta[0]), float(beta[1]), se, 1 - sse / sst, int(n),
               float(beta[2]) if curved else 0.0)
