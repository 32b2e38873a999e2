"""Detection quality of the project's anomaly detection on a labelled corpus (NAB layout).

    python benchmarks/detection.py --data ../shared/nab --out results.json [--plots DIR]

Replays every series through the same code the ``anomaly_insights`` asset runs, as the
15-minute schedule would: each file is loaded into METRICS of a fresh local warehouse
(instance = file name, metric = category/metric name), ``score_ticks`` scores every tick
(one set-based call; the SQL is causal, so this equals running tick by tick, which a test
checks), ``flag`` applies each detector and ``incidents.advance`` turns flags into
insights. A detection is the creation of an insight, stamped at the tick that created it.
Thresholds are fixed in ``detector.py``; the one tuned row is labelled as tuned and uses
leave-one-series-out. Scores follow NAB's published rules (``benchmarks/nab.py``).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pandas as pd

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import realistic_fleet as realistic  # noqa: E402
from benchmarks.clean_fleet import clean_fleet_frame  # noqa: E402
from benchmarks.forecast_accuracy import forecast_accuracy  # noqa: E402
from benchmarks.insight_precision import created_insights  # noqa: E402
from benchmarks.insight_precision import table as precision_table  # noqa: E402
from benchmarks.nab import (  # noqa: E402
    PROFILES,
    NabSeries,
    WindowTally,
    detection_rows,
    load_corpus,
    normalised_scores,
    perfect_rows,
    raw_score,
    window_tally,
)
from benchmarks.report import fleet_table, markdown_table, plot_series  # noqa: E402
from nephos_pipeline.analytics.anomaly.detector import (  # noqa: E402
    COMPARED,
    DEFAULT,
    NOVELTY_STEP,
    NOVELTY_STEP_WEEKDAY,
    SEED_RULE,
    DetectorConfig,
    flag,
    score_ticks,
)
from nephos_pipeline.ingest import buckets  # noqa: E402
from nephos_pipeline.warehouse.local import LocalWarehouse  # noqa: E402
from nephos_pipeline.warehouse.schema import ensure_schema  # noqa: E402

TUNING_GRID = (2.5, 3.0, 3.5, 4.0, 4.5, 5.0, 6.0)
Detections = dict[str, list[pd.Timestamp]]  # series key -> insight creation ticks


def series_identity(series: NabSeries) -> tuple[str, str]:
    """(instance_id, metric): the file name, and category/metric name without the host hash."""
    category, file_name = series.key.split("/", 1)
    stem = file_name.removesuffix(".csv")
    return stem, f"{category}/{re.sub(r'_[0-9a-f]{6}$', '', stem)}"


def replay_scores(frame: pd.DataFrame) -> pd.DataFrame:
    """Load a METRICS-shaped frame into a fresh local warehouse and score all its ticks."""
    with tempfile.TemporaryDirectory(prefix="nephos-bench-") as folder:
        warehouse = LocalWarehouse(path=folder)
        ensure_schema(warehouse)
        with warehouse.hold(), warehouse.connection() as conn:
            warehouse.write_frame(conn, frame, "METRICS")
            buckets.rebuild(warehouse, conn)  # what the load keeps for anomaly scoring
            start = frame["TS"].min().floor("15min")
            end = frame["TS"].max().ceil("15min")
            return score_ticks(warehouse, conn, start.to_pydatetime(), end.to_pydatetime())


def corpus_frame(corpus: list[NabSeries]) -> pd.DataFrame:
    parts = []
    for series in corpus:
        instance_id, metric = series_identity(series)
        parts.append(pd.DataFrame({"INSTANCE_ID": instance_id, "TS": series.timestamps, "METRIC": metric,
                                   "VALUE": series.values, "LOADED_AT": pd.Timestamp("2024-01-01")}))
    return pd.concat(parts, ignore_index=True)


def insight_ticks(scores: pd.DataFrame, config: DetectorConfig, dedup: bool = True) -> dict[tuple[str, str], list]:
    """(instance, metric) -> ticks a person is notified at: insight creations (or every flag)."""
    rows = flag(scores, config) if not dedup else created_insights(scores, config)
    out: dict[tuple[str, str], list] = {}
    for row in rows.itertuples(index=False):
        out.setdefault((row.instance_id, row.metric), []).append(pd.Timestamp(row.tick))
    return out


def nab_labelled(corpus: list[NabSeries], insights: pd.DataFrame) -> list[tuple[str, str, bool]]:
    """(method, severity, inside a window) of each scored NAB insight (probation is skipped)."""
    by_identity = {series_identity(s): s for s in corpus}
    out = []
    for row in insights.itertuples(index=False):
        series = by_identity[(row.instance_id, row.metric)]
        rows = detection_rows(series, [row.tick])
        if not rows or rows[0] < series.probation:
            continue
        out.append((row.method, row.severity, any(lo <= rows[0] <= hi for lo, hi in series.window_rows())))
    return out


def detections_for(corpus: list[NabSeries], scores: pd.DataFrame, config: DetectorConfig | None,
                   dedup: bool = True) -> Detections:
    by_series = insight_ticks(scores, config, dedup) if config is not None else {}
    return {s.key: by_series.get(series_identity(s), []) for s in corpus}


def evaluate(corpus: list[NabSeries], detections: Detections) -> tuple[dict, dict]:
    """(totals, per-series results) for one detector."""
    totals: dict = dict(normalised_scores(corpus, detections))
    totals.update(sum((window_tally(s, detections[s.key]) for s in corpus), WindowTally()).summary())
    per_series = {}
    for series in corpus:
        row = dict(normalised_scores([series], {series.key: detections[series.key]}))
        # Normalised per file is 0 for a file with no windows; the raw score still shows its FPs.
        row["nab_standard_raw"] = raw_score(series, detection_rows(series, detections[series.key]),
                                            PROFILES["nab_standard"])
        row.update(window_tally(series, detections[series.key]).summary())
        row["detections"] = [str(t) for t in detections[series.key]]
        per_series[series.key] = row
    return totals, per_series


def loso_tuned(corpus: list[NabSeries], scores: pd.DataFrame, base: DetectorConfig) -> tuple[Detections, dict[str, float]]:
    """Leave-one-series-out: each series gets the threshold that scores best on the others."""
    standard = PROFILES["nab_standard"]
    by_threshold = {t: detections_for(corpus, scores, replace(base, z_threshold=t)) for t in TUNING_GRID}
    raw = {t: {s.key: raw_score(s, detection_rows(s, d[s.key]), standard) for s in corpus}
           for t, d in by_threshold.items()}
    chosen, detections = {}, {}
    for series in corpus:
        best = max(TUNING_GRID, key=lambda t: sum(v for k, v in raw[t].items() if k != series.key))
        chosen[series.key] = best
        detections[series.key] = by_threshold[best][series.key]
    return detections, chosen


def clean_fleet(configs: list[DetectorConfig]) -> dict:
    """Anomaly insights per instance-week on a healthy simulated fleet (all false)."""
    frame, source = clean_fleet_frame()
    return fleet_rates(frame, source, configs)


def fleet_rates(frame: pd.DataFrame, source: str, configs: list[DetectorConfig]) -> dict:
    """Insights per instance-week of each detector on a fleet with no incidents."""
    scores = replay_scores(frame)
    ticks = scores["tick"]
    weeks = ((ticks.max() - ticks.min()) - pd.Timedelta(hours=DEFAULT.min_baseline_hours)) / pd.Timedelta(days=7)
    instances = frame["INSTANCE_ID"].nunique()
    result = {"source": source, "instances": int(instances), "metrics": int(frame["METRIC"].nunique()),
              "scored_weeks": round(float(weeks), 3), "insights_per_instance_week": {}}
    for config in configs:
        created = sum(len(v) for v in insight_ticks(scores, config).values())
        result["insights_per_instance_week"][config.name] = round(created / instances / weeks, 3)
    return result


def realistic_fleet(configs: list[DetectorConfig],
                    seeds: tuple[int, ...] = realistic.DEV_SEEDS + realistic.SEEN_SEEDS + realistic.HELD_OUT_SEEDS,
                    kinds: tuple[str, ...] = realistic.KINDS, count: int = realistic.INCIDENTS,
                    plant_seeds: dict[int, int] | None = None, weekend: bool = False) -> dict:
    """The labelled realistic fleet (``benchmarks/realistic_fleet.py``), per seed and detector.

    ``plant_seeds`` maps a fleet seed to another planting seed (the surge-only set);
    ``weekend`` plants on Saturdays and Sundays only (the weekend-resize set).
    """
    out: dict = {"instances": realistic.INSTANCES, "days": realistic.DAYS, "seeds": {},
                 "dev_seeds": list(realistic.DEV_SEEDS), "seen_seeds": list(realistic.SEEN_SEEDS),
                 "held_out_seeds": list(realistic.HELD_OUT_SEEDS), "kinds": list(kinds), "incidents": count}
    for seed in seeds:
        plant_seed = (plant_seeds or {}).get(seed, seed)
        frame, planted = realistic.plant(realistic.healthy_fleet(seed=seed), seed=plant_seed, count=count, kinds=kinds,
                                         weekend=weekend)
        scores = replay_scores(frame)
        ticks = scores["tick"]
        weeks = ((ticks.max() - ticks.min()) - pd.Timedelta(hours=DEFAULT.min_baseline_hours)) / pd.Timedelta(days=7)
        per_detector = {}
        for config in configs:
            insights = created_insights(scores, config)
            created: dict[str, list] = {}
            for row in insights.itertuples(index=False):
                created.setdefault(row.instance_id, []).append(row.tick)
            per_detector[config.name] = realistic.score(planted, created, realistic.INSTANCES, float(weeks))
            if config.name == DEFAULT.name:  # every insight, labelled, for the precision table
                per_detector[config.name]["insights"] = [
                    {"instance_id": r.instance_id, "metric": r.metric, "tick": str(r.tick), "method": r.method,
                     "severity": r.severity, "true": realistic.is_true(planted, r.instance_id, r.tick)}
                    for r in insights.itertuples(index=False)]
        out["seeds"][str(seed)] = per_detector
    return out


# The full results file is large and not committed; its precision section is, because the
# confidence table in analytics/anomaly/precision.py is copied from it (a test compares them).
PRECISION_FILE = Path(__file__).resolve().parent / "results" / "insight_precision.json"


def precision_section(corpus: list[NabSeries], scores: pd.DataFrame, fleet: dict | None) -> dict:
    """Precision of the default's insights per (method, severity), measured out of sample.

    The table (the confidence in code) counts NAB and the development fleet seeds only;
    ``check`` counts the other seeds (seen, held out) per cell beside the confidence the
    table gives them, so the calibration is checked on fleets it was not computed on.
    """
    labelled = nab_labelled(corpus, created_insights(scores, DEFAULT))
    seeds = sorted((fleet or {}).get("seeds", {}))

    def fleet_labelled(seed: str) -> list[tuple[str, str, bool]]:
        return [(r["method"], r["severity"], r["true"]) for r in fleet["seeds"][seed][DEFAULT.name]["insights"]]

    dev = [s for s in seeds if int(s) in realistic.DEV_SEEDS]
    for seed in dev:
        labelled += fleet_labelled(seed)
    measured = precision_table(labelled)
    check = {}
    for seed in (s for s in seeds if s not in dev):
        cells = precision_table(fleet_labelled(seed))
        for key, cell in cells.items():
            true, total = measured.get(key, {"true": 0, "insights": 0}).values()
            cell["table_confidence"] = round((true + 1) / (total + 2), 2) if total else None
        check[seed] = cells
    fleet_insights = sum(len(fleet["seeds"][seed][DEFAULT.name]["insights"]) for seed in dev)
    return {"detector": DEFAULT.name, "sources": ["NAB realAWSCloudwatch", *(f"realistic fleet seed {s}" for s in dev)],
            "fleet_insights": fleet_insights, "table": measured, "check": check}


def sections(with_clean_fleet: bool) -> dict[str, Callable[[], dict]]:
    """Result sections beside NAB, by name: each is computed by its callable and stored as-is.

    Add a benchmark by adding an entry here; ``run`` calls each one once.
    """
    out: dict[str, Callable[[], dict]] = {}
    if with_clean_fleet:
        out["clean_fleet"] = lambda: clean_fleet(list(COMPARED))
        out["realistic_fleet"] = lambda: realistic_fleet(list(COMPARED))
        # Development set for short surges: the dev seeds' fleets with traffic surges only.
        compared = [NOVELTY_STEP, DEFAULT, NOVELTY_STEP_WEEKDAY]
        out["surge_fleet"] = lambda: realistic_fleet(
            compared, seeds=tuple(realistic.SURGE_PLANT_SEEDS), kinds=("traffic_surge",), count=20,
            plant_seeds=realistic.SURGE_PLANT_SEEDS)
        out["shift_fleet"] = lambda: realistic_fleet(  # ... and with resizes only (one per host)
            compared, seeds=tuple(realistic.SHIFT_PLANT_SEEDS), kinds=("cpu_level_shift",), count=10,
            plant_seeds=realistic.SHIFT_PLANT_SEEDS)
        out["weekend_shift_fleet"] = lambda: realistic_fleet(  # ... and with resizes on weekends only
            compared, seeds=tuple(realistic.WEEKEND_PLANT_SEEDS), kinds=("cpu_level_shift",), count=10,
            plant_seeds=realistic.WEEKEND_PLANT_SEEDS, weekend=True)
    out["forecast_accuracy"] = forecast_accuracy  # time-to-threshold error, same results file
    return out


def run(data: Path, plots: Path | None = None, with_clean_fleet: bool = True,
        only: list[str] | None = None) -> dict:
    """NAB, then every section of ``sections`` (or those named in ``only``: a quicker run
    while developing; the precision section needs ``realistic_fleet`` for its fleet part)."""
    chosen_sections = sections(with_clean_fleet)
    unknown = set(only or ()) - set(chosen_sections)
    if unknown:
        raise SystemExit(f"unknown section(s) {sorted(unknown)}; known: {sorted(chosen_sections)}")
    started = time.perf_counter()
    corpus = load_corpus(data)
    scores = replay_scores(corpus_frame(corpus))
    replay_seconds = time.perf_counter() - started
    runs: dict[str, Detections] = {"null": {s.key: [] for s in corpus}}
    runs[f"{SEED_RULE.name}_no_dedup"] = detections_for(corpus, scores, SEED_RULE, dedup=False)
    for config in COMPARED:
        runs[config.name] = detections_for(corpus, scores, config)
    tuned, chosen = loso_tuned(corpus, scores, DEFAULT)
    runs[f"{DEFAULT.name}_TUNED_loso"] = tuned
    results: dict = {"detectors": {}, "default": DEFAULT.name, "per_series": {}}
    for name, detections in runs.items():
        results["detectors"][name], results["per_series"][name] = evaluate(corpus, detections)
    results["tuned_thresholds"] = chosen
    results["perfect_check"] = normalised_scores(
        corpus, {s.key: [s.timestamps[i] for i in perfect_rows(s)] for s in corpus})
    timings = {}
    for name, section in chosen_sections.items():
        if only is not None and name not in only:
            continue
        began = time.perf_counter()
        results[name] = section()
        timings[name] = round(time.perf_counter() - began, 1)
    results["insight_precision"] = precision_section(corpus, scores, results.get("realistic_fleet"))
    results["meta"] = {
        "data": str(data), "series": len(corpus), "score_rows": len(scores),
        "replay_seconds": round(replay_seconds, 1), "section_seconds": timings, "total_seconds": round(time.perf_counter() - started, 1),
        "configs": {c.name: {k: v for k, v in c.__dict__.items() if k != "name"} for c in COMPARED},
        "fixed_thresholds": True, "tuned_rows": [f"{DEFAULT.name}_TUNED_loso"],
    }
    if plots is not None:
        plot_series(corpus, runs, plots)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="NAB-style detection benchmark for Nephos anomaly insights.")
    parser.add_argument("--data", type=Path, required=True, help="folder in NAB's layout (data/, labels/)")
    parser.add_argument("--out", type=Path, default=Path("results.json"))
    parser.add_argument("--precision-out", type=Path, default=None,
                        help=f"also write the insight_precision section here (the committed copy, which the "
                             f"confidence table in code is checked against, is {PRECISION_FILE.relative_to(PRECISION_FILE.parents[2])})")
    parser.add_argument("--plots", type=Path, default=None, help="write one PNG per series here (needs matplotlib)")
    parser.add_argument("--clean-fleet", action=argparse.BooleanOptionalAction, default=True,
                        help="also count insights on a simulated healthy fleet (default: on)")
    parser.add_argument("--sections", default=None,
                        help="comma-separated sections to run beside NAB (default: all), e.g. "
                             "shift_fleet,weekend_shift_fleet while developing; never for the recorded figures")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    only = None if args.sections is None else [x for x in args.sections.split(",") if x]
    if only is not None and args.precision_out is not None:
        parser.error("--precision-out needs the full run (the table counts the development seeds' fleet)")
    results = run(args.data, args.plots, args.clean_fleet, only)
    args.out.write_text(json.dumps(results, indent=2, default=str))
    if args.precision_out is not None:
        args.precision_out.write_text(json.dumps(results["insight_precision"], indent=2, sort_keys=True) + "\n")
    print(markdown_table(results))
    print("\n" + fleet_table(results))
    print("\n" + fleet_table(results, "surge_fleet"))
    print("\n" + fleet_table(results, "shift_fleet"))
    print("\n" + fleet_table(results, "weekend_shift_fleet"))
    print(f"\nwrote {args.out} in {results['meta']['total_seconds']} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
