"""Small wording helpers for the deterministic narratives: numbers, metrics, times, lists.

Every helper accepts whatever the evidence holds (None, NaN, strings, missing keys) and
returns ``None`` or generic wording rather than raising, because a narrative must exist
for every finding even when an analysis produced partial evidence.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from nephos_pipeline import metric_catalogue
from nephos_pipeline.insights.sanitize import clean_name, clean_text


def num(evidence: Mapping[str, Any] | None, key: str) -> float | None:
    """A finite float from ``evidence[key]``, or None (missing, None, NaN, bool, text)."""
    if not isinstance(evidence, Mapping):
        return None
    value = evidence.get(key)
    if value is None or isinstance(value, bool):
        return None
    try:
        result = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return result if math.isfinite(result) else None


def fmt(value: float | None, digits: int = 1) -> str | None:
    """4.237 -> '4.2', 72.0 -> '72', 0.0034 -> '0.0034', 12345.6 -> '12,345.6'."""
    if value is None or not math.isfinite(value):
        return None
    if value != 0 and abs(value) < 1:
        text = f"{value:.2g}"
        return text if "e" not in text else f"{value:.6f}".rstrip("0").rstrip(".")
    text = f"{value:,.{max(digits, 0)}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def is_percent(metric: Any) -> bool:
    """A percentage metric according to the catalogue (unknown metrics are plain numbers)."""
    entry = metric_catalogue.get(metric)
    return bool(entry and entry.percent)


def metric_label(metric: Any) -> str:
    """The catalogue's label ('memory_usage' -> 'Memory'); unknown names -> cleaned words."""
    if not metric:
        return "Metric"
    entry = metric_catalogue.get(metric)
    if entry is not None:
        return entry.label
    words = clean_name(str(metric).strip().replace("_", " "), 40, default="metric")
    return words[:1].upper() + words[1:]


def _unit_of(metric: Any, unit: Any) -> str:
    if unit:
        text = clean_text(unit, 16)
        return "%" if text in ("%", "percent") else text
    entry = metric_catalogue.get(metric)
    return entry.unit if entry else ""


def amount(value: float | None, metric: Any, unit: Any = None, digits: int = 1) -> str | None:
    """A value with the metric's unit from the catalogue: '92.4%', '3,100 bytes/s', '2.5'."""
    text = fmt(value, digits)
    if text is None:
        return None
    unit_text = _unit_of(metric, unit)
    return f"{text}%" if unit_text == "%" else f"{text} {unit_text}".rstrip()


def difference(value: float | None, metric: Any, digits: int = 1) -> str | None:
    """A difference of two values: 'percentage points' only for percentages, else the unit."""
    text = fmt(value, digits)
    if text is None:
        return None
    entry = metric_catalogue.get(metric)
    unit_text = entry.delta_unit if entry else ""
    return f"{text} {unit_text}".rstrip()


def rate(value: float | None, metric: Any, unit: Any = None, digits: int = 2) -> str | None:
    """A change per hour: '+0.42% per hour' reads as points per hour for percentages."""
    text = amount(value, metric, unit, digits)
    if text is None:
        return None
    return f"{'+' if value and value > 0 else ''}{text} per hour"


def check_step(metric: Any, host_name: str, at: str | None = None) -> str:
    """The first thing to look at for this metric (from the catalogue), on ``host_name``."""
    entry = metric_catalogue.get(metric)
    template = entry.check if entry else "Check what was running on {host}"
    return template.format(host=host_name) + (f" around {at}" if at else "")


def hours_range(low: float | None, high: float | None) -> str | None:
    """'between 60 and 90 hours'; one value when both round the same ('about 74 hours')."""
    lo, hi = fmt(low, 0), fmt(high, 0)
    if lo is None or hi is None:
        return None
    return f"about {lo} hours" if lo == hi else f"between {lo} and {hi} hours"


def fit_quality(r2: float | None) -> str | None:
    """'R² 0.97'; a near-perfect fit is 'R² > 0.99', never the false 'R² 1'."""
    if r2 is None:
        return None
    return "R² > 0.99" if r2 > 0.99 else f"R² {r2:.2f}"


def parse_ts(value: Any) -> datetime | None:
    """ISO text or datetime -> aware UTC datetime; None when unparseable."""
    if isinstance(value, datetime):
        ts = value
    elif isinstance(value, str) and value.strip():
        try:
            ts = datetime.fromisoformat(value.strip()[:40])
        except ValueError:
            return None
    else:
        return None
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def clock(value: Any) -> str | None:
    """'14:00 UTC' for a timestamp."""
    ts = parse_ts(value)
    return f"{ts:%H:%M} UTC" if ts else None


def when(value: Any) -> str | None:
    """'2024-05-01 14:00 UTC' for a timestamp."""
    ts = parse_ts(value)
    return f"{ts:%Y-%m-%d %H:%M} UTC" if ts else None


def hour_clock(hour: float | None) -> str | None:
    if hour is None or not 0 <= hour < 24:
        return None
    return f"{int(hour):02d}:00 UTC"


def host(subject: Any) -> str:
    """The host to name in a recommendation; the fleet becomes 'the affected hosts'."""
    name = clean_name(subject)
    return "the affected hosts" if name.lower() == "fleet" else name


def items(value: Any, limit: int = 5) -> list[Mapping[str, Any]]:
    """The first ``limit`` mappings of a list from evidence, skipping anything else."""
    if not isinstance(value, list | tuple):
        return []
    return [v for v in value[:limit] if isinstance(v, Mapping)]


def where(subject: Any) -> str:
    """'on prod-web-01', or 'across the fleet'."""
    name = clean_name(subject)
    return "across the fleet" if name.lower() == "fleet" else f"on {name}"


def duration(hours: float | None) -> str | None:
    """Hours as the dashboard says them: 'about 72 hours', 'about 9 days'."""
    if hours is None or hours < 0:
        return None
    if hours < 1:
        return "less than an hour"
    if hours <= 96:
        return f"about {fmt(hours, 0)} hours"
    return f"about {fmt(hours / 24, 0)} days"


def numbered(items: Iterable[str]) -> str:
    """The seed's recommendation style: '1. ... 2. ... 3. ...'."""
    return " ".join(f"{i}. {item}" for i, item in enumerate(items, start=1))


def sentence(*parts: str | None) -> str:
    """Join the non-empty parts into one paragraph."""
    return " ".join(p.strip() for p in parts if p and p.strip())
