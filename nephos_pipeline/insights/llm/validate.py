"""Model output is untrusted input: parse it strictly, clean it, or fall back.

A reply is used only if it is one JSON object (optionally in a ```json fence) of at most
20 KB with string ``title``, ``description`` and ``recommendations``, shows no sign of
prompt injection or active markup, and (when strict) quotes no number the evidence lacks.
Otherwise the deterministic narrative is returned with ``failure`` saying why. Either
way the text is markup-free, control-character-free and within the column caps.
"""

from __future__ import annotations

import html
import json
import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

from nephos_pipeline.insights.findings import Finding, Narrative
from nephos_pipeline.insights.llm.numbers import unsupported_numbers
from nephos_pipeline.insights.narrative import (
    DESCRIPTION_MAX,
    RECOMMENDATIONS_MAX,
    TITLE_MAX,
    deterministic_narrative,
)
from nephos_pipeline.insights.sanitize import clean_text
from nephos_pipeline.insights.wording import numbered

RAW_MAX_BYTES = 20 * 1024
FIELDS = ("title", "description", "recommendations")

_FENCE = re.compile(r"^```[A-Za-z0-9_-]*[ \t]*\n?(.*?)\n?```$", re.S)
_INJECTION = re.compile(
    r"\b(ignore|disregard|forget|override)\s+(?:(?:all|any|the|your|my|of|these|those)\s+){0,3}"
    r"(previous|prior|above|earlier|preceding|system|original)\s+"
    r"(instructions?|prompts?|rules|messages?|directions|context)\b"
    r"|\bsystem\s+prompt\b|\bnew\s+instructions\b|\byou\s+are\s+now\b|\bdeveloper\s+mode\b"
    r"|\bjailbreak|\bdata\s+not\s+instructions\b"
)
_ACTIVE = re.compile(
    r"<\s*/?\s*(script|iframe|object|embed|svg|form|meta|link|style)\b|javascript\s*:"
    r"|\bon(error|load|click|mouse[a-z]*|focus|blur|submit|key[a-z]*|change|input|toggle|pointer[a-z]*)\s*=",
    re.I,
)
_MARKERS = ("<<<data", "data>>>")


class Rejected(ValueError):
    """The reply cannot be used; ``reason`` is the code stored in LLM_FAILURES."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _normalise(text: str) -> str:
    """Lower-case words only, so 'Ignore-PREVIOUS\u200binstructions' still matches."""
    text = unicodedata.normalize("NFKC", html.unescape(text))
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cf", "Cc") or ch in "\n\t ")
    return re.sub(r"[^a-z0-9]+", " ", text.lower())


def check_untrusted(text: str) -> None:
    """Raise if ``text`` echoes an injection, our data markers, or active markup."""
    lowered = text.lower()
    if _INJECTION.search(_normalise(text)) or any(m in lowered for m in _MARKERS):
        raise Rejected("injection_echo")
    if _ACTIVE.search(unicodedata.normalize("NFKC", html.unescape(html.unescape(text)))):
        raise Rejected("markup")


def parse_json_reply(raw: Any, max_bytes: int = RAW_MAX_BYTES) -> Any:
    """Text (or an already-decoded object) -> JSON value; raises Rejected."""
    if raw is None:
        raise Rejected("empty")
    if isinstance(raw, Mapping | list):
        text = json.dumps(raw, default=str)
        if len(text.encode("utf-8")) > max_bytes:
            raise Rejected("too_long")
        return raw
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", errors="replace")
    text = str(raw)
    if len(text.encode("utf-8", errors="replace")) > max_bytes:
        raise Rejected("too_long")
    text = text.strip()
    if not text:
        raise Rejected("empty")
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group(1).strip()
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise Rejected("invalid_json") from exc


def _field(obj: Mapping[str, Any], name: str) -> str:
    value = obj.get(name)
    if name == "recommendations" and isinstance(value, Sequence) and not isinstance(value, str):
        steps = [re.sub(r"^\s*\d+[.)]\s*", "", s) for s in value[:10] if isinstance(s, str)]
        value = numbered(s for s in steps if s.strip()) if steps else None
    if not isinstance(value, str):
        raise Rejected("missing_fields")
    return value


def _narrative_from(obj: Any, finding: Finding, model: str | None, strict_numbers: bool, tokens: tuple[int, int]) -> Narrative:
    if not isinstance(obj, Mapping):
        raise Rejected("invalid_json")
    raw_fields = [_field(obj, name) for name in FIELDS]
    for text in raw_fields:
        check_untrusted(text)
    title = clean_text(raw_fields[0], TITLE_MAX)
    description = clean_text(raw_fields[1], DESCRIPTION_MAX, multiline=True)
    recommendations = clean_text(raw_fields[2], RECOMMENDATIONS_MAX, multiline=True)
    if not (title and description and recommendations):
        raise Rejected("empty")
    if strict_numbers and unsupported_numbers((title, description, recommendations), finding):
        raise Rejected("unsupported_number")
    return Narrative(title, description, recommendations, model=model, ai_generated=True,
                     prompt_tokens=tokens[0], completion_tokens=tokens[1])


def validate_reply(
    raw: Any,
    finding: Finding,
    *,
    model: str | None,
    prompt_tokens: int = 0,
    completion_tokens: int = 0,
    strict_numbers: bool = True,
) -> Narrative:
    """The LLM narrative if ``raw`` is acceptable, else the deterministic one with ``failure``."""
    tokens = (_count(prompt_tokens), _count(completion_tokens))
    try:
        obj = parse_json_reply(raw)
        if isinstance(raw, str | bytes):
            check_untrusted(raw if isinstance(raw, str) else raw.decode("utf-8", errors="replace"))
        return _narrative_from(obj, finding, model, strict_numbers, tokens)
    except Rejected as exc:
        return deterministic_narrative(finding, failure=exc.reason, prompt_tokens=tokens[0], completion_tokens=tokens[1])
    except Exception:  # noqa: BLE001 - a validator bug must not cost the insight
        return deterministic_narrative(finding, failure="validation_error", prompt_tokens=tokens[0], completion_tokens=tokens[1])


def split_batch(raw: Any, count: int) -> list[Any]:
    """A batch reply ``{"narratives": [{"id": "0", ...}]}`` -> one item (or Rejected) per finding."""
    try:
        obj = parse_json_reply(raw, max_bytes=RAW_MAX_BYTES * max(count, 1))
        if isinstance(raw, str):
            check_untrusted(raw)
    except Rejected as exc:
        return [exc] * count
    listed = obj.get("narratives") if isinstance(obj, Mapping) else obj
    if isinstance(obj, Mapping) and listed is None and count == 1 and "title" in obj:
        listed = [{"id": "0", **obj}]
    if not isinstance(listed, list):
        return [Rejected("invalid_json")] * count
    by_id: dict[str, Any] = {}
    for position, item in enumerate(listed[: count * 2]):
        if isinstance(item, Mapping):
            by_id.setdefault(str(item.get("id", position)), item)
    return [by_id.get(str(i), Rejected("missing_item")) for i in range(count)]


def _count(value: Any) -> int:
    try:
        return max(int(value or 0), 0)
    except (TypeError, ValueError, OverflowError):
        return 0
