"""The statements formatted from the registry are Snowflake SQL, like the shipped .sql files."""

from __future__ import annotations

import re

import pytest
import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel

from nephos_pipeline.ingest import table_sql
from nephos_pipeline.tables import TABLES, Table

BUILDERS = (table_sql.create_stage, table_sql.clear_landing, table_sql.land, table_sql.preview)


@pytest.mark.parametrize("table", TABLES, ids=lambda t: t.name)
@pytest.mark.parametrize("build", BUILDERS, ids=lambda f: f.__name__)
def test_generated_statements_parse_as_snowflake(table: Table, build) -> None:
    text = re.sub(r"%\((\w+)\)s", "'0'", build(table))  # bound parameters stand in as literals
    parsed = sqlglot.parse_one(text, read="snowflake", error_level=ErrorLevel.RAISE)
    parsed.sql(dialect="snowflake", unsupported_level=ErrorLevel.RAISE)
    names = {t.name.upper() for t in parsed.find_all(exp.Table)}
    assert names <= {table.landing, table.stage, table.target}, names  # only the registry's identifiers


def test_a_snapshot_replaces_its_whole_landing_table_and_a_window_only_its_hour() -> None:
    by_name = {t.name: t for t in TABLES}
    assert table_sql.clear_landing(by_name["instances"]).endswith("WHERE TRUE")
    assert "TS >= %(window_start)s" in table_sql.clear_landing(by_name["metrics"])
    assert table_sql.land(by_name["alerts"]).count("%(") == 3  # extracted_at and the window, all bound
