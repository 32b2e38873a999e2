"""Make untrusted text safe to store and show: no markup, no control characters, bounded.

Used on everything that did not come from our own code: host names and alert messages
from agents (quoted by the deterministic narrative) and every field an LLM returns.
The invariant the dashboard relies on: the result contains no ``<`` or ``>`` at all, no
control or format characters except newlines, and is never longer than ``limit``.
"""

from __future__ import annotations

import html
import math
import re
import unicodedata
from typing import Any

_BLOCKS = re.compile(r"<\s*(script|style|iframe|object|embed|svg|math)\b.*?(<\s*/\s*\1\s*>|$)", re.I | re.S)
_COMMENTS = re.compile(r"<!--.*?(-->|$)", re.S)
_TAGS = re.compile(r"<\s*/?\s*[A-Za-z!?][^<>]*>")
_MD_IMAGE_LINK = re.compile(r"!?\[([^\]\n]{0,300})\]\([^)\n]{0,500}\)")
_MD_MARKS = re.compile(r"```+|`+|\*\*+|__+|~~+")
_MD_HEADINGS = re.compile(r"^[ \t]*(#{1,6}|>+)[ \t]+", re.M)
_SCHEMES = re.compile(r"\b(javascript|vbscript|data)\s*:", re.I)
_SPACES = re.compile(r"[ \t\f\v]+")
_BLANK_LINES = re.compile(r"\n{3,}")


def _strip_controls(text: str, multiline: bool) -> str:
    out = []
    for ch in text:
        if ch == "\n":
            out.append("\n" if multiline else " ")
        elif ch in "\t\r\u2028\u2029\x85":
            out.append("\n" if multiline and ch in "\u2028\u2029\x85" else " ")
        elif unicodedata.category(ch) in ("Cc", "Cf", "Co", "Cs", "Cn"):
            continue
        else:
            out.append(ch)
    return "".join(out)


def strip_markup(text: str) -> str:
    """Remove HTML (tags, scripts, comments, entities) and Markdown emphasis/links."""
    for _ in range(2):  # double-encoded entities (&amp;lt;script&amp;gt;) decode in two passes
        text = unicodedata.normalize("NFKC", html.unescape(text))  # fullwidth ＜ becomes <
    text = _COMMENTS.sub(" ", _BLOCKS.sub(" ", text))
    text = _TAGS.sub(" ", text)
    text = text.replace("<", "\u2039").replace(">", "\u203a")  # stray brackets: visible, inert
    text = _MD_IMAGE_LINK.sub(r"\1", text)
    text = _MD_HEADINGS.sub("", _MD_MARKS.sub("", text))
    return _SCHEMES.sub(r"\1 ", text)


def truncate(text: str, limit: int) -> str:
    """Cut to ``limit`` characters, at a word boundary when one is close, marking the cut."""
    if len(text) <= limit:
        return text
    if limit <= 1:
        return text[:limit]
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space >= int(limit * 0.6):
        cut = cut[:space]
    return cut.rstrip() + "\u2026"


def clean_text(value: Any, limit: int, *, multiline: bool = False) -> str:
    """Untrusted value -> plain text of at most ``limit`` characters (may be empty)."""
    if value is None or isinstance(value, bool):
        return ""
    if isinstance(value, float) and not math.isfinite(value):
        return ""
    text = value if isinstance(value, str) else str(value)
    text = text[: limit * 8 + 2000]  # bound the work on pathological input before regexes
    text = _strip_controls(strip_markup(text), multiline)
    if multiline:
        lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
        text = _BLANK_LINES.sub("\n\n", "\n".join(lines))
    else:
        text = _SPACES.sub(" ", text)
    return truncate(text.strip(), limit)


def clean_name(value: Any, limit: int = 64, default: str = "unknown host") -> str:
    """A host/instance/metric name for quoting in a sentence; never empty."""
    return clean_text(value, limit) or default
