"""Cortex narrator: one bound statement per batch, response parsing, fallbacks, LLM_FAILURES.

The local warehouse cannot run Cortex, so a Warehouse subclass hands the real
``Warehouse.connection()/query()/execute()`` code a fake DB-API connection that records
each statement and answers like Snowflake would. Only the transport is fake.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlglot
from pydantic import PrivateAttr
from snowflake.connector.converter import SnowflakeConverter

from nephos_pipeline.insights.failures import LlmFailure, failures_of, record_failures
from nephos_pipeline.insights.llm import LIST_MODELS_SQL, CortexNarrator, NarratorError
from nephos_pipeline.insights.llm.cortex_sql import AI_COMPLETE_SQL, COMPLETE_SQL, parse_response
from nephos_pipeline.sql_files import load_sql
from nephos_pipeline.warehouse import LocalWarehouse
from nephos_pipeline.warehouse.base import Warehouse
from nephos_pipeline_tests.insights.samples import INJECTION, KINDS, SCRIPT, finding, good_reply

Responder = Callable[[str, dict[str, Any]], list[tuple[Any, ...]]]


class FakeCursor:
    def __init__(self, conn: FakeConnection) -> None:
        self.conn, self.description, self.rowcount, self._rows = conn, None, 0, []

    def execute(self, sql: str, params: dict[str, Any] | None = None, timeout: int | None = None) -> FakeCursor:
        self.conn.statements.append((sql, params))
        self.conn.timeouts.append(timeout)
        rows = self.conn.responder(sql, params or {})
        self.description = [("K",), ("RESPONSE",)] if rows and len(rows[0]) == 2 else [("RESPONSE",)]
        self._rows, self.rowcount = rows, len(rows)
        return self

    def fetchall(self) -> list[tuple[Any, ...]]:
        return list(self._rows)


class FakeConnection:
    def __init__(self, responder: Responder) -> None:
        self.responder, self.statements, self.timeouts = responder, [], []

    def cursor(self) -> FakeCursor:
        return FakeCursor(self)


class FakeSnowflake(Warehouse):
    _conn: Any = PrivateAttr(default=None)

    def describe(self) -> str:
        return "fake Snowflake"

    @contextmanager
    def _raw_connection(self) -> Iterator[Any]:
        yield self._conn

    def _write_pandas(self, conn: Any, frame: Any, table: str) -> int:
        raise NotImplementedError


def fake(responder: Responder) -> tuple[FakeSnowflake, FakeConnection]:
    wh, conn = FakeSnowflake(), FakeConnection(responder)
    wh._conn = conn
    return wh, conn


def details(content: Any, prompt_tokens: int = 400, completion_tokens: int = 60) -> str:
    """The documented show_details object, as the connector returns VARIANT: JSON text."""
    return json.dumps({"choices": [{"messages": content}], "created": 1714500000, "model": "mistral-large2",
                       "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                                 "total_tokens": prompt_tokens + completion_tokens}})


def answer(reply_for: Callable[[int, str], Any]) -> Responder:
    """Answer the batch statement row by row; other statements (ALTER SESSION) return nothing."""
    def respond(sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        if "batch" not in params:
            return []
        return [(row["k"], reply_for(int(row["k"]), row["prompt"])) for row in json.loads(params["batch"])]
    return respond


def batch_statements(conn: FakeConnection) -> list[tuple[str, dict[str, Any]]]:
    return [(sql, p) for sql, p in conn.statements if p and "batch" in p]


def test_one_bound_statement_per_batch_and_tokens_recorded():
    wh, conn = fake(answer(lambda i, prompt: details(good_reply(), 400 + i, 60)))
    findings = [finding("anomaly", fingerprint=f"fp{i}") for i in range(3)]
    narratives = CortexNarrator(temperature=0.1, max_tokens=300).narrate(findings, wh)
    [(sql, params)] = batch_statements(conn)
    assert len(conn.statements) == 1 and conn.timeouts == [120]  # one statement per run, cancelled after 120 s
    assert sql == AI_COMPLETE_SQL and "show_details => TRUE" in sql and "FLATTEN" in sql
    assert params["model"] == "mistral-large2" and params["temperature"] == 0.1 and params["max_tokens"] == 300
    rows = json.loads(params["batch"])
    assert [r["k"] for r in rows] == ["0", "1", "2"] and "prod-web-01" in rows[0]["prompt"]
    assert "prod-web-01" not in sql  # values are bound, never formatted into SQL
    assert [n.ai_generated for n in narratives] == [True] * 3
    assert [(n.prompt_tokens, n.completion_tokens, n.model) for n in narratives] == [
        (400, 60, "mistral-large2"), (401, 60, "mistral-large2"), (402, 60, "mistral-large2")]


@pytest.mark.parametrize("sql", [AI_COMPLETE_SQL, COMPLETE_SQL])
@pytest.mark.parametrize("tail", ["", " \\' ); SELECT 1; --"])
def test_statement_is_valid_snowflake_after_client_side_binding(sql, tail):
    """Bind the way the connector's pyformat does; hostile text stays inside one string literal."""
    conv = SnowflakeConverter()
    hostile = json.dumps([{"k": "0", "prompt": f"x' ); DROP TABLE AI_INSIGHTS; -- {INJECTION} {SCRIPT} 100%{tail}"}])
    params = {"model": "mistral-large2", "temperature": 0.2, "max_tokens": 600, "batch": hostile}
    bound = sql % {k: conv.quote(conv.escape(conv.to_snowflake(v))) for k, v in params.items()}
    [tree] = sqlglot.parse(bound, read="snowflake")  # one statement: nothing escaped the literal
    assert isinstance(tree, sqlglot.exp.Select) and not list(tree.find_all(sqlglot.exp.Drop))
    literal = tree.find(sqlglot.exp.ParseJSON).this.this
    assert "DROP TABLE AI_INSIGHTS" in literal
    if not tail:
        assert json.loads(literal) == json.loads(hostile)


def test_complete_fallback_uses_the_legacy_function_and_its_envelope():
    wh, conn = fake(answer(lambda i, prompt: details(good_reply(), 300, 50)))
    [n] = CortexNarrator(function="COMPLETE").narrate([finding("anomaly")], wh)
    [(sql, _)] = batch_statements(conn)
    assert "SNOWFLAKE.CORTEX.COMPLETE(" in sql and "'role': 'user'" in sql and "AI_COMPLETE" not in sql
    assert n.ai_generated and (n.prompt_tokens, n.completion_tokens) == (300, 50)


def test_each_documented_response_shape_is_parsed():
    body = json.loads(good_reply())
    assert parse_response(details(good_reply())).raw == good_reply()
    assert parse_response(json.loads(details(body))).raw == body  # VARIANT as dict, messages as object
    structured = {"structured_output": [{"raw_message": body, "type": "json"}], "usage": {"prompt_tokens": 9}}
    assert (parse_response(json.dumps(structured)).raw, parse_response(json.dumps(structured)).prompt_tokens) == (body, 9)
    assert parse_response(json.dumps(body)).raw == body  # structured output without details
    assert parse_response(good_reply().replace("{", "")).raw  # plain text: left to the validator
    assert parse_response(None).failure == "null_response"
    assert parse_response(json.dumps({"foo": 1})).failure == "bad_response"
    assert parse_response(json.dumps({"choices": [{"messages": ""}]})).failure == "empty"
    assert parse_response("x" * 200_000).failure == "too_long"
    assert parse_response(json.dumps({"choices": [{"messages": "m"}], "usage": {"prompt_tokens": "NaN"}})).prompt_tokens == 0


def test_bad_rows_fall_back_individually():
    replies = {
        0: details(good_reply()),
        1: None,  # AI_COMPLETE returns NULL for a failed row
        2: details("{not json"),
        3: details(good_reply(description=f"{INJECTION}")),
        4: details(f"<html>{SCRIPT}</html>"),
        5: details("x" * 100_000),
    }
    wh, _ = fake(answer(lambda i, prompt: replies[i]))
    narratives = CortexNarrator().narrate([finding("anomaly") for _ in range(6)], wh)
    assert [n.failure for n in narratives] == [None, "null_response", "invalid_json", "injection_echo",
                                               "invalid_json", "too_long"]
    assert all(n.title and "<" not in n.description for n in narratives)


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (RuntimeError("SQL compilation error: Unknown function AI_COMPLETE"), "function_unavailable"),
        (RuntimeError("Statement reached its statement or warehouse timeout of 120 second(s) and was canceled."), "timeout"),
        (RuntimeError("Model mistral-large9 unavailable in your region"), "model_unavailable"),
        (ValueError("boom"), "cortex_error"),
    ],
)
def test_a_failing_statement_gives_every_finding_the_deterministic_text(error, reason):
    def respond(sql: str, params: dict[str, Any]) -> list[Any]:
        if "batch" in params:
            raise error
        return []
    wh, _ = fake(respond)
    findings = [finding(k) for k in KINDS]
    narratives = CortexNarrator().narrate(findings, wh)
    assert len(narratives) == len(findings)
    assert all(n.failure == reason and not n.ai_generated and n.model is None and n.title for n in narratives)
    assert failures_of(findings, narratives, "mistral-large2")[0] == LlmFailure("fp-anomaly", "mistral-large2", reason)


def test_without_a_warehouse_bad_config_or_over_the_limit():
    assert {n.failure for n in CortexNarrator().narrate([finding()], None)} == {"no_warehouse"}
    wh, conn = fake(answer(lambda i, prompt: details(good_reply())))
    assert {n.failure for n in CortexNarrator(function="GPT").narrate([finding()], wh)} == {"bad_config"}
    assert conn.statements == []
    narratives = CortexNarrator(max_findings=2).narrate([finding() for _ in range(3)], wh)
    assert [n.failure for n in narratives] == [None, None, "batch_limit"]
    assert len(json.loads(batch_statements(conn)[0][1]["batch"])) == 2
    assert CortexNarrator().narrate([], wh) == []


def test_ping_reports_model_and_latency_or_raises():
    wh, conn = fake(lambda sql, params: [("OK",)] if "prompt" in params else [])
    model, latency = CortexNarrator().ping(wh)
    assert model == "mistral-large2" and latency >= 0 and "AI_COMPLETE(model => %(model)s" in conn.statements[-1][0]
    wh, _ = fake(lambda sql, params: (_ for _ in ()).throw(RuntimeError("Unknown function AI_COMPLETE")))
    with pytest.raises(NarratorError) as err:
        CortexNarrator().ping(wh)
    assert err.value.reason == "function_unavailable"
    assert LIST_MODELS_SQL.startswith("SHOW CORTEX BASE MODELS")


def test_record_failures_inserts_bound_rows(tmp_path):
    wh = LocalWarehouse(path=str(tmp_path / "wh"))
    with wh.connection() as conn:
        wh.execute_script(load_sql("ddl/02_insights.sql"), conn)
        assert record_failures(wh, conn, []) == 0
        hostile = LlmFailure(f"fp'); DROP TABLE LLM_FAILURES; --{SCRIPT}", "mistral-large2", "timeout")
        assert record_failures(wh, conn, [hostile, LlmFailure(None, None, "invalid_json")]) == 2
        frame = wh.query("SELECT FINGERPRINT, MODEL, REASON, FAILED_AT FROM LLM_FAILURES ORDER BY REASON", conn=conn)
    assert frame["reason"].tolist() == ["invalid_json", "timeout"]
    assert frame["fingerprint"].tolist()[1] == hostile.fingerprint and frame["failed_at"].notna().all()
