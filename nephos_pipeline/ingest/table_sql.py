"""The mechanical statements of every table, derived from its declaration.

Staging a batch, replacing a landing window and previewing the merged window are the same
for every table except for identifiers, so they are written once here rather than once per
table in ``sql/load/``. The per-table logic (the MERGE and the prune of deleted items)
stays in ``sql/load/merge_<name>.sql`` and ``prune_<name>.sql``, runnable as-is.

Only identifiers are formatted in, and only the registry's constants (``LANDING_<NAME>``,
``STG_<NAME>``, declared column names); every value is a bound parameter. For a table
without a time column (a snapshot) the window condition is ``TRUE``: the whole table.
"""

from __future__ import annotations

from nephos_pipeline.tables import Table


def _in_window(table: Table, alias: str = "") -> str:
    if table.time is None:
        return "TRUE"
    column = f"{alias}{table.time[1]}"
    return f"{column} >= %(window_start)s::TIMESTAMP_NTZ AND {column} < %(window_end)s::TIMESTAMP_NTZ"


def create_stage(table: Table) -> str:
    """Session-scoped staging table that ``write_pandas`` bulk-loads before the landing swap."""
    columns = ",\n    ".join(f"{name} {kind}" for name, kind in table.columns)
    return f"CREATE OR REPLACE TEMPORARY TABLE {table.stage} (\n    {columns}\n)"


def clear_landing(table: Table) -> str:
    """Delete the window's landing rows (all of them for a snapshot)."""
    return f"DELETE FROM {table.landing}\nWHERE {_in_window(table)}"  # noqa: S608 - registry identifiers only


def land(table: Table) -> str:
    """Insert the window's staged rows into the landing table, stamped with the extract time."""
    columns = ", ".join(table.column_names)
    return (f"INSERT INTO {table.landing} ({columns}, EXTRACTED_AT)\n"  # noqa: S608 - registry identifiers only
            f"SELECT {columns}, %(extracted_at)s::TIMESTAMP_NTZ\nFROM {table.stage}\nWHERE {_in_window(table)}")


def preview(table: Table, rows: int = 5) -> str:
    """A few rows of the merged window, for the asset's metadata."""
    columns = ", ".join(table.preview)
    return (f"SELECT {columns} FROM {table.target}\nWHERE {_in_window(table)}\n"  # noqa: S608 - registry identifiers only
            f"ORDER BY {columns} LIMIT {int(rows)}")
