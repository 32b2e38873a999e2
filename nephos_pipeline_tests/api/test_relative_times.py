"""Relative times on the page are right whatever the server's time zone, and say what they time.

"Generated … (2 h ago)" under a summary produced minutes before had two causes to rule out:
a naive local-time clock somewhere between the warehouse and the page (tested here with
the process in UTC+05:30 and UTC-05:00), and the summary row's stamp, which is the end of
the 6-hour window it summarises rather than its run time (the page now says so).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from nephos_pipeline.api import create_app
from nephos_pipeline.api.page import PageContext, render_page
from nephos_pipeline_tests.api.conftest import INSERT, call, make_row


@pytest.fixture(params=["Asia/Kolkata", "America/New_York"])
def local_zone(request: pytest.FixtureRequest) -> Iterator[str]:
    """Run the test with the process in a non-UTC time zone (what a laptop usually has)."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = request.param
    time.tzset()
    try:
        yield request.param
    finally:
        if before is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = before
        time.tzset()


def test_minutes_old_rows_read_minutes_ago_in_any_server_time_zone(warehouse, local_zone: str) -> None:
    now = datetime.now(UTC)
    assert datetime.now().utcoffset() is None and time.localtime().tm_gmtoff != 0  # really not UTC
    with warehouse.connection() as conn:
        for row in (make_row(now, "fresh", "anomaly", "high", "t", "d", age_min=3),
                    make_row(now, "two-hours", "pattern", "low", "t", "d", age_min=125),
                    make_row(now, "sum", "summary", "low", "Executive summary", "All quiet.", age_min=4)):
            warehouse.execute(INSERT, row, conn)
    app = create_app(warehouse, token=None, auth_disabled=True)
    html = call(app, "/", auth=False).text
    fresh = html[html.index('data-id="fresh"'):]
    assert re.search(r'<span class="time">[A-Z][a-z]{2} \d\d, \d\d:\d\d UTC \((3|4) min ago\)', fresh), fresh[:3000]
    older = html[html.index('data-id="two-hours"'):]
    assert re.search(r'<span class="time">[^<]* UTC \(2 h ago\)', older)
    stamp = f"{(now - timedelta(minutes=4)):%b %d, %H:%M} UTC"
    assert re.search(rf"Summary of the insights active at {stamp} \((4|5) min ago\); counted now", html)
    assert "Generated" not in html
    generated = call(app, "/insights/summary", auth=False).json()["generatedAt"]
    assert generated == (now - timedelta(minutes=4)).replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def test_relative_time_is_measured_from_utc_not_the_local_clock() -> None:
    now = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # the night Europe moves its clocks
    summary = {"summary": "s", "counts": {"total": 0, "byType": {}, "bySeverity": {}},
               "generatedAt": "2026-03-29T01:27:00.000Z"}
    insight = {"id": "x", "type": "anomaly", "severity": "low", "title": "t", "description": "d",
               "affectedInstances": [], "createdAt": "2026-03-28T23:30:00.000Z", "expiresAt": None}
    html = render_page(summary, [insight], None, None, PageContext(now=now))
    assert "Mar 29, 01:27 UTC (3 min ago)" in html and "Mar 28, 23:30 UTC (2 h ago)" in html
