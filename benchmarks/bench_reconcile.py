"""Reconciliation: what its keys-only parallel Scan of the Metrics table costs.

Read units are computed, not measured: DynamoDB charges a Scan by the size of the items it
reads, rounded up to 4 KB per request (so per 1 MB page, not per item), whatever the
ProjectionExpression or FilterExpression; an eventually consistent read costs half. Item
sizes follow DynamoDB's rules (attribute name bytes + UTF-8 string bytes; a number takes
about one byte per two significant digits plus one) over the simulator's items. moto
answers ``ReturnConsumedCapacity`` with a constant 1.0 per request whatever it read, so its
figure is reported beside the formula, not used for it.

Timed on the local server (moto, in this process): ``reconcile.scan.count_keys`` over the
table, 4 segments, the way the asset calls it.
"""

from __future__ import annotations

import math
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from benchmarks.common import figure
from nephos_pipeline.dynamodb.local_server import LocalDynamoDB
from nephos_pipeline.dynamodb.tables import ensure_tables
from nephos_pipeline.reconcile.scan import count_keys
from nephos_pipeline.settings import TableNames
from nephos_pipeline.simulator.fleet import iter_metrics
from nephos_pipeline.simulator.spec import FleetSpec
from nephos_pipeline.simulator.writer import batch_write, serialize

SIZES = {"tiny": (2, 2), "quick": (8, 24), "full": (32, 48)}  # instances, hours at one item per minute
PAGE = 1024 * 1024


def number_bytes(text: str) -> int:
    digits = Decimal(text).normalize().as_tuple().digits
    significant = len("".join(map(str, digits)).strip("0")) or 1
    return math.ceil(significant / 2) + 1


def item_bytes(item: dict[str, dict[str, Any]]) -> int:
    """DynamoDB item size of an AttributeValue item (S and N attributes, as metric items have)."""
    size = 0
    for name, attr in item.items():
        size += len(name.encode())
        kind, value = next(iter(attr.items()))
        size += len(str(value).encode()) if kind == "S" else number_bytes(str(value)) if kind == "N" else len(str(value))
    return size


def read_units_per_million(mean_bytes: float, consistent: bool = False) -> float:
    """RCUs a Scan of 1,000,000 items of ``mean_bytes`` consumes: 4 KB units per full 1 MB page."""
    per_page = PAGE // max(1, int(mean_bytes))
    pages = 1_000_000 / per_page
    units = pages * (PAGE / 4096)
    return units if consistent else units / 2


def run(mode: str) -> dict[str, Any]:
    instances, hours = SIZES[mode]
    end = datetime(2026, 3, 8, tzinfo=UTC)
    spec = FleetSpec(start=end - timedelta(hours=hours), end=end, instances=instances, scenarios=False)
    items = [serialize(i) for i in iter_metrics(spec)]
    sizes = [item_bytes(i) for i in items]
    mean = sum(sizes) / len(sizes)
    server = LocalDynamoDB(port=0, region="us-east-1")
    server.start()
    try:
        client = server.client()
        names = TableNames(*(f"bench-{k}-{uuid.uuid4().hex[:6]}" for k in ("metrics", "alerts", "instances")))
        ensure_tables(client, names)
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(lambda i: batch_write(client, names.metrics, items[i:i + 25]), range(0, len(items), 25)))
        started = time.perf_counter()
        counts = count_keys(client, names.metrics, spec.start.replace(tzinfo=None), spec.end.replace(tzinfo=None),
                            spec.start.replace(tzinfo=None), spec.end.replace(tzinfo=None) + timedelta(days=1))
        seconds = time.perf_counter() - started
    finally:
        server.stop()
    assert counts.items == len(items), (counts.items, len(items))
    eventual, strong = read_units_per_million(mean), read_units_per_million(mean, consistent=True)
    return {
        "figures": {
            "reconcile_item_bytes": figure(mean, "bytes/item (DynamoDB size rules)", None, None, goal="none",
                                           note=f"min {min(sizes)}, max {max(sizes)}"),
            "reconcile_read_units_per_million_items": figure(eventual, "RCU per 1M items (eventually consistent)", None,
                                                             strong, goal="none",
                                                             note="baseline = strongly consistent"),
            "reconcile_scan_items_per_second": figure(len(items) / seconds, "items/s (moto, 4 segments)", None, None,
                                                      goal="none"),
            "reconcile_read_units_moto": figure(counts.read_units, "RCU reported by moto", None, None, goal="none",
                                                note=f"{counts.requests} requests: moto reports 1.0 per request"),
        },
        "details": {"items": len(items), "instances": instances, "hours": hours, "scan_seconds": round(seconds, 2),
                    "requests": counts.requests, "mean_item_bytes": round(mean, 1)},
    }
