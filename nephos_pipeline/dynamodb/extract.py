"""Read DynamoDB the cheap way: Query per instance and window, never a Scan per hour.

Items are returned in low-level AttributeValue form (``{"N": "42.5"}``): the contract
check in ``nephos_pipeline.ingest.records`` needs to see the types as written, and skipping
boto3's high-level deserialiser is also the fastest path. Every function paginates fully.

Access paths:
- Metrics: ``Query`` on ``instance_id = :id AND timestamp BETWEEN :start AND :end`` per
  instance (ids from the Instances table), a few instances in parallel.
- Snapshot tables (Instances): parallel ``Scan`` (``Segment``/``TotalSegments``); the table
  is one item per host.
- Other hourly tables (Alerts): the only key is ``alert_id`` and items change in place, so
  the cheapest *correct* path without a secondary index is a parallel Scan with a filter
  on the window (``scan_window``). Alerts are a few items per incident, so the read cost
  is small; an alert whose ``created_at`` is missing, not a number or not epoch
  milliseconds (2000-2100) is returned by every window so it is rejected visibly rather
  than silently skipped.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from nephos_pipeline.tables.contract import MAX_MS, MIN_MS  # the contract sits below this layer

Item = dict[str, dict[str, Any]]


@dataclass
class ReadStats:
    requests: int = 0
    items: int = 0
    scanned: int = 0


def to_ms(moment: datetime) -> int:
    """UTC datetime (naive means UTC) to epoch milliseconds."""
    from datetime import UTC

    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def _read_all(call: Any, kwargs: dict[str, Any]) -> tuple[list[Item], ReadStats]:
    """Follow ``LastEvaluatedKey`` until the last page of a Query or Scan."""
    stats = ReadStats()
    items: list[Item] = []
    kwargs = dict(kwargs)
    while True:
        page = call(**kwargs)
        stats.requests += 1
        stats.scanned += page.get("ScannedCount", 0)
        items += page.get("Items", [])
        last = page.get("LastEvaluatedKey")
        if not last:
            break
        kwargs["ExclusiveStartKey"] = last
    stats.items = len(items)
    return items, stats


def query_instance(client: Any, table: str, instance_id: str, start_ms: int, end_ms: int) -> tuple[list[Item], ReadStats]:
    """All items of one instance with ``start_ms <= timestamp < end_ms``."""
    return _read_all(client.query, {
        "TableName": table,
        "KeyConditionExpression": "instance_id = :id AND #ts BETWEEN :s AND :e",
        "ExpressionAttributeNames": {"#ts": "timestamp"},
        "ExpressionAttributeValues": {":id": {"S": instance_id}, ":s": {"N": str(start_ms)}, ":e": {"N": str(end_ms - 1)}},
    })


def query_metrics(
    client: Any, table: str, instance_ids: Sequence[str], start: datetime, end: datetime, workers: int = 4
) -> Iterator[tuple[str, list[Item], ReadStats]]:
    """Yield ``(instance_id, items, stats)`` per instance, in order; ``workers`` queries run at once.

    At most ``2 * workers`` instances are read ahead of the consumer, so a long backfill
    over a large fleet holds a bounded number of instances' items in memory.
    """
    start_ms, end_ms = to_ms(start), to_ms(end)
    ahead = 2 * max(1, workers)
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        pending: deque = deque()
        for iid in instance_ids:
            pending.append((iid, pool.submit(query_instance, client, table, iid, start_ms, end_ms)))
            if len(pending) >= ahead:
                done_iid, future = pending.popleft()
                yield done_iid, *future.result()
        while pending:
            done_iid, future = pending.popleft()
            yield done_iid, *future.result()


def _scan_segment(client: Any, kwargs: dict[str, Any], segment: int, total: int) -> tuple[list[Item], ReadStats]:
    return _read_all(client.scan, {**kwargs, "Segment": segment, "TotalSegments": total})


def parallel_scan(client: Any, table: str, segments: int = 4, **filters: Any) -> tuple[list[Item], ReadStats]:
    kwargs: dict[str, Any] = {"TableName": table, **filters}
    total = ReadStats()
    items: list[Item] = []
    with ThreadPoolExecutor(max_workers=segments) as pool:
        for seg_items, stats in pool.map(lambda s: _scan_segment(client, kwargs, s, segments), range(segments)):
            items += seg_items
            total.requests += stats.requests
            total.scanned += stats.scanned
    total.items = len(items)
    return items, total


def scan_window(client: Any, table: str, attribute: str, start: datetime, end: datetime,
                segments: int = 4) -> tuple[list[Item], ReadStats]:
    """Items whose ``attribute`` lies in ``[start, end)``, plus any whose ``attribute`` is unusable.

    Unusable means missing, not a number, or a number that is not epoch milliseconds in
    the contract's range (e.g. epoch seconds), which no window would otherwise ever read.
    The type tests come first: moto evaluates ``OR`` left to right and fails the whole Scan
    (HTTP 500) when ``BETWEEN`` meets a string, while DynamoDB treats that as false.
    """
    return parallel_scan(
        client,
        table,
        segments,
        FilterExpression=(
            "attribute_not_exists(#t) OR NOT attribute_type(#t, :n) "
            "OR (#t BETWEEN :s AND :e) OR #t < :min OR #t >= :max"
        ),
        ExpressionAttributeNames={"#t": attribute},
        ExpressionAttributeValues={":s": {"N": str(to_ms(start))}, ":e": {"N": str(to_ms(end) - 1)}, ":n": {"S": "N"},
                                   ":min": {"N": str(MIN_MS)}, ":max": {"N": str(MAX_MS)}},
    )
