"""The insights page in a real browser: Debian's headless Chromium against a live uvicorn.

Why a browser and not only HTML assertions: it proves the page renders (CSS allowed by the
CSP, SVG charts drawn, the ``?token=`` sign-in redirect and cookie work) and that the
hostile insight stays text. The screenshot is kept as a CI artifact in
``test-artifacts/insights-page.png``. Chromium is installed by ``scripts/ensure_chromium.sh``
when missing; under CI (env ``CI`` set) a missing browser fails the test instead of skipping.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import uvicorn

from nephos_pipeline_tests.api.conftest import ACTIVE_NON_SUMMARY, TOKEN

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
ARTIFACT = REPO / "test-artifacts" / "insights-page.png"
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
]


@pytest.fixture(scope="module")
def chromium() -> Path:
    """The browser, installed with apt-get by scripts/ensure_chromium.sh when missing."""
    if not CHROMIUM.exists():
        script = REPO / "scripts" / "ensure_chromium.sh"
        result = subprocess.run(["sh", str(script)], capture_output=True, text=True, timeout=900, check=False)
        if result.returncode != 0 or not CHROMIUM.exists():
            message = f"chromium unavailable after {script}: {result.stderr.strip()[-2000:]}"
            if os.environ.get("CI"):
                pytest.fail(message)
            pytest.skip(message)
    return CHROMIUM


@pytest.fixture(scope="module")
def live_url(app: Any) -> Iterator[str]:
    """The test app served by uvicorn on a free loopback port, in a background thread."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


def run_chromium(browser: Path, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """One headless run with a fresh profile (no cookies or cache carried over)."""
    shutil.rmtree(profile, ignore_errors=True)
    command = [str(browser), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, f"chromium failed ({result.returncode}):\n{result.stderr[-3000:]}"
    return result


def test_insights_page_renders_in_chromium(chromium: Path, live_url: str, tmp_path: Path) -> None:
    # The browser signs in the way a person would: ?token= once, then the session cookie.
    url = f"{live_url}/?token={quote(TOKEN)}"

    dom = run_chromium(chromium, tmp_path / "profile-dom", "--dump-dom", url).stdout
    assert 'id="summary"' in dom and "Executive Summary" in dom, dom[:2000]
    assert "Two anomalies need attention" in dom
    cards = re.findall(r'<article class="card insight sev-[a-z]+"', dom)
    assert len(cards) == ACTIVE_NON_SUMMARY
    assert dom.count("<polyline") >= 5  # evidence sparklines drawn
    # The hostile insight is inert text: no script or img element came from the data.
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom
    assert "<script" not in dom.lower() and "<img" not in dom.lower()
    assert "Sign-in required" not in dom

    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    ARTIFACT.unlink(missing_ok=True)
    run_chromium(chromium, tmp_path / "profile-shot", f"--screenshot={ARTIFACT}", "--window-size=1280,1600", url)
    data = ARTIFACT.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 20_000


def test_page_without_a_token_shows_sign_in_in_chromium(chromium: Path, live_url: str, tmp_path: Path) -> None:
    dom = run_chromium(chromium, tmp_path / "profile-anon", "--dump-dom", f"{live_url}/").stdout
    assert "Sign-in required" in dom and 'id="summary"' not in dom
