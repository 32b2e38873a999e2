"""Is a series' rise *new and gradual growth*? Guards a prediction's fits must pass.

A least-squares fit sees a slope in shapes that never reach a threshold: a log that
grows and rotates (a sawtooth: each tooth is a clean line), a step up that then stays
flat (a line through a step is steep and fits well), a flat host's slow wander. Their
forecasts were the false ones on benchmarks/forecast_accuracy.py's never-crossing
series. Two facts of the hourly averages tell them from a leak, computed in SQL
(``sql/analytics/prediction_trends.sql``):

* **new high**: a leak takes the value above anything seen before the recent window;
  a sawtooth or a daily cycle only returns to its old peaks. Needed by the recent-window
  fits (the long line covers the whole lookback, so it has nothing before it).
* **gradual**: a trend spreads its rise over many hours; a step puts most of it in one
  or two (two, as a step inside an hour splits over two hourly averages). Needed by
  every fit, over the hours that fit covers.

No Dagster, no SQL here: the numbers come from the prediction query's row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nephos_pipeline.analytics.common import finite
from nephos_pipeline.analytics.fits import Fit


@dataclass(frozen=True)
class Growth:
    """The shape facts of one series in one window (hourly averages)."""

    prior_hours: int  # hours before the recent window, within the lookback
    prior_max: float | None  # their highest hourly average
    recent_high: float | None  # the highest hourly average of the recent window's last quarter
    max_rise: float | None  # the largest rise within two hours over the lookback
    max_rise_recent: float | None  # the same within the recent window

    @classmethod
    def of(cls, row: Any) -> Growth:
        def get(col: str) -> float | None:
            return finite(getattr(row, col, None))
        return cls(int(get("prior_n") or 0), get("prior_max"), get("recent_high"), get("max_rise"),
                   get("max_rise_recent"))

    def new_high(self, margin: float, min_prior_hours: int) -> bool:
        """The recent window's end is above every hour before it (by ``margin``).

        A host with fewer than ``min_prior_hours`` hours before the recent window has
        nothing to compare with, so its growth cannot be called new yet.
        """
        if self.prior_hours < min_prior_hours or self.prior_max is None or self.recent_high is None:
            return False
        return self.recent_high > self.prior_max + margin

    def gradual(self, fit: Fit, hours: float, max_step_share: float) -> bool:
        """No two hours carry more than ``max_step_share`` of the rise ``fit`` explains over ``hours``."""
        jump = self.max_rise_recent if fit.name in ("recent", "curve") else self.max_rise
        if jump is None:
            return True
        rise = fit.slope * hours - fit.curvature * hours * hours  # fitted value at the end minus at the start
        return rise > 0 and jump <= max_step_share * rise
