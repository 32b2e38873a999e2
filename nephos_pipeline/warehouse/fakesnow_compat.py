"""One small compatibility fix for fakesnow, applied before the local warehouse connects.

fakesnow emulates MERGE with a ``CREATE TEMP TABLE`` and, for any CREATE with properties,
records a table comment (even an absent one) in its ``_fs_global`` catalogue. Inside an
explicit ``BEGIN`` that second write fails, because DuckDB lets one transaction write to
one attached database only, so a MERGE could not run in a transaction at all. Skipping the
bookkeeping when there is no comment keeps MERGE atomic, as it is on Snowflake.

Also silenced here, process-wide, and only these: duckdb 2.0's warnings about the
DB-API Arrow calls fakesnow makes internally ("Arrow output on a DB-API result makes an
extra copy", "fetch_arrow_table() is deprecated"). They are about fakesnow's code, not
ours, and otherwise reach the user on every query of a local run.
"""

from __future__ import annotations

import warnings

_applied = False


def apply_compat() -> None:
    global _applied
    if _applied:
        return
    warnings.filterwarnings("ignore", message="Arrow output on a DB-API result", category=UserWarning)
    warnings.filterwarnings("ignore", message=r"fetch_(arrow_table|record_batch)\(\) is deprecated",
                            category=DeprecationWarning)
    import fakesnow.info_schema as info_schema

    original = info_schema.insert_table_comment_sql

    def insert_table_comment_sql(catalog: str, schema: str, table: str, comment: str | None) -> str:
        if comment is None:
            return "SELECT 1 WHERE FALSE"
        return original(catalog, schema, table, comment)

    info_schema.insert_table_comment_sql = insert_table_comment_sql
    _applied = True
