"""The warehouse: one interface, Snowflake in production, embedded DuckDB locally.

Both implementations run the *same* Snowflake-dialect SQL from ``sql/`` through a
connector-style (DB-API, pyformat binds) connection.
"""

from nephos_pipeline.warehouse.base import Warehouse, WarehouseUnavailable
from nephos_pipeline.warehouse.local import LocalWarehouse
from nephos_pipeline.warehouse.snowflake import SnowflakeWarehouse

__all__ = ["LocalWarehouse", "SnowflakeWarehouse", "Warehouse", "WarehouseUnavailable"]
