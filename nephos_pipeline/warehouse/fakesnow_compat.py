"""Two small compatibility fixes for fakesnow, applied before it runs our SQL.

fakesnow emulates MERGE with a ``CREATE TEMP TABLE`` and, for any CREATE with properties,
records a table comment (even an absent one) in its ``_fs_global`` catalogue. Inside an
explicit ``BEGIN`` that second write fails, because DuckDB lets one transaction write to
one attached database only, so a MERGE could not run in a transaction at all. Skipping the
bookkeeping when there is no comment keeps MERGE atomic, as it is on Snowflake.

``COPY INTO`` a session's TEMPORARY table (how the Snowflake warehouse loads its staging
tables over the wire) looks the target up as ``database.schema.table``, where DuckDB has no
temporary tables, so the Snowflake-protocol test server failed at the COPY. On Snowflake a
temporary table shadows a permanent one of the same name, so an unqualified target that
names a live temporary table is described from DuckDB's ``temp`` catalog instead. These
patch the emulator only; the production code path is unchanged.
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
    _patch_copy_into_temporary_tables()
    _applied = True


def _patch_copy_into_temporary_tables() -> None:
    import fakesnow.copy_into as copy_into

    original = copy_into._describe_table  # noqa: SLF001

    def describe_table(table, duck_conn, current_database, current_schema):  # noqa: ANN001, ANN202
        if not table.catalog and not table.db:
            live = duck_conn.execute(
                "SELECT 1 FROM duckdb_tables() WHERE temporary AND table_name = ?", [table.name]
            ).fetchone()
            if live:
                rows = duck_conn.execute("SELECT column_name, data_type FROM duckdb_columns() "
                                         "WHERE database_name = 'temp' AND table_name = ? ORDER BY column_index",
                                         [table.name]).fetchall()
                return [(name, kind) for name, kind in rows]
        return original(table, duck_conn, current_database, current_schema)

    copy_into._describe_table = describe_table  # noqa: SLF001
