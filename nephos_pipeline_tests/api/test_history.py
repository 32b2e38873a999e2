"""History views: ``as_of`` and ``include_archived`` over a backfilled, partly archived period.

The rows are written the way the pipeline writes them (``save_findings``, then the summary
asset's ``archive_expired``), so the test reads what a backfill really leaves behind: the
insights of ten days ago live in AI_INSIGHTS_ARCHIVE, and a replayed backfill puts a copy
back into AI_INSIGHTS.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import quote

import pandas as pd
import pytest

from nephos_pipeline.analytics.summary import summary_finding
from nephos_pipeline.api import create_app
from nephos_pipeline.insights.findings import Finding
from nephos_pipeline.insights.llm.local import LocalNarrator
from nephos_pipeline.insights.store import archive_expired, save_findings
from nephos_pipeline.warehouse.local import LocalWarehouse
from nephos_pipeline.warehouse.schema import ensure_schema
from nephos_pipeline_tests.api.conftest import call

NOW = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
T0 = (NOW - timedelta(days=10)).replace(minute=0, second=0)  # the backfilled period starts here


def anomaly(fp: str, at: datetime, instance: str = "i-0aaa") -> Finding:
    return Finding(
        kind="anomaly", insight_type="anomaly", fingerprint=fp, severity="high", confidence=0.9,
        affected_instances=(instance,), subject="prod-web-01", metric="cpu_usage",
        window_start=at - timedelta(minutes=15), window_end=at, first_seen_at=at,
        evidence={"value": 95.6, "baseline_center": 40.0, "baseline_spread": 5.0, "z": 11.1},
    )


def summary_at(at: datetime, active: list[Finding]) -> Finding:
    frame = pd.DataFrame([{"insight_type": f.insight_type, "severity": f.severity, "title": fp_title(f),
                           "metric": f.metric, "created_at": at, "insight_id": f.fingerprint,
                           "affected_instances": list(f.affected_instances)} for f in active])
    return summary_finding(frame, at, at - timedelta(hours=6))


def fp_title(f: Finding) -> str:
    return f"CPU on {f.subject} ({f.fingerprint})"


def backfill(warehouse: LocalWarehouse) -> LocalWarehouse:
    """A 10-day-old backfill: 'old' (T0), 'later' (T0 + 3 d), summaries; 'live' an hour ago."""
    ensure_schema(warehouse)
    old, later, live = anomaly("old", T0), anomaly("later", T0 + timedelta(days=3)), anomaly("live", NOW - timedelta(hours=1))
    narrator = LocalNarrator()
    save_findings(warehouse, narrator, [old, later])
    save_findings(warehouse, narrator, [summary_at(T0 + timedelta(hours=6), [old])])
    save_findings(warehouse, narrator, [live])
    moved = archive_expired(warehouse, NOW - timedelta(days=1))  # what the summary asset does daily
    assert moved == 3
    archived = set(warehouse.query("SELECT FINGERPRINT FROM AI_INSIGHTS_ARCHIVE").fingerprint)
    assert {"old", "later"} <= archived
    return warehouse


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> LocalWarehouse:
    """Read-only for the tests that use it."""
    return backfill(LocalWarehouse(path=str(tmp_path_factory.mktemp("history") / "warehouse")))


def fps(app, url: str, warehouse) -> list[str]:
    """The fingerprints behind the listed insight ids (both tables), in listed order."""
    reply = call(app, url, auth=False)
    assert reply.status == 200, reply.text
    table = warehouse.query("SELECT INSIGHT_ID, FINGERPRINT FROM AI_INSIGHTS UNION ALL "
                            "SELECT INSIGHT_ID, FINGERPRINT FROM AI_INSIGHTS_ARCHIVE")
    by_id = dict(zip(table.insight_id, table.fingerprint, strict=False))
    return [by_id[i["id"]] for i in reply.json()["insights"]]


def at(moment: datetime) -> str:
    return quote(moment.isoformat() + "Z")


def test_as_of_shows_what_was_active_then_even_after_it_was_archived(history) -> None:
    app = create_app(history, token=None, auth_disabled=True)
    assert fps(app, "/insights", history) == ["live"]
    assert fps(app, f"/insights?as_of={at(T0 + timedelta(hours=1))}", history) == ["old"]
    assert fps(app, f"/insights?as_of={at(T0 + timedelta(days=3, hours=2))}", history) == ["later"]
    assert fps(app, f"/insights?as_of={at(T0 - timedelta(hours=1))}", history) == []  # before it was created
    assert fps(app, f"/insights?as_of={at(T0 + timedelta(days=1, hours=1))}", history) == []  # expired by then
    # The same moment with an offset, and per-type endpoints take it too.
    plus2 = (T0 + timedelta(hours=1)).replace(tzinfo=UTC).astimezone(timezone(timedelta(hours=2))).isoformat()
    assert fps(app, f"/insights/anomalies?as_of={quote(plus2)}", history) == ["old"]
    assert fps(app, f"/insights/patterns?as_of={at(T0 + timedelta(hours=1))}", history) == []


def test_include_archived_lists_insights_that_are_no_longer_active(history) -> None:
    app = create_app(history, token=None, auth_disabled=True)
    assert fps(app, "/insights?include_archived=true", history) == ["live", "later", "old"]
    assert fps(app, "/insights?include_archived=false", history) == ["live"]
    then = at(T0 + timedelta(days=3, hours=2))
    assert fps(app, f"/insights?include_archived=true&as_of={then}", history) == ["later", "old"]
    since = at(T0 + timedelta(days=1))
    assert fps(app, f"/insights?include_archived=true&since={since}", history) == ["live", "later"]
    first = call(app, "/insights?include_archived=true&limit=2", auth=False).json()
    rest = fps(app, f"/insights?include_archived=true&limit=2&cursor={first['nextCursor']}", history)
    assert len(first["insights"]) == 2 and rest == ["old"]


def test_a_replayed_backfill_is_listed_once(warehouse) -> None:
    """Replaying the backfill re-creates 'old' in AI_INSIGHTS; it is also in the archive."""
    history = backfill(warehouse)
    save_findings(history, LocalNarrator(), [anomaly("old", T0)])
    live_copies = history.query("SELECT COUNT(*) AS N FROM AI_INSIGHTS WHERE FINGERPRINT = 'old'").n[0]
    assert live_copies == 1
    app = create_app(history, token=None, auth_disabled=True)
    assert fps(app, f"/insights?as_of={at(T0 + timedelta(hours=1))}", history) == ["old"]
    assert fps(app, "/insights?include_archived=true", history) == ["live", "later", "old"]
    counts = call(app, f"/insights/summary?as_of={at(T0 + timedelta(hours=7))}", auth=False).json()["counts"]
    assert counts["total"] == 1


def test_summary_as_of_reads_the_summary_and_counts_of_that_moment(history) -> None:
    app = create_app(history, token=None, auth_disabled=True)
    now = call(app, "/insights/summary", auth=False).json()
    assert now["counts"]["total"] == 1 and now["counts"]["byType"]["anomaly"] == 1
    then = call(app, f"/insights/summary?as_of={at(T0 + timedelta(hours=7))}", auth=False).json()
    assert then["counts"] == {"total": 1, "byType": {"pattern": 0, "anomaly": 1, "prediction": 0},
                              "bySeverity": {"low": 0, "medium": 0, "high": 1, "critical": 0}}
    assert then["generatedAt"] == (T0 + timedelta(hours=6)).isoformat(timespec="milliseconds") + "Z"
    assert "1 anomal" in then["summary"] or "anomal" in then["summary"].lower()
    before = call(app, f"/insights/summary?as_of={at(T0 - timedelta(hours=1))}", auth=False).json()
    assert before["counts"]["total"] == 0 and before["summary"].startswith("There are no active insights")


@pytest.mark.parametrize(("url", "parameter"), [
    ("/insights?as_of=yesterday", "as_of"),
    ("/insights?as_of=2026-13-01T00:00:00Z", "as_of"),
    (f"/insights?as_of={at(NOW + timedelta(days=2))}", "as_of"),
    ("/insights?as_of=9999-12-31T23:59:59Z", "as_of"),
    ("/insights?include_archived=maybe", "include_archived"),
    ("/insights?include_archived=", "include_archived"),
    ("/insights?as_of=2026-01-01&as_of=2026-01-02", "as_of"),
    ("/insights/summary?include_archived=true", "include_archived"),
    ("/insights/summary?as_of=0001-01-01T00:00:00%2B01:00", "as_of"),
    ("/?as_of=not-a-time", "as_of"),
])
def test_bad_history_parameters_are_a_400_naming_them(history, url: str, parameter: str) -> None:
    app = create_app(history, token=None, auth_disabled=True)
    reply = call(app, url, auth=False)
    assert reply.status == 400, reply.text
    if url.startswith("/?"):
        assert parameter in reply.text
    else:
        assert reply.json()["error"]["parameter"] == parameter


def test_page_as_of_shows_the_past_and_keeps_the_view_in_its_links(history) -> None:
    app = create_app(history, token=None, auth_disabled=True)
    html = call(app, f"/?as_of={at(T0 + timedelta(hours=1))}", auth=False).text
    assert "Insights as they were at" in html and "Back to the live view" in html
    assert html.count('<article class="card insight') == 1
    tabs = html[html.index('<nav class="tabs">'):html.index("</nav>")]
    assert tabs.count("as_of=") == 4  # every tab stays in the past view
    assert 'content="3600"' in html  # a past view does not refresh every five minutes
    archived = call(app, "/?include_archived=true", auth=False).text
    assert archived.count('<article class="card insight') == 3 and archived.count('class="badge ended"') == 2
