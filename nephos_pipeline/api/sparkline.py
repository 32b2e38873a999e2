"""A tiny inline SVG chart of an insight's evidence series, drawn on the server.

Why server-side SVG: the page has no JavaScript build step and its CSP forbids scripts,
and a polyline of at most a hundred or so points is a few hundred bytes. The series comes
from the warehouse (``evidence.series`` = ``[[iso_ts, value], ...]``), so every label is
HTML-escaped and every value is checked to be a finite number before it is plotted.
"""

from __future__ import annotations

import math
from datetime import datetime
from html import escape
from typing import Any

WIDTH, HEIGHT = 560, 84
PAD_X, PAD_TOP, PAD_BOTTOM = 44, 8, 18
MAX_POINTS = 120


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def series_points(evidence: Any) -> list[tuple[str, float]]:
    """The usable ``(label, value)`` pairs of ``evidence["series"]``, thinned to MAX_POINTS."""
    series = evidence.get("series") if isinstance(evidence, dict) else None
    if not isinstance(series, list):
        return []
    points: list[tuple[str, float]] = []
    for item in series:
        if isinstance(item, list | tuple) and len(item) >= 2:
            value = _number(item[1])
            if value is not None:
                points.append((str(item[0]), value))
    if len(points) > MAX_POINTS:
        step = len(points) / MAX_POINTS
        thinned = [points[int(i * step)] for i in range(MAX_POINTS - 1)]
        points = [*thinned, points[-1]]
    return points


def _time_label(raw: str) -> str:
    try:
        moment = datetime.fromisoformat(raw.strip().upper())
    except ValueError:
        return raw[:16]
    return moment.strftime("%b %d %H:%M")


def _value_label(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"


def sparkline_svg(evidence: Any, label: str = "") -> str:
    """SVG markup for the series, or an empty string when there is nothing to draw."""
    points = series_points(evidence)
    if len(points) < 2:
        return ""
    values = [v for _, v in points]
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    plot_w, plot_h = WIDTH - PAD_X - 6, HEIGHT - PAD_TOP - PAD_BOTTOM
    step = plot_w / (len(points) - 1)
    coords = [
        (PAD_X + i * step, PAD_TOP + plot_h - (v - low) / span * plot_h) for i, (_, v) in enumerate(points)
    ]
    polyline = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    area = f"{PAD_X:.1f},{PAD_TOP + plot_h:.1f} {polyline} {coords[-1][0]:.1f},{PAD_TOP + plot_h:.1f}"
    peak_i = values.index(high)
    px, py = coords[peak_i]
    title = f"{label}: {len(points)} points from {points[0][0]} to {points[-1][0]}"
    bottom = HEIGHT - 4
    return (
        f'<svg class="spark" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" height="{HEIGHT}" '
        f'role="img" aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title>"
        f'<line class="axis" x1="{PAD_X}" y1="{PAD_TOP}" x2="{WIDTH - 6}" y2="{PAD_TOP}"/>'
        f'<line class="axis" x1="{PAD_X}" y1="{PAD_TOP + plot_h}" x2="{WIDTH - 6}" y2="{PAD_TOP + plot_h}"/>'
        f'<polygon class="area" points="{area}"/>'
        f'<polyline class="line" points="{polyline}"/>'
        f'<circle class="peak" cx="{px:.1f}" cy="{py:.1f}" r="3"/>'
        f'<text class="tick" x="{PAD_X - 6}" y="{PAD_TOP + 4}" text-anchor="end">{escape(_value_label(high))}</text>'
        f'<text class="tick" x="{PAD_X - 6}" y="{PAD_TOP + plot_h + 3}" text-anchor="end">'
        f"{escape(_value_label(low))}</text>"
        f'<text class="tick" x="{PAD_X}" y="{bottom}">{escape(_time_label(points[0][0]))}</text>'
        f'<text class="tick" x="{WIDTH - 6}" y="{bottom}" text-anchor="end">'
        f"{escape(_time_label(points[-1][0]))}</text>"
        f'<text class="tick name" x="{(PAD_X + WIDTH) / 2:.0f}" y="{bottom}" text-anchor="middle">'
        f"{escape(label[:60])}</text>"
        "</svg>"
    )
