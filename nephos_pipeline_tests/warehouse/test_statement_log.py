"""Statement kinds and targets (what the grants test and the credit model build on)."""

from __future__ import annotations

import threading

import pytest

from nephos_pipeline.ingest import table_sql
from nephos_pipeline.sql_files import load_sql
from nephos_pipeline.tables import METRICS
from nephos_pipeline.warehouse.statement_log import StatementLog, statement_kind, targets


@pytest.mark.parametrize(("sql", "kind", "written"), [
    ("-- comment first\nSELECT 1", "SELECT", []),
    ("WITH x AS (SELECT 1) SELECT * FROM x", "SELECT", []),
    ("SELECT AI_COMPLETE(model => 'm', prompt => 'p')", "SELECT CORTEX", []),
    ("SELECT SNOWFLAKE.CORTEX.COMPLETE('m', 'p')", "SELECT CORTEX", []),
    ("CREATE OR REPLACE TEMPORARY TABLE STG_METRICS (A INT)", "CREATE TEMPORARY TABLE", ["STG_METRICS"]),
    ("CREATE TEMPORARY STAGE s", "CREATE TEMPORARY STAGE", ["S"]),
    ("CREATE TRANSIENT TABLE t (a int)", "CREATE TABLE", ["T"]),
    ("CREATE TABLE IF NOT EXISTS METRICS (A INT)", "CREATE TABLE", ["METRICS"]),
    ("CREATE OR REPLACE VIEW METRICS_DAILY AS SELECT 1", "CREATE VIEW", ["METRICS_DAILY"]),
    ("CREATE STAGE IF NOT EXISTS NEPHOS_LOAD_STAGE", "CREATE STAGE", ["NEPHOS_LOAD_STAGE"]),
    ("PUT 'file:///tmp/a.parquet' @NEPHOS_LOAD_STAGE/stg/1/ AUTO_COMPRESS = FALSE", "PUT", ["NEPHOS_LOAD_STAGE"]),
    ("COPY INTO STG_METRICS FROM @NEPHOS_LOAD_STAGE/x/ PURGE = TRUE", "COPY INTO", ["STG_METRICS"]),
    ("MERGE INTO AI_INSIGHTS t USING s ON t.a = s.a WHEN MATCHED THEN DELETE", "MERGE", ["AI_INSIGHTS"]),
    ("insert into landing_metrics select * from stg", "INSERT", ["LANDING_METRICS"]),
    ("DELETE FROM LANDING_INSTANCES", "DELETE", ["LANDING_INSTANCES"]),
    ("TRUNCATE TABLE X", "TRUNCATE", ["X"]),
    ("DROP TABLE X", "DROP TABLE", []),
    ("ALTER SESSION SET TIMEZONE = 'UTC'", "ALTER SESSION", []),
    ("BEGIN", "TRANSACTION", []), ("COMMIT", "TRANSACTION", []), ("ROLLBACK", "TRANSACTION", []),
])
def test_kind_and_targets(sql: str, kind: str, written: list[str]) -> None:
    assert statement_kind(sql) == kind
    assert targets(sql) == written


def test_the_sql_files_classify_as_what_they_do() -> None:
    assert statement_kind(load_sql("insights/merge_insights.sql")) == "MERGE"
    assert targets(load_sql("insights/merge_insights.sql")) == ["AI_INSIGHTS"]
    assert statement_kind(table_sql.create_stage(METRICS)) == "CREATE TEMPORARY TABLE"


def test_log_is_thread_safe_and_filters_by_user() -> None:
    log = StatementLog()

    def work(user: str) -> None:
        for i in range(200):
            log.add("SELECT 1", user=user, session=f"{user}-{i % 2}")

    threads = [threading.Thread(target=work, args=(u,)) for u in ("a", "b", "c")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(log.statements) == 600 and log.kinds("A") == {"SELECT": 200}
    assert log.sessions("b") == {"b-0", "b-1"}
    log.clear()
    assert log.statements == []


def test_log_can_keep_only_the_newest() -> None:
    log = StatementLog(max_items=3)
    for i in range(5):
        log.add(f"SELECT {i}")
    assert [s.sql for s in log.statements] == ["SELECT 2", "SELECT 3", "SELECT 4"]


def test_snowflake_server_command_prints_the_settings(capsys) -> None:
    from nephos_pipeline.cli.main import main

    assert main(["snowflake-server", "--print-env", "--port", "9999"]) == 0
    out = capsys.readouterr().out
    assert "SNOWFLAKE_PORT=9999" in out and "SNOWFLAKE_PROTOCOL=http" in out and "SNOWFLAKE_PASSWORD=snow" in out
    assert main(["snowflake-server", "--user", "nopassword", "--print-env"]) == 2
