"""NAB scoring checked against a small example worked out by hand, and a benchmark smoke run."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from benchmarks import detection
from benchmarks.nab import (
    PROFILES,
    NabSeries,
    load_corpus,
    normalised_scores,
    raw_score,
    scaled_sigmoid,
    window_tally,
)

STEP = pd.Timedelta(minutes=5)
T0 = pd.Timestamp("2024-01-01 00:00")


def one_window_series() -> NabSeries:
    """100 rows; probation = floor(0.15 * 100) = 15 rows; one window on rows 40..49 (width 10)."""
    ts = pd.DatetimeIndex([T0 + k * STEP for k in range(100)])
    return NabSeries(key="cat/one.csv", timestamps=ts, values=np.zeros(100),
                     windows=[(ts[40], ts[49])], labels=[ts[45]])


def at(*rows: int) -> list[pd.Timestamp]:
    return [T0 + r * STEP for r in rows]


def test_scaled_sigmoid_matches_nab_definition():
    # S(x) = 2 / (1 + e^{5x}) - 1 = tanh(-5x / 2); S = -1 from x = 3 on.
    assert scaled_sigmoid(-1.0) == pytest.approx(0.9866142981514305)
    assert scaled_sigmoid(-0.5) == pytest.approx(0.8482836399575129)
    assert scaled_sigmoid(0.0) == 0.0
    assert scaled_sigmoid(1.0) == pytest.approx(-0.9866142981514305)
    assert scaled_sigmoid(3.0) == -1.0 and scaled_sigmoid(10.0) == -1.0


def test_hand_worked_example_per_profile():
    series = one_window_series()
    assert series.probation == 15
    # Detections at rows 10, 20, 42, 45, 54, 90:
    #  row 10: inside probation -> ignored.
    #  row 20: after probation, no window before it -> -A_FP.
    #  row 42: first detection in the window [40, 49]: position -(49 - 42 + 1) / 10 = -0.8,
    #          S(-0.8) = tanh(2.0) = 0.9640276, scaled by 1 / S(-1) = 1 / 0.9866143
    #          -> +0.9771068 * A_TP.
    #  row 45: a later detection in the same window -> ignored (only the earliest counts).
    #  row 54: after the window: position |49 - 54| / (10 - 1) = 5/9,
    #          S(5/9) = tanh(-25/18) = -0.8829262 -> -0.8829262 * A_FP.
    #  row 90: position 41/9 >= 3 -> S = -1 -> -A_FP.
    # standard      (A_FP 0.11): 0.9771068 - 0.11 - 0.0971219 - 0.11 = 0.6599850
    # reward_low_FP (A_FP 0.22): 0.9771068 - 0.22 - 0.1942438 - 0.22 = 0.3428631
    # reward_low_FN (A_FP 0.11, A_FN 2): same as standard (the window was found) = 0.6599850
    rows = [10, 20, 42, 45, 54, 90]
    assert raw_score(series, rows, PROFILES["nab_standard"]) == pytest.approx(0.6599850, abs=1e-6)
    assert raw_score(series, rows, PROFILES["nab_low_fp"]) == pytest.approx(0.3428631, abs=1e-6)
    assert raw_score(series, rows, PROFILES["nab_low_fn"]) == pytest.approx(0.6599850, abs=1e-6)
    # Null (no detections) = -A_FN; perfect (detection on row 40) = +A_TP.
    # Normalised = 100 * (raw - null) / (perfect - null):
    #   standard 100 * 1.6599850 / 2 = 82.99925; low FP 100 * 1.3428631 / 2 = 67.14315;
    #   low FN 100 * 2.6599850 / 3 = 88.66617.
    scores = normalised_scores([series], {series.key: at(*rows)})
    assert scores == pytest.approx({"nab_standard": 82.99925, "nab_low_fp": 67.14315, "nab_low_fn": 88.66617},
                                   abs=1e-4)
    assert normalised_scores([series], {series.key: []}) == {k: 0.0 for k in PROFILES}
    assert normalised_scores([series], {series.key: at(40)}) == pytest.approx({k: 100.0 for k in PROFILES})


def test_missed_window_and_windows_inside_probation():
    series = one_window_series()
    # Only a false positive before the window: -A_FN - A_FP.
    assert raw_score(series, [30], PROFILES["nab_low_fn"]) == pytest.approx(-2.11)
    # A window that ends inside probation is not scored at all.
    early = NabSeries(key="cat/e.csv", timestamps=series.timestamps, values=series.values,
                      windows=[(series.timestamps[2], series.timestamps[8])])
    assert raw_score(early, [], PROFILES["nab_standard"]) == 0.0
    # A detection at the window's last row scores S(-1/10) / S(-1) = 0.2495 / 0.9866 = 0.2529.
    assert raw_score(series, [49], PROFILES["nab_standard"]) == pytest.approx(
        math.tanh(0.25) / math.tanh(2.5), abs=1e-9)


def test_window_tally_merges_close_false_alarms():
    series = one_window_series()
    # Alerts: 20 and 25 (25 min apart: one event), 31 (30 min after 25: same chain), 42
    # (window, found; label at row 45 -> delay -15 min), 80 and 95 (75 min apart: two events).
    tally = window_tally(series, at(20, 25, 31, 42, 80, 95))
    summary = tally.summary()
    assert (tally.windows_found, tally.windows_total, tally.false_alarm_events) == (1, 1, 3)
    assert summary["median_delay_minutes"] == -15.0
    weeks = (99 - 15) * 5 / (7 * 24 * 60)
    assert summary["false_alarms_per_week"] == pytest.approx(3 / weeks)
    assert summary["f1"] == pytest.approx(2 * 0.25 * 1.0 / 1.25)  # precision 1/4, recall 1
    # An alert between rows is mapped to the next row, never an earlier one.
    assert window_tally(series, [T0 + 39 * STEP + pd.Timedelta(minutes=1)]).windows_found == 1
    assert window_tally(series, [T0 + 49 * STEP + pd.Timedelta(minutes=1)]).windows_found == 0


def write_tiny_nab(root, days: int = 4) -> None:
    """Two 5-minute series in NAB's layout; one has a spike inside its label window."""
    (root / "data" / "toy").mkdir(parents=True)
    (root / "labels").mkdir()
    rng = np.random.default_rng(0)
    ts = pd.date_range("2024-02-01", periods=days * 288, freq="5min")
    daily = 10 * np.cos(2 * np.pi * (ts.hour + ts.minute / 60).to_numpy(float) / 24)
    spiky = 40 + daily + rng.normal(0, 1, len(ts))
    spike = int(len(ts) * 0.8) + 1  # 04:50 on day 4, inside the window ending at the 05:00 tick
    spiky[spike] += 80
    flat = 20 + daily + rng.normal(0, 1, len(ts))
    fmt = "%Y-%m-%d %H:%M:%S"
    for name, values in (("spiky_cpu_0a1b2c.csv", spiky), ("quiet_cpu_3d4e5f.csv", flat)):
        pd.DataFrame({"timestamp": ts.strftime(fmt), "value": values}).to_csv(root / "data" / "toy" / name, index=False)
    window = [ts[spike - 30].strftime(fmt) + ".000000", ts[spike + 30].strftime(fmt) + ".000000"]
    windows = {"toy/spiky_cpu_0a1b2c.csv": [window], "toy/quiet_cpu_3d4e5f.csv": []}
    labels = {"toy/spiky_cpu_0a1b2c.csv": [ts[spike].strftime(fmt) + ".000000"], "toy/quiet_cpu_3d4e5f.csv": []}
    (root / "labels" / "combined_windows.json").write_text(json.dumps(windows))
    (root / "labels" / "combined_labels.json").write_text(json.dumps(labels))


def test_detection_benchmark_smoke_run(tmp_path, capsys):
    write_tiny_nab(tmp_path / "nab")
    corpus = load_corpus(tmp_path / "nab")
    assert [s.key for s in corpus] == ["toy/quiet_cpu_3d4e5f.csv", "toy/spiky_cpu_0a1b2c.csv"]
    assert detection.series_identity(corpus[1]) == ("spiky_cpu_0a1b2c", "toy/spiky_cpu")
    out = tmp_path / "results.json"
    assert detection.main(["--data", str(tmp_path / "nab"), "--out", str(out), "--no-clean-fleet"]) == 0
    results = json.loads(out.read_text())
    default = results["default"]
    assert default == "default_novelty_step_partial"
    expected_keys = {"nab_standard", "nab_low_fp", "nab_low_fn", "windows_found", "windows_total",
                     "false_alarms_per_week", "f1", "median_delay_minutes"}
    for name in ("null", "seed_3sigma", "rolling_median_mad", "seasonal_median_mad", default):
        assert expected_keys <= set(results["detectors"][name])
    assert results["detectors"]["null"]["nab_standard"] == 0.0
    assert results["perfect_check"]["nab_standard"] == pytest.approx(100.0)
    best = results["detectors"][default]
    assert (best["windows_found"], best["windows_total"]) == (1, 1)
    assert best["false_alarms_per_week"] == 0.0 and best["nab_standard"] > 90
    spiky = results["per_series"][default]["toy/spiky_cpu_0a1b2c.csv"]
    assert spiky["median_delay_minutes"] == pytest.approx(10.0)  # spike at 04:50, insight at the 05:00 tick
    assert "| **default_novelty_step_partial** (default) |" in capsys.readouterr().out
    table = results["insight_precision"]["table"]  # the insight found in the window, labelled true
    assert sum(c["true"] for c in table.values()) == sum(c["insights"] for c in table.values()) == 1


def test_detection_benchmark_rejects_unknown_sections_and_a_partial_precision_table(tmp_path):
    # Both before any work: a typo must not cost a NAB replay, and a partial run must not
    # overwrite the committed precision table (it counts the development seeds' fleet).
    with pytest.raises(SystemExit, match="unknown section"):
        detection.main(["--data", str(tmp_path), "--sections", "shift_fleet,no_such_section"])
    with pytest.raises(SystemExit):
        detection.main(["--data", str(tmp_path), "--sections", "shift_fleet", "--precision-out", str(tmp_path / "p.json")])
    assert not (tmp_path / "p.json").exists()
