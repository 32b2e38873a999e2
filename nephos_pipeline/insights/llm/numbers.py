"""Does the model's text claim numbers the evidence does not contain?

The LLM may round, convert to percent, hours to days, or quote a difference of two
measured values or of two timestamps; anything else is a number it made up. Small integers (list numbering,
"3σ", "7 days") are always allowed, so the check only catches real fabrications.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from nephos_pipeline.insights.findings import Finding
from nephos_pipeline.insights.wording import parse_ts

_CLAIMED = re.compile(r"(?<![\w.,])(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?")
_ANY = re.compile(r"\d+(?:\.\d+)?")
_ALWAYS = {float(n) for n in (*range(11), 24, 48, 60, 100)}


def _walk(value: Any, out: list[float], times: list[datetime], literal: list[float], depth: int = 0) -> None:
    """Numbers go to ``out``; digits inside text (dates, host names) to ``literal``, unconverted."""
    if depth > 6 or value is None or isinstance(value, bool):
        return
    if isinstance(value, int | float):
        if math.isfinite(float(value)):
            out.append(abs(float(value)))
    elif isinstance(value, str | datetime):
        text = value.isoformat() if isinstance(value, datetime) else value[:2000]
        literal.extend(float(m) for m in _ANY.findall(text))
        ts = parse_ts(value) if len(text) <= 40 else None
        if ts is not None and len(times) < 20:
            times.append(ts)
    elif isinstance(value, Mapping):
        for k, v in list(value.items())[:200]:
            _walk(k, out, times, literal, depth + 1)
            _walk(v, out, times, literal, depth + 1)
    elif isinstance(value, Iterable):
        for v in list(itertools.islice(value, 200)):
            _walk(v, out, times, literal, depth + 1)


def supported_numbers(finding: Finding) -> list[float]:
    """Every number a narrative of ``finding`` may quote, with the usual conversions."""
    base: list[float] = []
    times: list[datetime] = []
    literal: list[float] = []
    evidence = finding.evidence if isinstance(finding.evidence, Mapping) else {}
    extra = [finding.subject, finding.metric, list(finding.affected_instances or ()), getattr(finding, "first_seen_at", None)]
    _walk([finding.confidence, finding.window_start, finding.window_end, extra, evidence], base, times, literal)
    for a, b in itertools.combinations(times, 2):  # "15 minutes after the deployment"
        minutes = abs((a - b).total_seconds()) / 60
        base.extend((minutes, minutes / 60))
    tops = [abs(float(v)) for v in evidence.values() if isinstance(v, int | float) and not isinstance(v, bool)]
    tops = [v for v in tops if math.isfinite(v)][:40]
    derived = set(base) | set(literal) | _ALWAYS
    for v in base:
        derived.update((v * 100, v / 100, v / 24, v * 24, v * 60, v / 60))
    for v in [*base, *literal]:
        if 13 <= v <= 23:
            derived.add(v - 12)  # 14:00 -> "2 PM"
    for a, b in itertools.combinations([v for v in tops if v >= 1], 2):  # "32 points over baseline", "3x"
        derived.update((abs(a - b), max(a, b) / min(a, b)))
    return sorted(derived)


def _matches(claimed: float, decimals: int, candidates: list[float]) -> bool:
    rounding = 0.5 * 10 ** (-decimals) + 1e-9
    return any(abs(claimed - c) <= max(rounding, 0.01 * c) for c in candidates)


def unsupported_numbers(texts: Iterable[str], finding: Finding, limit: int = 5) -> list[str]:
    """The numbers in ``texts`` that no evidence value supports (at most ``limit``)."""
    candidates = supported_numbers(finding)
    bad: list[str] = []
    for text in texts:
        for match in _CLAIMED.finditer(text):
            whole, frac = match.group(1).replace(",", ""), match.group(2) or ""
            claimed = float(f"{whole}.{frac}" if frac else whole)
            if claimed in _ALWAYS or _matches(claimed, len(frac), candidates):
                continue
            bad.append(match.group(0))
            if len(bad) >= limit:
                return bad
    return bad
