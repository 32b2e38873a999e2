"""The Cortex statements and the parsing of what they return.

Statement text is constant; the only bound values are the model name, temperature and
max_tokens (client-side pyformat binding turns them into literals, so the parameter
object stays a constant as the functions expect) and the JSON batch of prompts.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from nephos_pipeline.insights.findings import token_count
from nephos_pipeline.insights.llm.base import NarratorError, Reply
from nephos_pipeline.insights.llm.validate import FIELDS, RAW_MAX_BYTES
from nephos_pipeline.sql_files import load_sql

MAX_BATCH_CHARS = 800_000  # Snowflake statement text is limited to about 1 MB
_ENVELOPE_MAX_BYTES = 4 * RAW_MAX_BYTES

# The statements live in sql/insights/cortex_*.sql (one per function), like the rest.
AI_COMPLETE_SQL = load_sql("insights/cortex_ai_complete.sql")
COMPLETE_SQL = load_sql("insights/cortex_complete.sql")
_PING = {
    "AI_COMPLETE": load_sql("insights/cortex_ping_ai_complete.sql"),
    "COMPLETE": load_sql("insights/cortex_ping_complete.sql"),
}


def _function(function: str) -> str:
    name = str(function or "").strip().upper().removeprefix("SNOWFLAKE.CORTEX.")
    if name not in _PING:
        raise NarratorError("bad_config", f"function must be AI_COMPLETE or COMPLETE, got {function!r}")
    return name


def statement_sql(function: str) -> str:
    """The batch statement for ``function`` ('AI_COMPLETE' or 'COMPLETE')."""
    return AI_COMPLETE_SQL if _function(function) == "AI_COMPLETE" else COMPLETE_SQL


def ping_sql(function: str) -> str:
    return _PING[_function(function)]


def _tokens(usage: Any, key: str) -> int:
    return token_count(usage.get(key)) if isinstance(usage, Mapping) else 0


def parse_response(cell: Any) -> Reply:
    """One RESPONSE cell -> Reply with the model's content and token usage.

    Tolerates every documented shape: the detailed object as VARIANT text or dict,
    ``choices[0].messages`` as text or object, ``structured_output[0].raw_message``,
    and a plain string when details were not returned.
    """
    if cell is None:
        return Reply(failure="null_response")  # AI_COMPLETE returns NULL for a failed row
    if isinstance(cell, bytes | bytearray):
        cell = bytes(cell).decode("utf-8", errors="replace")
    if isinstance(cell, str):
        if len(cell.encode("utf-8", errors="replace")) > _ENVELOPE_MAX_BYTES:
            return Reply(failure="too_long")
        try:
            envelope = json.loads(cell)
        except ValueError:
            return Reply(raw=cell)  # plain completion text; the validator decides
    else:
        envelope = cell
    if not isinstance(envelope, Mapping):
        return Reply(raw=cell)
    usage = envelope.get("usage")
    tokens = {"prompt_tokens": _tokens(usage, "prompt_tokens"), "completion_tokens": _tokens(usage, "completion_tokens")}
    structured, choices = envelope.get("structured_output"), envelope.get("choices")
    if isinstance(structured, list) and structured and isinstance(structured[0], Mapping):
        content = structured[0].get("raw_message")
    elif isinstance(choices, list) and choices and isinstance(choices[0], Mapping):
        first = choices[0]
        message = first.get("message")
        content = first.get("messages", message.get("content") if isinstance(message, Mapping) else None)
    elif all(name in envelope for name in FIELDS):
        content = envelope  # structured output returned without details
    else:
        return Reply(failure="bad_response", **tokens)
    if content is None or content == "":
        return Reply(failure="empty", **tokens)
    return Reply(raw=content, **tokens)


def reason_for(exc: BaseException) -> str:
    """A stored failure code for an exception raised by the statement."""
    text = str(exc).lower()
    if "timeout" in text or "timed out" in text or "canceled" in text or "cancelled" in text:
        return "timeout"
    if ("unknown function" in text or "does not exist" in text) and "complete" in text:
        return "function_unavailable"
    if "model" in text and ("unavailable" in text or "not found" in text or "unknown model" in text):
        return "model_unavailable"
    return "cortex_error"
