"""Count the Metrics table's items per instance and hour with a keys-only parallel Scan (boto3 only).

Why a Scan: the extract reads by instance id, so only a Scan can see items of ids nobody
asked for. The projection keeps pages small on the wire, but DynamoDB charges a Scan by the
size of the items it reads, projection or not: see docs/benchmarks.md (Reconciliation) for
read units per million items. The filter keeps only the reconciled days and the items no
hourly window can ever read (timestamps before the first partition, far ahead, or outside
the contract's 2000-2100 range); it saves transfer, not read units.

Pages are folded into counters as they arrive, so memory is bounded by instances x hours,
not by items.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from nephos_pipeline.dynamodb.extract import to_ms
from nephos_pipeline.ingest.instance_ids import SeenRange, widen
from nephos_pipeline.tables.contract import MAX_MS, MIN_MS

HOUR_MS = 3_600_000
BATCH_GET = 100  # BatchGetItem's maximum keys per request


@dataclass
class KeyCounts:
    """What the Scan found. Hours are epoch-ms hour starts; ``out_of_range`` are keys to reject."""

    by_hour: Counter = field(default_factory=Counter)  # (instance_id, hour_ms) -> items in the window
    out_of_range: list[dict[str, Any]] = field(default_factory=list)
    outside_partitions: Counter = field(default_factory=Counter)  # instance_id -> in range, but no partition
    ranges: dict[str, SeenRange] = field(default_factory=dict)  # ids with items in the window
    scanned: int = 0
    requests: int = 0
    read_units: float = 0.0

    def merge(self, other: KeyCounts) -> None:
        self.by_hour.update(other.by_hour)
        self.out_of_range += other.out_of_range
        self.outside_partitions.update(other.outside_partitions)
        for iid, r in other.ranges.items():
            widen(self.ranges, iid, r.first_ms)
            widen(self.ranges, iid, r.last_ms)
        self.scanned += other.scanned
        self.requests += other.requests
        self.read_units += other.read_units

    @property
    def items(self) -> int:
        return sum(self.by_hour.values()) + len(self.out_of_range)


def _ms(attr: Any) -> int | None:
    try:
        return int(Decimal(str(attr["N"])))
    except (InvalidOperation, KeyError, TypeError, ValueError):
        return None


def _segment(client: Any, kwargs: dict[str, Any], segment: int, total: int, bounds: tuple[int, int, int, int]) -> KeyCounts:
    start_ms, end_ms, first_ms, horizon_ms = bounds
    out = KeyCounts()
    page_kwargs = {**kwargs, "Segment": segment, "TotalSegments": total}
    while True:
        page = client.scan(**page_kwargs)
        out.requests += 1
        out.scanned += page.get("ScannedCount", 0)
        out.read_units += float((page.get("ConsumedCapacity") or {}).get("CapacityUnits", 0.0))
        for item in page.get("Items", []):
            iid, ms = item["instance_id"]["S"], _ms(item["timestamp"])
            if ms is None or not (MIN_MS <= ms < MAX_MS):
                out.out_of_range.append(item)
            elif start_ms <= ms < end_ms:
                out.by_hour[(iid, ms - ms % HOUR_MS)] += 1
                widen(out.ranges, iid, ms)
            elif ms < first_ms or ms >= horizon_ms:
                out.outside_partitions[iid] += 1
        if not page.get("LastEvaluatedKey"):
            return out
        page_kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def count_keys(
    client: Any, table: str, start: datetime, end: datetime, first_partition: datetime, horizon: datetime,
    segments: int = 4,
) -> KeyCounts:
    """Count items with ``start <= timestamp < end`` per instance and hour, and collect strays.

    Strays are items no hourly window reads: outside the contract range (returned as keys,
    to be rejected) or before ``first_partition`` / at or after ``horizon`` (counted).
    """
    bounds = (to_ms(start), to_ms(end), max(MIN_MS, to_ms(first_partition)), min(MAX_MS, to_ms(horizon)))
    kwargs = {
        "TableName": table,
        "ProjectionExpression": "#id, #ts",
        "FilterExpression": "#ts BETWEEN :s AND :e OR #ts < :lo OR #ts >= :hi",
        "ExpressionAttributeNames": {"#id": "instance_id", "#ts": "timestamp"},
        "ExpressionAttributeValues": {":s": {"N": str(bounds[0])}, ":e": {"N": str(bounds[1] - 1)},
                                      ":lo": {"N": str(bounds[2])}, ":hi": {"N": str(bounds[3])}},
        "ReturnConsumedCapacity": "TOTAL",
    }
    total = KeyCounts()
    with ThreadPoolExecutor(max_workers=segments) as pool:
        for part in pool.map(lambda s: _segment(client, kwargs, s, segments, bounds), range(segments)):
            total.merge(part)
    return total


def _chunks(keys: Sequence[dict], size: int) -> Iterator[Sequence[dict]]:
    for i in range(0, len(keys), size):
        yield keys[i : i + size]


def get_items(client: Any, table: str, keys: Sequence[dict[str, Any]], max_rounds: int = 8) -> list[dict[str, Any]]:
    """The full items for ``keys`` (BatchGetItem, unprocessed keys retried); deleted ones are absent."""
    items: list[dict[str, Any]] = []
    for chunk in _chunks(list(keys), BATCH_GET):
        request = {table: {"Keys": [{"instance_id": k["instance_id"], "timestamp": k["timestamp"]} for k in chunk]}}
        for attempt in range(max_rounds):
            if attempt:
                time.sleep(min(2.0, 0.05 * 2**attempt))  # unprocessed keys mean throttling: back off
            page = client.batch_get_item(RequestItems=request)
            items += page.get("Responses", {}).get(table, [])
            request = page.get("UnprocessedKeys") or {}
            if not request:
                break
        else:
            raise RuntimeError(f"BatchGetItem left {len(request[table]['Keys'])} key(s) unprocessed after {max_rounds} rounds")
    return items
