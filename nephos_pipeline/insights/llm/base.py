"""The narrator interface: findings in, one narrative per finding out, never an exception.

Why one backend call per batch: an analysis run produces tens of findings, and a call
per finding would multiply latency, cost and failure points. Why never raise: the
numbers are already measured; if the model is slow, down or talks nonsense the insight
is still stored, with the deterministic narrative and the reason in ``failure``.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from dagster import ConfigurableResource
from pydantic import Field

from nephos_pipeline.insights.findings import Finding, Narrative, token_count
from nephos_pipeline.insights.llm.validate import validate_reply
from nephos_pipeline.insights.narrative import deterministic_narrative
from nephos_pipeline.warehouse.base import Warehouse

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reply:
    """What a backend returned for one finding: the raw model output, or why there is none."""

    raw: Any = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    failure: str | None = None


class NarratorError(RuntimeError):
    """The whole batch failed; ``reason`` is a short code for LLM_FAILURES ('timeout', 'http_500')."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


def split_tokens(total: Any, count: int) -> list[int]:
    """Spread a batch's token usage over its findings (remainder to the first)."""
    total, count = token_count(total), max(count, 1)
    share = [total // count] * count
    share[0] += total - sum(share)
    return share


class Narrator(ConfigurableResource, ABC):
    """Turns measured findings into words: the resource every insight asset is given.

    Two kinds implement it: :class:`ModelNarrator` (an LLM, one call per batch, replies
    validated) and the local narrator (deterministic words, no model at all).
    """

    model: str = Field(description="Model name passed to the backend.")
    temperature: float = Field(default=0.2, description="Sampling temperature; low keeps wording factual.")
    max_tokens: int = Field(default=600, description="Output token budget per finding.")
    timeout_s: float = Field(default=60.0, description="Seconds before the batch call is abandoned.")
    max_findings: int = Field(default=50, description="Findings sent per call; the rest get deterministic text.")
    strict_numbers: bool = Field(default=True, description="Reject LLM text quoting numbers not in the evidence.")

    backend: ClassVar[str] = "llm"

    @abstractmethod
    def narrate(self, findings: Sequence[Finding], warehouse: Warehouse | None = None) -> list[Narrative]:
        """One narrative per finding, in order; never raises."""

    @abstractmethod
    def ping(self, warehouse: Warehouse | None = None) -> tuple[str, float]:
        """(model, latency in seconds) of a tiny call, for ``nephos doctor``; raises on failure."""


class ModelNarrator(Narrator, ABC):
    """A narrator backed by a model. Subclasses implement one call per batch (``_complete``)."""

    def narrate(self, findings: Sequence[Finding], warehouse: Warehouse | None = None) -> list[Narrative]:
        """One narrative per finding, in order; the LLM's only where it passed validation."""
        findings = list(findings)
        if not findings:
            return []
        batch = findings[: max(int(self.max_findings), 0)]
        replies: list[Reply] = []
        if batch:
            try:
                replies = list(self._complete(batch, warehouse))
                if len(replies) != len(batch):
                    raise NarratorError("bad_response", f"{len(replies)} replies for {len(batch)} findings")
            except NarratorError as exc:
                log.warning("%s narrator failed for %d findings: %s", self.backend, len(batch), exc.reason)
                replies = [Reply(failure=exc.reason)] * len(batch)
            except Exception as exc:  # noqa: BLE001 - any backend bug degrades to deterministic text
                log.warning("%s narrator error: %s", self.backend, type(exc).__name__)
                replies = [Reply(failure=f"{self.backend}_error")] * len(batch)
        narratives = [self._narrative(finding, reply) for finding, reply in zip(batch, replies, strict=True)]
        narratives.extend(deterministic_narrative(f, failure="batch_limit") for f in findings[len(batch) :])
        return narratives

    def _narrative(self, finding: Finding, reply: Reply) -> Narrative:
        if reply.failure:
            return deterministic_narrative(
                finding, failure=reply.failure,
                prompt_tokens=reply.prompt_tokens, completion_tokens=reply.completion_tokens,
            )
        return validate_reply(
            reply.raw, finding, model=self.model, prompt_tokens=reply.prompt_tokens,
            completion_tokens=reply.completion_tokens, strict_numbers=self.strict_numbers,
        )

    @abstractmethod
    def _complete(self, findings: list[Finding], warehouse: Warehouse | None) -> Sequence[Reply]:
        """Exactly one backend call for ``findings``; one Reply per finding, in order."""
