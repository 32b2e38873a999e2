"""Validation of the API's query parameters, with a 400 that names the parameter and why.

Why strict validation up front rather than letting the warehouse complain: every value is
bound (never formatted into SQL), but a malformed timestamp or cursor would still fail
inside the database and surface as a 5xx. Rejecting it here gives the client a clear
message and keeps "never a 500 for anything a client sends" true.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from starlette.datastructures import QueryParams

from nephos_pipeline import insight_types

SEVERITIES = ("low", "medium", "high", "critical")
LIMIT_MIN, LIMIT_MAX, LIMIT_DEFAULT = 1, 500, 50
MAX_TEXT = 256  # instance names and insight ids are short identifiers
MAX_CURSOR = 1024
HISTORY_PARAMS = ("as_of", "include_archived")
LIST_PARAMS = ("type", "severity", "instance", "since", "limit", "cursor", *HISTORY_PARAMS)
FUTURE_SLACK = timedelta(minutes=5)  # clock skew allowed before an as_of counts as "in the future"
_BOOLEANS = {"true": True, "1": True, "false": False, "0": False}

_DIGITS = re.compile(r"[0-9]{1,6}")
_CURSOR_CHARS = re.compile(r"[A-Za-z0-9_-]+")


class BadParameter(ValueError):
    """A client error in one query parameter; becomes a 400 JSON error."""

    def __init__(self, parameter: str, reason: str) -> None:
        super().__init__(f"{parameter}: {reason}")
        self.parameter = parameter
        self.reason = reason


@dataclass(frozen=True)
class View:
    """Which moment to show: now (``as_of`` None), or a past moment read from the archive too.

    ``include_archived`` also lists insights no longer active at that moment (expired, or
    moved to AI_INSIGHTS_ARCHIVE), which turns a listing into the history of a period.
    """

    as_of: str | None = None
    include_archived: bool = False


@dataclass(frozen=True)
class Filters:
    """A validated /insights request. Timestamps are naive UTC ISO text, ready to bind."""

    type: str | None = None
    severity: str | None = None
    instance: str | None = None
    since: str | None = None
    limit: int = LIMIT_DEFAULT
    after_at: str | None = None
    after_id: str | None = None
    view: View = View()


def single_values(params: QueryParams, allowed: Iterable[str]) -> dict[str, str]:
    """Each allowed parameter at most once; unknown names are an error, not silently ignored."""
    allowed = tuple(allowed)
    values: dict[str, str] = {}
    for name, value in params.multi_items():
        if name not in allowed:
            expected = ", ".join(allowed) or "none"
            raise BadParameter(name, f"unknown parameter (accepted: {expected})")
        if name in values:
            raise BadParameter(name, "given more than once")
        values[name] = value
    return values


def parse_choice(name: str, value: str | None, choices: tuple[str, ...]) -> str | None:
    if value is None:
        return None
    if value not in choices:
        shown = value if len(value) <= 40 else value[:40] + "..."
        raise BadParameter(name, f"unknown {name} {shown!r}; expected one of {', '.join(choices)}")
    return value


def parse_text(name: str, value: str | None) -> str | None:
    """Identifier-like text: 1..256 characters, no control characters."""
    if value is None:
        return None
    if not value:
        raise BadParameter(name, "must not be empty")
    if len(value) > MAX_TEXT:
        raise BadParameter(name, f"longer than {MAX_TEXT} characters")
    if any(unicodedata.category(ch) in {"Cc", "Cs"} for ch in value):
        raise BadParameter(name, "contains control characters")
    return value


def parse_limit(value: str | None) -> int:
    if value is None:
        return LIMIT_DEFAULT
    if not _DIGITS.fullmatch(value) or not LIMIT_MIN <= int(value) <= LIMIT_MAX:
        shown = value if len(value) <= 20 else value[:20] + "..."
        raise BadParameter("limit", f"must be an integer from {LIMIT_MIN} to {LIMIT_MAX}, got {shown!r}")
    return int(value)


def parse_timestamp(name: str, value: str | None) -> str | None:
    """ISO-8601 with or without an offset (naive means UTC) -> naive UTC ISO text."""
    if value is None:
        return None
    reason = "not an ISO-8601 timestamp (e.g. 2024-05-01T14:00:00Z)"
    if len(value) > 64:
        raise BadParameter(name, reason)
    try:
        # RFC 3339 allows a lower-case 't' and 'z'; fromisoformat does not.
        parsed = datetime.fromisoformat(value.strip().upper())
        if parsed.tzinfo is not None:
            parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    except (ValueError, OverflowError):
        raise BadParameter(name, reason) from None
    return parsed.isoformat(sep=" ", timespec="microseconds")


def parse_bool(name: str, value: str | None) -> bool:
    """``true``/``false`` (or ``1``/``0``), case-insensitive; absent means false."""
    if value is None:
        return False
    parsed = _BOOLEANS.get(value.strip().lower())
    if parsed is None:
        shown = value if len(value) <= 20 else value[:20] + "..."
        raise BadParameter(name, f"must be true or false, got {shown!r}")
    return parsed


def parse_view(values: dict[str, str], now: datetime) -> View:
    """``as_of`` (a past ISO-8601 time) and ``include_archived`` (true/false)."""
    as_of = parse_timestamp("as_of", values.get("as_of"))
    if as_of is not None and datetime.fromisoformat(as_of) > (now.astimezone(UTC) + FUTURE_SLACK).replace(tzinfo=None):
        raise BadParameter("as_of", "is in the future; it shows insights as they were at a past moment")
    return View(as_of=as_of, include_archived=parse_bool("include_archived", values.get("include_archived")))


def encode_cursor(created_at: str, insight_id: str) -> str:
    """Opaque, url-safe token for the keyset position after the last row of a page."""
    raw = json.dumps([created_at, insight_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(value: str | None) -> tuple[str | None, str | None]:
    if value is None:
        return None, None
    reason = "not a cursor returned by this API (pass nextCursor unchanged)"
    if len(value) > MAX_CURSOR or not _CURSOR_CHARS.fullmatch(value):
        raise BadParameter("cursor", reason)
    try:
        decoded = json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
    except (binascii.Error, ValueError):
        raise BadParameter("cursor", reason) from None
    if not (isinstance(decoded, list) and len(decoded) == 2 and all(isinstance(v, str) for v in decoded)):
        raise BadParameter("cursor", reason)
    created_at, insight_id = decoded
    try:
        created_at = parse_timestamp("cursor", created_at) or ""
        insight_id = parse_text("cursor", insight_id) or ""
    except BadParameter:
        raise BadParameter("cursor", reason) from None
    return created_at, insight_id


def parse_filters(params: QueryParams, now: datetime, *, fixed_type: str | None = None) -> Filters:
    """Validate /insights (or a per-type endpoint, where ``type`` is fixed and not accepted)."""
    allowed = [p for p in LIST_PARAMS if not (fixed_type and p == "type")]
    values = single_values(params, allowed)
    after_at, after_id = decode_cursor(values.get("cursor"))
    return Filters(
        type=fixed_type or parse_choice("type", values.get("type"), insight_types.listed_names()),
        severity=parse_choice("severity", values.get("severity"), SEVERITIES),
        instance=parse_text("instance", values.get("instance")),
        since=parse_timestamp("since", values.get("since")),
        limit=parse_limit(values.get("limit")),
        after_at=after_at,
        after_id=after_id,
        view=parse_view(values, now),
    )
