"""Production warehouse: dagster-snowflake's ``SnowflakeResource`` behind our interface.

The wrapper adds what the resource lacks:

- on an exception the connection is rolled back (``SnowflakeResource.get_connection``
  skips ``close()`` when the body raises);
- **one login per step**: sessions come from a small pool that lives as long as the
  resource (a Dagster step, ``nephos serve``, one CLI command) and is closed in
  ``teardown_after_execution``;
- a failed login names the account, the host, the connector's error number and message,
  and the likely fix;
- bulk loads go through a **named internal stage**: the frame is written as Parquet,
  ``PUT`` to ``@NEPHOS_LOAD_STAGE/<table>/<uuid>/`` and loaded with ``COPY INTO ...
  MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE PURGE = TRUE``. ``write_pandas`` would create a
  temporary stage per load (CREATE STAGE on the schema, an extra statement each time);
  the named stage is created once with the tables (``sql/ddl/03_stage.sql``).
"""

from __future__ import annotations

import re
import tempfile
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
from dagster import EnvVar, InitResourceContext
from dagster_snowflake import SnowflakeResource
from pydantic import Field, PrivateAttr

from nephos_pipeline.warehouse.base import Warehouse, WarehouseUnavailable
from nephos_pipeline.warehouse.sessions import SessionPool

LOAD_STAGE = "NEPHOS_LOAD_STAGE"
_IDENT = re.compile(r"^[A-Z_][A-Z0-9_]*$")


def _shown(value: Any) -> str:
    """A setting for messages: before Dagster resolves it, the variable's name (never its value)."""
    return f"${value.env_var_name}" if isinstance(value, EnvVar) else str(value)


def connection_host(args: Mapping[str, Any]) -> str:
    if args.get("host"):
        return f"{args.get('protocol') or 'https'}://{args['host']}:{args.get('port') or 443}"
    return f"https://{args.get('account')}.snowflakecomputing.com:443"


def likely_fix(errno: int | None, message: str) -> str:
    """The most likely cause of a failed login, from the connector's error number and text."""
    text = message.lower()
    if errno in (390100, 390144, 390318) or "incorrect username or password" in text or "jwt" in text:
        return ("check SNOWFLAKE_USER and SNOWFLAKE_PASSWORD, or that the key pair's public key is registered "
                "(ALTER USER ... SET RSA_PUBLIC_KEY)")
    if errno == 390189 or "role" in text:
        return "SNOWFLAKE_ROLE is not granted to this user (GRANT ROLE ... TO USER ...; sql/setup/account_setup.sql)"
    if errno == 390422 or "ip" in text.split() or "network policy" in text or "not allowed to access" in text:
        return "the account's network policy does not allow this machine's IP address"
    if "warehouse" in text:
        return "SNOWFLAKE_WAREHOUSE does not exist or the role lacks USAGE on it"
    if errno in (250001, 250003) or "could not connect" in text or "timed out" in text or "timeout" in text:
        return ("check SNOWFLAKE_ACCOUNT is the account identifier (orgname-accountname, or locator.region.cloud, "
                "without .snowflakecomputing.com), that the host is reachable from here (proxy, firewall, "
                "private link: SNOWFLAKE_HOST/SNOWFLAKE_PORT), and the account's network policy")
    return "run `nephos doctor`; roles and grants: docs/iam-and-grants.md"


def connection_error(args: Mapping[str, Any], exc: BaseException) -> str:
    """One line an operator can act on; never includes a secret (only account, user, host, error)."""
    errno = getattr(exc, "errno", None)
    raw = getattr(exc, "raw_msg", None) or getattr(exc, "msg", None) or str(exc) or type(exc).__name__
    message = " ".join(str(raw).split())[:400]
    code = f"{errno} " if errno else ""
    return (f"cannot connect to Snowflake account {args.get('account')!s} as {args.get('user')!s} at "
            f"{connection_host(args)}: {type(exc).__name__} {code}{message}. Likely fix: {likely_fix(errno, message)}")


class SnowflakeWarehouse(Warehouse):
    # repr=False: once resolved, SnowflakeResource's repr shows the password; keep it out of any log.
    snowflake: SnowflakeResource = Field(repr=False)
    max_idle_sessions: int = Field(default=4, description="Idle sessions kept for reuse (nephos serve's pool size).")
    idle_timeout_s: float = Field(default=600.0, description="An idle session older than this is closed, not reused.")

    _pool: SessionPool | None = PrivateAttr(default=None)

    def describe(self) -> str:
        sf = self.snowflake
        extra = sf.additional_snowflake_connection_args or {}
        where = f" via {extra['host']}:{extra.get('port', 443)}" if extra.get("host") else ""
        return (f"Snowflake account {_shown(sf.account)}{where} ({sf.database}.{sf.schema_}, "
                f"warehouse {_shown(sf.warehouse)})")

    def setup_for_execution(self, context: InitResourceContext) -> None:
        self._pool = SessionPool(self._connect, self.max_idle_sessions, self.idle_timeout_s)

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        self.close()

    def close(self) -> None:
        """Log out of every idle session (end of a step, of ``nephos serve``)."""
        if self._pool is not None:
            self._pool.close()

    @property
    def sessions_opened(self) -> int:
        return self._pool.opened if self._pool is not None else 0

    def _connect(self) -> Any:
        import snowflake.connector

        args = self.snowflake._connection_args  # noqa: SLF001
        try:
            return snowflake.connector.connect(**args)
        except Exception as exc:  # noqa: BLE001 - re-raised with where we tried and what to do
            raise WarehouseUnavailable(connection_error(args, exc)) from exc

    @contextmanager
    def _raw_connection(self) -> Iterator[Any]:
        if self._pool is None:  # used without Dagster's lifecycle (a bare instance): still pooled
            self._pool = SessionPool(self._connect, self.max_idle_sessions, self.idle_timeout_s)
        with self._pool.session() as conn:
            yield conn

    def _write_pandas(self, conn: Any, frame: pd.DataFrame, table: str) -> int:
        if not _IDENT.match(table):
            raise ValueError(f"not a plain table name: {table!r}")
        folder = f"{LOAD_STAGE}/{table.lower()}/{uuid.uuid4().hex}/"
        cur = conn.cursor()
        with tempfile.TemporaryDirectory(prefix="nephos-load-") as tmp:
            path = Path(tmp) / "part.parquet"
            frame.to_parquet(path, index=False)
            # Names and paths are ours (checked identifier, uuid, temp dir); PUT/COPY take no binds here.
            cur.execute(f"PUT 'file://{path.as_posix()}' @{folder} AUTO_COMPRESS = FALSE OVERWRITE = TRUE")
        cur.execute(
            f"COPY INTO {table} FROM @{folder} FILE_FORMAT = (TYPE = PARQUET USE_LOGICAL_TYPE = TRUE) "  # noqa: S608
            "MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE PURGE = TRUE"
        )
        columns = [d[0].lower() for d in cur.description or []]
        results = [dict(zip(columns, row, strict=False)) for row in cur.fetchall()]
        bad = [r for r in results if str(r.get("status", "")).upper() not in ("LOADED", "PARTIALLY_LOADED")]
        rows = sum(int(r.get("rows_loaded") or 0) for r in results)
        if bad or rows != len(frame):
            raise RuntimeError(f"COPY INTO {table} loaded {rows} of {len(frame)} rows: {bad[:1]}")
        return rows
