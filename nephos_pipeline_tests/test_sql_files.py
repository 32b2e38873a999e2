"""Every shipped .sql file is Snowflake SQL that sqlglot parses, and no SQL is built by formatting values."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import sqlglot
from sqlglot.errors import ErrorLevel

from nephos_pipeline.sql_files import split_statements

ROOT = Path(__file__).resolve().parents[1]
SQL_FILES = sorted((ROOT / "sql").rglob("*.sql"))
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def test_there_are_sql_files():
    assert len(SQL_FILES) >= 30


@pytest.mark.parametrize("path", SQL_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_sql_parses_as_snowflake(path: Path):
    # Bound parameters are not SQL; stand a literal in for each so the statement parses.
    text = PLACEHOLDER.sub("'0'", path.read_text()).replace("%%", "%")
    statements = split_statements(text)
    assert statements, f"{path} has no statement"
    for statement in statements:
        parsed = sqlglot.parse(statement, read="snowflake", error_level=ErrorLevel.RAISE)
        assert parsed and all(p is not None for p in parsed)
        for expression in parsed:
            expression.sql(dialect="snowflake", unsupported_level=ErrorLevel.RAISE)


def test_no_sql_is_built_by_string_formatting():
    """ruff's S608 flags SQL assembled from strings with variables; the package has none."""
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--select", "S608", "--no-cache", str(ROOT / "nephos_pipeline")],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout
