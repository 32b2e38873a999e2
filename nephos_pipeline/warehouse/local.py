"""The embedded default warehouse: fakesnow running our Snowflake SQL on DuckDB.

Why fakesnow rather than hand-transpiling with sqlglot: it runs Snowflake DDL with
VARIANT/ARRAY columns, MERGE, views, QUALIFY, LATERAL FLATTEN, ``%s`` binds and
``write_pandas`` unchanged, so there is one SQL dialect to maintain. The database is a
DuckDB file under ``NEPHOS_HOME/warehouse``.

DuckDB lets one process at a time open a database file for writing, so one FakeSnow is
shared per file inside a process (reference-counted, closed when the last user leaves);
separate processes (Dagster run workers, the API) take turns, and a busy file is retried
for a few seconds before failing with a clear message.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import Field

from nephos_pipeline.warehouse.base import Warehouse, WarehouseUnavailable
from nephos_pipeline.warehouse.fakesnow_compat import apply_compat

_LOCK = threading.Lock()
# fakesnow ATTACHes the database file on every connect, and two threads attaching at once
# fail ("Unique file handle conflict"), so API requests open local connections one at a
# time (the queries themselves still run concurrently).
_REQUEST_LOCK = threading.Lock()
REQUEST_WAIT_S = 10.0  # a request queued longer than this gets a 503 rather than hanging
_OPEN: dict[str, list[Any]] = {}  # path -> [FakeSnow, refcount]


def _acquire(path: str, busy_timeout_s: float, memory_limit: str | None = None) -> Any:
    from fakesnow.instance import FakeSnow

    apply_compat()
    with _LOCK:
        entry = _OPEN.get(path)
        if entry is None:
            Path(path).mkdir(parents=True, exist_ok=True)
            entry = [FakeSnow(db_path=path), 0]
            # DuckDB's own settings, not Snowflake SQL. fakesnow's main database is in
            # memory, so DuckDB would spill into the working directory (".tmp"); spill
            # beside the database files instead. The cap bounds the engine's buffers.
            entry[0].duck_conn.execute("SET temp_directory = ?", [str(Path(path) / "spill")])
            if memory_limit:
                entry[0].duck_conn.execute("SET memory_limit = ?", [memory_limit])
            _OPEN[path] = entry
        entry[1] += 1
        return entry[0]


def _release(path: str) -> None:
    with _LOCK:
        entry = _OPEN.get(path)
        if entry is None:
            return
        entry[1] -= 1
        if entry[1] <= 0:
            entry[0].duck_conn.close()
            del _OPEN[path]


class LocalWarehouse(Warehouse):
    """DuckDB-backed Snowflake stand-in, persisted under ``path``."""

    path: str = Field(description="Folder holding the DuckDB database files (NEPHOS_HOME/warehouse).")
    database: str = "NEPHOS"
    schema_: str = Field(default="PUBLIC", alias="schema")
    busy_timeout_s: float = 30.0
    memory_limit: str | None = Field(
        default=None,
        description="Cap on the embedded engine's memory (DuckDB memory_limit, e.g. '1.5GB'; "
                    "NEPHOS_LOCAL_WAREHOUSE_MEMORY). Unset: DuckDB's default, 80% of RAM.",
    )

    def describe(self) -> str:
        return f"local DuckDB warehouse at {self.path} ({self.database}.{self.schema_})"

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Keep the database open across many ``connection()`` calls (one run, one API request)."""
        _acquire(self.path, self.busy_timeout_s, self.memory_limit)
        try:
            yield
        finally:
            _release(self.path)

    @contextmanager
    def request_connection(self) -> Iterator[Any]:
        """Open the database (held for the request) and a connection, one request at a time."""
        if not _REQUEST_LOCK.acquire(timeout=REQUEST_WAIT_S):
            raise WarehouseUnavailable("timed out waiting to open the local warehouse")
        with ExitStack() as stack:
            try:
                stack.enter_context(self.hold())
                conn = stack.enter_context(self.connection())
            finally:
                _REQUEST_LOCK.release()
            yield conn

    @contextmanager
    def _raw_connection(self) -> Iterator[Any]:
        deadline = time.monotonic() + self.busy_timeout_s
        while True:
            fake = None
            try:
                fake = _acquire(self.path, self.busy_timeout_s, self.memory_limit)
                with _LOCK:  # fakesnow attaches the file on connect; parallel attaches conflict
                    conn = fake.connect(database=self.database, schema=self.schema_)
                break
            except Exception as exc:  # noqa: BLE001 - DuckDB raises IOException on a held lock
                if fake is not None:
                    _release(self.path)
                if "lock" in str(exc).lower() and time.monotonic() < deadline:
                    time.sleep(0.2)
                    continue
                raise WarehouseUnavailable(f"cannot open {self.describe()}: {exc}") from exc
        try:
            yield conn
        finally:
            try:
                conn.close()
            finally:
                _release(self.path)

    def _write_pandas(self, conn: Any, frame: pd.DataFrame, table: str) -> int:
        from fakesnow.pandas_tools import write_pandas

        ok, _chunks, rows, _ = write_pandas(conn, frame, table, quote_identifiers=False)
        if not ok:
            raise RuntimeError(f"write_pandas into {table} failed")
        return int(rows)
