"""LLM cost: tokens per run and per day at the default cadence, statements per run, dedup.

A simulated 100-instance fleet (``nephos_pipeline.simulator``, its four planted stories and
its alert rate) is put in a local warehouse, then one day is replayed at the schedules'
cadence with the real analysis code: anomaly every 15 minutes, pattern every hour,
prediction and the executive summary every 6 hours, each run ending in ``save_findings``.

The narrator is the production ``CortexNarrator`` (default model ``mistral-large2``,
``AI_COMPLETE``) whose warehouse is a stand-in: it counts every statement the narrator
issues and answers the AI_COMPLETE batch with a well-formed reply per prompt (the
deterministic narrative as JSON, a proxy for the model's answer) and a usage block. Tokens
are estimated as characters / 4, Snowflake's stated convention for Cortex billing
(docs.snowflake.com/user-guide/snowflake-cortex/aisql-cost); no tokenizer is installed.

Metrics are bulk-loaded from the simulator's numpy frames (scaffolding, bypassing the
DynamoDB transport and contract check); alerts and instances go through the same landing
and MERGE as an extract (``ingest.direct.load_items``).

Baseline: the same runs if every finding were narrated on every run (no fingerprint dedup),
and one LLM call per finding instead of one batch statement per run.
"""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pandas as pd

from benchmarks.common import figure, new_warehouse, timed
from nephos_pipeline.analytics import anomaly_findings, patterns, predictions
from nephos_pipeline.analytics.summary import active_insights, summary_finding
from nephos_pipeline.ingest import buckets
from nephos_pipeline.ingest.direct import load_items
from nephos_pipeline.insights.findings import Finding, Narrative
from nephos_pipeline.insights.llm.cortex import CortexNarrator
from nephos_pipeline.insights.llm.prompt import build_prompt
from nephos_pipeline.insights.narrative import deterministic_narrative
from nephos_pipeline.insights.store import archive_expired, save_findings
from nephos_pipeline.simulator.fleet import FleetModel, iter_fleet_items
from nephos_pipeline.simulator.spec import FleetSpec

CHARS_PER_TOKEN = 4.0  # Snowflake's stated convention for Cortex token counts
# Credits per million tokens (input and output alike) for mistral-large2 on AI_COMPLETE.
# Not found in the reference search (see docs/benchmarks.md): a parameter, with the value
# of Snowflake's Service Consumption Table as last known to us; check the current table.
CREDITS_PER_MILLION_TOKENS = 1.95
DAY_END = datetime(2026, 3, 12, tzinfo=UTC)
SIZES: dict[str, dict[str, Any]] = {
    "tiny": {"instances": 4, "history_days": 1, "hours": 1},
    "quick": {"instances": 100, "history_days": 3, "hours": 12},
    "full": {"instances": 100, "history_days": 7, "hours": 24},
}


def tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def completion_text(finding: Finding) -> str:
    n = deterministic_narrative(finding)
    return json.dumps({"title": n.title, "description": n.description, "recommendations": n.recommendations})


@dataclass
class Ledger:
    llm_statements: int = 0
    other_statements: int = 0
    prompts: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    completions: dict[str, str] = field(default_factory=dict)


LEDGER = Ledger()


class StandInCursor:
    """Takes the narrator's statements in place of Snowflake: counts them, answers AI_COMPLETE."""

    description: list[tuple[str]] = []
    rows: list[tuple[str, str]] = []

    def execute(self, sql: str, params: Any = None, timeout: int | None = None) -> None:
        self.description, self.rows = [("K",), ("RESPONSE",)], []
        if "AI_COMPLETE(" not in sql and "CORTEX.COMPLETE(" not in sql:
            LEDGER.other_statements += 1
            return
        LEDGER.llm_statements += 1
        for row in json.loads(params["batch"]):
            prompt, answer = row["prompt"], LEDGER.completions.get(row["prompt"], "{}")
            usage = {"prompt_tokens": tokens(prompt), "completion_tokens": tokens(answer)}
            LEDGER.prompts += 1
            LEDGER.prompt_tokens += usage["prompt_tokens"]
            LEDGER.completion_tokens += usage["completion_tokens"]
            self.rows.append((row["k"], json.dumps({"choices": [{"messages": answer}], "usage": usage})))

    def fetchall(self) -> list[tuple[str, str]]:
        return self.rows


class StandInWarehouse:
    """A warehouse whose connections count every statement the narrator sends."""

    @contextmanager
    def connection(self) -> Iterator[Any]:
        yield SimpleNamespace(cursor=StandInCursor)


class CountingCortexNarrator(CortexNarrator):
    """The production Cortex narrator, talking to the stand-in instead of Snowflake."""

    def narrate(self, findings: Sequence[Finding], warehouse: Any = None) -> list[Narrative]:
        for f in findings:
            LEDGER.completions[build_prompt(f)] = completion_text(f)
        return super().narrate(findings, StandInWarehouse())  # type: ignore[arg-type]


def _load_fleet(warehouse: Any, spec: FleetSpec) -> int:
    # Alerts and instances first: ``load_items`` also MERGEs (and prunes) the metrics window,
    # which would delete metrics bulk-loaded before it.
    start, end = spec.start.replace(tzinfo=None), spec.end.replace(tzinfo=None)
    load_items(warehouse, iter_fleet_items(spec, metrics=False), start, end, end)
    rows = 0
    with warehouse.connection() as conn:
        frames = []
        for host, frame in FleetModel(spec).windows(spec.start_ms, spec.end_ms):
            sent = frame.sent
            ts = pd.to_datetime(frame.ts[sent], unit="ms").astype("datetime64[us]")
            for metric, values in frame.values.items():
                frames.append(pd.DataFrame({"INSTANCE_ID": host.instance_id, "TS": ts, "METRIC": metric,
                                            "VALUE": values[sent].astype(float)}))
            if sum(len(f) for f in frames) > 1_000_000:
                rows += _flush(warehouse, conn, frames)
                frames = []
        rows += _flush(warehouse, conn, frames)
        buckets.rebuild(warehouse, conn)  # what the load keeps for anomaly scoring
    return rows


def _flush(warehouse: Any, conn: Any, frames: list[pd.DataFrame]) -> int:
    if not frames:
        return 0
    df = pd.concat(frames, ignore_index=True)
    df["LOADED_AT"] = pd.Timestamp("2026-01-01")
    return warehouse.write_frame(conn, df, "METRICS")


def _runs(warehouse: Any, narrator: CortexNarrator, day_start: datetime, day_end: datetime,
          last: dict[str, list[Finding]]) -> list[dict[str, Any]]:
    """Replay [day_start, day_end) at the default cadence; one record per analysis run.

    ``last`` receives the findings of the last run of each kind that had any.
    """
    records: list[dict[str, Any]] = []

    def save(kind: str, at: datetime, findings: list[Finding]) -> None:
        before = (LEDGER.llm_statements, LEDGER.other_statements, LEDGER.prompt_tokens, LEDGER.completion_tokens)
        result = save_findings(warehouse, narrator, findings)
        if findings:
            last[kind] = list(findings)
        unique = {f.fingerprint: f for f in findings}.values()
        no_dedup = sum(tokens(build_prompt(f)) + tokens(completion_text(f)) for f in list(unique)[:narrator.max_findings])
        records.append({
            "kind": kind, "at": at.isoformat(), "findings": len(unique), "new": len(result.created),
            "seen_again": result.seen_again, "llm_statements": LEDGER.llm_statements - before[0],
            "other_statements": LEDGER.other_statements - before[1],
            "prompt_tokens": LEDGER.prompt_tokens - before[2], "completion_tokens": LEDGER.completion_tokens - before[3],
            "no_dedup_tokens": no_dedup, "no_dedup_calls": len(unique),
        })

    t = day_start + anomaly_findings.TICK
    while t <= day_end:
        findings, _ = anomaly_findings.analyse(warehouse, t, t)
        save("anomaly", t, findings)
        if t.minute == 0:
            save("pattern", t, patterns.analyse(warehouse, t - timedelta(hours=1), t)[0])
        if t.minute == 0 and t.hour % 6 == 0:
            save("prediction", t, predictions.analyse(warehouse, t - predictions.WINDOW, t)[0])
            save("summary", t, [summary_finding(active_insights(warehouse, t), t, t - timedelta(hours=6))])
            archive_expired(warehouse, t - timedelta(days=1))
        t += anomaly_findings.TICK
    return records


def run(mode: str = "quick", credits_per_million: float = CREDITS_PER_MILLION_TOKENS) -> dict[str, Any]:
    size = SIZES[mode]
    LEDGER.__init__()  # type: ignore[misc]
    spec = FleetSpec(start=DAY_END - timedelta(days=size["history_days"], hours=size["hours"]), end=DAY_END,
                     instances=size["instances"], seed=42)
    warehouse = new_warehouse("nephos-bench-llm-")
    narrator = CountingCortexNarrator()
    day_end = DAY_END.replace(tzinfo=None)
    day_start = day_end - timedelta(hours=size["hours"])
    try:
        with warehouse.hold():
            load_s, rows = timed(lambda: _load_fleet(warehouse, spec))
            last: dict[str, list[Finding]] = {}
            replay_s, records = timed(lambda: _runs(warehouse, narrator, day_start, day_end, last))
            # A repeated finding: the last findings of every kind, saved again, must not reach the LLM.
            repeat_findings = [f for found in last.values() for f in found]
            before = LEDGER.llm_statements
            repeat = save_findings(warehouse, narrator, repeat_findings) if repeat_findings else None
            repeat_llm = LEDGER.llm_statements - before
    finally:
        shutil.rmtree(warehouse.path, ignore_errors=True)
    per_day = 24 / size["hours"]
    runs = len(records)
    total = sum(r["prompt_tokens"] + r["completion_tokens"] for r in records)
    no_dedup = sum(r["no_dedup_tokens"] for r in records)
    by_kind: dict[str, dict[str, Any]] = {}
    for r in records:
        k = by_kind.setdefault(r["kind"], {"runs": 0, "findings": 0, "new": 0, "llm_statements": 0,
                                           "prompt_tokens": 0, "completion_tokens": 0, "no_dedup_tokens": 0})
        for key in k:
            k[key] += 1 if key == "runs" else r[key]
    max_llm = max((r["llm_statements"] for r in records), default=0)
    max_all = max((r["llm_statements"] + r["other_statements"] for r in records), default=0)
    max_calls = max((r["no_dedup_calls"] for r in records), default=0)
    tokens_day, no_dedup_day = total * per_day, no_dedup * per_day
    credits_month = tokens_day * 30 / 1e6 * credits_per_million
    scale = (f"{size['instances']} instances, {size['hours']} h replayed"
             + (f", per-day figures x{per_day:g}" if per_day != 1 else ""))
    return {
        "figures": {
            "llm_statements_per_run": figure(float(max_all), "narrator statements (max per run)", 1.0,
                                             float(max_calls),
                                             note=f"{scale}; every statement the narrator sends: the AI_COMPLETE "
                                                  "batch plus ALTER SESSION (statement timeout) on its connection; "
                                                  "baseline: one LLM call per finding in the largest run"),
            "llm_ai_complete_per_run": figure(float(max_llm), "AI_COMPLETE statements (max per run)", 1.0,
                                              float(max_calls), note="the LLM batch statement alone"),
            "llm_calls_repeated_finding": figure(float(repeat_llm), "LLM statements", 0.0,
                                                 float(len(repeat_findings)),
                                                 note="the last run's findings of each kind saved again (baseline: their count)"),
            "llm_tokens_per_day": figure(tokens_day, "tokens/day", None, no_dedup_day, goal="none",
                                         note=f"{scale}; baseline: every finding narrated on every run"),
            "llm_tokens_per_run": figure(total / runs if runs else 0.0, "tokens/run (mean)", None,
                                         no_dedup / runs if runs else None, goal="none", note=f"{runs} runs"),
            "llm_credits_per_month": figure(credits_month, "credits/month", None,
                                            no_dedup_day * 30 / 1e6 * credits_per_million, goal="none",
                                            note=f"{credits_per_million} credits per 1M tokens (mistral-large2, "
                                                 "AI_COMPLETE; a parameter), 30 days, chars/4 tokens"),
        },
        "details": {
            "metric_rows": rows, "load_s": round(load_s, 1), "replay_s": round(replay_s, 1), "runs": runs,
            "by_kind": by_kind, "max_tokens_one_run": max((r["prompt_tokens"] + r["completion_tokens"]
                                                             for r in records), default=0),
            "prompt_tokens": sum(r["prompt_tokens"] for r in records),
            "completion_tokens": sum(r["completion_tokens"] for r in records),
            "narrated_runs": sum(1 for r in records if r["llm_statements"]),
            "other_narrator_statements": sum(r["other_statements"] for r in records),
            "repeat": {"findings": len(repeat_findings), "llm_statements": repeat_llm,
                       "llm_calls": repeat.llm_calls if repeat else 0},
            "completion_upper_bound_tokens_per_finding": narrator.max_tokens,
            "chars_per_token": CHARS_PER_TOKEN, "credits_per_million_tokens": credits_per_million,
            "runs_with_findings": [r for r in records if r["findings"]][:40],
        },
    }
