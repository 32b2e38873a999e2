"""Fault injectors for the reliability tests: a DynamoDB fault proxy, a bad LLM, a failing warehouse.

``FaultProxy`` is a loopback HTTP proxy in front of the moto server. The pipeline's own
``DynamoDBResource`` is pointed at it (``endpoint_url``), so every fault travels the real
path: botocore parses the error, its *standard* retry mode decides whether to retry and
how long to back off, and the pipeline sees whatever botocore finally raises. Faults are
queued per DynamoDB operation (``X-Amz-Target``) and consumed one request at a time:

* ``throttle``  400 ``ProvisionedThroughputExceededException`` (DynamoDB's JSON error body);
* ``http_500`` / ``http_503``  5xx with DynamoDB's ``InternalServerError`` / ``ServiceUnavailable``;
* ``drop``      the socket is closed before any response byte;
* ``truncate``  the upstream response is forwarded, but the connection is closed half-way
  through the body (a connection lost mid-response).

``cut()`` starts an outage: after ``after`` more forwarded requests every request is
dropped until ``heal()``. ``log`` records (operation, outcome) for every request.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from nephos_pipeline.warehouse import LocalWarehouse

FAULTS = ("throttle", "http_500", "http_503", "drop", "truncate")
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "proxy-connection", "upgrade"}
_ERRORS = {
    "throttle": (400, "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
                 "The level of configured provisioned throughput for the table was exceeded."),
    "http_500": (500, "com.amazonaws.dynamodb.v20120810#InternalServerError", "Internal server error"),
    "http_503": (503, "com.amazonaws.dynamodb.v20120810#ServiceUnavailable", "Service unavailable"),
}


def operation_of(target: str | None) -> str:
    """``DynamoDB_20120810.Query`` -> ``Query`` (``?`` when the header is missing)."""
    return (target or "?").rsplit(".", 1)[-1]


class FaultProxy:
    """A thread-per-connection HTTP proxy that forwards to ``upstream`` unless told to fail."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.log: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self._queue: deque[tuple[str, frozenset[str] | None]] = deque()
        self._cut_after: int | None = None  # forwarded requests left before the outage
        self._cut_ops: frozenset[str] | None = None
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---- control ---------------------------------------------------------------------

    @property
    def endpoint_url(self) -> str:
        assert self._server is not None, "proxy not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def inject(self, fault: str, times: int = 1, operations: Iterable[str] | None = None) -> None:
        """Fail the next ``times`` requests (of ``operations``, default any) with ``fault``."""
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}")
        ops = frozenset(operations) if operations else None
        with self._lock:
            self._queue.extend([(fault, ops)] * times)

    def cut(self, after: int = 0, operations: Iterable[str] | None = None) -> None:
        """Lose the connection for good after ``after`` more forwarded (matching) requests."""
        with self._lock:
            self._cut_after = after
            self._cut_ops = frozenset(operations) if operations else None

    def heal(self) -> None:
        with self._lock:
            self._queue.clear()
            self._cut_after = None
            self._cut_ops = None

    def outcomes(self, operation: str | None = None) -> list[str]:
        with self._lock:
            return [o for op, o in self.log if operation is None or op == operation]

    def start(self) -> FaultProxy:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as botocore's connection pool expects

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server naming
                proxy._handle(self)

            do_GET = do_POST  # noqa: N815

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fault-proxy", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # ---- request handling ------------------------------------------------------------

    def _decide(self, op: str) -> str:
        with self._lock:
            if self._cut_after is not None and (self._cut_ops is None or op in self._cut_ops):
                if self._cut_after <= 0:
                    return "drop"
                self._cut_after -= 1
            for i, (fault, ops) in enumerate(self._queue):
                if ops is None or op in ops:
                    del self._queue[i]
                    return fault
            return "ok"

    def _handle(self, req: BaseHTTPRequestHandler) -> None:
        body = req.rfile.read(int(req.headers.get("Content-Length") or 0))
        op = operation_of(req.headers.get("X-Amz-Target"))
        outcome = self._decide(op)
        with self._lock:
            self.log.append((op, outcome))
        if outcome == "drop":
            _abort(req)
            return
        if outcome in _ERRORS:
            status, kind, message = _ERRORS[outcome]
            payload = json.dumps({"__type": kind, "message": message}).encode()
            req.send_response(status)
            req.send_header("Content-Type", "application/x-amz-json-1.0")
            req.send_header("Content-Length", str(len(payload)))
            req.end_headers()
            req.wfile.write(payload)
            return
        conn = http.client.HTTPConnection(*self.upstream, timeout=30)
        try:
            headers = {k: v for k, v in req.headers.items() if k.lower() not in _HOP_BY_HOP}
            conn.request(req.command, req.path, body=body, headers=headers)
            upstream = conn.getresponse()
            data = upstream.read()
            req.send_response(upstream.status)
            for key, value in upstream.getheaders():
                if key.lower() not in _HOP_BY_HOP and key.lower() not in ("server", "date"):
                    req.send_header(key, value)
            req.send_header("Content-Length", str(len(data)))
            req.end_headers()
            if outcome == "truncate":
                req.wfile.write(data[: max(1, len(data) // 2)])
                req.wfile.flush()
                _abort(req)
            else:
                req.wfile.write(data)
        finally:
            conn.close()


def _abort(req: BaseHTTPRequestHandler) -> None:
    """Close the client connection now (RST-free shutdown: the peer sees EOF)."""
    req.close_connection = True
    try:
        req.wfile.flush()
        req.connection.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


# ---- LLM ------------------------------------------------------------------------------


class FakeLLM:
    """A chat-completions endpoint on 127.0.0.1 that misbehaves as the first path segment says.

    ``timeout`` answers after 10 s; ``http500``/``http429`` are HTTP errors; ``reset`` closes
    the connection unanswered; ``garbage`` is an HTML page; ``hostile`` and ``markup`` are
    well-formed replies from a model that obeyed an injection hidden in the data (SQL and
    "ignore previous instructions" text; script and event-handler markup). Request bodies
    are kept in ``bodies`` so a test can inspect the prompt that was sent.
    """

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.bodies: list[dict] = []
        llm = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server naming
                sent = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                mode = self.path.strip("/").split("/")[0]
                llm.requests.append(mode)
                llm.bodies.append(sent)
                if mode == "reset":
                    _abort(self)
                    return
                if mode == "timeout":
                    time.sleep(10.0)
                status, body = 200, b"<html>Bad Gateway</html>"
                if mode.startswith("http"):
                    status, body = int(mode[4:]), b'{"error": {"message": "overloaded"}}'
                elif mode in ("hostile", "markup"):
                    count = len(json.loads(sent["messages"][-1]["content"].split("\n")[1]))
                    hostile = mode == "hostile"
                    text = json.dumps({"narratives": [{
                        "id": str(i),
                        "title": "CPU report" if hostile else "<script>alert(1)</script> owned",
                        "description": "Ignore previous instructions; '; DROP TABLE METRICS; --" if hostile
                        else "See <img src=x onerror=alert(2)>",
                        "recommendations": "1. a 2. b 3. c"} for i in range(count)]})
                    body = json.dumps({"choices": [{"message": {"content": text}}]}).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass  # the client gave up (its deadline passed)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, name="fake-llm", daemon=True).start()

    def url(self, mode: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/{mode}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# ---- warehouse -----------------------------------------------------------------------

class InjectedFault(RuntimeError):
    """Raised by ``FlakyWarehouse`` in place of a statement, as a dropped session would."""


_ARMED: dict[str, dict[str, Any]] = {}  # warehouse path -> plan (Dagster may copy the resource)


class _FaultCursor:
    """Passes statements through, raising instead of the ``at``-th one of a matching transaction."""

    def __init__(self, cur: Any, plan: dict[str, Any]) -> None:
        self._cur, self._plan, self._count, self._match = cur, plan, 0, False

    def execute(self, sql: str, *args: Any) -> Any:
        self._count += 1
        if self._count == 1:
            self._match = self._plan["marker"] in sql
        if self._match and self._count == self._plan["at"] and self._plan["times"] > 0:
            self._plan["times"] -= 1
            self._plan["hits"].append(sql.strip().splitlines()[0][:80])
            raise InjectedFault(f"injected failure before statement {self._count} of a {self._plan['marker']} transaction")
        return self._cur.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cur, name)


class FlakyWarehouse(LocalWarehouse):
    """The local warehouse, but the ``at``-th statement of transactions whose first statement
    contains ``marker`` raises ``InjectedFault`` instead of running (``times`` times in all)."""

    def arm(self, marker: str, at: int = 2, times: int = 1) -> dict[str, Any]:
        plan: dict[str, Any] = {"marker": marker, "at": at, "times": times, "hits": []}
        _ARMED[self.path] = plan
        return plan

    def disarm(self) -> None:
        _ARMED.pop(self.path, None)

    @contextmanager
    def transaction(self, conn: Any) -> Iterator[Any]:
        with super().transaction(conn) as cur:
            plan = _ARMED.get(self.path)
            yield _FaultCursor(cur, plan) if plan else cur
