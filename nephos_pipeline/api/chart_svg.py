"""An insight's chart as inline SVG, drawn on the server from a :class:`ChartPlan` and its data.

Why server-side SVG: the page has no JavaScript and its CSP forbids scripts; a few
polylines are a few kilobytes. The x axis is time (not sample index), so a forecast, a
threshold crossing and the detected window sit where they happened. Every label is
HTML-escaped and every value checked to be finite before it is plotted.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from html import escape

from nephos_pipeline.api.chart_plan import ChartPlan, SeriesSpec, unit_of
from nephos_pipeline.insights.wording import fmt, metric_label

WIDTH, HEIGHT = 640, 132
PAD_L, PAD_R, PAD_TOP, PAD_BOTTOM = 52, 52, 10, 20
MAX_POINTS = 400
DASH = "\u2013"
Bucket = tuple[datetime, float, float, float]  # (bucket end, mean, lowest, highest)
Drawn = tuple[list[str], list[str]]  # (SVG elements, legend entries)


def _finite(values: Iterable[float | None]) -> list[float]:
    return [v for v in values if v is not None and math.isfinite(v)]


def _label(value: float, unit: str) -> str:
    text = fmt(value, 1 if abs(value) < 1000 else 0) or ""
    return f"{text}{unit}" if unit == "%" else text


def _time(moment: datetime) -> str:
    return moment.strftime("%b %d %H:%M")


class _Frame:
    """Maps (time, value) to SVG coordinates for one chart; one value scale per axis."""

    def __init__(self, start: datetime, end: datetime, ranges: Sequence[tuple[float, float]]) -> None:
        self.start = start
        self.span = max((end - start).total_seconds(), 1.0)
        self.plot_w, self.plot_h = WIDTH - PAD_L - PAD_R, HEIGHT - PAD_TOP - PAD_BOTTOM
        self.ranges = []
        for low, high in ranges:
            pad = (high - low) * 0.06 or max(abs(high) * 0.05, 1.0)
            self.ranges.append((low - pad, high + pad))

    def x(self, moment: datetime) -> float:
        return PAD_L + (moment - self.start).total_seconds() / self.span * self.plot_w

    def y(self, value: float, axis: int = 0) -> float:
        low, high = self.ranges[axis]
        return PAD_TOP + self.plot_h - (value - low) / (high - low) * self.plot_h

    def xy(self, moment: datetime, value: float, axis: int = 0) -> str:
        return f"{self.x(moment):.1f},{self.y(value, axis):.1f}"


def _segments(points: Sequence[Bucket], gap: timedelta) -> list[list[Bucket]]:
    """Split where samples are missing for longer than ``gap``: a silent host shows as a gap."""
    out: list[list[Bucket]] = []
    for point in points:
        if out and point[0] - out[-1][-1][0] <= gap:
            out[-1].append(point)
        else:
            out.append([point])
    return out


def _thin(points: list[Bucket]) -> list[Bucket]:
    if len(points) <= MAX_POINTS:
        return points
    step = len(points) / MAX_POINTS
    return [points[int(i * step)] for i in range(MAX_POINTS - 1)] + [points[-1]]


def _peak(plan: ChartPlan, points: Sequence[Bucket]) -> tuple[datetime, float] | None:
    """Where to mark the value the text quotes, inside the detected window(s).

    The quoted value is a statistic of one detected window (its highest sample, a robust
    high, its mean), so it lies within that window's band: it is marked there, at its own
    value, whichever statistic the detector quotes. Without a quoted value (or if no window
    holds it), the most extreme sample in the anomaly's direction is marked instead.
    """
    inside = [p for p in points if any(lo < p[0] <= hi for lo, hi in plan.highlights)]
    if not inside or plan.peak_direction is None:
        return None
    below = plan.peak_direction == "below"
    if plan.quoted is not None:
        slack = max(abs(plan.quoted) * 1e-3, 1e-9)  # stored evidence is rounded
        holding = [p for p in inside if p[2] - slack <= plan.quoted <= p[3] + slack]
        if holding:
            point = min(holding, key=lambda p: p[2]) if below else max(holding, key=lambda p: p[3])
            return point[0], plan.quoted
    point = min(inside, key=lambda p: p[2]) if below else max(inside, key=lambda p: p[3])
    return point[0], point[2] if below else point[3]


def _axes(plan: ChartPlan, data: Sequence[list[Bucket]], units: Sequence[str]) -> list[tuple[float, float]]:
    """Value range per axis. Two series share one axis when they share a unit (CPU % and memory %)."""
    extra = [v for v, _ in plan.thresholds] + [v for _, v in plan.forecast + plan.cone] + [plan.baseline]
    first = _finite([v for p in data[0] for v in ((p[2], p[3]) if plan.envelope else (p[1],))] + extra)
    ranges = [(min(first), max(first))] if first else [(0.0, 1.0)]
    if len(data) > 1:
        second = _finite([p[1] for p in data[1]])
        if second and units[1] == units[0] == "%":
            ranges[0] = (min(ranges[0][0], *second), max(ranges[0][1], *second))
        elif second:
            ranges.append((min(second), max(second)))
    return ranges


def _series_svg(frame: _Frame, plan: ChartPlan, drawn: Sequence[tuple[SeriesSpec, list[Bucket]]]) -> Drawn:
    """Shaded windows, the min-max band and one line per series (broken where data is missing)."""
    parts, legend = [], []
    for lo, hi in plan.highlights:
        x0, x1 = max(frame.x(lo), PAD_L), min(frame.x(hi), WIDTH - PAD_R)
        if x1 > x0:
            parts.append(f'<rect class="window" x="{x0:.1f}" y="{PAD_TOP}" width="{x1 - x0:.1f}" height="{frame.plot_h}"/>')
    if plan.highlights:
        legend.append(f"shaded: {plan.highlight_label}")
    gap = timedelta(seconds=plan.series[0].bucket_s * 2.5)
    for n, (spec, pts) in enumerate(drawn):
        axis = min(n, len(frame.ranges) - 1)
        for seg in _segments(pts, gap):
            if plan.envelope and n == 0 and len(seg) >= 2:
                upper = " ".join(frame.xy(t, hi) for t, _, _, hi in seg)
                lower = " ".join(frame.xy(t, lo) for t, _, lo, _ in reversed(seg))
                parts.append(f'<polygon class="band" points="{upper} {lower}"/>')
            if len(seg) >= 2:
                parts.append(f'<polyline class="line s{n}" points="{" ".join(frame.xy(t, m, axis) for t, m, _, _ in seg)}"/>')
            else:
                parts.append(f'<circle class="dot s{n}" cx="{frame.x(seg[0][0]):.1f}" '
                             f'cy="{frame.y(seg[0][1], axis):.1f}" r="1.8"/>')
        what = f"{plan.resolution} mean" + ("; band: lowest to highest sample" if plan.envelope and n == 0 else "")
        legend.append(f"s{n}|{metric_label(spec.metric)} ({what})")
    return parts, legend


def _references_svg(frame: _Frame, plan: ChartPlan, unit: str) -> Drawn:
    """Baseline, thresholds, forecast and its range, and the mark on the quoted value."""
    parts, legend = [], []
    if plan.baseline is not None:
        y = frame.y(plan.baseline)
        parts.append(f'<line class="baseline" x1="{PAD_L}" y1="{y:.1f}" x2="{WIDTH - PAD_R}" y2="{y:.1f}"/>')
        legend.append(f"dotted: baseline {_label(plan.baseline, unit)}")
    for value, name in plan.thresholds:
        y = frame.y(value)
        parts.append(f'<line class="threshold" x1="{PAD_L}" y1="{y:.1f}" x2="{WIDTH - PAD_R}" y2="{y:.1f}"/>')
        parts.append(f'<text class="tick thr" x="{WIDTH - PAD_R + 4}" y="{y + 3:.1f}">{escape(_label(value, unit))}</text>')
        legend.append(f"dashed red: {name} {_label(value, unit)}")
    if len(plan.cone) == 3:
        parts.append('<polygon class="cone" points="' + " ".join(frame.xy(t, v) for t, v in plan.cone) + '"/>')
    if plan.forecast:
        parts.append('<polyline class="forecast" points="' + " ".join(frame.xy(t, v) for t, v in plan.forecast) + '"/>')
        until, value = plan.forecast[-1]
        legend.append(f"dashed: forecast, {_label(value, unit)} by {_time(until)} UTC"
                      + ("; shaded: its range" if len(plan.cone) == 3 else ""))
    return parts, legend


def _peak_svg(frame: _Frame, plan: ChartPlan, points: Sequence[Bucket], unit: str) -> list[str]:
    peak = _peak(plan, points)
    if peak is None:
        return []
    px, py = frame.x(peak[0]), frame.y(peak[1])
    anchor = "end" if px > WIDTH - PAD_R - 60 else "start"
    text = f"{'low' if plan.peak_direction == 'below' else 'peak'} {_label(peak[1], unit)}"
    return [f'<circle class="peak" cx="{px:.1f}" cy="{py:.1f}" r="3.2"/>',
            f'<text class="tick peak-label" x="{px + (-5 if anchor == "end" else 5):.1f}" '
            f'y="{max(py - 4, PAD_TOP + 8):.1f}" text-anchor="{anchor}">{escape(text)}</text>']


def _ticks_svg(frame: _Frame, plan: ChartPlan, units: Sequence[str]) -> list[str]:
    """Value labels per axis (the second in its series' colour), the time range, the window."""
    ticks = []
    for n, (low, high) in enumerate(frame.ranges[:2]):
        x, side = (PAD_L - 6, "end") if n == 0 else (WIDTH - PAD_R + 6, "start")
        unit = units[min(n, len(units) - 1)]
        for value in (high - (high - low) * 0.06 / 1.12, low + (high - low) * 0.06 / 1.12):  # the data's range
            ticks.append(f'<text class="tick a{n}" x="{x}" y="{frame.y(value, n) + 3:.1f}" text-anchor="{side}">'
                         f"{escape(_label(value, unit))}</text>")
    ticks.append(f'<text class="tick" x="{PAD_L}" y="{HEIGHT - 5}">{escape(_time(plan.start))}</text>')
    ticks.append(f'<text class="tick" x="{WIDTH - PAD_R}" y="{HEIGHT - 5}" text-anchor="end">'
                 f"{escape(_time(plan.end))} UTC</text>")
    if len(plan.highlights) == 1:  # label the detected window on the time axis
        lo, hi = plan.highlights[0]
        hx = (frame.x(lo) + frame.x(hi)) / 2
        if PAD_L + 80 < hx < WIDTH - PAD_R - 110:
            ticks.append(f'<text class="tick mark" x="{hx:.1f}" y="{HEIGHT - 5}" text-anchor="middle">'
                         f"{escape(lo.strftime('%H:%M') + DASH + hi.strftime('%H:%M'))}</text>")
    return ticks


def chart_svg(plan: ChartPlan, data: Mapping[str, list[Bucket]], host: str | None = None) -> tuple[str, list[str]]:
    """(SVG markup, legend entries) for one insight; ("", []) when there is nothing to draw.

    ``host`` names the instance in the chart's accessible title (its id otherwise).
    """
    series = [_thin(sorted(data.get(spec.key) or [])) for spec in plan.series]
    stored = len(series[0]) < 2 and len(plan.fallback) >= 2
    if stored:  # the metrics are no longer retained: draw the series stored with the insight
        series[0] = [(t, v, v, v) for t, v in plan.fallback]
        plan = replace(plan, start=min(plan.start, series[0][0][0]), envelope=False, resolution="hourly")
    drawn = [(spec, pts) for spec, pts in zip(plan.series, series, strict=True) if len(pts) >= 2]
    if not drawn or drawn[0][0] is not plan.series[0]:
        return "", []
    units = [unit_of(spec.metric) for spec, _ in drawn]
    frame = _Frame(plan.start, plan.end, _axes(plan, [pts for _, pts in drawn], units))
    lines, legend = _series_svg(frame, plan, drawn)
    references, notes = _references_svg(frame, plan, units[0])
    if stored:
        legend.append("the series stored with the insight (its metrics are no longer in METRICS)")
    title = ", ".join(metric_label(spec.metric) for spec, _ in drawn)
    title += f" on {host or plan.series[0].instance}, {_time(plan.start)} to {_time(plan.end)} UTC, {plan.resolution}"
    bottom = PAD_TOP + frame.plot_h
    svg = (
        f'<svg class="spark" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
        f'<line class="axis" x1="{PAD_L}" y1="{PAD_TOP}" x2="{WIDTH - PAD_R}" y2="{PAD_TOP}"/>'
        f'<line class="axis" x1="{PAD_L}" y1="{bottom}" x2="{WIDTH - PAD_R}" y2="{bottom}"/>'
        + "".join(lines + references + _peak_svg(frame, plan, drawn[0][1], units[0]) + _ticks_svg(frame, plan, units))
        + "</svg>"
    )
    return svg, legend + notes
