"""``nephos serve``: refuses to start without a token, and serves a seeded NEPHOS_HOME."""

from __future__ import annotations

import argparse
import json
import logging
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from nephos_pipeline.cli.main import build_parser
from nephos_pipeline.cli.serve import RedactTokenFilter, cors_origins
from nephos_pipeline.warehouse.local import LocalWarehouse
from nephos_pipeline_tests.api.conftest import ACTIVE_NON_SUMMARY, seed


def test_refuses_to_start_without_a_token(monkeypatch, capsys) -> None:
    monkeypatch.delenv("NEPHOS_API_TOKEN", raising=False)
    args = build_parser().parse_args(["serve"])
    assert args.func(args) == 2
    assert "NEPHOS_API_TOKEN" in capsys.readouterr().err


def test_options_and_cors_origins() -> None:
    args = build_parser().parse_args(["serve", "--cors-origin", "https://a.example", "--cors-origin", " "])
    assert (args.host, args.port, args.no_auth) == ("127.0.0.1", 8080, False)
    assert cors_origins(args, {"NEPHOS_API_CORS_ORIGINS": "https://b.example"}) == ["https://a.example"]
    bare = argparse.Namespace(cors_origin=None)
    assert cors_origins(bare, {"NEPHOS_API_CORS_ORIGINS": "https://b.example, https://c.example,"}) == [
        "https://b.example", "https://c.example"]


def test_access_log_never_shows_the_sign_in_token() -> None:
    record = logging.LogRecord("uvicorn.access", logging.INFO, "", 0, '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:1", "GET", "/?type=anomaly&token=s3cret&x=1", "1.1", 303), None)
    RedactTokenFilter().filter(record)
    assert "s3cret" not in record.getMessage() and "token=[redacted]&x=1" in record.getMessage()


def _get(url: str, token: str | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback test server
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_nephos_serve_serves_the_warehouse_under_nephos_home(tmp_path: Path) -> None:
    seed(LocalWarehouse(path=str(tmp_path / "home" / "warehouse")), datetime.now(UTC))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "NEPHOS_HOME": str(tmp_path / "home"), "NEPHOS_WAREHOUSE": "local",
           "NEPHOS_API_TOKEN": "cli-token"}
    server = subprocess.Popen([sys.executable, "-m", "nephos_pipeline.cli.main", "serve", "--port", str(port)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, server.stderr.read() if server.stderr else ""
            try:
                status, health = _get(f"{base}/health")
                break
            except OSError:
                assert time.monotonic() < deadline, "nephos serve did not start within 60 s"
                time.sleep(0.3)
        assert status == 200 and health["warehouse"]["reachable"] is True
        assert _get(f"{base}/insights")[0] == 401
        status, body = _get(f"{base}/insights?limit=500", "cli-token")
        assert status == 200 and len(body["insights"]) == ACTIVE_NON_SUMMARY
        assert _get(f"{base}/insights/summary", "cli-token")[1]["counts"]["total"] == ACTIVE_NON_SUMMARY
    finally:
        server.terminate()
        server.wait(timeout=15)
