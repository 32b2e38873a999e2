"""One small compatibility fix for fakesnow, applied before the local warehouse connects.

fakesnow emulates MERGE with a ``CREATE TEMP TABLE`` and, for any CREATE with properties,
records a table comment (even an absent one) in its ``_fs_global`` catalogue. Inside an
explicit ``BEGIN`` that second write fails, because DuckDB lets one transaction write to
one attached database only, so a MERGE could not run in a transaction at all. Skipping the
bookkeeping when there is no comment keeps MERGE atomic, as it is on Snowflake.
"""

from __future__ import annotations

_applied = False


def apply_compat() -> None:
    global _applied
    if _applied:
        return
    import fakesnow.info_schema as info_schema

    original = info_schema.insert_table_comment_sql

    def insert_table_comment_sql(catalog: str, schema: str, table: str, comment: str | None) -> str:
        if comment is None:
            return "SELECT 1 WHERE FALSE"
        return original(catalog, schema, table, comment)

    info_schema.insert_table_comment_sql = insert_table_comment_sql
    _applied = True
