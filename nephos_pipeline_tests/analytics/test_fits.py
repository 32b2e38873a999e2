"""Crossing times of the prediction fits (``analytics/fits.py``)."""

from __future__ import annotations

import math

import pytest

from nephos_pipeline.analytics.fits import Fit


def curve_at(value: float, slope: float, curvature: float) -> Fit:
    return Fit("curve", value, slope, se=0.001, r2=0.99, n=1440, curvature=curvature)


def test_an_exponential_leak_is_extrapolated_at_its_growth_rate():
    # y = 60 + e^(0.1 t): at t = 10, y' = 0.1 e and y'' = 0.01 e (c = y'' / 2); 90 at t = ln(30) / 0.1.
    t, rate = 10.0, 0.1
    fit = curve_at(60 + math.exp(rate * t), rate * math.exp(rate * t), rate * rate * math.exp(rate * t) / 2)
    truth = math.log(30.0) / rate - t
    assert fit.hours_to(90.0) == pytest.approx(truth, rel=1e-9)
    # The parabola through the same slope and curvature is late by half, a day before.
    b, c, gap = fit.slope, fit.curvature, 90.0 - fit.value_at_end
    parabola = (-b + math.sqrt(b * b + 4 * c * gap)) / (2 * c)
    assert parabola > 1.3 * truth
    assert fit.at(truth) == pytest.approx(90.0, rel=1e-9)


def test_a_parabola_is_forecast_slightly_early_never_late():
    # y = 60 + 30 (t / 24)^2 reaches 90 at t = 24; from t = 12 and t = 18.
    for t in (12.0, 18.0):
        fit = curve_at(60 + 30 * (t / 24) ** 2, 60 * t / 24**2, 30 / 24**2)
        hours = fit.hours_to(90.0)
        assert 0.85 * (24 - t) <= hours <= 24 - t


def test_lines_and_edges_are_unchanged():
    line = Fit("72h", 80.0, 0.5, se=0.01, r2=0.9, n=72)
    assert line.hours_to(90.0) == pytest.approx(20.0) and line.at(4) == pytest.approx(82.0)
    assert line.hours_to(70.0) == 0.0  # already over
    assert Fit("72h", 80.0, -0.5, 0.01, 0.9, 72).hours_to(90.0) == math.inf
    flat_end = curve_at(80.0, 0.0, 0.1)  # not rising yet: the parabola's root
    assert flat_end.hours_to(90.0) == pytest.approx(10.0)
