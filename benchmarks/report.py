"""Render benchmark results: a Markdown table (docs/benchmarks.md) and optional plots."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from benchmarks.nab import NabSeries

COLUMNS = (
    ("nab_standard", "NAB standard", "{:.1f}"),
    ("nab_low_fp", "NAB low FP", "{:.1f}"),
    ("nab_low_fn", "NAB low FN", "{:.1f}"),
    ("windows_found", "windows found", "{}"),
    ("false_alarms_per_week", "false alarms / week", "{:.2f}"),
    ("f1", "F1", "{:.2f}"),
    ("median_delay_minutes", "median delay (min)", "{:.1f}"),
)


def markdown_table(results: dict) -> str:
    """One row per detector; the default in bold, tuned rows labelled, clean fleet last."""
    clean = results.get("clean_fleet", {}).get("insights_per_instance_week", {})
    header = ["detector", *(title for _, title, _ in COLUMNS), "clean fleet insights / instance-week"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name, row in results["detectors"].items():
        cells = [f"**{name}** (default)" if name == results["default"] else name]
        for key, _, fmt in COLUMNS:
            value = row.get(key)
            if key == "windows_found":
                cells.append(f"{row['windows_found']}/{row['windows_total']}")
            else:
                cells.append("n/a" if value is None else fmt.format(value))
        cells.append(f"{clean[name]:.2f}" if name in clean else "")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def fleet_table(results: dict, section: str = "realistic_fleet") -> str:
    """A labelled fleet section: one row per detector, per seed found / false alarms."""
    fleet = results.get(section)
    if not fleet:
        return ""
    seeds = list(fleet["seeds"])
    role = {str(s): r for r, key in (("dev", "dev_seeds"), ("seen", "seen_seeds"), ("held out", "held_out_seeds"))
            for s in fleet.get(key, [])}
    header = ["detector"] + [f"seed {s} ({role.get(s, '?')}): found / false per healthy instance-week"
                             " / insights per found incident" for s in seeds]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name in fleet["seeds"][seeds[0]]:
        cells = [f"**{name}** (default)" if name == results["default"] else name]
        for seed in seeds:
            row = fleet["seeds"][seed][name]
            cells.append(f"{row['found']}/{row['incidents']} / {row['false_per_healthy_instance_week']:.2f}"
                         f" / {row['insights_per_found_incident']}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot_series(corpus: list[NabSeries], runs: dict[str, dict[str, list[pd.Timestamp]]], folder: Path) -> None:
    """One PNG per series: values, label windows (shaded), labels, probation, detections per detector."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    names = [n for n in runs if n != "null"]
    for series in corpus:
        fig, ax = plt.subplots(figsize=(14, 4.5))
        ax.plot(series.timestamps, series.values, lw=0.5, color="0.35")
        for start, end in series.windows:
            ax.axvspan(start, end, color="tab:red", alpha=0.15)
        for label in series.labels:
            ax.axvline(label, color="tab:red", lw=0.8)
        ax.axvline(series.timestamps[series.probation], color="k", ls="--", lw=0.8)
        top, bottom = float(series.values.max()), float(series.values.min())
        for k, name in enumerate(names):
            ticks = runs[name].get(series.key, [])
            level = top - (top - bottom) * 0.05 * k
            ax.scatter(ticks, [level] * len(ticks), marker="v", s=28, label=f"{name} ({len(ticks)})")
        ax.set_title(f"{series.key}  (shaded: label windows, dashed: end of probation)", fontsize=9)
        ax.legend(fontsize=7, loc="upper left", ncol=3)
        fig.tight_layout()
        fig.savefig(folder / (Path(series.key).stem + ".png"), dpi=80)
        plt.close(fig)
