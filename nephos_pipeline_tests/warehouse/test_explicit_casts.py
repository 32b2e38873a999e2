"""No statement relies on an implicit VARIANT -> ARRAY/OBJECT coercion.

``PARSE_JSON`` returns a VARIANT. Snowflake coerces it into an ARRAY or OBJECT column on
some paths and not others, and fakesnow accepts anything, so the tests cannot catch a
missing cast by running the SQL. Every PARSE_JSON in ``sql/`` is therefore either cast
explicitly, exploded by FLATTEN, or lands in a VARIANT column (listed here, checked
against the DDL).
"""

from __future__ import annotations

import re
from importlib import resources

import sqlglot
from sqlglot import exp

from nephos_pipeline.sql_files import load_sql, split_statements

# alias of an uncast PARSE_JSON -> the VARIANT column it is written to
VARIANT_TARGETS = {"TAGS": "TAGS", "EVIDENCE_JSON": "EVIDENCE"}


def sql_files() -> list[str]:
    root = resources.files("nephos_pipeline.sql")
    return sorted(f"{d.name}/{f.name}" for d in root.iterdir() if d.is_dir() and not d.name.startswith("_")
                  for f in d.iterdir() if f.name.endswith(".sql") and d.name != "setup")


def column_types() -> dict[str, set[str]]:
    types: dict[str, set[str]] = {}
    for name in sql_files():
        if not name.startswith("ddl/"):
            continue
        for statement in split_statements(load_sql(name)):
            for column in sqlglot.parse_one(statement, read="snowflake").find_all(exp.ColumnDef):
                kind = column.args.get("kind")
                types.setdefault(column.name.upper(), set()).add(kind.sql("snowflake").upper() if kind else "")
    return types


def test_every_parse_json_is_cast_flattened_or_lands_in_a_variant_column() -> None:
    types = column_types()
    assert types["AFFECTED_INSTANCES"] == {"ARRAY"}
    for alias, column in VARIANT_TARGETS.items():
        assert "VARIANT" in types[column], (alias, column)  # the typed table's column (landing keeps text)
    uncast = []
    for name in sql_files():
        for statement in split_statements(load_sql(name)):
            if "PARSE_JSON" not in statement.upper():
                continue
            parsed = sqlglot.parse_one(re.sub(r"%\((\w+)\)s", r"'\1'", statement), read="snowflake")  # binds
            for node in parsed.find_all(exp.ParseJSON):
                if isinstance(node.parent, exp.Cast) or node.find_ancestor(exp.Explode, exp.Unnest) is not None:
                    continue
                if isinstance(node.parent, exp.Kwarg | exp.PropertyEQ) and "FLATTEN" in statement.upper():
                    continue
                alias = node.parent.alias.upper() if isinstance(node.parent, exp.Alias) else ""
                if alias not in VARIANT_TARGETS:
                    uncast.append((name, node.sql("snowflake")))
    assert uncast == []


def test_affected_instances_is_cast_to_array_in_the_insights_merge() -> None:
    merge = sqlglot.parse_one(load_sql("insights/merge_insights.sql"), read="snowflake")
    casts = [(c.parent.alias.upper() if isinstance(c.parent, exp.Alias) else "", c.to.sql("snowflake").upper())
             for c in merge.find_all(exp.Cast) if isinstance(c.this, exp.ParseJSON)]
    assert casts == [("AFFECTED_JSON", "ARRAY")]
