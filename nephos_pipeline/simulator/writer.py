"""Write simulated items through the real DynamoDB API, as the agents would.

Throughput comes from ``batch_write_item`` (25 items a request) with a few requests in
flight on a thread pool: a local moto server answers one request at a time per thread,
so overlapping them hides the HTTP round trip. ``UnprocessedItems`` are retried with
capped exponential backoff and jitter, which is what DynamoDB asks clients to do.
"""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from boto3.dynamodb.types import TypeSerializer

from nephos_pipeline.settings import TableNames
from nephos_pipeline.simulator.fleet import FleetModel, TableItem, iter_fleet_items
from nephos_pipeline.simulator.spec import FleetSpec
from nephos_pipeline.tables import TABLES

BATCH_SIZE = 25  # DynamoDB's hard limit for batch_write_item
MAX_ATTEMPTS = 10
BACKOFF_BASE_S = 0.05
BACKOFF_CAP_S = 5.0
KEYS: dict[str, tuple[str, ...]] = {t.name: t.spec.key_names() for t in TABLES}  # item key per registered table

_serializer = TypeSerializer()


@dataclass
class WriteStats:
    """What was written; ``rate`` is items per second of wall time."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KEYS, 0))
    requests: int = 0
    retries: int = 0
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def rate(self) -> float:
        return self.total / self.seconds if self.seconds > 0 else 0.0

    def merge(self, other: WriteStats) -> None:
        for table, n in other.counts.items():
            self.counts[table] = self.counts.get(table, 0) + n
        self.requests += other.requests
        self.retries += other.retries
        self.seconds += other.seconds

    def summary(self) -> str:
        parts = ", ".join(f"{t}={n}" for t, n in self.counts.items())
        return f"{parts} ({self.total} items in {self.seconds:.1f}s, {self.rate:,.0f} items/s)"


def serialize(item: dict[str, Any]) -> dict[str, Any]:
    """Python item -> DynamoDB attribute-value map."""
    return {name: _serializer.serialize(value) for name, value in item.items()}


def batch_write(client: Any, table: str, items: list[dict[str, Any]],
                sleep: Callable[[float], None] = time.sleep) -> int:
    """Put up to 25 serialised items, retrying what DynamoDB leaves unprocessed.

    Returns the number of retries it took; raises if the table keeps refusing.
    """
    pending: dict[str, list[dict[str, Any]]] = {table: [{"PutRequest": {"Item": i}} for i in items]}
    for attempt in range(MAX_ATTEMPTS):
        response = client.batch_write_item(RequestItems=pending)
        pending = response.get("UnprocessedItems") or {}
        if not pending:
            return attempt
        sleep(min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2**attempt) * random.uniform(0.5, 1.0))
    left = sum(len(v) for v in pending.values())
    raise RuntimeError(f"{left} items still unprocessed after {MAX_ATTEMPTS} attempts on {table}")


def write_items(client: Any, names: TableNames, items: Iterable[TableItem], *, workers: int = 4,
                progress: Callable[[WriteStats], None] | None = None,
                progress_every: float = 5.0) -> WriteStats:
    """Write ``(table key, item)`` pairs; the table key is a registered table's name.

    Items are consumed lazily and at most ``2 * workers`` batches are in flight, so memory
    stays flat however long the stream. A key repeated within a batch keeps its last
    version (DynamoDB rejects duplicate keys in one request; a later put wins anyway).
    """
    stats = WriteStats()
    started = last_report = time.monotonic()
    pending: dict[str, dict[tuple[Any, ...], dict[str, Any]]] = {t: {} for t in KEYS}
    in_flight: deque[Future[int]] = deque()

    def settle(limit: int) -> None:
        while len(in_flight) > limit:
            stats.retries += in_flight.popleft().result()

    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="nephos-write") as pool:

        def submit(table: str) -> None:
            batch = list(pending[table].values())
            pending[table] = {}
            in_flight.append(pool.submit(batch_write, client, names.of(table), batch))
            stats.requests += 1
            settle(2 * max(1, workers))

        for table, item in items:
            key = tuple(item[k] for k in KEYS[table])
            pending[table][key] = serialize(item)
            stats.counts[table] += 1
            if len(pending[table]) >= BATCH_SIZE:
                submit(table)
            if progress and time.monotonic() - last_report >= progress_every:
                last_report = time.monotonic()
                stats.seconds = last_report - started
                progress(stats)
        for table in KEYS:
            if pending[table]:
                submit(table)
        settle(0)
    stats.seconds = time.monotonic() - started
    return stats


def write_fleet(client: Any, names: TableNames, spec: FleetSpec, **kwargs: Any) -> WriteStats:
    """Backfill the whole simulated history of ``spec``."""
    return write_items(client, names, iter_fleet_items(spec), **kwargs)


def run_live(client: Any, names: TableNames, spec: FleetSpec, *, rate: float = 1.0, speed: float = 1.0,
             duration: float | None = None, late: float = 0.0, tick: float = 1.0,
             stop: threading.Event | None = None, progress: Callable[[WriteStats], None] | None = None,
             clock: Callable[[], float] = time.monotonic) -> WriteStats:
    """Keep writing "current" items from ``spec.end`` on, until ``stop``/``duration``.

    ``rate`` is reports per simulated minute per instance; ``speed`` is simulated minutes
    per real minute (time compression). ``late`` is the share of metric items held back
    and delivered 2-60 simulated minutes after their timestamp, to exercise late data.
    """
    from nephos_pipeline.simulator.live import LiveFleet

    live = LiveFleet(FleetModel(spec), rate=rate, late=late)
    stop = stop or threading.Event()
    real0 = last_report = clock()
    # One worker: an alert opened and resolved in the same tick must land in that order.
    total = write_items(client, names, live.start(), workers=1)
    while not stop.is_set():
        elapsed = clock() - real0
        if duration is not None and elapsed >= duration:
            break
        now_ms = spec.end_ms + int(elapsed * speed * 1000)
        total.merge(write_items(client, names, live.advance(now_ms), workers=1))
        total.seconds = clock() - real0
        if progress and clock() - last_report >= 5.0:
            last_report = clock()
            progress(total)
        stop.wait(tick)
    total.merge(write_items(client, names, live.drain(), workers=1))
    total.seconds = clock() - real0
    return total
