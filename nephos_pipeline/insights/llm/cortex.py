"""Snowflake Cortex narrator: one SQL statement per batch, prompts as one bound JSON value.

The batch travels as a single bound string, exploded with FLATTEN, so the statement
text is constant and no value is ever formatted into SQL. Per the Snowflake docs:
``AI_COMPLETE(model, prompt [, model_parameters, response_format, show_details])`` takes
named arguments; ``model_parameters`` holds temperature/top_p/max_tokens/guardrails;
``response_format`` is its own argument (a JSON schema object); ``show_details => TRUE``
returns the detailed object ``{choices:[{messages}], created, model, usage}``; and a
failed row returns NULL instead of failing the query. The older
``SNOWFLAKE.CORTEX.COMPLETE(model, [messages], {options})`` returns that detailed object
whenever options are given, and is kept for accounts without AI_COMPLETE.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

import pandas as pd
from pydantic import Field

from nephos_pipeline.insights.findings import Finding
from nephos_pipeline.insights.llm.base import ModelNarrator, NarratorError, Reply
from nephos_pipeline.insights.llm.cortex_sql import (
    MAX_BATCH_CHARS,
    parse_response,
    ping_sql,
    reason_for,
    statement_sql,
)
from nephos_pipeline.insights.llm.prompt import build_prompt
from nephos_pipeline.warehouse.base import Warehouse, WarehouseUnavailable

# How to see which models this account may call (for the README and ``nephos doctor``).
LIST_MODELS_SQL = "SHOW CORTEX BASE MODELS IN SNOWFLAKE.MODELS"
# Older documented way: populate SNOWFLAKE.MODELS (ACCOUNTADMIN), then list the model objects.
LIST_MODELS_SQL_LEGACY = "CALL SNOWFLAKE.MODELS.CORTEX_BASE_MODELS_REFRESH(); SHOW MODELS IN SNOWFLAKE.MODELS;"


class CortexNarrator(ModelNarrator):
    """Narratives from Snowflake Cortex, run inside the warehouse the findings came from."""

    model: str = Field(default="mistral-large2", description="Cortex model; see LIST_MODELS_SQL.")
    function: str = Field(
        default="AI_COMPLETE",
        description="'AI_COMPLETE' (current) or 'COMPLETE' (SNOWFLAKE.CORTEX.COMPLETE, for older accounts).",
    )
    timeout_s: float = Field(default=120.0, description="STATEMENT_TIMEOUT_IN_SECONDS for the batch statement.")

    backend = "cortex"

    def _complete(self, findings: list[Finding], warehouse: Warehouse | None) -> Sequence[Reply]:
        if warehouse is None:
            raise NarratorError("no_warehouse")
        sql = statement_sql(self.function)
        rows, size = [], 0
        for index, finding in enumerate(findings):
            item = {"k": str(index), "prompt": build_prompt(finding)}
            size += len(json.dumps(item))
            if size > MAX_BATCH_CHARS:
                break
            rows.append(item)
        params = {
            "model": self.model,
            "temperature": float(self.temperature),
            "max_tokens": int(self.max_tokens),
            "batch": json.dumps(rows),
        }
        frame = self._run(warehouse, sql, params)
        by_key: dict[str, Any] = {}
        for key, response in zip(frame.get("k", []), frame.get("response", []), strict=False):
            by_key.setdefault(str(key), response)
        replies = []
        for index in range(len(findings)):
            if index >= len(rows):
                replies.append(Reply(failure="batch_limit"))
            elif str(index) not in by_key:
                replies.append(Reply(failure="missing_item"))
            else:
                replies.append(parse_response(by_key[str(index)]))
        return replies

    def _run(self, warehouse: Warehouse, sql: str, params: dict[str, Any]) -> Any:
        """The batch as one statement; the connector cancels it after ``timeout_s``.

        The connector's ``timeout`` (a client-side cancel) rather than ``ALTER SESSION SET
        STATEMENT_TIMEOUT_IN_SECONDS``, so an analysis run costs exactly one warehouse
        statement for the LLM.
        """
        try:
            with warehouse.connection() as conn:
                cur = conn.cursor()
                cur.execute(sql, params, timeout=max(int(self.timeout_s), 1))
                columns = [d[0].lower() for d in cur.description or []]
                return pd.DataFrame.from_records(cur.fetchall(), columns=columns)
        except NarratorError:
            raise
        except WarehouseUnavailable as exc:
            raise NarratorError("warehouse_unavailable", type(exc).__name__) from exc
        except Exception as exc:  # noqa: BLE001 - classified into a stored reason
            raise NarratorError(reason_for(exc), type(exc).__name__) from exc

    def ping(self, warehouse: Warehouse | None = None) -> tuple[str, float]:
        if warehouse is None:
            raise NarratorError("no_warehouse")
        started = time.monotonic()
        frame = self._run(warehouse, ping_sql(self.function), {"model": self.model, "prompt": "Reply with the word OK."})
        if frame.empty or frame.iloc[0, 0] is None:
            raise NarratorError("null_response", f"model {self.model} returned nothing")
        return self.model, time.monotonic() - started
