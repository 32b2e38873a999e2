"""The production classes, unchanged, against a Snowflake-protocol server: pipeline, doctor, serve.

What runs here is what runs on a real account: dagster-snowflake's ``SnowflakeResource``,
the real ``snowflake.connector`` over HTTP (login, binds, PUT of Parquet files, COPY INTO,
MERGE in transactions) and the Cortex statements. What only a real account can prove is
listed in the README (Production).
"""

from __future__ import annotations

import json

import pytest

from nephos_pipeline.insights.llm.cortex import CortexNarrator
from nephos_pipeline.resources import build_warehouse, initialized
from nephos_pipeline.warehouse import WarehouseUnavailable
from nephos_pipeline.warehouse.cortex_stand_in import STAND_IN_NARRATIVE
from nephos_pipeline_tests.insights.samples import finding
from nephos_pipeline_tests.warehouse.conftest import (
    PIPELINE_USER,
    READER_USER,
    free_port,
    run_cli,
    snowflake_env,
)

DEMO_RUNS = 6  # sync, rollups, patterns, anomalies, predictions, summary (Runner.sync + Runner.analyse)


def _query(run, sql: str):
    with pytest.MonkeyPatch.context() as mp:
        for name, value in run.env.items():
            mp.setenv(name, value)
        with initialized({"warehouse": build_warehouse(run.env)}) as live:
            return live["warehouse"].query(sql)


def test_demo_runs_the_whole_pipeline_over_the_wire(production_run) -> None:
    code, out, _seconds = production_run.demo
    assert code == 0, out
    counts = _query(production_run, "SELECT (SELECT COUNT(*) FROM METRICS) AS metrics, (SELECT COUNT(*) FROM "
                    "INSTANCES) AS instances, (SELECT COUNT(*) FROM ALERTS WHERE SOURCE = 'batch') AS batch_alerts, "
                    "(SELECT COUNT(*) FROM REJECTS) AS rejects").iloc[0]
    assert counts.metrics > 10_000 and counts.instances == 3 and counts.rejects == 0
    assert counts.batch_alerts >= 1  # a critical anomaly also became an ALERTS row
    types = set(_query(production_run, "SELECT DISTINCT INSIGHT_TYPE FROM AI_INSIGHTS").insight_type)
    assert {"anomaly", "prediction", "summary"} <= types
    kinds = production_run.server.log.kinds(PIPELINE_USER)
    # loads went through the named stage; no write_pandas temporary stage, no failed statement
    assert kinds["PUT"] and kinds["COPY INTO"] and kinds["MERGE"] and kinds["CREATE VIEW"]
    assert "CREATE TEMPORARY STAGE" not in kinds
    archive = [s for s in production_run.server.log.statements if "INTO AI_INSIGHTS_ARCHIVE" in s.sql.upper()]
    assert archive and all(s.ok for s in archive)
    failed = [(s.kind, s.error) for s in production_run.server.log.statements if not s.ok and s.user == PIPELINE_USER]
    assert failed == []


def test_affected_instances_arrive_as_an_array(production_run) -> None:
    rows = _query(production_run, "SELECT AFFECTED_INSTANCES AS a, TYPEOF(AFFECTED_INSTANCES) AS t FROM AI_INSIGHTS "
                  "WHERE INSIGHT_TYPE <> 'summary'")
    assert len(rows) and all(isinstance(json.loads(a), list) and json.loads(a) for a in rows.a)


def test_cortex_statement_binds_and_reply_parsing_over_the_wire(production_run) -> None:
    cortex = [s for s in production_run.server.log.statements if s.kind == "SELECT CORTEX"]
    assert cortex and all(s.ok for s in cortex) and any("AI_COMPLETE(" in s.sql for s in cortex)
    rows = _query(production_run, "SELECT TITLE, MODEL, AI_GENERATED, PROMPT_TOKENS, COMPLETION_TOKENS "
                  "FROM AI_INSIGHTS")
    assert (rows.title == STAND_IN_NARRATIVE["title"]).all()  # every insight narrated through the reply parser
    assert (rows.model == "mistral-large2").all() and rows.ai_generated.all()
    assert (rows.prompt_tokens > 100).all()  # length(prompt) / 4: the bound prompts arrived whole
    assert (rows.completion_tokens == 40).all()


def test_cortex_complete_fallback_over_the_wire(snowflake_server, monkeypatch) -> None:
    env = snowflake_env(snowflake_server, "NEPHOS_CI_COMPLETE")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    narrator = CortexNarrator(function="COMPLETE")
    before = len(snowflake_server.log.statements)
    with initialized({"warehouse": build_warehouse(env)}) as live:
        narratives = narrator.narrate([finding("anomaly"), finding("prediction")], live["warehouse"])
        model, _latency = narrator.ping(live["warehouse"])
    sent = snowflake_server.log.statements[before:]
    assert [s.kind for s in sent] == ["SELECT CORTEX", "SELECT CORTEX"]
    assert "SNOWFLAKE.CORTEX.COMPLETE(" in sent[0].sql and all(s.ok for s in sent)
    assert [n.title for n in narratives] == [STAND_IN_NARRATIVE["title"]] * 2
    assert all(n.ai_generated and n.prompt_tokens > 100 for n in narratives) and model == "mistral-large2"


def test_one_session_per_run_not_per_window(production_run) -> None:
    """The demo's runs hold 24 pattern windows and 96 anomaly quarters: one login per run (and its report)."""
    logins = production_run.demo_logins
    assert 1 <= logins <= DEMO_RUNS + 1, logins


def test_doctor_passes_against_the_server(production_run) -> None:
    code, out, _seconds = production_run.doctor
    assert code == 0, out
    assert "5 passed, 0 failed" in out and "can create and MERGE" in out and "CortexNarrator" in out


def test_doctor_checks_the_warehouse_alone_without_dynamodb(snowflake_server, tmp_path, monkeypatch) -> None:
    """The issue's command: only SNOWFLAKE_* set, no DynamoDB anywhere; DynamoDB is skipped, not passed."""
    monkeypatch.delenv("NEPHOS_DYNAMODB_ENDPOINT_URL", raising=False)
    env = {**snowflake_env(snowflake_server, "NEPHOS_CI_DOCTOR_ONLY"), "NEPHOS_HOME": str(tmp_path)}
    code, out, _seconds = run_cli(["doctor", "--only", "warehouse,llm"], env)
    assert code == 0, out
    assert "2 passed, 0 failed, 1 section(s) skipped" in out and "skip  not asked for" in out
    with pytest.raises(SystemExit):  # an unknown section is a usage error, not a silent skip
        run_cli(["doctor", "--only", "warehouse,bogus"], env)


def test_serve_as_the_reader_user(production_run) -> None:
    replies = production_run.replies
    assert replies["/health"][0] == 200, production_run.serve_log
    status, page = replies["/insights?limit=100"]
    assert status == 200 and page["insights"] and {i["type"] for i in page["insights"]} >= {"anomaly", "prediction"}
    status, summary = replies["/insights/summary"]
    assert status == 200 and summary["summary"] == STAND_IN_NARRATIVE["description"]  # the demo's summary row
    assert summary["counts"]["total"] >= 1 and summary["generatedAt"]
    reader = production_run.server.log.kinds(READER_USER)
    assert reader and set(reader) == {"SELECT"}, reader  # the API only reads
    assert production_run.server.logins[READER_USER] <= 4  # a small pool, not a login per request


def test_closed_port_fails_fast_naming_account_host_and_connector_error(snowflake_server, tmp_path) -> None:
    port = free_port()  # nothing listens there
    env = {**snowflake_env(snowflake_server, "NEPHOS_CI_CLOSED"), "SNOWFLAKE_PORT": str(port),
           "NEPHOS_HOME": str(tmp_path), "NEPHOS_DYNAMODB_ENDPOINT_URL": f"http://127.0.0.1:{port}",
           "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    code, out, seconds = run_cli(["doctor"], env)
    assert code == 1 and seconds < 30, (seconds, out)
    line = next(ln for ln in out.splitlines() if "connect, create, merge" in ln)
    assert "fakesnow" in line and f"http://127.0.0.1:{port}" in line and "250001" in line
    assert "Could not connect to Snowflake backend" in line and "Likely fix" in line


def test_bad_password_is_refused_with_the_connector_error_and_a_fix(snowflake_server, monkeypatch) -> None:
    env = snowflake_env(snowflake_server, "NEPHOS_CI_BADPW", password="wrong")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with initialized({"warehouse": build_warehouse(env)}) as live, pytest.raises(WarehouseUnavailable) as raised:
        live["warehouse"].query("SELECT 1")
    message = str(raised.value)
    assert "390100" in message and "Incorrect username or password" in message and "wrong" not in message
    assert "fakesnow" in message and "SNOWFLAKE_PASSWORD" in message
    assert snowflake_server.failed_logins[PIPELINE_USER] >= 1


def test_resources_resolve_env_vars_outside_a_run(snowflake_server, monkeypatch) -> None:
    """doctor/serve use the resource outside any run; EnvVar fields must resolve there too."""
    env = snowflake_env(snowflake_server, "NEPHOS_CI_ENVVAR")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    warehouse = build_warehouse()
    with pytest.raises(RuntimeError, match="directly retrieve environment variable"):
        str(warehouse.snowflake.account)  # unresolved, as Dagster keeps it for the UI
    with initialized({"warehouse": warehouse}) as live:
        assert live["warehouse"].query("SELECT 1 AS one").one[0] == 1
        assert live["warehouse"].sessions_opened == 1
