"""Time-to-threshold error of the prediction analysis, and its false forecasts.

    python benchmarks/forecast_accuracy.py [--seeds 0,1,2] [--step-hours 6] [--no-fleet] [--out forecast.json]

Labelled series are written at 1-minute resolution into METRICS of a fresh local
warehouse; the same code the ``prediction_insights`` asset runs (``predictions.measure``
+ ``predictions.findings``) is called at every 6-hour partition end, as the schedule
would (``--step-hours`` replays another cadence, a what-if). For each crossing series:

* **error at first report**: |forecast hours - true hours| / true hours at the first window
  that forecasts the crossing (the figure a person acts on; targets 20 % linear, 30 %
  accelerating, from issue #12), whether it is late, whether its stated range holds the
  truth, and the lead (hours from it to the crossing; none = missed);
* every later forecast's error (median), and whether any window forecast a *future*
  crossing once the value was already over (must be none).

Crossing shapes: linear (disk filling at 0.4-0.6 %/h) and accelerating (a memory leak from
60 % that speeds up: quadratic and exponential, reaching 90 % in 24-48 h, after a flat
day and a half), each with a daily cycle and Gaussian noise. Never-crossing shapes
(``never_crossing``): every forecast on them is a false one. Three seeds per run: 0-2
tuning, 3-5 and 6-8 seen, 9-11 held out. Our own curves, so this measures the fit, not
realism; NAB has no labelled crossings. ``forecast_fleet.py`` adds the false forecasts on
the realistic fleet. The ``72h_only`` row is one straight line over 72 h, for comparison.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from statistics import median

import numpy as np
import pandas as pd

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.forecast_fleet import realistic_fleet  # noqa: E402
from nephos_pipeline.analytics import predictions  # noqa: E402
from nephos_pipeline.sql_files import load_sql  # noqa: E402
from nephos_pipeline.warehouse.local import LocalWarehouse  # noqa: E402
from nephos_pipeline.warehouse.schema import ensure_schema  # noqa: E402

START = datetime(2026, 1, 5)
STEP = timedelta(hours=6)
THRESHOLD = 90.0


CROSSING_SHAPES = ("linear", "quadratic", "exponential")
NEVER_CROSSES = 7 * 24.0  # hours of data of a series that never reaches the threshold


@dataclass(frozen=True)
class Scenario:
    name: str
    shape: str  # linear | quadratic | exponential (cross 90 %); flat | sawtooth | step (never do)
    metric: str
    hours: float  # hours from growth start to 90 % (crossing shapes)
    flat_hours: float = 36.0
    offset_minutes: int = 0  # shifts the crossing against the 6-hour grid, and where the data starts
    noise: float = 0.6
    seed: int = 0
    daily: float = 1.5  # amplitude of the daily cycle, points
    level: float = 60.0  # never-crossing shapes: the base level
    rise: float = 0.0  # sawtooth: points gained per period; step: the step's height
    period: float = 24.0  # sawtooth: hours between rotations; step: hour of the step
    wander: float = 0.0  # SD of a slow random wander (Ornstein-Uhlenbeck, 6 h time constant)

    def curve(self, t_hours: np.ndarray) -> np.ndarray:
        """Noise-free value at hours since START."""
        if self.shape == "flat":
            return np.full_like(t_hours, self.level)
        if self.shape == "sawtooth":  # a log that grows, then rotates back to the base level
            return self.level + self.rise * ((t_hours % self.period) / self.period)
        if self.shape == "step":  # e.g. a deploy that raises the baseline, which then stays flat
            return self.level + self.rise * (t_hours >= self.period)
        g = np.clip(t_hours - self.flat_hours, 0.0, None)
        if self.shape == "linear":
            return 90.0 - 40.0 * (self.hours - g) / min(self.hours, 100.0)  # 40 points in 100 h at most
        x = g / self.hours
        if self.shape == "quadratic":
            return 60.0 + 30.0 * x**2
        return 60.0 + 30.0 * np.expm1(2.5 * x) / np.expm1(2.5)  # exponential

    @property
    def crosses(self) -> bool:
        return self.shape in CROSSING_SHAPES

    def crossing(self) -> datetime:
        return START + timedelta(hours=self.flat_hours + self.hours)

    def last(self) -> datetime:
        """End of the series' data."""
        if not self.crosses:
            return START + timedelta(hours=NEVER_CROSSES)
        return self.crossing() + timedelta(hours=36)


def scenarios(seeds: range = range(3)) -> list[Scenario]:
    out = []
    for seed in seeds:
        for hours in (70.0, 120.0, 200.0):
            out.append(Scenario(f"linear_{int(hours)}h_s{seed}", "linear", "disk_usage", hours, flat_hours=0.0,
                                offset_minutes=97 * seed + 13, noise=0.3, seed=seed))
        for shape in ("quadratic", "exponential"):
            for hours in (24.0, 36.0, 48.0):
                out.append(Scenario(f"{shape}_{int(hours)}h_s{seed}", shape, "memory_usage", hours,
                                    offset_minutes=83 * seed + 29, seed=seed))
        out += never_crossing(seed)
    return out


def never_crossing(seed: int) -> list[Scenario]:
    """Series that never reach 90 %: a forecast on any of them is a false forecast.

    Shapes a forecaster is tempted by: a flat host near the threshold with a daily cycle,
    noise and a slow wander; a log that grows and rotates (sawtooth, daily and 8-hourly);
    a step up (a deploy, a bigger cache) that then stays flat, right below the threshold.
    Peaks of the hourly averages stay below 90.
    """
    off = 71 * seed + 11
    kw = dict(hours=0.0, flat_hours=0.0, offset_minutes=off, seed=seed)
    return [
        Scenario(f"flat_cycle_s{seed}", "flat", "memory_usage", level=80.0, daily=4.0, noise=1.0, **kw),
        Scenario(f"flat_noisy_wander_s{seed}", "flat", "memory_usage", level=76.0, daily=5.0, noise=3.0,
                 wander=2.0, **kw),
        Scenario(f"sawtooth_daily_s{seed}", "sawtooth", "disk_usage", level=62.0, rise=18.0, period=24.0,
                 daily=0.0, noise=0.3, **kw),
        Scenario(f"sawtooth_8h_s{seed}", "sawtooth", "disk_usage", level=72.0, rise=10.0, period=8.0,
                 daily=0.0, noise=0.3, **kw),
        Scenario(f"step_s{seed}", "step", "memory_usage", level=58.0, rise=24.0, period=60.0 + 5 * seed,
                 daily=1.5, noise=0.6, **kw),
    ]


def frame(s: Scenario, iid: str) -> pd.DataFrame:
    minutes = int((s.last() - START).total_seconds() / 60) - s.offset_minutes
    start = START + timedelta(minutes=s.offset_minutes)
    t = (np.arange(minutes) + s.offset_minutes) / 60.0
    rng = np.random.default_rng(s.seed * 1000 + len(s.name))
    daily = s.daily * np.sin(2 * np.pi * (t % 24) / 24)
    values = s.curve(t) + daily + rng.normal(0, s.noise, minutes)
    if s.wander:
        values += _wander(rng, minutes, s.wander)
    values = np.clip(values, 0, 100)
    ts = pd.date_range(start, periods=minutes, freq="min").astype("datetime64[us]")
    return pd.DataFrame({"INSTANCE_ID": iid, "TS": ts, "METRIC": s.metric, "VALUE": values, "LOADED_AT": ts})


def _wander(rng: np.random.Generator, minutes: int, sd: float, tau_minutes: float = 360.0) -> np.ndarray:
    """A slow random wander (AR(1) per minute, stationary SD ``sd``): hours-long drifts that are not trends."""
    phi = float(np.exp(-1.0 / tau_minutes))
    shocks = rng.normal(0, sd * np.sqrt(1 - phi * phi), minutes)
    out = np.empty(minutes)
    level = rng.normal(0, sd)
    for i in range(minutes):
        level = phi * level + shocks[i]
        out[i] = level
    return out


def _ends(first: datetime, last: datetime, step: timedelta = STEP) -> list[datetime]:
    out, t = [], first
    while t <= last:
        out.append(t)
        t += step
    return out


def replay(warehouse: LocalWarehouse, cases: dict[str, Scenario], config: predictions.PredictionConfig,
           last: datetime, step: timedelta = STEP) -> dict[str, list[tuple[datetime, dict]]]:
    """instance -> [(window_end, evidence)] of every prediction finding, as the schedule would see them."""
    seen: dict[str, list[tuple[datetime, dict]]] = {iid: [] for iid in cases}
    for end in _ends(START + timedelta(hours=24), last, step):
        with warehouse.connection() as conn:
            trends = predictions.measure(warehouse, conn, end, config)
        for f in predictions.findings(trends, {}, end, config, {}):
            seen[f.affected_instances[0]].append((end, dict(f.evidence)))
    return seen


def score_never(case: Scenario, observed: list[tuple[datetime, dict]], step: timedelta = STEP) -> dict:
    """False forecasts on a series that never crosses: every window (while it reports) that
    forecast a crossing or said it is over."""
    windows = len(_ends(START + timedelta(hours=24), case.last(), step))
    false = [(end, ev) for end, ev in observed
             if ev.get("state") in ("forecast", "over_threshold") and end <= case.last()]
    return {"shape": case.shape, "windows": windows, "false_forecast_windows": len(false),
            "first_false_forecast": [str(false[0][0]), false[0][1].get("fit"), false[0][1].get("hours_to_threshold"),
                                     false[0][1].get("current_value")] if false else None}


def score(case: Scenario, observed: list[tuple[datetime, dict]]) -> dict:
    crossing = case.crossing()
    forecasts = [(end, ev) for end, ev in observed if ev.get("state") == "forecast" and end < crossing]
    errors, signed = [], []
    for end, ev in forecasts:
        true_hours = (crossing - end).total_seconds() / 3600
        signed.append((ev["hours_to_threshold"] - true_hours) / true_hours)  # > 0: forecast too late
        errors.append(abs(signed[-1]))
    late = [end for end, ev in observed if ev.get("state") == "forecast" and end > crossing + timedelta(hours=1)]
    over = [end for end, ev in observed if ev.get("state") == "over_threshold"]
    first = forecasts[0] if forecasts else None
    return {
        "shape": case.shape, "true_hours_of_growth": case.hours,
        "first_report_error": round(errors[0], 3) if errors else None,
        "first_report_late": signed[0] > 0 if signed else None,
        "first_report_truth_in_range": _in_range(first, crossing) if first else None,
        "first_report_hours_before_crossing": round((crossing - first[0]).total_seconds() / 3600, 1) if first else None,
        "first_report_fit": first[1].get("fit") if first else None,
        "median_error": round(median(errors), 3) if errors else None,
        "future_crossing_after_over": len(late), "said_over_threshold": bool(over),
    }


def _in_range(report: tuple[datetime, dict], crossing: datetime) -> bool:
    """Whether the true hours fall in the report's stated range (hours_low .. hours_high)."""
    end, ev = report
    true_hours = (crossing - end).total_seconds() / 3600
    high = ev.get("hours_high")
    return ev["hours_low"] <= true_hours <= (high if high is not None else float("inf"))


def summarise(rows: dict[str, dict]) -> dict:
    out = {}
    never = [r for r in rows.values() if r["shape"] not in CROSSING_SHAPES]
    out["never_crosses"] = {
        "series": len(never), "series_with_false_forecast": sum(r["false_forecast_windows"] > 0 for r in never),
        "false_forecast_windows": sum(r["false_forecast_windows"] for r in never),
        "windows": sum(r["windows"] for r in never),
    }
    for group in ("linear", "accelerating"):
        chosen = [r for r in rows.values() if r["shape"] in CROSSING_SHAPES
                  and (r["shape"] == "linear") == (group == "linear")]
        firsts = [r["first_report_error"] for r in chosen if r["first_report_error"] is not None]
        out[group] = {
            "series": len(chosen), "reported": len(firsts),
            "first_report_error_median": round(median(firsts), 3) if firsts else None,
            "first_report_error_max": round(max(firsts), 3) if firsts else None,
            "first_report_within_target": sum(e <= (0.2 if group == "linear" else 0.3) for e in firsts),
            "first_report_late": sum(bool(r.get("first_report_late")) for r in chosen),
            "first_report_truth_in_range": sum(bool(r.get("first_report_truth_in_range")) for r in chosen),
            "median_error_all_reports": round(median([r["median_error"] for r in chosen if r["median_error"] is not None]), 3)
            if firsts else None,
            "first_report_hours_before_crossing": _spread([r["first_report_hours_before_crossing"] for r in chosen
                                                           if r["first_report_hours_before_crossing"] is not None]),
            "future_crossing_after_over": sum(r["future_crossing_after_over"] for r in chosen),
            "said_over_threshold": sum(r["said_over_threshold"] for r in chosen),
        }
    return out


def _spread(values: list[float]) -> dict | None:
    """min / median / max, or None when there is nothing to spread."""
    return {"min": min(values), "median": median(values), "max": max(values)} if values else None


TUNED_SEEDS, SEEN_SEEDS, HELD_OUT_SEEDS = range(3), range(3, 9), range(9, 12)


def forecast_accuracy(seeds: range | list[int] = TUNED_SEEDS, step: timedelta = STEP, with_fleet: bool = True) -> dict:
    """The benchmark: per-method summaries (current and the 72 h-only baseline) and per-series rows.

    The prediction settings were chosen on seeds 0-2; seeds 3-5 and 6-8 were held-out
    checks (seen since: the lag rule and the range margin came after 6-8); seeds 9-11
    were run once with the final code (docs/benchmarks.md). ``step`` other than 6 h is a what-if of a faster prediction cadence.
    ``with_fleet`` adds the false forecasts on the realistic fleet (``forecast_fleet.py``).
    """
    cases = {f"f-{i:03d}": s for i, s in enumerate(scenarios(seeds))}
    with tempfile.TemporaryDirectory(prefix="nephos-forecast-") as tmp:
        warehouse = LocalWarehouse(path=str(Path(tmp) / "warehouse"))
        ensure_schema(warehouse)
        with warehouse.connection() as conn:
            warehouse.write_frame(conn, pd.concat([frame(s, iid) for iid, s in cases.items()]), "METRICS")
        warehouse.execute_script(load_sql("views/rollups.sql"))
        last = max(s.last() for s in cases.values())
        methods = {"two_fits": predictions.PredictionConfig(),
                   "72h_only": replace(predictions.PredictionConfig(), recent_min_points=10**6)}
        result: dict = {"threshold": THRESHOLD, "step_hours": step.total_seconds() / 3600, "seeds": list(seeds),
                        "targets": {"linear_first_report_error": 0.2, "accelerating_first_report_error": 0.3}}
        for name, config in methods.items():
            seen = replay(warehouse, cases, config, last, step)
            rows = {f"{iid}:{s.name}": score(s, seen[iid]) if s.crosses else score_never(s, seen[iid], step)
                    for iid, s in cases.items()}
            result[name] = {"summary": summarise(rows), "series": rows}
    if with_fleet:
        result["realistic_fleet"] = realistic_fleet()  # false forecasts on a fleet nobody tuned on (6 h cadence)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--seeds", default="0,1,2",
                        help="comma-separated: 0-2 tuning, 3-8 seen, 9-11 held out (run once)")
    parser.add_argument("--step-hours", type=float, default=STEP.total_seconds() / 3600,
                        help="prediction cadence to replay (6 = the schedule's; less is a what-if)")
    parser.add_argument("--no-fleet", action="store_true", help="skip the realistic-fleet false-forecast check")
    args = parser.parse_args(argv)
    result = forecast_accuracy([int(x) for x in args.seeds.split(",")], timedelta(hours=args.step_hours),
                               with_fleet=not args.no_fleet)
    text = json.dumps(result, indent=2, default=str)
    if args.out:
        args.out.write_text(text)
    print(json.dumps({k: v["summary"] for k, v in result.items() if isinstance(v, dict) and "summary" in v}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
