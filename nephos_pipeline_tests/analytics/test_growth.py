"""The shape guards of the predictions (``analytics/growth.py``), on numbers."""

from __future__ import annotations

from nephos_pipeline.analytics.fits import Fit
from nephos_pipeline.analytics.growth import Growth


def growth(prior_hours: int = 24, prior_max: float | None = 62.0, recent_high: float | None = 70.0,
           max_rise: float | None = 1.0, max_rise_recent: float | None = 1.0) -> Growth:
    return Growth(prior_hours, prior_max, recent_high, max_rise, max_rise_recent)


def test_new_high_needs_the_recent_end_above_every_earlier_hour():
    assert growth().new_high(margin=0.9, min_prior_hours=6)
    # A rotating log or a daily cycle only returns to its old peak.
    assert not growth(prior_max=79.8, recent_high=80.1).new_high(margin=0.9, min_prior_hours=6)
    # Nothing before the recent window to compare with: not new yet.
    assert not growth(prior_hours=3).new_high(margin=0.9, min_prior_hours=6)
    assert not growth(prior_max=None).new_high(margin=0.9, min_prior_hours=6)


def test_gradual_rejects_a_rise_carried_by_one_hour():
    line = Fit("recent", 82.0, 1.0, se=0.05, r2=0.8, n=24)  # 24 points over 24 h
    assert growth(max_rise_recent=3.0).gradual(line, 24.0, max_step_share=0.5)
    assert not growth(max_rise_recent=20.0).gradual(line, 24.0, max_step_share=0.5)  # a step of 20
    # The long line is judged by the largest rise over the whole lookback.
    long = Fit("72h", 80.0, 0.3, se=0.01, r2=0.7, n=72)
    assert not growth(max_rise=15.0, max_rise_recent=0.5).gradual(long, 72.0, max_step_share=0.5)
    # A curve's rise over its window is slope x hours minus curvature x hours².
    curve = Fit("curve", 75.0, 1.6, se=0.002, r2=0.99, n=24, curvature=0.035)
    assert curve.slope * 24 - curve.curvature * 24 * 24 > 0
    assert growth(max_rise_recent=2.0).gradual(curve, 24.0, max_step_share=0.5)
    # No rises measured (a single hour): nothing says it is a step.
    assert growth(max_rise=None, max_rise_recent=None).gradual(line, 24.0, max_step_share=0.5)
