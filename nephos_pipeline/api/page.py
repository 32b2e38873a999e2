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
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import escape
from importlib import resources
from typing import Any
from urllib.parse import urlencode

from nephos_pipeline import insight_types
from nephos_pipeline.api.chart_plan import ChartPlan
from nephos_pipeline.api.chart_svg import Bucket, chart_svg
from nephos_pipeline.api.params import View

REFRESH_SECONDS = 300
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


def _icon(kind: str) -> str:
    """The card's icon: the type's own (``insight_types.py``), ``*`` for a type it does not know."""
    known = insight_types.INSIGHT_TYPES.get(kind)
    return known.icon if known else "*"


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


@dataclass(frozen=True)
class PageContext:
    """What the cards need beyond the insight rows: the clock, the view, names, chart data."""

    now: datetime
    view: View = View()
    names: Mapping[str, str] = field(default_factory=dict)  # INSTANCE_ID -> HOSTNAME
    plans: Mapping[str, ChartPlan] = field(default_factory=dict)  # insight id -> its chart
    series: Mapping[str, list[Bucket]] = field(default_factory=dict)  # SeriesSpec.key -> data

    @property
    def moment(self) -> datetime:
        """The moment shown, naive UTC: as_of, or now."""
        if self.view.as_of:
            return datetime.fromisoformat(self.view.as_of)
        return self.now.astimezone(UTC).replace(tzinfo=None)


def with_names(text: str, names: Mapping[str, str]) -> str:
    """Instance ids in free text (narratives, LLM output) -> host names; ids stay in the chips."""
    for instance_id, host in sorted(names.items(), key=lambda kv: -len(kv[0])):
        if not instance_id or instance_id not in text:
            continue
        ident = re.escape(instance_id)
        text = re.sub(rf"{re.escape(host)} \({ident}\)", host, text)
        text = re.sub(rf"(?<![\w-]){ident}(?![\w-])", host, text)
    return text


def _instances(ids: list[str], names: Mapping[str, str]) -> str:
    if not ids:
        return "<span>No instances named</span>"

    def chip(instance_id: str) -> str:
        host = names.get(instance_id)
        if not host or host == instance_id:
            return f'<code class="inst">{esc(instance_id)}</code>'
        return f'<span class="inst"><b>{esc(host)}</b> <small>{esc(instance_id)}</small></span>'

    shown = "".join(chip(i) for i in ids[:6])
    more = f"<span> +{len(ids) - 6} more</span>" if len(ids) > 6 else ""
    word = "instance" if len(ids) == 1 else "instances"
    return f"<span>Affected: {len(ids)} {word}</span>{shown}{more}"


def _chart(insight: dict[str, Any], ctx: PageContext) -> str:
    plan = ctx.plans.get(str(insight.get("id")))
    if plan is None:
        return ""
    svg, legend = chart_svg(plan, ctx.series, ctx.names.get(plan.series[0].instance))
    if not svg:
        return ""
    keys = []
    for entry in legend:
        series, _, text = entry.partition("|") if "|" in entry else ("", "", entry)
        swatch = f'<i class="key {esc(series)}"></i>' if series else ""
        keys.append(f"<span>{swatch}{esc(with_names(text, ctx.names))}</span>")
    return f'<figure class="chart">{svg}<figcaption>{"".join(keys)}</figcaption></figure>'


def insight_card(insight: dict[str, Any], ctx: PageContext) -> str:
    severity, kind = insight["severity"], insight["type"]
    confidence = insight.get("confidenceScore")
    confidence_text = "n/a" if confidence is None else f"{confidence * 100:.0f}%"
    expires = insight.get("expiresAt")
    ended = bool(expires) and datetime.fromisoformat(expires.replace("Z", "")) <= ctx.moment
    status = f'<span class="badge ended">expired {esc(_when(expires, ctx.now))}</span>' if ended else ""
    names = ctx.names
    return (
        f'<article class="card insight sev-{esc(severity)}" data-id="{esc(insight["id"])}" '
        f'data-type="{esc(kind)}" data-severity="{esc(severity)}">'
        f'<header><span class="icon" aria-hidden="true">{esc(_icon(kind))}</span>'
        f'<h3>{esc(with_names(insight["title"], names))}</h3><div class="badges">'
        f'<span class="badge sev sev-{esc(severity)}">{esc(severity)}</span>'
        f'<span class="badge type">{esc(kind)}</span></div></header>'
        f'<p class="desc">{esc(with_names(insight["description"], names))}</p>'
        + _chart(insight, ctx)
        + _recommendations(with_names(insight.get("recommendations") or "", names))
        + f'<footer class="meta"><span>Confidence: {esc(confidence_text)}</span>'
        f"{_instances(insight.get('affectedInstances') or [], names)}"
        f'<span class="time">{esc(_when(insight.get("createdAt"), ctx.now))}</span>{status}</footer></article>'
    )


def summary_card(summary: dict[str, Any], ctx: PageContext) -> str:
    counts = summary["counts"]
    chips = "".join(
        f'<span class="chip sev-{esc(name)}"><b>{esc(n)}</b> {esc(name)}</span>'
        for name, n in counts["bySeverity"].items()
    )
    refresh = "" if ctx.view.as_of else f" \u00b7 this page refreshes every {REFRESH_SECONDS // 60} minutes"
    return (
        '<section class="card summary" id="summary"><h2><span aria-hidden="true">\u2726</span> '
        f'Executive Summary</h2><p class="summary-text">{esc(with_names(summary["summary"], ctx.names))}</p>'
        f'<div class="chips"><span class="chip total"><b>{esc(counts["total"])}</b> active</span>{chips}</div>'
        f'<p class="meta">{esc(_summary_stamp(summary, ctx))}{refresh}</p></section>'
    )


def _summary_stamp(summary: dict[str, Any], ctx: PageContext) -> str:
    """Say what the summary's time is. A summary row is stamped with the end of the 6-hour
    window it summarises (idempotent re-runs), not with when it ran, so "Generated 00:00
    (4 h ago)" under a run from minutes ago was misleading; the chips are counted live."""
    counted = f"{ctx.moment:%b %d, %H:%M} UTC" if ctx.view.as_of else "now"
    return f"Summary of the insights active at {_when(summary.get('generatedAt'), ctx.now)}; counted {counted}"


def _link(view: View, **params: str | None) -> str:
    """A page URL keeping the history view (as_of, include_archived)."""
    query = {"as_of": view.as_of, "include_archived": "true" if view.include_archived else None, **params}
    kept = {k: v for k, v in query.items() if v}
    return "/?" + urlencode(kept) if kept else "/"


def _tabs(counts: dict[str, Any], active: str | None, view: View) -> str:
    tabs = [("", "All", counts["total"])] + [(t.name, t.tab, counts["byType"].get(t.name, 0))
                                        for t in insight_types.listed()]
    links = []
    for key, label, n in tabs:
        current = ' aria-current="page" class="tab on"' if (key or None) == active else ' class="tab"'
        links.append(f'<a href="{esc(_link(view, type=key or None))}"{current}>{esc(label)} <span>{esc(n)}</span></a>')
    return '<nav class="tabs">' + "".join(links) + "</nav>"


def _history_banner(ctx: PageContext) -> str:
    view = ctx.view
    if not view.as_of and not view.include_archived:
        return ""
    moment = f"{ctx.moment:%b %d %Y, %H:%M} UTC"
    what = f"Insights as they were at {moment}" if view.as_of else "Insights now"
    what += ", including those no longer active (expired or archived)." if view.include_archived else (
        ", including those archived since.")
    return (f'<p class="card history">{esc(what)} '
            f'<a href="{esc(_link(View(), type=None))}">Back to the live view</a></p>')


def _document(title: str, body: str, refresh: int) -> str:
    """Fill templates/page.html; the body goes in last so its text is never re-substituted."""
    page = TEMPLATE.replace("{{title}}", esc(title)).replace("{{refresh}}", str(int(refresh)))
    return page.replace("{{body}}", body)


def render_page(
    summary: dict[str, Any],
    insights: list[dict[str, Any]],
    next_cursor: str | None,
    active_type: str | None,
    ctx: PageContext | None = None,
) -> str:
    """The whole insights page."""
    ctx = ctx or PageContext(now=datetime.now(UTC))
    cards = "".join(insight_card(i, ctx) for i in insights) or (
        '<p class="empty card">No insights to show. The pipeline writes them to AI_INSIGHTS.</p>'
    )
    more = ""
    if next_cursor:
        more = f'<p class="more"><a href="{esc(_link(ctx.view, type=active_type, cursor=next_cursor))}">Older insights \u2192</a></p>'
    body = _history_banner(ctx) + summary_card(summary, ctx) + _tabs(summary["counts"], active_type, ctx.view)
    body += f'<section class="insights" id="insights">{cards}</section>{more}'
    refresh = 3600 if ctx.view.as_of else REFRESH_SECONDS  # the past does not change every 5 minutes
    return _document("Nephos \u00b7 AI Insights", body, refresh)


def render_message(title: str, message: str, refresh: int = REFRESH_SECONDS) -> str:
    """A small page for 400/401/503, so a browser user sees why and what to do."""
    body = f'<section class="card notice"><h2>{esc(title)}</h2><p>{esc(message)}</p></section>'
    return _document(f"Nephos \u00b7 {title}", body, refresh)
