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

from nephos_pipeline.insights.sanitize import clean_name, clean_text

_METRIC_LABELS = {
    "cpu": "CPU", "cpu_usage": "CPU", "cpu_percent": "CPU", "memory": "Memory", "mem": "Memory",
    "memory_usage": "Memory", "memory_percent": "Memory", "disk": "Disk", "disk_usage": "Disk",
    "disk_percent": "Disk", "load": "Load", "load_avg": "Load", "network_in": "Network in",
    "network_out": "Network out", "swap": "Swap", "swap_usage": "Swap",
}
_PERCENT_PREFIXES = ("cpu", "mem", "disk", "swap")


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


def is_percent(metric: str | None) -> bool:
    return bool(metric) and str(metric).lower().startswith(_PERCENT_PREFIXES)


def metric_label(metric: Any) -> str:
    """'memory' -> 'Memory', 'cpu' -> 'CPU', anything else -> cleaned words."""
    if not metric:
        return "Metric"
    key = str(metric).strip().lower()
    if key in _METRIC_LABELS:
        return _METRIC_LABELS[key]
    words = clean_name(key.replace("_", " "), 40, default="metric")
    return words[:1].upper() + words[1:]


def amount(value: float | None, metric: Any, unit: Any = None, digits: int = 1) -> str | None:
    """A value with its unit: '92.4%' for percentage metrics, '3.1 MB/s' when a unit is given."""
    text = fmt(value, digits)
    if text is None:
        return None
    if unit:
        unit_text = clean_text(unit, 16)
        return f"{text}%" if unit_text in ("%", "percent") else f"{text} {unit_text}".rstrip()
    return f"{text}%" if is_percent(metric) else text


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
