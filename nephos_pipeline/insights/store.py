"""Write findings to AI_INSIGHTS: narrate only what is new, then one MERGE.

Lifecycle rules:
- identity is the finding's fingerprint; ``INSIGHT_ID`` is derived from it (uuid5), and
  ``CREATED_AT`` is the end of the window that first produced it, so re-runs and backfills
  write identical rows;
- a finding seen again moves ``LAST_SEEN_AT`` and ``EXPIRES_AT`` forward and does *not* call
  the LLM again; its words are refreshed so they stay true: the stored LLM text is kept
  while every number it quotes is still supported by the new evidence (the same check the
  LLM reply passed), otherwise the deterministic narrative of the new evidence replaces it;
- the expiry is counted from the last time the finding was seen (per-type lifetimes in
  ``nephos_pipeline/insight_types.py``).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import pandas as pd

from nephos_pipeline import insight_types
from nephos_pipeline.insights.failures import failures_of, record_failures
from nephos_pipeline.insights.findings import Finding, Narrative
from nephos_pipeline.insights.llm.numbers import unsupported_numbers
from nephos_pipeline.insights.narrative import deterministic_narrative
from nephos_pipeline.sql_files import load_sql
from nephos_pipeline.warehouse import Warehouse

_NAMESPACE = uuid.UUID("6f1f6f0e-3c55-4a8e-9a52-6e6570686f73")


def expires_at(insight_type: str, last_seen: datetime) -> datetime:
    """Active until its type's lifetime (``insight_types.py``) after it was last seen."""
    return last_seen + insight_types.get(insight_type).lifetime


@dataclass
class SaveResult:
    created: list[tuple[Finding, Narrative]] = field(default_factory=list)
    seen_again: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    failures: list[str] = field(default_factory=list)
    llm_calls: int = 0


def _collapse(findings: Sequence[Finding]) -> list[tuple[Finding, Finding]]:
    """One (first, latest) observation pair per fingerprint, in first-seen order.

    A run over several windows (a backfill) can see the same finding many times. Stored
    as window-by-window runs would store it: created and narrated from the first
    observation, with the latest one's numbers, severity and last-seen time.
    """
    first: dict[str, Finding] = {}
    latest: dict[str, Finding] = {}
    for f in findings:
        seen = f.first_seen_at or f.window_end
        if f.fingerprint not in first or seen < (first[f.fingerprint].first_seen_at or first[f.fingerprint].window_end):
            first[f.fingerprint] = f
        if f.fingerprint not in latest or f.window_end >= latest[f.fingerprint].window_end:
            latest[f.fingerprint] = f
    return [(first[fp], latest[fp]) for fp in first]


def insight_id(fingerprint: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, fingerprint))


def _known(warehouse: Warehouse, conn: Any, findings: Sequence[Finding]) -> dict[str, Narrative]:
    """The stored words of the findings that already have an insight, by fingerprint."""
    warehouse.execute(load_sql("insights/stage_fingerprints.sql"), conn=conn)
    warehouse.write_frame(conn, pd.DataFrame({"FINGERPRINT": [f.fingerprint for f in findings]}), "STG_FINGERPRINTS")
    df = warehouse.query(load_sql("insights/known_fingerprints.sql"), None, conn)
    return {r.fingerprint: Narrative(r.title or "", r.description or "", r.recommendations or "",
                                     model=r.model if isinstance(r.model, str) else None,
                                     ai_generated=bool(r.ai_generated))
            for r in df.itertuples(index=False)}


def current_words(narrative: Narrative, latest: Finding) -> Narrative:
    """Words that are true for ``latest``: why titles no longer freeze at first sighting.

    LLM text stays while every number it quotes is still in the evidence; deterministic
    text is simply rebuilt from the latest evidence (token counts are kept: they were spent).
    """
    texts = (narrative.title, narrative.description, narrative.recommendations)
    if narrative.ai_generated and not unsupported_numbers(texts, latest):
        return narrative
    fresh = deterministic_narrative(latest)
    return replace(fresh, prompt_tokens=narrative.prompt_tokens, completion_tokens=narrative.completion_tokens,
                   failure=narrative.failure)


def _row(first: Finding, f: Finding, n: Narrative | None) -> dict[str, Any]:
    """The AI_INSIGHTS row: identity and start from ``first``; numbers and words (``n``) from ``f`` (latest)."""
    return {
        "INSIGHT_ID": insight_id(f.fingerprint),
        "INSIGHT_TYPE": f.insight_type,
        "FINGERPRINT": f.fingerprint,
        "SEVERITY": f.severity,
        "TITLE": n.title if n else "",
        "DESCRIPTION": n.description if n else "",
        "RECOMMENDATIONS": n.recommendations if n else "",
        "CONFIDENCE_SCORE": float(min(1.0, max(0.0, f.confidence))),
        "AFFECTED_INSTANCES": json.dumps(list(first.affected_instances), ensure_ascii=False),
        "METRIC": first.metric,
        "WINDOW_START": first.window_start,
        "WINDOW_END": f.window_end,
        "EVIDENCE": json.dumps({"metric": f.metric, **f.evidence}, ensure_ascii=False, default=str, allow_nan=False),
        "MODEL": n.model if n else None,
        "AI_GENERATED": bool(n.ai_generated) if n else False,
        "PROMPT_TOKENS": int(n.prompt_tokens) if n else 0,
        "COMPLETION_TOKENS": int(n.completion_tokens) if n else 0,
        "CREATED_AT": first.first_seen_at or first.window_end,
        "LAST_SEEN_AT": f.window_end,
        "EXPIRES_AT": expires_at(f.insight_type, f.window_end),
    }


def save_findings(
    warehouse: Warehouse,
    narrator: Any,
    findings: Sequence[Finding],
) -> SaveResult:
    """Narrate new findings (one LLM batch) and MERGE all of them into AI_INSIGHTS."""
    result = SaveResult()
    if not findings:
        return result
    pairs = _collapse(findings)
    with warehouse.connection() as conn:
        known = _known(warehouse, conn, [first for first, _ in pairs])
    new = [first for first, _ in pairs if first.fingerprint not in known]
    narratives: dict[str, Narrative] = dict(known)
    if new:
        # One model call per batch; the local narrator calls no model, so it counts none.
        result.llm_calls = 0 if getattr(narrator, "backend", None) == "local" else 1
        for f, n in zip(new, narrator.narrate(new, warehouse), strict=True):
            narratives[f.fingerprint] = n
            result.created.append((f, n))
            result.prompt_tokens += n.prompt_tokens
            result.completion_tokens += n.completion_tokens
            if n.failure:
                result.failures.append(n.failure)
    result.seen_again = len(pairs) - len(new)
    rows = [_row(first, latest, current_words(narratives[first.fingerprint], latest))
            for first, latest in pairs]
    with warehouse.connection() as conn:
        warehouse.execute(load_sql("insights/stage_insights.sql"), conn=conn)
        frame = pd.DataFrame(rows)
        for col in ("WINDOW_START", "WINDOW_END", "CREATED_AT", "LAST_SEEN_AT", "EXPIRES_AT"):
            frame[col] = pd.to_datetime(frame[col]).astype("datetime64[us]")
        warehouse.write_frame(conn, frame, "STG_INSIGHTS")
        with warehouse.transaction(conn) as cur:
            cur.execute(load_sql("insights/merge_insights.sql"))
        failed_at = max(f.window_end for f in new) if new else None
        record_failures(warehouse, conn, failures_of(new, [narratives[f.fingerprint] for f in new],
                                                     getattr(narrator, "model", None)), failed_at)
    return result


def archive_expired(warehouse: Warehouse, before: datetime) -> int:
    """Move insights that expired by ``before`` to AI_INSIGHTS_ARCHIVE; returns how many."""
    params = {"before": before, "archived_at": before}
    with warehouse.connection() as conn, warehouse.transaction(conn) as cur:
        cur.execute(load_sql("insights/archive_expired.sql"), params)
        moved = int(cur.rowcount or 0)
        cur.execute(load_sql("insights/purge_expired.sql"), params)
    return moved
