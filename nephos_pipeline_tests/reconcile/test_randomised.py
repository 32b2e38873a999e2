"""Randomised: unregistered ids, late registrations and out-of-range timestamps in normal traffic.

A seeded sequence runs on a simulated clock (2026-03-01 10:05 to 12:50 UTC) against fresh
moto tables and a fresh warehouse: metric items from registered instances, from ids
registered only later, from a mistyped id that never is, late items for closed hours,
contract-breaking values, epoch-second and microsecond timestamps, and deletes. The real
change sensor ticks (some ticks crash before their cursor is saved), the 15-minute sync
schedule fires, and requested runs execute later in random order, carrying the config the
sensor gave them.

At the end the day is reconciled once: it must already find nothing unread (discovery, not
the reconciliation's re-sync, read every unregistered id), and loaded + rejected must equal
the items in DynamoDB for every instance, exactly, counted here independently of the asset.
``NEPHOS_RUN_SLOW=1`` runs more seeds.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest

from nephos_pipeline.dynamodb.extract import to_ms
from nephos_pipeline.orchestration.schedules import build_jobs, build_schedules
from nephos_pipeline_tests.helpers import dynamodb_resource, put_instance
from nephos_pipeline_tests.reconcile.common import (
    PARTS,
    check,
    dynamodb_items_per_instance,
    materialization_meta,
    reconcile,
    sensor_at,
    sync,
    warehouse_items_per_instance,
)
from nephos_pipeline_tests.reliability.conftest import slow_enabled

START = datetime(2026, 3, 1, 10, 5, tzinfo=UTC)
END = datetime(2026, 3, 1, 12, 50, tzinfo=UTC)
REGISTERED = ["web-1", "db-2"]
LATE = ["ghost-3", "batch-4"]  # report from the start, registered at a random moment
TYPO = "web-l"  # never registered
SEEDS = [20260301, 11, 4242, 77] if slow_enabled() else [20260301]
SYNC_SCHEDULE = {s.name: s for s in build_schedules(build_jobs(PARTS), dg.DefaultScheduleStatus.STOPPED)}[
    "sync_schedule"]


class World:
    def __init__(self, t, res, rng: random.Random) -> None:
        self.t, self.res, self.rng = t, res, rng
        self.now, self.cursor = START, None
        self.launched: set[str] = set()
        self.queue: dict[str, set[str]] = {}  # partition -> unregistered ids from the sensor's config
        self.keys: set[tuple[str, int]] = set()
        self.register_at = {iid: START + timedelta(minutes=rng.randrange(20, 150)) for iid in LATE}

    def put(self, iid: str, ts: int) -> None:
        item = {"instance_id": {"S": iid}, "timestamp": {"N": str(ts)}, "cpu_usage": {"N": f"{self.rng.uniform(0, 99):.1f}"}}
        if self.rng.random() < 0.1:
            item["memory_usage"] = {"N": "150"}  # breaks the contract: rejected in its hour
        if self.rng.random() < 0.1:
            item["gpu_temp"] = {"N": "71"}
        self.t.client.put_item(TableName=self.t.names.metrics, Item=item)
        self.keys.add((iid, ts))

    def write(self) -> None:
        ids = [*REGISTERED, *LATE, TYPO]
        for _ in range(self.rng.randint(3, 8)):
            iid = self.rng.choice(ids)
            roll = self.rng.random()
            if roll < 0.12:  # late: an hour that may already be synced
                at = START.replace(minute=0) + timedelta(seconds=self.rng.randrange(int((self.now - START).total_seconds()) + 300))
            else:
                at = self.now - timedelta(seconds=self.rng.randrange(300))
            ms = to_ms(at.replace(microsecond=0))
            if roll > 0.94:
                ms //= 1000  # the agent bug: epoch seconds
            elif roll > 0.91:
                ms *= 1000  # microseconds: past 2100
            self.put(iid, ms)
        if self.keys and self.rng.random() < 0.3:
            iid, ts = self.rng.choice(sorted(self.keys))
            self.t.client.delete_item(TableName=self.t.names.metrics,
                                      Key={"instance_id": {"S": iid}, "timestamp": {"N": str(ts)}})
            self.keys.discard((iid, ts))
        for iid, at in list(self.register_at.items()):
            if at <= self.now:
                put_instance(self.t.client, self.t.names, iid)
                del self.register_at[iid]

    def request(self, run_key: str, partition: str, ids: list[str]) -> None:
        if run_key in self.launched:  # Dagster launches a run key at most once
            return
        self.launched.add(run_key)
        self.queue.setdefault(partition, set()).update(ids)  # merged into a queued run of that partition

    def tick(self, crash: bool) -> None:
        ctx = dg.build_sensor_context(cursor=self.cursor, resources={"dynamodb": self.res["dynamodb"]})
        result = sensor_at(self.now)(ctx)
        for r in result.run_requests or []:
            if r.job_name == "sync_hourly_job":
                ids = (r.run_config or {}).get("ops", {}).get("raw_metrics", {}).get("config", {})
                self.request(r.run_key, r.partition_key, ids.get("unregistered_instance_ids", []))
        if not crash:
            self.cursor = result.cursor

    def schedule(self, previous: datetime) -> None:
        t = previous.replace(second=0, microsecond=0) + timedelta(minutes=1)
        while t <= self.now:
            if t.minute % 15 == 0:
                req = SYNC_SCHEDULE(dg.build_schedule_context(scheduled_execution_time=t))
                self.request(req.run_key, req.partition_key, [])
            t += timedelta(minutes=1)

    def run_some(self, share: float) -> None:
        for key in self.rng.sample(sorted(self.queue), k=int(len(self.queue) * share + 0.5)):
            ids = sorted(self.queue.pop(key))
            config = {"ops": {"raw_metrics": {"config": {"unregistered_instance_ids": ids}}}} if ids else None
            assert sync(self.res, key, config).success


@pytest.mark.parametrize("seed", SEEDS)
def test_loaded_plus_rejected_equals_dynamodb_for_every_instance(dynamodb_tables, warehouse, seed: int) -> None:
    t = dynamodb_tables
    res = {"warehouse": warehouse, "dynamodb": dynamodb_resource(t.endpoint_url, t.names)}
    for iid in REGISTERED:
        put_instance(t.client, t.names, iid)
    w = World(t, res, random.Random(seed))
    while w.now < END:
        previous, w.now = w.now, w.now + timedelta(minutes=w.rng.choice([7, 10, 13]))
        w.write()
        w.schedule(previous)
        w.tick(crash=w.rng.random() < 0.15)
        w.run_some(w.rng.choice([0.0, 0.5, 1.0]))
    previous, w.now = w.now, END.replace(minute=0) + timedelta(hours=1, minutes=20)  # every hour has closed
    w.schedule(previous)
    w.tick(crash=False)
    w.run_some(1.0)

    result = reconcile(res, "2026-03-01")
    meta = materialization_meta(result, "metrics_reconciliation")
    verdict = check(result, "metrics_nothing_unread")
    assert verdict.passed, verdict.description
    assert meta["unread_items"].value == 0 and meta["extra_items"].value == 0
    in_dynamodb = dynamodb_items_per_instance(t.client, t.names.metrics)
    loaded, rejected = warehouse_items_per_instance(warehouse)
    for iid in set(in_dynamodb) | set(loaded) | set(rejected):
        assert in_dynamodb[iid] == loaded[iid] + rejected[iid], (seed, iid, in_dynamodb[iid], loaded[iid], rejected[iid])
    assert {TYPO, *LATE} <= set(loaded)  # the unregistered ids did report, and were read
    assert sum(rejected.values()) > 0 and Counter(in_dynamodb).total() == meta["dynamodb_items"].value
