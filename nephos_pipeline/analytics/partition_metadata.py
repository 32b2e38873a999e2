"""Materialization metadata that is true for each partition of a (possibly ranged) run.

A backfill run covers many partitions, and Dagster records one materialization per
partition. Metadata returned with ``MaterializeResult`` lands on every one of them, so a
quarter-hour partition would "show" an anomaly detected hours later. Here each partition
gets the insights first detected in its own window (``add_asset_metadata`` with a
partition key); the run's LLM usage stays run-wide (it is one call per run); and the run's
last partition, the one the UI shows as the latest, also lists the insights of that type
active at the end of the run, so a backfill whose last window found nothing new still
shows what is going on.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from dagster import AssetExecutionContext, MetadataValue

from nephos_pipeline.analytics.summary import active_insights
from nephos_pipeline.insights.findings import Finding
from nephos_pipeline.insights.store import SaveResult
from nephos_pipeline.metadata import md_text
from nephos_pipeline.warehouse import Warehouse

MAX_ROWS = 50


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _partition_of(windows: list[tuple[str, Any]], moment: datetime) -> str:
    """The partition whose window (start, end] holds ``moment``: a window's findings are
    stamped with its end. Outside the run's windows: the nearest end of the range."""
    t = _aware(moment)
    for key, window in windows:
        if window.start < t <= window.end:
            return key
    return windows[0][0] if t <= windows[0][1].start else windows[-1][0]


def insights_table(rows: Sequence[tuple[Finding, str]], empty: str) -> MetadataValue:
    if not rows:
        return MetadataValue.md(empty)
    lines = ["| type | severity | title | instances |", "|---|---|---|---|"]
    for finding, title in rows[:MAX_ROWS]:
        lines.append(f"| {finding.insight_type} | {finding.severity} | {md_text(title, 160)} | "
                     f"{md_text(', '.join(finding.affected_instances), 80)} |")
    return MetadataValue.md("\n".join(lines))


def _active_table(warehouse: Warehouse, insight_type: str, at: datetime) -> MetadataValue:
    active = active_insights(warehouse, at)
    if insight_type != "summary":  # the summary's "active" are the insights it summarises
        active = active[active.insight_type == insight_type]
    if active.empty:
        return MetadataValue.md(f"_no active {insight_type} insights at {at:%Y-%m-%d %H:%M} UTC_")
    lines = ["| type | severity | title | since |", "|---|---|---|---|"]
    for row in active.head(MAX_ROWS).itertuples(index=False):
        lines.append(f"| {row.insight_type} | {row.severity} | {md_text(row.title, 160)} | {row.created_at:%Y-%m-%d %H:%M} |")
    return MetadataValue.md("\n".join(lines))


def report(context: AssetExecutionContext, warehouse: Warehouse, insight_type: str, result: SaveResult,
           findings: Sequence[Finding], run_end: datetime, extra: dict | None = None) -> dict[str, Any]:
    """Attach per-partition metadata to ``context``; return the run-wide metadata."""
    pdef = context.assets_def.partitions_def
    keys = list(context.partition_keys)
    windows = [(k, pdef.time_window_for_partition_key(k)) for k in keys]  # type: ignore[union-attr]
    created = {f.fingerprint: n for f, n in result.created}
    found: dict[str, list[Finding]] = {k: [] for k in keys}
    new: dict[str, list[tuple[Finding, str]]] = {k: [] for k in keys}
    for f in findings:
        found[_partition_of(windows, f.window_end)].append(f)
    for f, narrative in result.created:  # the first observation of each new insight
        new[_partition_of(windows, f.window_end)].append((f, narrative.title))
    for key in keys:
        by_sev: dict[str, int] = {}
        for f, _ in new[key]:
            by_sev[f.severity] = by_sev.get(f.severity, 0) + 1
        fingerprints = {f.fingerprint for f in found[key]}
        meta: dict[str, Any] = {
            "findings": len(found[key]),
            "insights_created": len(new[key]),
            "insights_seen_again": len(fingerprints - set(created)),
            "created_by_severity": by_sev,
            "insights": insights_table(new[key], "_no new insights in this partition_"),
        }
        if key == keys[-1]:
            meta["active_insights"] = _active_table(warehouse, insight_type, run_end)
        context.add_asset_metadata(meta, partition_key=key)
    run = {
        "run_partitions": len(keys),
        "llm_calls": result.llm_calls,
        "llm_failures": len(result.failures),
        "prompt_tokens": result.prompt_tokens,
        "completion_tokens": result.completion_tokens,
    }
    run.update(extra or {})
    return run
