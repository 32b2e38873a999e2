"""Client errors are 400s naming the parameter, auth failures 401s, a busy warehouse a 503.

Also: CORS, the page's one-time ``?token=`` sign-in, and that none of it is ever a 500.
"""

from __future__ import annotations

import base64
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from nephos_pipeline.api import create_app
from nephos_pipeline.warehouse.local import LocalWarehouse
from nephos_pipeline_tests.api.conftest import TOKEN, call


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


BAD_REQUESTS = [
    ("/insights?type=summary", "type", "unknown type"),
    ("/insights?type=ANOMALY", "type", "expected one of pattern, anomaly, prediction"),
    ("/insights?severity=urgent", "severity", "unknown severity"),
    ("/insights?limit=0", "limit", "from 1 to 500"),
    ("/insights?limit=501", "limit", "from 1 to 500"),
    ("/insights?limit=-1", "limit", "integer"),
    ("/insights?limit=ten", "limit", "integer"),
    ("/insights?limit=1e2", "limit", "integer"),
    ("/insights?limit=", "limit", "integer"),
    ("/insights?since=yesterday", "since", "ISO-8601"),
    ("/insights?since=2024-13-01", "since", "ISO-8601"),
    ("/insights?since=0001-01-01T00:00:00%2B01:00", "since", "ISO-8601"),
    ("/insights?cursor=%21%21%21", "cursor", "pass nextCursor unchanged"),
    (f"/insights?cursor={_b64(b'not json')}", "cursor", "not a cursor"),
    (f"/insights?cursor={_b64(b'[1, 2]')}", "cursor", "not a cursor"),
    ("/insights?cursor=" + _b64(b'["yesterday", "x"]'), "cursor", "not a cursor"),
    ("/insights?cursor=abc", "cursor", "not a cursor"),
    ("/insights?instance=", "instance", "empty"),
    ("/insights?instance=a%00b", "instance", "control characters"),
    ("/insights?instance=" + "x" * 300, "instance", "longer than 256"),
    ("/insights?limit=5&limit=6", "limit", "more than once"),
    ("/insights?colour=blue", "colour", "unknown parameter"),
    ("/insights/anomalies?type=pattern", "type", "unknown parameter"),
    ("/insights/summary?limit=5", "limit", "unknown parameter"),
]


@pytest.mark.parametrize(("url", "parameter", "reason"), BAD_REQUESTS)
def test_bad_parameters_are_400_naming_the_parameter(app, url: str, parameter: str, reason: str) -> None:
    reply = call(app, url)
    assert reply.status == 400, reply.text
    error = reply.json()["error"]
    assert error["code"] == "bad_parameter" and error["parameter"] == parameter
    assert reason.lower() in error["message"].lower() and error["message"].startswith(f"{parameter}: ")


def test_bad_page_parameter_is_an_html_400(app) -> None:
    reply = call(app, "/?type=%3Cscript%3E")
    assert reply.status == 400 and reply.headers["content-type"].startswith("text/html")
    assert "<script>" not in reply.text and "&lt;script&gt;" in reply.text


@pytest.mark.parametrize(("headers", "message"), [
    ({}, "missing bearer token"),
    ({"Authorization": "Bearer wrong"}, "invalid bearer token"),
    ({"Authorization": f"Bearer {TOKEN}x"}, "invalid bearer token"),
    ({"Authorization": f"Basic {TOKEN}"}, "malformed"),
    ({"Authorization": "Bearer "}, "malformed"),
])
@pytest.mark.parametrize("path", ["/insights", "/insights/summary", "/insights/anomalies", "/nope"])
def test_missing_or_wrong_token_is_401(app, path: str, headers: dict[str, str], message: str) -> None:
    reply = call(app, path, headers=headers, auth=False)
    assert reply.status == 401 and reply.headers["www-authenticate"].startswith("Bearer")
    assert reply.json()["error"]["code"] == "unauthorized" and message in reply.json()["error"]["message"]


def test_page_sign_in_with_token_sets_a_cookie_without_the_token(app) -> None:
    assert call(app, "/", auth=False).status == 401
    assert call(app, "/?token=wrong", auth=False).status == 401
    reply = call(app, f"/?type=anomaly&token={quote(TOKEN)}", auth=False)
    assert reply.status == 303 and reply.headers["location"] == "/?type=anomaly"
    cookie = reply.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and quote(TOKEN) not in cookie
    value = cookie.split(";", 1)[0]
    page = call(app, "/?type=anomaly", headers={"Cookie": value}, auth=False)
    assert page.status == 200 and 'id="summary"' in page.text
    assert call(app, "/", headers={"Cookie": value + "x"}, auth=False).status == 401
    assert call(app, "/insights", headers={"Cookie": value}, auth=False).status == 401  # API: header only


def test_auth_can_only_be_disabled_explicitly(seeded_warehouse) -> None:
    with pytest.raises(ValueError, match="token is required"):
        create_app(seeded_warehouse, token=None)
    with pytest.raises(ValueError, match="token is required"):
        create_app(seeded_warehouse, token="")
    open_app = create_app(seeded_warehouse, token=None, auth_disabled=True)
    assert call(open_app, "/insights", auth=False).status == 200
    assert call(open_app, "/", auth=False).status == 200


def test_cors_allows_configured_origins_only(app) -> None:
    allowed = {"Origin": "https://dashboard.example"}
    reply = call(app, "/insights", headers=allowed)
    assert reply.headers["access-control-allow-origin"] == "https://dashboard.example"
    assert "access-control-allow-origin" not in call(app, "/insights", headers={"Origin": "https://evil.example"}).headers
    refused = call(app, "/insights", headers=allowed, auth=False)
    assert refused.status == 401 and refused.headers["access-control-allow-origin"] == "https://dashboard.example"
    preflight = call(app, "/insights", method="OPTIONS", auth=False, headers={
        **allowed, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization"})
    assert preflight.status == 200 and "authorization" in preflight.headers["access-control-allow-headers"].lower()
    bad = call(app, "/insights", method="OPTIONS", auth=False, headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "GET"})
    assert bad.status == 400 and "access-control-allow-origin" not in bad.headers


def test_other_methods_and_paths_are_json_errors(app) -> None:
    assert call(app, "/insights", method="POST").status == 405
    assert call(app, "/insights", method="DELETE").json()["error"]["code"] == "method_not_allowed"
    assert call(app, "/insights/nope").json()["error"]["code"] == "not_found"


@pytest.fixture
def locked_warehouse(tmp_path: Path) -> Iterator[LocalWarehouse]:
    """A warehouse whose DuckDB file another process holds open for writing."""
    wh = LocalWarehouse(path=str(tmp_path / "warehouse"), busy_timeout_s=0.5)
    from nephos_pipeline.warehouse.schema import ensure_schema

    ensure_schema(wh)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time\n"
         f"c = duckdb.connect({str(tmp_path / 'warehouse' / 'NEPHOS.db')!r})\n"
         "print('locked', flush=True)\ntime.sleep(60)"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        yield wh
    finally:
        holder.kill()
        holder.wait(timeout=10)


def test_a_locked_warehouse_is_a_503_not_a_500(locked_warehouse: LocalWarehouse) -> None:
    app = create_app(locked_warehouse, token=TOKEN)
    for path in ("/insights", "/insights/summary", "/insights/patterns"):
        reply = call(app, path)
        assert reply.status == 503 and reply.headers["retry-after"] == "5"
        assert reply.json()["error"] == {
            "code": "warehouse_unavailable", "message": "the warehouse is busy or unreachable; retry shortly"}
    health = call(app, "/health", auth=False)
    assert health.status == 503 and health.json()["warehouse"]["reachable"] is False
    page = call(app, "/")
    assert page.status == 503 and "Warehouse unavailable" in page.text


def test_a_warehouse_without_the_table_is_a_503(tmp_path: Path) -> None:
    app = create_app(LocalWarehouse(path=str(tmp_path / "empty")), token=TOKEN)
    reply = call(app, "/insights")
    assert reply.status == 503 and "does not exist yet" in reply.json()["error"]["message"]
    assert call(app, "/health", auth=False).status == 503
