"""The credit model's day as a picture: an SVG written by hand (no plotting dependency).

One row per cadence; a grey tick per run, a bar per warehouse resume (from resume to
suspend, what Snowflake bills). Plain SVG so docs/benchmarks.md can show it and the repo
needs no plotting library.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

WIDTH, LEFT, ROW = 980, 220, 46
LABELS = {"seed_staggered": "seed's minutes (before)", "seed_coalesced_before": "coalesced, 4 runs at :00 (before)",
          "seed": "default: hour's close in 1 run", "hourly": "NEPHOS_CADENCE=hourly"}
DAY_S = 86_400


def write_timeline(days: dict[str, Any], path: Path, fleet: int, hours: float = 24.0) -> Path:
    span = hours * 3600
    scale = (WIDTH - LEFT - 20) / span
    height = 60 + ROW * len(days) + 30
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" font-family="sans-serif" '
             f'font-size="12"><rect width="100%" height="100%" fill="white"/>',
             f'<text x="10" y="20" font-size="14">Warehouse resumes, {fleet} instances, '
             f'{"one day" if hours >= 24 else f"the first {hours:g} hours of the day"} '
             f'(bar = billed, resume to suspend; tick = a run starts)</text>']
    for h in range(0, int(hours) + 1, 3 if hours > 6 else 1):
        x = LEFT + h * 3600 * scale
        parts.append(f'<line x1="{x:.1f}" y1="34" x2="{x:.1f}" y2="{height - 24}" stroke="#ddd"/>'
                     f'<text x="{x:.1f}" y="{height - 8}" text-anchor="middle">{h:02d}:00</text>')
    for i, (name, day) in enumerate(days.items()):
        y = 50 + i * ROW
        label = f"{name}: {day.credits():.2f} cr/day, {day.resume_count:.0f} resumes"
        parts.append(f'<text x="10" y="{y + 18}">{escape(LABELS.get(name, name))}</text>'
                     f'<text x="10" y="{y + 32}" font-size="10" fill="#555">{escape(label.split(": ", 1)[1])}</text>')
        for run in day.runs:
            if run.start_s <= span:
                x = LEFT + run.start_s * scale
                parts.append(f'<line x1="{x:.1f}" y1="{y}" x2="{x:.1f}" y2="{y + 6}" stroke="#999"/>')
        for r in day.resumes:
            if r.start_s > span:
                continue
            x, w = LEFT + r.start_s * scale, max(0.8, r.billed_s * scale)
            parts.append(f'<rect x="{x:.1f}" y="{y + 8}" width="{w:.2f}" height="22" fill="#2b6cb0"/>')
    parts.append("</svg>")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(parts) + "\n")
    return path
