"""The warehouse: one interface, Snowflake in production, embedded DuckDB locally.

Both implementations run the *same* Snowflake-dialect SQL from ``sql/`` through a
connector-style (DB-API, pyformat binds) connection.
"""

from typing import TYPE_CHECKING, Any

from nephos_pipeline.warehouse.base import Warehouse, WarehouseUnavailable
from nephos_pipeline.warehouse.local import LocalWarehouse

if TYPE_CHECKING:
    from nephos_pipeline.warehouse.snowflake import SnowflakeWarehouse

__all__ = ["LocalWarehouse", "SnowflakeWarehouse", "Warehouse", "WarehouseUnavailable"]


def __getattr__(name: str) -> Any:
    # Imported on first use: dagster-snowflake pulls in snowflake.core and Snowpark, about
    # 2.5 s of a ~4.5 s Definitions load, and the local warehouse never needs them
    # (docs/benchmarks.md, start-up).
    if name == "SnowflakeWarehouse":
        from nephos_pipeline.warehouse.snowflake import SnowflakeWarehouse

        return SnowflakeWarehouse
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
