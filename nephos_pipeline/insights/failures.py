"""Recording why LLM text was not used, in LLM_FAILURES.

One statement for all failures of a run: the rows travel as one bound JSON value and are
exploded with FLATTEN, so the SQL text is constant and nothing is formatted into it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from nephos_pipeline.insights.findings import Finding, Narrative
from nephos_pipeline.sql_files import load_sql
from nephos_pipeline.warehouse.base import Warehouse


@dataclass(frozen=True)
class LlmFailure:
    fingerprint: str | None
    model: str | None
    reason: str


def failures_of(findings: Sequence[Finding], narratives: Sequence[Narrative], model: str | None) -> list[LlmFailure]:
    """The failures worth recording from one ``narrate`` call (``model``: the narrator's)."""
    return [
        LlmFailure(finding.fingerprint, model, narrative.failure)
        for finding, narrative in zip(findings, narratives, strict=False)
        if narrative.failure
    ]


def record_failures(
    warehouse: Warehouse, conn: Any, failures: Iterable[LlmFailure], failed_at: datetime | None = None
) -> int:
    """Insert ``failures`` on ``conn`` (inside the caller's transaction, if any); returns rows."""
    rows = [
        {"fingerprint": f.fingerprint, "model": f.model, "reason": (f.reason or "unknown")[:200]}
        for f in failures
    ]
    if not rows:
        return 0
    at = failed_at or datetime.now(UTC)
    if at.tzinfo is not None:  # the column is TIMESTAMP_NTZ in UTC; naive input is taken as UTC
        at = at.astimezone(UTC).replace(tzinfo=None)
    return warehouse.execute(load_sql("insights/record_llm_failures.sql"), {"rows": json.dumps(rows), "failed_at": at}, conn)
