"""The deterministic narrative: words for every finding without a model.

It is what the dashboard shows when the LLM is off, fails, or returns something we will
not store, so it must never raise: missing/NaN evidence gives generic wording, and every
piece of untrusted text (host names, alert messages, earlier titles) is sanitised first.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from nephos_pipeline.insights.findings import Finding, Narrative, token_count
from nephos_pipeline.insights.narrative_patterns import prediction, recurring_alert, recurring_spike, summary
from nephos_pipeline.insights.narrative_stats import anomaly, correlation, silence, trend
from nephos_pipeline.insights.sanitize import clean_name, truncate
from nephos_pipeline.insights.wording import metric_label, numbered, where

TITLE_MAX = 120
DESCRIPTION_MAX = 1200
RECOMMENDATIONS_MAX = 1200

Parts = tuple[str, str, list[str]]
_BUILDERS: dict[str, Callable[[Finding, Mapping[str, Any]], Parts]] = {
    "anomaly": anomaly,
    "silence": silence,
    "trend": trend,
    "correlation": correlation,
    "recurring_spike": recurring_spike,
    "recurring_alert": recurring_alert,
    "prediction": prediction,
    "summary": summary,
}


def _generic(finding: Finding) -> Parts:
    """Last resort when a builder cannot cope: still names what, where and when."""
    label = metric_label(getattr(finding, "metric", None))
    place = where(getattr(finding, "subject", None))
    kind = clean_name(getattr(finding, "kind", None), 30, default="finding").replace("_", " ")
    try:
        span = finding.window_end - finding.window_start
        window = f" in the last {max(int(span / timedelta(hours=1)), 1)} hours" if span else ""
    except Exception:  # noqa: BLE001 - a bad window only loses the phrase
        window = ""
    title = f"{label} {kind} {place}"
    description = f"A {kind} was measured for {label} {place}{window}. See the evidence for the numbers."
    return title, description, [f"Review {label} {place}", "Compare with recent changes and alerts"]


def deterministic_narrative(
    finding: Finding,
    *,
    failure: str | None = None,
    prompt_tokens: int = 0,
    completion_tokens: int = 0,
) -> Narrative:
    """Words for ``finding`` from its evidence alone (ai_generated=False, model=None)."""
    evidence = finding.evidence if isinstance(getattr(finding, "evidence", None), Mapping) else {}
    builder = _BUILDERS.get(getattr(finding, "kind", ""), None)
    try:
        title, description, recs = builder(finding, evidence) if builder else _generic(finding)
    except Exception:  # noqa: BLE001 - the narrative must always exist
        title, description, recs = _generic(finding)
    return Narrative(
        title=truncate(title, TITLE_MAX),
        description=truncate(description, DESCRIPTION_MAX),
        recommendations=truncate(numbered(recs), RECOMMENDATIONS_MAX),
        model=None,
        ai_generated=False,
        prompt_tokens=token_count(prompt_tokens),
        completion_tokens=token_count(completion_tokens),
        failure=failure,
    )
