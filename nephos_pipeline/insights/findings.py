"""What an analysis hands to the narrators, and what comes back.

Plain frozen dataclasses with no Dagster imports, so analyses, narrators, the API and
tests can share them without pulling in the orchestrator.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

KINDS = ("anomaly", "silence", "trend", "correlation", "recurring_spike", "recurring_alert", "prediction", "summary")
SEVERITIES = ("low", "medium", "high", "critical")


@dataclass(frozen=True)
class Finding:
    """One measured result. ``evidence`` holds the numbers the words must rest on.

    ``subject`` and anything under ``evidence['context']`` come from agents and users,
    so they are untrusted text and are sanitised wherever they are quoted.
    """

    kind: str  # anomaly | silence | trend | correlation | recurring_spike | recurring_alert | prediction | summary
    insight_type: str  # a name in nephos_pipeline/insight_types.py
    fingerprint: str
    severity: str  # low | medium | high | critical
    confidence: float  # 0..1
    affected_instances: tuple[str, ...]
    subject: str  # hostname or instance id, or 'fleet'
    metric: str | None
    window_start: datetime
    window_end: datetime
    evidence: Mapping[str, Any] = field(default_factory=dict)
    # When the finding was first observed, if earlier than ``window_end`` (an anomaly
    # incident's first tick); AI_INSIGHTS.CREATED_AT uses it so re-runs are identical.
    first_seen_at: datetime | None = None


def token_count(value: Any) -> int:
    """A token count as a backend reports it (int, text, None, junk) -> an int >= 0.

    Usage figures come from outside (an HTTP body, a Cortex VARIANT); a missing or odd one
    counts as 0 rather than failing the batch, because the words are still usable.
    """
    try:
        return max(int(value or 0), 0)
    except (TypeError, ValueError, OverflowError):
        return 0


@dataclass(frozen=True)
class Narrative:
    """The words stored with a finding.

    ``ai_generated`` is False (and ``model`` None) whenever the text is the deterministic
    narrative; ``failure`` then says why the LLM text was not used, if one was asked for.
    Token counts are kept even on failure, because they were spent.
    """

    title: str
    description: str
    recommendations: str
    model: str | None
    ai_generated: bool
    prompt_tokens: int = 0
    completion_tokens: int = 0
    failure: str | None = None
