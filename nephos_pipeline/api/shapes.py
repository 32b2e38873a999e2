"""Warehouse rows -> the JSON shapes the seed's frontend TypeScript reads.

Why a separate, defensive layer: the connector returns VARIANT and ARRAY columns as JSON
text, pandas turns NULLs into NaN/NaT, and the words come from an LLM. Everything is
normalised here (parsed, finite, ISO-8601 UTC with a ``Z``) so the handlers and the page
never see a value that cannot be serialised as strict JSON.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from nephos_pipeline import insight_types
from nephos_pipeline.api.params import SEVERITIES


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def _finite(value: Any) -> Any:
    """Recursively replace NaN/Infinity (legal in VARIANT, illegal in JSON) with None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def parse_variant(value: Any) -> Any:
    """A VARIANT/ARRAY cell (JSON text from the connector, or already parsed) -> Python."""
    if _is_missing(value):
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value, parse_constant=lambda _c: None)
        except ValueError:
            return None
    return _finite(value)


def timestamp_key(value: Any) -> str:
    """Full-precision naive-UTC ISO text of a TIMESTAMP_NTZ cell (what the cursor keeps)."""
    return pd.Timestamp(value).isoformat()


def iso_utc(value: Any) -> str | None:
    """TIMESTAMP_NTZ (stored as UTC) -> ``2024-05-01T14:00:00.000Z``, what ``new Date()`` reads."""
    if _is_missing(value):
        return None
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return stamp.isoformat(timespec="milliseconds") + "Z"


def _text(value: Any) -> str | None:
    return None if _is_missing(value) else str(value)


def _confidence(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return min(max(number, 0.0), 1.0) if math.isfinite(number) else None


def _instances(value: Any) -> list[str]:
    parsed = parse_variant(value)
    if isinstance(parsed, str):
        parsed = [parsed]
    if not isinstance(parsed, list):
        return []
    return [str(v) for v in parsed if v is not None]


def _evidence(value: Any) -> dict[str, Any] | None:
    parsed = parse_variant(value)
    if parsed is None or isinstance(parsed, dict):
        return parsed
    return {"value": parsed}


def insight_json(row: Mapping[str, Any]) -> dict[str, Any]:
    """One AI_INSIGHTS row (lower-case columns) -> the seed's ``Insight``."""
    return {
        "id": str(row["insight_id"]),
        "type": str(row["insight_type"]),
        "severity": str(row["severity"]),
        "title": _text(row.get("title")) or "",
        "description": _text(row.get("description")) or "",
        "recommendations": _text(row.get("recommendations")),
        "confidenceScore": _confidence(row.get("confidence_score")),
        "affectedInstances": _instances(row.get("affected_instances")),
        "createdAt": iso_utc(row.get("created_at")),
        "expiresAt": iso_utc(row.get("expires_at")),
        "evidence": _evidence(row.get("evidence")),
    }


def empty_counts() -> dict[str, Any]:
    return {
        "total": 0,
        "byType": dict.fromkeys(insight_types.listed_names(), 0),
        "bySeverity": dict.fromkeys(SEVERITIES, 0),
    }


def counts_json(rows: list[Mapping[str, Any]]) -> dict[str, Any]:
    """Rows of (insight_type, severity, n) -> {total, byType, bySeverity}; every key present."""
    counts = empty_counts()
    for row in rows:
        n = int(row["n"])
        counts["total"] += n
        by_type, by_severity = counts["byType"], counts["bySeverity"]
        by_type[str(row["insight_type"])] = by_type.get(str(row["insight_type"]), 0) + n
        by_severity[str(row["severity"])] = by_severity.get(str(row["severity"]), 0) + n
    return counts


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {plural or word + 's'}"


def fallback_summary(counts: Mapping[str, Any]) -> str:
    """One deterministic sentence from the counts, for when no summary row exists yet."""
    total = int(counts["total"])
    if total == 0:
        plurals = [t.plural for t in insight_types.listed()]
        kinds = ", ".join(plurals[:-1]) + " or " + plurals[-1] if len(plurals) > 1 else "".join(plurals)
        return f"There are no active insights: no {kinds} need attention."
    by_type, by_severity = counts["byType"], counts["bySeverity"]
    parts = [_plural(by_type.get(t.name, 0), t.name, t.plural) for t in insight_types.by_urgency()]
    urgent = by_severity.get("critical", 0) + by_severity.get("high", 0)
    return (
        f"There {'is' if total == 1 else 'are'} {_plural(total, 'active insight')} "
        f"({', '.join(parts)}), of which {urgent} {'is' if urgent == 1 else 'are'} high or critical severity."
    )


def summary_json(summary_row: Mapping[str, Any] | None, counts: dict[str, Any], now: datetime | str) -> dict[str, Any]:
    """The seed's ``summary`` object: the newest summary row's text, or the fallback sentence.

    ``generatedAt`` is the row's CREATED_AT, the end of the window it summarises; for the
    fallback sentence it is the moment counted (``now``: a datetime, or as_of's UTC text).
    """
    if summary_row is not None:
        text = _text(summary_row.get("description")) or fallback_summary(counts)
        generated = iso_utc(summary_row.get("created_at"))
    else:
        text, generated = fallback_summary(counts), None
    if generated is None:
        generated = iso_utc(now if isinstance(now, str) else now.astimezone(UTC).replace(tzinfo=None))
    return {"summary": text, "counts": counts, "generatedAt": generated}
