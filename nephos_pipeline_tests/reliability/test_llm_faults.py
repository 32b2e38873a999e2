"""An LLM that times out, errors, hangs up or talks nonsense still yields insights.

``OpenAICompatNarrator`` is pointed at a local chat-completions server that misbehaves in
one way per path (``/timeout``, ``/http500``, ...). Every finding must still be stored in
AI_INSIGHTS, with the deterministic narrative (byte-for-byte what
``deterministic_narrative`` writes) and a row in LLM_FAILURES saying why; a re-run must
not change a thing nor call the model again. The same holds inside a Dagster run.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from typing import Any

import dagster as dg
import pytest

from nephos_pipeline.analytics.assets import build_analytics_assets
from nephos_pipeline.insights.llm import OpenAICompatNarrator
from nephos_pipeline.insights.narrative import deterministic_narrative
from nephos_pipeline.insights.store import insight_id, save_findings
from nephos_pipeline.partitions import Partitions
from nephos_pipeline_tests.insights.samples import finding
from nephos_pipeline_tests.reliability.faults import FakeLLM

TIMEOUT_S = 2.0  # FakeLLM's /timeout answers after 10 s; the others at once
MODES = {  # path -> the reason LLM_FAILURES must record
    "timeout": "timeout",
    "http500": "http_500",
    "http429": "http_429",
    "reset": "unreachable",
    "garbage": "invalid_json",
    "hostile": "injection_echo",
    "markup": "markup",
}


@pytest.fixture(scope="module")
def fake_llm() -> Iterator[FakeLLM]:
    llm = FakeLLM()
    yield llm
    llm.close()


def narrator(fake_llm: FakeLLM, mode: str) -> OpenAICompatNarrator:
    return OpenAICompatNarrator(model="m", base_url=fake_llm.url(mode), timeout_s=TIMEOUT_S, api_key="k")


def _findings(mode: str) -> list:
    """Two sample findings (naive UTC windows, as the analyses produce them), unique per mode."""
    return [replace(finding(kind), fingerprint=f"{mode}-{kind}", window_start=datetime(2026, 3, 1, 0),
                    window_end=datetime(2026, 3, 2, 0)) for kind in ("anomaly", "trend")]


def _insights(warehouse) -> dict[str, dict]:
    df = warehouse.query("SELECT * FROM AI_INSIGHTS ORDER BY FINGERPRINT")
    return {r["fingerprint"]: r for r in df.to_dict("records")}


def test_every_llm_failure_still_stores_deterministic_insights(warehouse, fake_llm: FakeLLM) -> None:
    expected: dict[str, Any] = {}
    for mode, reason in MODES.items():
        findings = _findings(mode)
        started = time.monotonic()
        result = save_findings(warehouse, narrator(fake_llm, mode), findings)
        assert time.monotonic() - started < 8  # a hung model costs its deadline (2 s), not its 10 s
        assert len(result.created) == 2 and result.failures == [reason, reason], mode
        for f in findings:
            expected[f.fingerprint] = (deterministic_narrative(f), reason)
    rows = _insights(warehouse)
    assert set(rows) == set(expected)
    for fp, (text, _reason) in expected.items():
        row = rows[fp]
        assert (row["title"], row["description"], row["recommendations"]) == (
            text.title, text.description, text.recommendations)
        assert row["ai_generated"] is False or row["ai_generated"] == 0
        assert row["insight_id"] == insight_id(fp)
        assert "<" not in row["title"] + row["description"] and "DROP TABLE" not in row["description"]
    failures = warehouse.query("SELECT FINGERPRINT, REASON FROM LLM_FAILURES")
    assert sorted(zip(failures.fingerprint, failures.reason, strict=True)) == sorted(
        (fp, reason) for fp, (_t, reason) in expected.items())
    assert fake_llm.requests.count("timeout") == 1  # one call per batch, never one per finding

    # Re-run: the findings are known, so no model call, and nothing changes (deterministic).
    calls = len(fake_llm.requests)
    for mode in MODES:
        findings = _findings(mode)
        again = save_findings(warehouse, narrator(fake_llm, mode), findings)
        assert again.seen_again == 2 and again.llm_calls == 0
    assert len(fake_llm.requests) == calls
    assert _insights(warehouse) == rows
    assert len(warehouse.query("SELECT * FROM LLM_FAILURES")) == len(expected)


def test_insights_asset_succeeds_when_the_llm_times_out(warehouse, fake_llm: FakeLLM) -> None:
    """Inside Dagster: the summary asset with a hung model finishes and stores its insight."""
    assets = build_analytics_assets(Partitions.build())
    summary = next(a for a in assets if a.key.path[-1] == "insights_summary")
    result = dg.materialize([summary], partition_key="2026-03-01-06:00",
                            resources={"warehouse": warehouse, "narrator": narrator(fake_llm, "timeout")})
    assert result.success
    meta = result.asset_materializations_for_node("insights_summary")[0].metadata
    assert meta["insights_created"].value == 1 and meta["llm_failures"].value == 1
    row = warehouse.query("SELECT TITLE, AI_GENERATED, WINDOW_END FROM AI_INSIGHTS WHERE INSIGHT_TYPE = 'summary'")
    assert len(row) == 1 and row.title[0] and not row.ai_generated[0]
    assert row.window_end[0].to_pydatetime() == datetime(2026, 3, 1, 12, 0)
    assert warehouse.query("SELECT REASON FROM LLM_FAILURES").reason.tolist() == ["timeout"]
