"""Grants derived from the statements the production path sent, against what we publish.

Every statement of the recorded run (``production_run``: demo, doctor, serve over the
Snowflake-protocol server) is classified by kind; each kind maps to the privilege it
needs on Snowflake. The pipeline role must be granted exactly that set by
``sql/setup/account_setup.sql``, the reader role only SELECT and USAGE, and
``docs/iam-and-grants.md`` must list exactly the same grants. A new kind of statement
(a TRUNCATE, a temporary stage, a new Cortex function) fails here until it is mapped,
granted and documented.
"""

from __future__ import annotations

import re
from pathlib import Path

from nephos_pipeline.sql_files import load_sql, split_statements
from nephos_pipeline.warehouse.schema import schema_files
from nephos_pipeline.warehouse.statement_log import targets
from nephos_pipeline_tests.warehouse.conftest import PIPELINE_USER, READER_USER

ROOT = Path(__file__).resolve().parents[2]
PIPELINE_ROLE, READER_ROLE = "NEPHOS_PIPELINE_ROLE", "NEPHOS_READER_ROLE"
USAGE = {("USAGE", "WAREHOUSE"), ("USAGE", "DATABASE"), ("USAGE", "SCHEMA")}  # every statement, every role

# Statement kind -> (privilege, object kind) it needs beyond USAGE. Writes and reads of the
# pipeline's own objects are covered by OWNERSHIP (it creates them: checked below), so
# INSERT/UPDATE/DELETE (MERGE), READ/WRITE (PUT, COPY INTO ... PURGE) need no grant of their own.
NEEDS: dict[str, set[tuple[str, str]]] = {
    "SELECT": set(),
    "SELECT CORTEX": {("SNOWFLAKE.CORTEX_USER", "DATABASE ROLE")},
    "CREATE TABLE": {("CREATE TABLE", "SCHEMA")},
    "CREATE TEMPORARY TABLE": {("CREATE TABLE", "SCHEMA")},
    "CREATE VIEW": {("CREATE VIEW", "SCHEMA")},
    "CREATE STAGE": {("CREATE STAGE", "SCHEMA")},
    "INSERT": set(), "MERGE": set(), "DELETE": set(), "UPDATE": set(),
    "PUT": set(), "COPY INTO": set(), "TRANSACTION": set(),
}
WRITES = {"INSERT", "MERGE", "DELETE", "UPDATE", "PUT", "COPY INTO"}
READER_NEEDS = {"SELECT": {("SELECT", "TABLES")}}


def on_kind(on: str) -> str:
    words = on.upper().split()
    if words[:2] == ["DATABASE", "ROLE"]:
        return "DATABASE ROLE"
    if words[0] in ("FUTURE", "ALL"):
        return words[1]  # TABLES / VIEWS ... IN SCHEMA x
    return words[0]  # WAREHOUSE / DATABASE / SCHEMA / STAGE x


def setup_grants() -> dict[str, set[tuple[str, str]]]:
    """(privilege, object kind) per role, from the GRANT statements of account_setup.sql."""
    grants: dict[str, set[tuple[str, str]]] = {}
    for statement in split_statements(load_sql("setup/account_setup.sql")):
        text = " ".join(ln for ln in statement.splitlines() if not ln.strip().startswith("--"))
        text = " ".join(text.split())
        if m := re.match(r"GRANT DATABASE ROLE (\S+) TO ROLE (\w+)$", text, re.I):
            grants.setdefault(m[2].upper(), set()).add((m[1].upper(), "DATABASE ROLE"))
        elif m := re.match(r"GRANT (.+?) ON (.+?) TO ROLE (\w+)$", text, re.I):
            for privilege in m[1].split(","):
                grants.setdefault(m[3].upper(), set()).add((" ".join(privilege.upper().split()), on_kind(m[2])))
    return grants


def documented_grants() -> dict[str, set[tuple[str, str]]]:
    doc = (ROOT / "docs" / "iam-and-grants.md").read_text()
    block = doc.split("<!-- grants:begin -->")[1].split("<!-- grants:end -->")[0]
    grants: dict[str, set[tuple[str, str]]] = {}
    for line in block.splitlines():
        cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[0].startswith("NEPHOS_"):
            grants.setdefault(cells[0], set()).add((cells[1].upper(), on_kind(cells[2])))
    return grants


def pipeline_statements(run):
    return [s for s in run.server.log.statements if s.user == PIPELINE_USER and s.database == run.database]


def test_every_statement_kind_the_pipeline_sent_is_mapped(production_run) -> None:
    kinds = {s.kind for s in pipeline_statements(production_run)}
    assert kinds - set(NEEDS) == set(), "map these statement kinds to the privileges they need"
    assert {"PUT", "COPY INTO", "MERGE", "CREATE STAGE", "SELECT CORTEX"} <= kinds


def test_the_pipeline_only_writes_objects_it_created_so_it_owns_them(production_run) -> None:
    statements = pipeline_statements(production_run)
    created = {t for s in statements if s.kind.startswith("CREATE ") for t in targets(s.sql)}
    created |= {t for name in schema_files() for sql in split_statements(load_sql(name)) for t in targets(sql)}
    written = {t for s in statements if s.kind in WRITES for t in targets(s.sql)}
    assert written and written <= created, written - created


def test_account_setup_grants_the_pipeline_role_exactly_what_it_used(production_run) -> None:
    needed = set(USAGE)
    for statement in pipeline_statements(production_run):
        needed |= NEEDS[statement.kind]
    assert setup_grants()[PIPELINE_ROLE] == needed


def test_the_reader_role_needs_and_gets_only_select_and_usage(production_run) -> None:
    kinds = {s.kind for s in production_run.server.log.statements if s.user == READER_USER}
    assert kinds == {"SELECT"}
    needed = set(USAGE).union(*(READER_NEEDS[k] for k in kinds))
    granted = setup_grants()[READER_ROLE]
    assert granted == needed
    assert {privilege for privilege, _on in granted} == {"SELECT", "USAGE"}


def test_docs_list_exactly_the_grants_of_account_setup() -> None:
    grants = setup_grants()
    assert documented_grants() == {PIPELINE_ROLE: grants[PIPELINE_ROLE], READER_ROLE: grants[READER_ROLE]}
