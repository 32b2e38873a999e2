"""The insights API against a seeded local warehouse: shapes, filters, pagination, escaping.

Errors (400/401/503) and CORS are in ``test_errors.py``.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import quote

import pytest

from nephos_pipeline.api import create_app
from nephos_pipeline.api.shapes import parse_variant
from nephos_pipeline_tests.api.conftest import (
    ACTIVE_NON_SUMMARY,
    INSERT,
    SQLI,
    XSS,
    call,
    insight_rows,
    make_row,
)

INSIGHT_KEYS = {"id", "type", "severity", "title", "description", "recommendations", "confidenceScore",
                "affectedInstances", "createdAt", "expiresAt", "evidence"}


def ids(app, url: str) -> list[str]:
    reply = call(app, url)
    assert reply.status == 200, reply.text
    return [i["id"] for i in reply.json()["insights"]]


def test_list_has_the_seed_shape_newest_first(app) -> None:
    reply = call(app, "/insights")
    assert reply.status == 200 and reply.headers["content-type"] == "application/json"
    body = reply.json()
    assert set(body) == {"insights", "nextCursor"} and body["nextCursor"] is None
    insights = body["insights"]
    assert len(insights) == ACTIVE_NON_SUMMARY
    for insight in insights:
        assert set(insight) == INSIGHT_KEYS
        assert insight["type"] in {"pattern", "anomaly", "prediction"}
        assert insight["createdAt"].endswith("Z") and insight["expiresAt"].endswith("Z")
        assert 0 <= insight["confidenceScore"] <= 1 and isinstance(insight["affectedInstances"], list)
    created = [i["createdAt"] for i in insights]
    assert created == sorted(created, reverse=True)
    first = insights[0]
    assert first["id"] == "ins-anomaly-cpu" and first["affectedInstances"] == ["prod-web-01"]
    assert first["evidence"]["zScore"] == 4.5 and len(first["evidence"]["series"]) == 20
    assert first["recommendations"].startswith("1. Check running processes")
    assert not {"ins-expired", "sum-new", "sum-old"} & {i["id"] for i in insights}


@pytest.mark.parametrize(("path", "kind", "n"), [
    ("/insights/patterns", "pattern", 7), ("/insights/anomalies", "anomaly", 3),
    ("/insights/predictions", "prediction", 2), ("/insights?type=prediction", "prediction", 2),
])
def test_per_type_endpoints(app, path: str, kind: str, n: int) -> None:
    insights = call(app, path).json()["insights"]
    assert len(insights) == n and {i["type"] for i in insights} == {kind}


def test_summary_is_newest_active_summary_with_live_counts(app, seeded_warehouse) -> None:
    body = call(app, "/insights/summary").json()
    assert set(body) == {"summary", "counts", "generatedAt"}
    assert body["summary"].startswith("Two anomalies need attention")
    assert body["counts"] == {
        "total": ACTIVE_NON_SUMMARY,
        "byType": {"pattern": 7, "anomaly": 3, "prediction": 2},
        "bySeverity": {"low": 6, "medium": 2, "high": 3, "critical": 1},
    }
    created = datetime.fromisoformat(body["generatedAt"].replace("Z", "+00:00"))
    assert timedelta(minutes=2) < datetime.now(UTC) - created < timedelta(minutes=30)


def test_summary_without_a_summary_row_is_a_deterministic_sentence(warehouse) -> None:
    now = datetime.now(UTC)
    app = create_app(warehouse, token=None, auth_disabled=True)
    empty = call(app, "/insights/summary", auth=False).json()
    assert empty["summary"] == "There are no active insights: no patterns, anomalies or predictions need attention."
    assert empty["counts"]["total"] == 0 and empty["generatedAt"].endswith("Z")
    assert call(app, "/insights", auth=False).json() == {"insights": [], "nextCursor": None}
    with warehouse.connection() as conn:
        for row in insight_rows(now)[:3]:
            warehouse.execute(INSERT, row, conn)
    body = call(app, "/insights/summary", auth=False).json()
    assert body["summary"] == (
        "There are 3 active insights (2 anomalies, 1 pattern, 0 predictions), "
        "of which 2 are high or critical severity."
    )


@pytest.mark.parametrize(("query", "expected"), [
    ("severity=high", {"ins-anomaly-mem", "ins-hostile", "ins-prediction-disk"}),
    ("instance=prod-web-01", {"ins-anomaly-cpu", "ins-pattern-cpu-daily", "ins-hostile"}),
    (f"instance={quote(SQLI)}", {"ins-hostile"}),
    (f"instance={quote(XSS)}", {"ins-hostile"}),
    ("instance=prod-web", set()),
    ("type=anomaly&severity=critical", {"ins-anomaly-cpu"}),
    ("type=pattern&instance=prod-web-02", {"ins-pattern-cpu-daily"}),
    ("severity=low&type=prediction", set()),
])
def test_filters(app, query: str, expected: set[str]) -> None:
    assert set(ids(app, f"/insights?{query}")) == expected


def test_since_accepts_iso_forms_and_treats_naive_as_utc(app) -> None:
    cutoff = datetime.now(UTC) - timedelta(minutes=20)  # after cpu (5 min), hostile (15 min) only
    naive = cutoff.replace(tzinfo=None).isoformat()
    plus2 = cutoff.astimezone(timezone(timedelta(hours=2))).isoformat()
    for value in (naive, naive + "Z", plus2, cutoff.isoformat()):
        assert set(ids(app, f"/insights?since={quote(value)}")) == {"ins-anomaly-cpu", "ins-hostile"}, value
    assert len(ids(app, "/insights?since=2000-01-01")) == ACTIVE_NON_SUMMARY
    assert ids(app, "/insights?since=2999-01-01T00:00:00Z") == []


@pytest.mark.parametrize("limit", [1, 2, 5, 11])
def test_cursor_pages_cover_everything_once_in_order(app, limit: int) -> None:
    everything = ids(app, "/insights?limit=500")
    seen, cursor, pages = [], None, 0
    while True:
        url = f"/insights?limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        body = call(app, url).json()
        seen += [i["id"] for i in body["insights"]]
        cursor, pages = body["nextCursor"], pages + 1
        assert len(body["insights"]) <= limit
        if cursor is None:
            break
        assert pages < 50
    assert seen == everything
    batch = [i for i in everything if i.startswith("ins-batch-")]
    assert batch == [f"ins-batch-{i}" for i in (4, 3, 2, 1, 0)]  # same CREATED_AT: INSIGHT_ID desc


def test_cursor_keeps_working_with_filters(app) -> None:
    first = call(app, "/insights/patterns?limit=3").json()
    second = call(app, f"/insights/patterns?limit=10&cursor={first['nextCursor']}").json()
    assert len(first["insights"]) + len(second["insights"]) == 7 and second["nextCursor"] is None


def test_health_and_openapi_are_public(app) -> None:
    health = call(app, "/health", auth=False)
    assert health.status == 200 and health.json()["warehouse"] == {"reachable": True}
    schema = call(app, "/openapi.json", auth=False).json()
    assert schema["openapi"].startswith("3.1")
    assert {"/insights", "/insights/summary", "/insights/patterns", "/insights/anomalies",
            "/insights/predictions", "/health", "/"} <= set(schema["paths"])


def test_page_renders_summary_cards_and_escapes_everything(app) -> None:
    reply = call(app, "/")
    assert reply.status == 200 and reply.headers["content-type"].startswith("text/html")
    html = reply.text
    assert 'id="summary"' in html and "Two anomalies need attention" in html
    assert html.count('<article class="card insight') == ACTIVE_NON_SUMMARY
    assert "<script" not in html.lower()
    assert "<img" not in html.lower()
    assert "<b>bold" not in html and "&lt;/div&gt;&lt;script&gt;" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&#x27;; DROP TABLE METRICS; --" in html
    assert "<polyline" in html and '<meta http-equiv="refresh" content="300">' in html
    csp = reply.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp and "unsafe-inline" not in csp
    assert reply.headers["x-content-type-options"] == "nosniff"


def test_page_type_tab(app) -> None:
    html = call(app, "/?type=anomaly").text
    assert html.count('data-type="anomaly"') == 3 and 'data-type="pattern"' not in html


def test_json_returns_text_verbatim_for_the_client_to_escape(app) -> None:
    hostile = next(i for i in call(app, "/insights").json()["insights"] if i["id"] == "ins-hostile")
    assert hostile["title"].startswith(XSS) and SQLI in hostile["affectedInstances"]


def test_variant_parsing_tolerates_nan_and_garbage() -> None:
    assert parse_variant('{"a": NaN, "b": [Infinity, 1]}') == {"a": None, "b": [None, 1]}
    assert parse_variant("not json") is None and parse_variant(float("nan")) is None


def test_expired_rows_disappear_when_they_expire(warehouse) -> None:
    now = datetime.now(UTC)
    row = make_row(now, "soon", "anomaly", "low", "t", "d", age_min=59, ttl_h=1)  # expires in ~1 minute
    gone = make_row(now, "gone", "anomaly", "low", "t", "d", age_min=61, ttl_h=1)
    with warehouse.connection() as conn:
        warehouse.execute(INSERT, row, conn)
        warehouse.execute(INSERT, gone, conn)
    app = create_app(warehouse, token=None, auth_disabled=True)
    assert ids(app, "/insights") == ["soon"]


def test_concurrent_requests_all_succeed(app) -> None:
    """Requests run in a thread pool; opening the local warehouse concurrently must not fail."""
    paths = ["/insights", "/insights/summary", "/", "/insights/anomalies?limit=2", "/health"] * 8
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda path: call(app, path).status, paths))
    assert statuses == [200] * len(paths)
