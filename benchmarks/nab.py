"""Load a corpus in NAB's layout and score detections with NAB's published rules.

Why our own scorer: NAB's code is Python 2-era and scores anomaly-score files with a
threshold sweep; we score a fixed set of detections (insight creations) per file. The
rules below follow NAB's current scorer (``nab/sweeper.py``, numenta/NAB):

* probation: the first ``min(floor(0.15 * rows), 0.15 * 5000)`` rows are not scored;
  windows with no row after probation do not count at all;
* a detection at row ``i`` inside a window [l, r] (row indices, width w = r - l + 1)
  scores ``A_TP * S(-(r - i + 1) / w) / S(-1)`` where ``S(x) = 2 / (1 + e^{5x}) - 1``;
  only the best (earliest) detection of a window counts, later ones in it are free;
* a window with no detection scores ``-A_FN``;
* a detection outside every window scores ``A_FP * S(|i - r_prev| / (w_prev - 1))``
  relative to the closest preceding window (``S(x) = -1`` for x >= 3), or ``-A_FP``
  when no window precedes it;
* normalised score = 100 * (raw - null) / (perfect - null), raw, null and perfect summed
  over the files (null: no detections; perfect: a detection at every window row).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

PROBATION_PERCENT = 0.15


@dataclass(frozen=True)
class Profile:
    """NAB's cost matrix for one application profile."""

    tp: float
    fp: float
    fn: float


PROFILES: dict[str, Profile] = {
    "nab_standard": Profile(tp=1.0, fp=0.11, fn=1.0),
    "nab_low_fp": Profile(tp=1.0, fp=0.22, fn=1.0),
    "nab_low_fn": Profile(tp=1.0, fp=0.11, fn=2.0),
}


@dataclass
class NabSeries:
    """One data file: its rows, its label windows and labelled points."""

    key: str  # "<category>/<file>.csv", as in NAB's label files
    timestamps: pd.DatetimeIndex
    values: np.ndarray
    windows: list[tuple[pd.Timestamp, pd.Timestamp]] = field(default_factory=list)
    labels: list[pd.Timestamp] = field(default_factory=list)

    @property
    def probation(self) -> int:
        """Rows excluded from scoring at the start (NAB's probationary period)."""
        rows = len(self.timestamps)
        return int(min(math.floor(PROBATION_PERCENT * rows), PROBATION_PERCENT * 5000))

    def window_rows(self) -> list[tuple[int, int]]:
        """(first row, last row) of each window; windows NAB aligns to row timestamps."""
        ts = self.timestamps
        rows = []
        for start, end in self.windows:
            left = int(ts.searchsorted(start, side="left"))
            right = int(ts.searchsorted(end, side="right")) - 1
            if right >= left:
                rows.append((left, right))
        return rows


def load_corpus(root: str | Path) -> list[NabSeries]:
    """Every ``data/<category>/<file>.csv`` under ``root`` with its windows and labels."""
    root = Path(root)
    windows = json.loads((root / "labels" / "combined_windows.json").read_text())
    labels_path = root / "labels" / "combined_labels.json"
    labels = json.loads(labels_path.read_text()) if labels_path.exists() else {}
    corpus = []
    for path in sorted((root / "data").glob("*/*.csv")):
        key = f"{path.parent.name}/{path.name}"
        frame = pd.read_csv(path)
        corpus.append(
            NabSeries(
                key=key,
                timestamps=pd.DatetimeIndex(pd.to_datetime(frame["timestamp"])),
                values=frame["value"].to_numpy(float),
                windows=sorted((pd.Timestamp(a), pd.Timestamp(b)) for a, b in windows.get(key, [])),
                labels=sorted(pd.Timestamp(x) for x in labels.get(key, [])),
            )
        )
    return corpus


def scaled_sigmoid(position: float) -> float:
    """NAB's S(x) = 2 / (1 + e^{5x}) - 1, and -1 from x >= 3 on."""
    if position >= 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * position)) - 1.0


def detection_rows(series: NabSeries, detections: list[pd.Timestamp]) -> list[int]:
    """Map alert times to rows: the first row at or after the alert (never earlier)."""
    rows = {int(series.timestamps.searchsorted(pd.Timestamp(t), side="left")) for t in detections}
    return sorted(r for r in rows if r < len(series.timestamps))


def raw_score(series: NabSeries, rows: list[int], profile: Profile) -> float:
    """NAB's raw score of detections at ``rows`` for one file."""
    probation = series.probation
    max_tp = scaled_sigmoid(-1.0)
    windows = series.window_rows()
    best: dict[int, float] = {k: -profile.fn for k, (_, r) in enumerate(windows) if r >= probation}
    fp_total = 0.0
    for i in sorted(set(rows)):
        if i < probation:
            continue
        inside = [k for k, (lo, hi) in enumerate(windows) if lo <= i <= hi]
        if inside:
            k = inside[0]
            lo, hi = windows[k]
            width = hi - lo + 1
            score = scaled_sigmoid(-(hi - i + 1) / width) * profile.tp / max_tp
            best[k] = max(best[k], score)
            continue
        preceding = [(lo, hi) for lo, hi in windows if hi < i]
        if not preceding:
            fp_total -= profile.fp
            continue
        lo, hi = max(preceding, key=lambda w: w[1])
        width = hi - lo + 1
        position = abs(hi - i) / (width - 1) if width > 1 else 3.0
        fp_total += scaled_sigmoid(position) * profile.fp
    return sum(best.values()) + fp_total


def perfect_rows(series: NabSeries) -> list[int]:
    """A detection on every window row: NAB's perfect detector."""
    return [i for lo, hi in series.window_rows() for i in range(lo, hi + 1)]


def normalised_scores(corpus: list[NabSeries], detections: dict[str, list[pd.Timestamp]]) -> dict[str, float]:
    """Profile name -> NAB normalised score of ``detections`` (series key -> alert times)."""
    out = {}
    for name, profile in PROFILES.items():
        raw = null = perfect = 0.0
        for series in corpus:
            raw += raw_score(series, detection_rows(series, detections.get(series.key, [])), profile)
            null += raw_score(series, [], profile)
            perfect += raw_score(series, perfect_rows(series), profile)
        out[name] = 100.0 * (raw - null) / (perfect - null) if perfect != null else 0.0
    return out


@dataclass
class WindowTally:
    """Window-level counts for one or more files; added up across the corpus."""

    windows_found: int = 0
    windows_total: int = 0
    false_alarm_events: int = 0
    scored_weeks: float = 0.0
    delays_minutes: list[float] = field(default_factory=list)

    def __add__(self, other: WindowTally) -> WindowTally:
        return WindowTally(
            self.windows_found + other.windows_found,
            self.windows_total + other.windows_total,
            self.false_alarm_events + other.false_alarm_events,
            self.scored_weeks + other.scored_weeks,
            self.delays_minutes + other.delays_minutes,
        )

    def summary(self) -> dict[str, float | int | None]:
        """windows found/total, false alarms per week, F1 (windows vs false-alarm events), median delay."""
        found, total, fa = self.windows_found, self.windows_total, self.false_alarm_events
        precision = found / (found + fa) if found + fa else 0.0
        recall = found / total if total else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return {
            "windows_found": found,
            "windows_total": total,
            "false_alarms_per_week": fa / self.scored_weeks if self.scored_weeks else 0.0,
            "f1": f1,
            "median_delay_minutes": float(np.median(self.delays_minutes)) if self.delays_minutes else None,
        }


def window_tally(series: NabSeries, detections: list[pd.Timestamp], merge_minutes: float = 60.0) -> WindowTally:
    """Found windows, false-alarm events and delays for one file.

    A window is found when a detection lands in it; delay is from the window's labelled
    point (the label inside it, else the nearest) to the first detection in it. A false-alarm
    event is a run of detections outside windows after probation, each less than
    ``merge_minutes`` after the previous one.
    """
    ts = series.timestamps
    rows = detection_rows(series, detections)
    windows = series.window_rows()
    tally = WindowTally(windows_total=len(windows))
    if len(ts) > series.probation:
        tally.scored_weeks = (ts[-1] - ts[series.probation]) / pd.Timedelta(days=7)
    for lo, hi in windows:
        hits = [i for i in rows if lo <= i <= hi]
        if not hits:
            continue
        tally.windows_found += 1
        label = _label_for(series, ts[lo], ts[hi])
        if label is not None:
            tally.delays_minutes.append((ts[hits[0]] - label) / pd.Timedelta(minutes=1))
    last_alarm: pd.Timestamp | None = None
    for i in rows:
        if i < series.probation or any(lo <= i <= hi for lo, hi in windows):
            continue
        if last_alarm is None or ts[i] - last_alarm >= pd.Timedelta(minutes=merge_minutes):
            tally.false_alarm_events += 1
        last_alarm = ts[i]
    return tally


def _label_for(series: NabSeries, start: pd.Timestamp, end: pd.Timestamp) -> pd.Timestamp | None:
    if not series.labels:
        return None
    inside = [x for x in series.labels if start <= x <= end]
    if inside:
        return inside[0]
    centre = start + (end - start) / 2
    return min(series.labels, key=lambda x: abs(x - centre))
