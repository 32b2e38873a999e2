"""Confidence of an anomaly insight: the measured precision of insights like it.

Why: a z-score far beyond 3 made every insight "99 % confident", false alarms included.
What a reader wants to know is how often an insight of this kind turned out to be a real
incident. ``MEASURED`` counts, per detection path (``method``) and severity, how many of
the default detector's insights were true on the detection benchmark
(``benchmarks/detection.py``: NAB realAWSCloudwatch label windows and the labelled
realistic fleet's development seeds 72026 and 7027; see ``benchmarks/insight_precision.py``).
The other fleet seeds (72028, 72029 and 72030, seen) are not in it: the same run's
``check`` counts their insights per cell beside the confidence this table gives them, so
the calibration is checked out of sample. It is copied from that run's
``insight_precision`` section, and a test checks that the committed
``benchmarks/results/insight_precision.json`` (written by that run) says the same, so a new
detector cannot keep an old table silently.

The confidence is the precision with one true and one false insight added (Laplace's rule
of succession), so a cell measured on 3 insights says 80 %, not 100 %. A cell with no
insights falls back to its method's total, then to all insights.
"""

from __future__ import annotations

MEASURED_BY = "default_novelty_step_partial"  # the detector (``detector.DEFAULT.name``) these counts are for
# "method/severity": (true insights, insights)
MEASURED: dict[str, tuple[int, int]] = {
    "collapse/critical": (3, 3),
    "collapse/high": (1, 1),
    "peak_novelty/critical": (28, 45),
    "peak_novelty/high": (4, 11),
    "step_shift/critical": (10, 20),
    "step_shift/high": (3, 4),
}


def _smoothed(true: int, total: int) -> float:
    return (true + 1) / (total + 2)


def basis(method: str, severity: str) -> tuple[int, int]:
    """(true, insights) measured for this path and severity, or its fallback (see above)."""
    cell = MEASURED.get(f"{method}/{severity}")
    if cell is None:
        same = [v for k, v in MEASURED.items() if k.split("/", 1)[0] == method] or list(MEASURED.values())
        cell = (sum(t for t, _ in same), sum(n for _, n in same))
    return cell


def confidence_for(method: str, severity: str) -> float:
    """0..1: the measured precision of insights opened by ``method`` with ``severity``."""
    return round(_smoothed(*basis(method, severity)), 2)
