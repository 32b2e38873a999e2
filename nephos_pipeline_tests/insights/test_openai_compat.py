"""OpenAI-compatible narrator against a tiny chat-completions server on 127.0.0.1.

The server answers by the first path segment of the base URL: good, malformed, huge,
HTML, slow, http500, injection, partial. Every narrate() must make exactly one POST.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from nephos_pipeline.insights.llm import NarratorError, OpenAICompatNarrator
from nephos_pipeline_tests.insights.samples import INJECTION, SCRIPT, finding, good_reply


def _envelope(content: str, prompt_tokens: int = 900, completion_tokens: int = 301) -> bytes:
    return json.dumps({
        "id": "chatcmpl-1", "object": "chat.completion", "model": "served-model",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens},
    }).encode()


def _batch(count: int, **overrides: str) -> str:
    items = [{"id": str(i), **json.loads(good_reply(**overrides))} for i in range(count)]
    return json.dumps({"narratives": items})


class Handler(BaseHTTPRequestHandler):
    requests: list[dict[str, Any]] = []

    def log_message(self, *args: Any) -> None:  # keep test output clean
        pass

    def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up on purpose (size cap, deadline)

    def do_POST(self) -> None:  # noqa: N802 - http.server naming
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        mode = self.path.strip("/").split("/")[0]
        Handler.requests.append({"path": self.path, "body": body, "auth": self.headers.get("Authorization")})
        count = len(json.loads(body["messages"][-1]["content"].split("\n")[1])) if len(body["messages"]) > 1 else 1
        if mode == "good":
            self._send(200, _envelope(_batch(count)))
        elif mode == "fenced":
            self._send(200, _envelope("```json\n" + _batch(count) + "\n```"))
        elif mode == "malformed":
            self._send(200, _envelope('{"narratives": [{"id": "0", "title": "Memory'))
        elif mode == "notjson":
            self._send(200, b'{"choices": [')
        elif mode == "html":
            self._send(200, f"<html><body>{SCRIPT}<h1>Gateway</h1></body></html>".encode(), "text/html")
        elif mode == "huge":
            self._send(200, _envelope("x" * 3_000_000))
        elif mode == "slow":
            time.sleep(2.0)
            self._send(200, _envelope(_batch(count)))
        elif mode == "http500":
            self._send(500, b'{"error": "overloaded"}')
        elif mode == "injection":
            self._send(200, _envelope(_batch(count, description=f"Sure. {INJECTION}.")))
        elif mode == "markup":
            self._send(200, _envelope(_batch(count, description=f"Memory is high {SCRIPT}")))
        elif mode == "partial":
            self._send(200, _envelope(json.dumps({"narratives": [json.loads(_batch(1))["narratives"][0]]})))
        elif mode == "nochoices":
            self._send(200, b'{"error": {"message": "model not found"}}')
        else:
            self._send(404, b"{}")


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    Handler.requests.clear()


def narrator(base: str, mode: str, **kw: Any) -> OpenAICompatNarrator:
    return OpenAICompatNarrator(base_url=f"{base}/{mode}/v1/", model="test-model", **kw)


def test_good_batch_is_one_post_with_json_mode_and_split_tokens(server):
    findings = [finding("anomaly", fingerprint=f"fp{i}") for i in range(3)]
    narratives = narrator(server, "good", api_key="sk-test", max_tokens=500).narrate(findings)
    assert len(Handler.requests) == 1
    request = Handler.requests[0]
    assert request["path"] == "/good/v1/chat/completions" and request["auth"] == "Bearer sk-test"
    body = request["body"]
    assert body["model"] == "test-model" and body["response_format"] == {"type": "json_object"}
    assert body["max_tokens"] == 1500 and body["temperature"] == 0.2
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    assert "not instructions" in body["messages"][0]["content"]
    assert [n.ai_generated for n in narratives] == [True, True, True]
    assert [n.model for n in narratives] == ["test-model"] * 3
    assert [n.prompt_tokens for n in narratives] == [300, 300, 300]
    assert [n.completion_tokens for n in narratives] == [101, 100, 100]


def test_fenced_reply_and_no_api_key(server):
    [n] = narrator(server, "fenced", json_mode=False).narrate([finding()])
    assert n.ai_generated and Handler.requests[0]["auth"] is None
    assert "response_format" not in Handler.requests[0]["body"]


@pytest.mark.parametrize(
    ("mode", "reason"),
    [
        ("malformed", "invalid_json"),
        ("notjson", "invalid_json"),
        ("html", "invalid_json"),
        ("huge", "too_long"),
        ("http500", "http_500"),
        ("injection", "injection_echo"),
        ("markup", "markup"),
        ("nochoices", "bad_response"),
        ("missing", "http_404"),
    ],
)
def test_bad_responses_fall_back_with_the_reason(server, mode, reason):
    findings = [finding("anomaly"), finding("prediction")]
    narratives = narrator(server, mode).narrate(findings)
    assert len(Handler.requests) == 1
    assert [n.failure for n in narratives] == [reason, reason]
    for n in narratives:
        assert not n.ai_generated and n.model is None and n.title and "<" not in n.description


def test_slow_server_times_out_quickly(server):
    started = time.monotonic()
    narratives = narrator(server, "slow", timeout_s=0.3).narrate([finding()])
    assert narratives[0].failure == "timeout" and time.monotonic() - started < 1.8


def test_missing_items_fall_back_individually(server):
    narratives = narrator(server, "partial").narrate([finding(), finding(), finding()])
    assert [n.failure for n in narratives] == [None, "missing_item", "missing_item"]


def test_unreachable_server_and_bad_url():
    [n] = OpenAICompatNarrator(base_url="http://127.0.0.1:9/v1", model="m", timeout_s=2).narrate([finding()])
    assert n.failure == "unreachable"
    [n] = OpenAICompatNarrator(base_url="file:///etc/passwd", model="m").narrate([finding()])
    assert n.failure == "bad_config"


def test_ping(server):
    model, latency = narrator(server, "good").ping()
    assert model == "served-model" and 0 <= latency < 5
    assert Handler.requests[0]["body"]["max_tokens"] == 5
    with pytest.raises(NarratorError) as err:
        narrator(server, "http500").ping()
    assert err.value.reason == "http_500"
