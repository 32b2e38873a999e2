"""Cortex stand-ins for the Snowflake-protocol TEST warehouse (never installed anywhere else).

The test server has no Cortex, yet the narrator's statement must travel through the real
connector in CI. These DuckDB macros carry Snowflake's names and argument order:

- ``AI_COMPLETE(model, prompt, model_parameters, response_format, show_details)`` (named
  arguments, as the narrator calls it) returns, with ``show_details => TRUE``, the
  documented detailed object ``{choices: [{messages}], created, model, usage}``; without it,
  the completion text;
- ``SNOWFLAKE.CORTEX.COMPLETE(model, prompt)`` returns the text, and
  ``COMPLETE(model, messages, options)`` the detailed object.

The completion is a fixed, valid narrative (no numbers, so it passes the validator); the
reported ``model`` is the bound model name and ``prompt_tokens`` is the prompt's length / 4,
so a test can tell that the binds arrived. What this cannot prove: that the model exists
in the account's region, the wording a real model writes, latency, limits and credits.
"""

from __future__ import annotations

import json
from typing import Any

STAND_IN_NARRATIVE = {
    "title": "Cortex stand-in narrative",
    "description": "The Snowflake-protocol test warehouse answered in place of Cortex. It repeats no measured values.",
    "recommendations": ["Read the evidence of this insight.", "Check the affected host.", "Watch the metric."],
}
COMPLETION_TOKENS = 40


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ident(name: str) -> str:
    if '"' in name or not name.strip():
        raise ValueError(f"unsupported identifier {name!r}")
    return f'"{name}"'


def _details(content: str, model: str, prompt: str) -> str:
    return (f"json_object('choices', json_array(json_object('messages', {content})), 'created', epoch(now())::BIGINT, "
            f"'model', {model}, 'usage', json_object('prompt_tokens', length({prompt}) // 4, "
            f"'completion_tokens', {COMPLETION_TOKENS}, 'total_tokens', length({prompt}) // 4 + {COMPLETION_TOKENS}))")


def stand_in_sql(database: str, schema: str) -> list[str]:
    """DuckDB statements creating the stand-ins for a session in ``database.schema``."""
    content = _literal(json.dumps(STAND_IN_NARRATIVE))
    where = f"{_ident(database)}.{_ident(schema)}"
    return [
        f"CREATE OR REPLACE MACRO {where}.ai_complete(model, prompt, model_parameters := NULL, "  # noqa: S608 - DuckDB DDL, test warehouse
        f"response_format := NULL, show_details := FALSE) AS "
        f"CASE WHEN show_details THEN {_details(content, 'model', 'prompt')}::VARCHAR ELSE {content} END",
        f'CREATE OR REPLACE MACRO "SNOWFLAKE"."CORTEX".complete(model, prompt) AS {content}, '
        f"(model, messages, options) AS {_details(content, 'model', 'CAST(messages AS VARCHAR)')}::VARCHAR",
    ]


def install_cortex_stand_in(fake: Any, database: str, schema: str) -> None:
    """Create the stand-ins in a fakesnow instance (before the session that uses them connects)."""
    for db, sch in ((database, schema), ("SNOWFLAKE", "CORTEX")):
        fake.connect(database=db, schema=sch).close()  # creates the database and schema if missing
    for statement in stand_in_sql(database, schema):
        fake.duck_conn.execute(statement)
