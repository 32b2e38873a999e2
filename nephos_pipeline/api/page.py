"""The insights page at ``/``: plain HTML rendered on the server, no JavaScript at all.

Why no template engine and no script: the page is one summary card and a list of cards,
and its text comes from an LLM and from agents on the monitored servers, so everything
dynamic goes through :func:`esc` (HTML-escaping) in this one file, the stylesheet is a
constant whose hash is the only style the Content-Security-Policy allows, and the page
refreshes itself with ``<meta http-equiv="refresh">`` instead of a script.
"""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import UTC, datetime
from html import escape
from importlib import resources
from typing import Any
from urllib.parse import urlencode

from nephos_pipeline.api.sparkline import sparkline_svg

REFRESH_SECONDS = 300
TYPE_TABS = (("pattern", "Patterns"), ("anomaly", "Anomalies"), ("prediction", "Predictions"))
TYPE_ICONS = {"pattern": "\u2197", "anomaly": "\u26a0", "prediction": "\u25f7"}
TEMPLATE = resources.files("nephos_pipeline.api").joinpath("templates/page.html").read_text(encoding="utf-8")
_STYLE = re.search(r"<style>(.*?)</style>", TEMPLATE, re.S)
_CSS_HASH = base64.b64encode(hashlib.sha256((_STYLE.group(1) if _STYLE else "").encode()).digest()).decode()
PAGE_CSP = (
    f"default-src 'none'; style-src 'sha256-{_CSS_HASH}'; img-src data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_NUMBERED = re.compile(r"(?:^|\s)\d{1,2}[.)]\s+")


def esc(value: Any) -> str:
    """HTML-escape anything (quotes too, so it is safe inside attributes)."""
    return escape("" if value is None else str(value), quote=True)


def _when(iso: str | None, now: datetime) -> str:
    if not iso:
        return ""
    moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    minutes = int((now - moment).total_seconds() // 60)
    if minutes < 1:
        ago = "just now"
    elif minutes < 120:
        ago = f"{minutes} min ago"
    elif minutes < 48 * 60:
        ago = f"{minutes // 60} h ago"
    else:
        ago = f"{minutes // 1440} days ago"
    return f"{moment:%b %d, %H:%M} UTC ({ago})"


def _recommendations(text: str | None) -> str:
    """'1. Do this 2. Do that' or one item per line -> an ordered list; otherwise a paragraph."""
    if not text or not text.strip():
        return ""
    items = [part.strip() for part in _NUMBERED.split(text) if part.strip()]
    if len(items) < 2:
        items = [line.strip(" -*\u2022") for line in text.splitlines() if line.strip(" -*\u2022")]
    body = (
        "<ol>" + "".join(f"<li>{esc(item)}</li>" for item in items) + "</ol>"
        if len(items) >= 2
        else f"<p>{esc(text.strip())}</p>"
    )
    return f'<div class="recs"><p class="recs-title">Recommendations</p>{body}</div>'


def _instances(names: list[str]) -> str:
    if not names:
        return "<span>No instances named</span>"
    shown = "".join(f'<code class="inst">{esc(n)}</code>' for n in names[:6])
    more = f"<span> +{len(names) - 6} more</span>" if len(names) > 6 else ""
    word = "instance" if len(names) == 1 else "instances"
    return f"<span>Affected: {len(names)} {word}</span>{shown}{more}"


def insight_card(insight: dict[str, Any], now: datetime) -> str:
    severity, kind = insight["severity"], insight["type"]
    confidence = insight.get("confidenceScore")
    confidence_text = "n/a" if confidence is None else f"{confidence * 100:.0f}%"
    chart = sparkline_svg(insight.get("evidence"), str((insight.get("evidence") or {}).get("metric") or ""))
    return (
        f'<article class="card insight sev-{esc(severity)}" data-id="{esc(insight["id"])}" '
        f'data-type="{esc(kind)}" data-severity="{esc(severity)}">'
        f'<header><span class="icon" aria-hidden="true">{esc(TYPE_ICONS.get(kind, "*"))}</span>'
        f'<h3>{esc(insight["title"])}</h3><div class="badges">'
        f'<span class="badge sev sev-{esc(severity)}">{esc(severity)}</span>'
        f'<span class="badge type">{esc(kind)}</span></div></header>'
        f'<p class="desc">{esc(insight["description"])}</p>'
        + (f'<figure class="chart">{chart}</figure>' if chart else "")
        + _recommendations(insight.get("recommendations"))
        + f'<footer class="meta"><span>Confidence: {esc(confidence_text)}</span>'
        f"{_instances(insight.get('affectedInstances') or [])}"
        f'<span class="time">{esc(_when(insight.get("createdAt"), now))}</span></footer></article>'
    )


def summary_card(summary: dict[str, Any], now: datetime) -> str:
    counts = summary["counts"]
    chips = "".join(
        f'<span class="chip sev-{esc(name)}"><b>{esc(n)}</b> {esc(name)}</span>'
        for name, n in counts["bySeverity"].items()
    )
    return (
        '<section class="card summary" id="summary"><h2><span aria-hidden="true">\u2726</span> '
        f'Executive Summary</h2><p class="summary-text">{esc(summary["summary"])}</p>'
        f'<div class="chips"><span class="chip total"><b>{esc(counts["total"])}</b> active</span>{chips}</div>'
        f'<p class="meta">Generated {esc(_when(summary.get("generatedAt"), now))} '
        f"\u00b7 this page refreshes every {REFRESH_SECONDS // 60} minutes</p></section>"
    )


def _tabs(counts: dict[str, Any], active: str | None) -> str:
    tabs = [("", "All", counts["total"])] + [(k, label, counts["byType"].get(k, 0)) for k, label in TYPE_TABS]
    links = []
    for key, label, n in tabs:
        href = "/?" + urlencode({"type": key}) if key else "/"
        current = ' aria-current="page" class="tab on"' if (key or None) == active else ' class="tab"'
        links.append(f'<a href="{esc(href)}"{current}>{esc(label)} <span>{esc(n)}</span></a>')
    return '<nav class="tabs">' + "".join(links) + "</nav>"


def _document(title: str, body: str, refresh: int) -> str:
    """Fill templates/page.html; the body goes in last so its text is never re-substituted."""
    page = TEMPLATE.replace("{{title}}", esc(title)).replace("{{refresh}}", str(int(refresh)))
    return page.replace("{{body}}", body)


def render_page(
    summary: dict[str, Any],
    insights: list[dict[str, Any]],
    next_cursor: str | None,
    active_type: str | None,
    now: datetime | None = None,
) -> str:
    """The whole insights page."""
    now = now or datetime.now(UTC)
    cards = "".join(insight_card(i, now) for i in insights) or (
        '<p class="empty card">No active insights. The pipeline writes them to AI_INSIGHTS.</p>'
    )
    more = ""
    if next_cursor:
        query = {"type": active_type, "cursor": next_cursor} if active_type else {"cursor": next_cursor}
        more = f'<p class="more"><a href="/?{esc(urlencode(query))}">Older insights \u2192</a></p>'
    body = summary_card(summary, now) + _tabs(summary["counts"], active_type)
    body += f'<section class="insights" id="insights">{cards}</section>{more}'
    return _document("Nephos \u00b7 AI Insights", body, REFRESH_SECONDS)


def render_message(title: str, message: str, refresh: int = REFRESH_SECONDS) -> str:
    """A small page for 400/401/503, so a browser user sees why and what to do."""
    body = f'<section class="card notice"><h2>{esc(title)}</h2><p>{esc(message)}</p></section>'
    return _document(f"Nephos \u00b7 {title}", body, refresh)
