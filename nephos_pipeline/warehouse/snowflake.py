"""Production warehouse: dagster-snowflake's ``SnowflakeResource`` behind our interface.

The wrapper adds what the resource lacks: on an exception the connection is rolled back
and closed (``SnowflakeResource.get_connection`` skips ``close()`` when the body raises),
and ``write_pandas`` loads staging tables in bulk with Arrow/Parquet.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pandas as pd
from dagster_snowflake import SnowflakeResource
from pydantic import Field

from nephos_pipeline.warehouse.base import Warehouse, WarehouseUnavailable


class SnowflakeWarehouse(Warehouse):
    # repr=False: once resolved, SnowflakeResource's repr shows the password; keep it out of any log.
    snowflake: SnowflakeResource = Field(repr=False)

    def describe(self) -> str:
        sf = self.snowflake
        return f"Snowflake account {sf.account} ({sf.database}.{sf.schema_}, warehouse {sf.warehouse})"

    @contextmanager
    def _raw_connection(self) -> Iterator[Any]:
        import snowflake.connector

        try:
            conn = snowflake.connector.connect(**self.snowflake._connection_args)  # noqa: SLF001
        except Exception as exc:  # noqa: BLE001 - re-raised with where we tried
            raise WarehouseUnavailable(f"cannot connect to {self.describe()}: {type(exc).__name__}") from exc
        try:
            yield conn
        finally:
            conn.close()

    def _write_pandas(self, conn: Any, frame: pd.DataFrame, table: str) -> int:
        from snowflake.connector.pandas_tools import write_pandas

        ok, _chunks, rows, _ = write_pandas(conn, frame, table, quote_identifiers=False, use_logical_type=True)
        if not ok:
            raise RuntimeError(f"write_pandas into {table} failed")
        return int(rows)
