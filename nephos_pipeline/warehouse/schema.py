"""Apply the ``sql/ddl`` and ``sql/views`` files idempotently.

Every statement is ``CREATE ... IF NOT EXISTS`` or ``CREATE OR REPLACE VIEW``, so applying
twice is harmless; a hash of the files is remembered per warehouse so later runs skip the
round trips entirely (each DDL statement costs a Snowflake query).
"""

from __future__ import annotations

import hashlib
import threading
from importlib import resources

from nephos_pipeline.sql_files import load_sql, split_statements
from nephos_pipeline.warehouse.base import Warehouse

SCHEMA_FOLDERS = ("ddl", "views")
_applied: set[tuple[str, str]] = set()
_lock = threading.Lock()


def schema_files() -> list[str]:
    names: list[str] = []
    for folder in SCHEMA_FOLDERS:
        node = resources.files("nephos_pipeline.sql").joinpath(folder)
        names += sorted(f"{folder}/{p.name}" for p in node.iterdir() if p.name.endswith(".sql"))
    return names


def schema_hash() -> str:
    digest = hashlib.sha256()
    for name in schema_files():
        digest.update(load_sql(name).encode())
    return digest.hexdigest()[:16]


def ensure_schema(warehouse: Warehouse) -> bool:
    """Create tables and views if needed. Returns True when statements were run."""
    key = (warehouse.describe(), schema_hash())
    with _lock:
        if key in _applied:
            return False
        with warehouse.connection() as conn:
            create, applied, record = split_statements(load_sql("warehouse/schema_version.sql"))
            cur = conn.cursor()
            cur.execute(create)
            cur.execute(applied, {"h": key[1]})
            if cur.fetchone()[0] == 0:
                for name in schema_files():
                    warehouse.execute_script(load_sql(name), conn)
                _migrate(warehouse, conn)
                cur.execute(record, {"h": key[1]})
        _applied.add(key)
        return True


def _migrate(warehouse: Warehouse, conn) -> None:
    """Fill tables a new schema version added from the data already loaded (once per version)."""
    from nephos_pipeline.ingest.buckets import fill_history  # ingest imports the warehouse package

    fill_history(warehouse, conn)
