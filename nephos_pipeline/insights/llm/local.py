"""The default narrator: deterministic words, no model, no network.

Why it exists as a resource rather than "no narrator": assets always call ``narrate``,
so switching to Cortex or an OpenAI-compatible server is configuration, not code.
"""

from __future__ import annotations

from collections.abc import Sequence

from nephos_pipeline.insights.findings import Finding, Narrative
from nephos_pipeline.insights.llm.base import Narrator
from nephos_pipeline.insights.narrative import deterministic_narrative
from nephos_pipeline.warehouse.base import Warehouse


class LocalNarrator(Narrator):
    """Deterministic narratives for every finding (ai_generated=False, failure=None)."""

    model: str = "deterministic"

    backend = "local"

    def narrate(self, findings: Sequence[Finding], warehouse: Warehouse | None = None) -> list[Narrative]:
        return [deterministic_narrative(f) for f in findings]

    def ping(self, warehouse: Warehouse | None = None) -> tuple[str, float]:
        return self.model, 0.0
