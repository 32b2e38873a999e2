"""The warehouse interface every asset, check, API handler and benchmark uses.

Why a thin interface of our own rather than calling the connector everywhere: the
connection must be rolled back and closed when a statement fails (dagster-snowflake's
``get_connection`` leaves it open on an exception), MERGEs must run in one transaction,
and the local and production implementations differ only in how a connection is made.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import pandas as pd
from dagster import ConfigurableResource

from nephos_pipeline.sql_files import split_statements

Params = Mapping[str, Any] | Sequence[Any] | None


class WarehouseUnavailable(RuntimeError):
    """The warehouse could not be reached; the message names where we tried."""


class Warehouse(ConfigurableResource, ABC):
    """Connector-style access to the warehouse, with safe transactions."""

    @abstractmethod
    def describe(self) -> str:
        """Where this warehouse is (account/database or file path), with no secrets."""

    @abstractmethod
    @contextmanager
    def _raw_connection(self) -> Iterator[Any]:
        """A DB-API connection (Snowflake connector or fakesnow), closed on exit."""

    @abstractmethod
    def _write_pandas(self, conn: Any, frame: pd.DataFrame, table: str) -> int:
        """Bulk-load ``frame`` into an existing table; returns rows written."""

    @contextmanager
    def connection(self) -> Iterator[Any]:
        """A connection that is rolled back and closed if anything inside fails."""
        with self._raw_connection() as conn:
            try:
                yield conn
            except BaseException:
                try:
                    conn.cursor().execute("ROLLBACK")
                except Exception:  # noqa: BLE001 - the original error matters more
                    pass
                raise

    @contextmanager
    def request_connection(self) -> Iterator[Any]:
        """A connection for one short read-only request (the API): the plain connection here.

        The embedded warehouse overrides it to queue requests behind one another while the
        database file is opened (see ``LocalWarehouse.request_connection``).
        """
        with self.connection() as conn:
            yield conn

    @contextmanager
    def transaction(self, conn: Any) -> Iterator[Any]:
        """BEGIN ... COMMIT on ``conn``; ROLLBACK on any error, so nothing is half-written."""
        cur = conn.cursor()
        cur.execute("BEGIN")
        try:
            yield cur
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        cur.execute("COMMIT")

    # --- conveniences built on the two primitives -------------------------------------

    def execute(self, sql: str, params: Params = None, conn: Any = None) -> int:
        """Run one statement; returns the affected row count."""
        if conn is None:
            with self.connection() as own:
                return self.execute(sql, params, own)
        cur = conn.cursor()
        cur.execute(sql, params) if params else cur.execute(sql)
        return int(cur.rowcount or 0)

    def execute_script(self, script: str, conn: Any = None) -> int:
        """Run every statement of a ``.sql`` file (DDL; no binds). Returns the count run."""
        statements = split_statements(script)
        if conn is None:
            with self.connection() as own:
                return self.execute_script(script, own)
        for statement in statements:
            conn.cursor().execute(statement)
        return len(statements)

    def query(self, sql: str, params: Params = None, conn: Any = None) -> pd.DataFrame:
        """Run a query and return a DataFrame with lower-case column names."""
        if conn is None:
            with self.connection() as own:
                return self.query(sql, params, own)
        cur = conn.cursor()
        cur.execute(sql, params) if params else cur.execute(sql)
        columns = [d[0].lower() for d in cur.description or []]
        return pd.DataFrame.from_records(cur.fetchall(), columns=columns)

    def write_frame(self, conn: Any, frame: pd.DataFrame, table: str) -> int:
        """Bulk-load ``frame`` (upper-case columns) into ``table`` on ``conn``."""
        if frame.empty:
            return 0
        return self._write_pandas(conn, frame, table)
