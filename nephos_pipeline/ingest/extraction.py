"""Extract one window from DynamoDB into the landing tables (no Dagster imports).

Memory stays bounded during long backfills: each instance's items are converted as they
arrive and appended to the staging table in bulk loads of at most ``STAGE_ROWS`` rows; only
rejects and counts are kept for the whole window. (One bulk load per instance cost ~40 %
of the client CPU of an hourly sync of 48 instances; see docs/benchmarks.md, Extract.)
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from nephos_pipeline import tables
from nephos_pipeline.dynamodb import extract as ddb
from nephos_pipeline.dynamodb.resource import DynamoDBResource
from nephos_pipeline.ingest import instance_ids as known_ids
from nephos_pipeline.ingest import landing, records
from nephos_pipeline.ingest.records import Batch
from nephos_pipeline.tables import Table
from nephos_pipeline.warehouse import Warehouse

_log = logging.getLogger(__name__)
STAGE_ROWS = 50_000  # converted rows kept before one bulk load into the staging table


@dataclass
class ExtractResult:
    source_table: str
    window_start: datetime | None
    window_end: datetime | None
    batch: Batch = field(default_factory=Batch)
    rows_landed: int = 0
    requests: int = 0
    instances_queried: int = 0
    unregistered: list[str] = field(default_factory=list)  # ids read that are not in the Instances table

    def metadata(self) -> dict[str, Any]:
        reasons: dict[str, int] = {}
        for reject in self.batch.rejects:
            key = reject.reason.split(":")[0] + ": " + reject.reason.split(":", 1)[-1].strip()[:40]
            reasons[key] = reasons.get(key, 0) + 1
        meta: dict[str, Any] = {
            "source_table": self.source_table,
            "items_read": self.batch.items,
            "items_loaded": self.batch.loaded_items,
            "items_rejected": len(self.batch.rejects),
            "rows_landed": self.rows_landed,
            "dynamodb_requests": self.requests,
            "fields_truncated": self.batch.truncated_fields,
            "non_numeric_attributes_ignored": self.batch.ignored_attributes,
        }
        if self.instances_queried:
            meta["instances_queried"] = self.instances_queried
            meta["unregistered_instances_read"] = len(self.unregistered)
        if self.unregistered:
            meta["unregistered_instance_ids"] = ", ".join(self.unregistered[:20]) + (
                f" (+{len(self.unregistered) - 20} more)" if len(self.unregistered) > 20 else "")
        if self.window_start is not None:
            meta["window_start"] = self.window_start.isoformat()
            meta["window_end"] = self.window_end.isoformat() if self.window_end else None
        if reasons:
            top = sorted(reasons.items(), key=lambda kv: -kv[1])[:10]
            meta["reject_reasons"] = {k: v for k, v in top}
        return meta


def instance_ids(client: Any, table: str) -> list[str]:
    """Instance ids from the Instances table (a projected parallel Scan of a small table)."""
    items, _ = ddb.parallel_scan(client, table, 4, ProjectionExpression="instance_id")
    ids = {i["instance_id"]["S"] for i in items if isinstance(i.get("instance_id"), dict) and "S" in i["instance_id"]}
    return sorted(ids)


def extract_metrics(
    warehouse: Warehouse,
    dynamodb: DynamoDBResource,
    start: datetime,
    end: datetime,
    extracted_at: datetime,
    log: Any = _log,
    workers: int = 4,
    stream_ids: Sequence[str] = (),
    table: Table = tables.METRICS,
) -> ExtractResult:
    """Query every instance that may hold items in ``[start, end)`` and land what they hold.

    The instances are the registered ones, the ids already known to report near the window
    (``instance_ids``), and ``stream_ids``: unregistered ids the change sensor saw in it.
    """
    client = dynamodb.client()
    registered = instance_ids(client, dynamodb.table_name(tables.INSTANCES))
    with warehouse.connection() as conn:
        known = known_ids.near_window(warehouse, conn, start, end)
        ids = sorted({*registered, *known, *stream_ids})
        result = ExtractResult(table.name, start, end, instances_queried=len(ids))
        seen: dict[str, known_ids.SeenRange] = {}
        landing.create_stage(warehouse, conn, table)
        pending = Batch()
        for iid, items, stats in ddb.query_metrics(client, dynamodb.table_name(table), ids, start, end, workers):
            result.requests += stats.requests
            for item in items:
                if (ms := known_ids.item_ms(item)) is not None:
                    known_ids.widen(seen, iid, ms)
            batch = records.rows(table, items)
            pending.rows += batch.rows
            batch.rows = []  # rows wait in ``pending`` until staged; counts and rejects are kept
            result.batch.extend(batch)
            if len(pending.rows) >= STAGE_ROWS:
                landing.stage_rows(warehouse, conn, table, pending)
                pending.rows = []
        landing.stage_rows(warehouse, conn, table, pending)
        result.rows_landed = landing.swap_window(
            warehouse, conn, table, result.batch.rejects, start, end, extracted_at
        )
        found_by = {iid: "stream" for iid in stream_ids}
        known_ids.record(warehouse, conn, seen, registered, found_by, extracted_at, known)
    result.unregistered = sorted(set(seen) - set(registered))
    log.info(
        "%s %s..%s: %d items from %d instances, %d rejected",
        table.name, start, end, result.batch.items, len(ids), len(result.batch.rejects),
    )
    if result.unregistered:
        log.warning("%s %s..%s: items from %d unregistered instance id(s): %s",
                    table.name, start, end, len(result.unregistered), ", ".join(result.unregistered[:20]))
    return result


def extract_scan(
    warehouse: Warehouse, dynamodb: DynamoDBResource, table: Table, start: datetime | None, end: datetime | None,
    extracted_at: datetime,
) -> ExtractResult:
    """A snapshot table whole, or an hourly table's window through a filtered parallel Scan.

    These tables are small (one item per host, a few per incident), so the extract is
    staged in one bulk load and swapped into its landing window.
    """
    client, name = dynamodb.client(), dynamodb.table_name(table)
    if table.time is None:
        items, stats = ddb.parallel_scan(client, name)
        start = end = None
    else:
        items, stats = ddb.scan_window(client, name, table.time[0], start, end)
    result = ExtractResult(table.name, start, end, records.rows(table, items), requests=stats.requests)
    with warehouse.connection() as conn:
        landing.create_stage(warehouse, conn, table)
        landing.stage_rows(warehouse, conn, table, result.batch)
        result.rows_landed = landing.swap_window(warehouse, conn, table, result.batch.rejects, start, end, extracted_at)
    return result


def extract(
    warehouse: Warehouse, dynamodb: DynamoDBResource, table: str | Table, start: datetime | None,
    end: datetime | None, extracted_at: datetime, log: Any = _log, stream_ids: Sequence[str] = (),
) -> ExtractResult:
    """Extract one window of a registered table (``start``/``end`` are ignored for a snapshot)."""
    table = tables.get(table)
    if table.read_per_instance:
        return extract_metrics(warehouse, dynamodb, start, end, extracted_at, log=log, stream_ids=stream_ids,
                               table=table)
    if stream_ids:
        log.warning("%s is not read per instance: unregistered instance ids %s ignored", table.name, stream_ids)
    return extract_scan(warehouse, dynamodb, table, start, end, extracted_at)
