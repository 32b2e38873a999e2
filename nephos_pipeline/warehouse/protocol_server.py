"""A Snowflake-protocol warehouse on a loopback port: fakesnow's HTTP server, plus three things.

Why: the production path (dagster-snowflake's resource, the real ``snowflake.connector``
over HTTP, PUT and COPY INTO, Cortex statements) must run somewhere without an account:
in CI and for a user who wants to see it before they own one (``nephos snowflake-server``).
fakesnow's server speaks the REST protocol the connector uses; around its route handlers
this module adds:

- **logins that can fail**: with ``users`` given, a wrong user or password gets Snowflake's
  own answer (390100, "Incorrect username or password was specified."), which fakesnow
  alone never sends;
- **a statement log** (:class:`~nephos_pipeline.warehouse.statement_log.StatementLog`):
  every statement received, with the user and session that sent it, so tests can derive
  grants and count sessions from what went over the wire;
- **a Cortex stand-in** (``cortex_stand_in``): ``AI_COMPLETE`` and
  ``SNOWFLAKE.CORTEX.COMPLETE`` with Snowflake's names and argument order, answering a
  fixed narrative in Snowflake's response shape. Test warehouse only; it proves the
  statement, its binds and the parsing of the reply, not any model.

fakesnow keeps one shared database per process, so one server runs per process.
"""

from __future__ import annotations

import contextlib
import gzip
import itertools
import json
import logging
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any

from nephos_pipeline.warehouse.cortex_stand_in import install_cortex_stand_in
from nephos_pipeline.warehouse.fakesnow_compat import apply_compat
from nephos_pipeline.warehouse.statement_log import StatementLog

BAD_LOGIN = {
    "data": {"nextAction": "RETRY_LOGIN", "authnMethod": "PASSWORD"},
    "code": "390100",
    "message": "Incorrect username or password was specified.",
    "success": False,
    "headers": None,
}
_RUNNING = threading.Lock()  # fakesnow's server state is module-global: one server per process


def _free_port(host: str) -> int:
    with contextlib.closing(socket.socket(type=socket.SOCK_STREAM)) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


async def _json_body(request: Any) -> dict[str, Any]:
    body = await request.body()  # Starlette caches it, so the wrapped handler reads it again
    if request.headers.get("Content-Encoding") == "gzip":
        body = gzip.decompress(body)
    return json.loads(body or b"{}")


class SnowflakeProtocolServer:
    """Start with ``with SnowflakeProtocolServer() as server:``; ``server.env(user)`` holds the settings."""

    def __init__(self, port: int = 0, host: str = "127.0.0.1", users: Mapping[str, str] | None = None,
                 db_path: str | None = None, cortex_stand_in: bool = True, log_limit: int | None = None) -> None:
        self.host = host
        self.port = port or _free_port(host)
        self.users = {name.upper(): password for name, password in (users or {}).items()}
        self.db_path = db_path
        self.cortex_stand_in = cortex_stand_in
        self.log = StatementLog(log_limit)
        self.logins: Counter[str] = Counter()
        self.logins_by_database: Counter[tuple[str, str]] = Counter()  # (user, database) -> logins
        self.failed_logins: Counter[str] = Counter()
        self._sessions: dict[str, tuple[str, str, str]] = {}  # token -> (user, short session id, database)
        self._ids = itertools.count(1)
        self._installed: set[tuple[str, str]] = set()
        self._lock = threading.Lock()
        self._server: Any = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def env(self, user: str = "fake", password: str = "snow") -> dict[str, str]:
        """The ``SNOWFLAKE_*`` settings that point the production warehouse here."""
        return {"NEPHOS_WAREHOUSE": "snowflake", "SNOWFLAKE_ACCOUNT": "fakesnow", "SNOWFLAKE_USER": user,
                "SNOWFLAKE_PASSWORD": password, "SNOWFLAKE_HOST": self.host, "SNOWFLAKE_PORT": str(self.port),
                "SNOWFLAKE_PROTOCOL": "http"}

    # --- the wrapped fakesnow handlers ----------------------------------------------------

    def _app(self) -> Any:
        import fakesnow.server as fs_server
        from starlette.applications import Starlette
        from starlette.concurrency import run_in_threadpool
        from starlette.responses import JSONResponse
        from starlette.routing import Route

        async def login(request: Any) -> Any:
            data = (await _json_body(request)).get("data") or {}
            user = str(data.get("LOGIN_NAME") or "").upper()
            if self.users and self.users.get(user) != data.get("PASSWORD"):
                self.failed_logins[user] += 1
                return JSONResponse(BAD_LOGIN)
            if self.cortex_stand_in:
                database = request.query_params.get("databaseName")
                schema = request.query_params.get("schemaName")
                if database and schema:
                    await run_in_threadpool(self._install_cortex, fs_server, database, schema)
            response = await fs_server.login_request(request)
            token = json.loads(response.body).get("data", {}).get("token")
            if token:
                with self._lock:
                    database = str(request.query_params.get("databaseName") or "").upper()
                    self._sessions[token] = (user, f"s{next(self._ids)}", database)
                    self.logins[user] += 1
                    self.logins_by_database[user, database] += 1
            return response

        async def query(request: Any) -> Any:
            payload = await _json_body(request)
            auth = request.headers.get("Authorization") or ""
            user, session, database = self._sessions.get(auth[17:-1], ("", "", ""))
            started = time.monotonic()
            response = await fs_server.query_request(request)
            reply = json.loads(response.body)
            self.log.add(str(payload.get("sqlText") or ""), user=user, session=session, database=database,
                         ok=bool(reply.get("success")), error=str(reply.get("message") or "")[:300],
                         seconds=time.monotonic() - started)
            return response

        wrapped = {"/session/v1/login-request": login, "/queries/v1/query-request": query}
        routes = [Route(r.path, wrapped.get(r.path, r.endpoint), methods=list(r.methods or [])) for r in fs_server.routes]
        return Starlette(routes=routes)

    def _install_cortex(self, fs_server: Any, database: str, schema: str) -> None:
        key = (database.upper(), schema.upper())
        with self._lock:
            if key in self._installed:
                return
            install_cortex_stand_in(fs_server.shared_fs, *key)
            self._installed.add(key)

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> SnowflakeProtocolServer:
        import uvicorn

        if not _RUNNING.acquire(blocking=False):
            raise RuntimeError("a Snowflake-protocol server already runs in this process")
        try:
            apply_compat()
            import fakesnow.server as fs_server
            from fakesnow.instance import FakeSnow

            logging.getLogger("fakesnow.server").setLevel(logging.WARNING)  # a line per login and upload
            fs_server.shared_fs = FakeSnow(db_path=self.db_path) if self.db_path else FakeSnow()
            fs_server.sessions.clear()
            config = uvicorn.Config(self._app(), host=self.host, port=self.port, log_level="warning",
                                    access_log=False)
            self._server = uvicorn.Server(config)
            self._thread = threading.Thread(target=self._server.run, name="snowflake-protocol-server", daemon=True)
            self._thread.start()
            deadline = time.monotonic() + 30
            while self._thread.is_alive() and not self._server.started and time.monotonic() < deadline:
                time.sleep(0.05)
            if not self._server.started:
                raise RuntimeError(f"the Snowflake-protocol server did not start on {self.url}")
        except BaseException:
            _RUNNING.release()
            raise
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        import fakesnow.server as fs_server

        fs_server.sessions.clear()
        with contextlib.suppress(Exception):
            fs_server.shared_fs.duck_conn.close()
        self._server = None
        _RUNNING.release()

    def __enter__(self) -> SnowflakeProtocolServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextlib.contextmanager
def protocol_server(**kwargs: Any) -> Iterator[SnowflakeProtocolServer]:
    with SnowflakeProtocolServer(**kwargs) as server:
        yield server
