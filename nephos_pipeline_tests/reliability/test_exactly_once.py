"""Exactly-once effect: a randomised interleaving of writes, syncs and crashes ends equal to DynamoDB.

A seeded random sequence runs against fresh moto tables and a fresh warehouse, on a
simulated clock from 10:05 to 12:10 UTC (2026-03-01):

* writes: current metric items, late items (an hour already synced), in-place updates
  (values changed or attributes dropped), deletes, contract-breaking items, alerts opened,
  acknowledged, resolved, moved to another hour and deleted, instances renamed, added and
  decommissioned (the instance and its metric items deleted);
* the real change sensor ticks; some ticks "crash" (their cursor is never saved);
* the real schedules fire at every quarter-hour the clock crosses (sync of the hour in
  progress, the closed hour on the hour, the instances sync at :05);
* requested runs wait in a queue and are executed later, in random order (a request for a
  partition that is already queued and not yet started is merged into it, which is what
  it would read anyway); completed runs are randomly re-executed.

At the end the clock moves past the last hour, the sensor and schedules are drained, and
METRICS/ALERTS/INSTANCES must equal a full Scan of DynamoDB converted by the contract rules.
``NEPHOS_RUN_SLOW=1`` runs more seeds.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import dagster as dg
import pytest

from nephos_pipeline.dynamodb.extract import to_ms
from nephos_pipeline.orchestration.change_sensor import build_dynamodb_change_sensor
from nephos_pipeline.orchestration.schedules import build_jobs, build_schedules
from nephos_pipeline.partitions import Partitions
from nephos_pipeline_tests.helpers import dynamodb_resource, put_alert, put_instance
from nephos_pipeline_tests.reliability.common import (
    expected_state,
    hour_windows,
    sync_hour,
    sync_instances,
    warehouse_state,
)
from nephos_pipeline_tests.reliability.conftest import slow_enabled

START = datetime(2026, 3, 1, 10, 5, tzinfo=UTC)
FIRST_HOUR = datetime(2026, 3, 1, 10, 0)
LAST_WRITE = datetime(2026, 3, 1, 12, 10, tzinfo=UTC)
POOL = ["web-1", "db-2'; DROP TABLE METRICS; --", "cache-3", "batch-4"]
METRICS = ["cpu_usage", "memory_usage", "disk_usage", "network_in", "load_avg", "gpu_temp"]
SEEDS = [20260301, 7, 99, 1234, 4242] if slow_enabled() else [20260301]
PARTS = Partitions.build()
JOBS = build_jobs(PARTS)
SCHEDULES = {s.name: s for s in build_schedules(JOBS, dg.DefaultScheduleStatus.STOPPED)}


@dataclass
class World:
    t: Any
    res: dict
    rng: random.Random
    now: datetime = START
    cursor: str | None = None
    sensor: Any = None
    launched: set[str] = field(default_factory=set)
    queue: list[str | None] = field(default_factory=list)  # partition key, None = instances sync
    done: list[str | None] = field(default_factory=list)
    metrics: set[tuple[str, int]] = field(default_factory=set)
    alerts: dict[str, dict] = field(default_factory=dict)
    instances: set[str] = field(default_factory=set)
    log: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def note(self, what: str) -> None:
        self.log.append(f"{self.now:%H:%M} {what}")
        op = what.split()[0]
        self.counts[op] = self.counts.get(op, 0) + 1

    # ---- writes ------------------------------------------------------------------------

    def _metric_item(self, iid: str, ts: int) -> dict:
        item = {"instance_id": {"S": iid}, "timestamp": {"N": str(ts)}}
        for name in self.rng.sample(METRICS, self.rng.randint(1, 4)):
            value = self.rng.uniform(0, 100) if name != "network_in" else self.rng.randint(0, 10**7)
            item[name] = {"N": f"{value:.2f}" if isinstance(value, float) else str(value)}
        if self.rng.random() < 0.08:  # contract-breaking: a percentage out of range, or a number as text
            item["cpu_usage"] = self.rng.choice([{"N": "150"}, {"S": "45"}])
        return item

    def put_metric(self, late: bool) -> None:
        if not self.instances:
            return
        iid = self.rng.choice(sorted(self.instances))
        if late:
            span = max(1, int((self.now - timedelta(minutes=10) - START.replace(minute=0)).total_seconds()))
            at = START.replace(minute=0) + timedelta(seconds=self.rng.randrange(span))
        else:
            at = self.now - timedelta(seconds=self.rng.randrange(120))
        ts = to_ms(at.replace(microsecond=0))
        self.t.client.put_item(TableName=self.t.names.metrics, Item=self._metric_item(iid, ts))
        self.metrics.add((iid, ts))
        self.note(f"{'late' if late else 'put'} metric {iid} {at:%H:%M:%S}")

    def update_metric(self) -> None:
        if self.metrics:
            iid, ts = self.rng.choice(sorted(self.metrics))
            self.t.client.put_item(TableName=self.t.names.metrics, Item=self._metric_item(iid, ts))
            self.note(f"update metric {iid} {ts}")

    def delete_metric(self) -> None:
        if self.metrics:
            iid, ts = self.rng.choice(sorted(self.metrics))
            self.t.client.delete_item(TableName=self.t.names.metrics,
                                      Key={"instance_id": {"S": iid}, "timestamp": {"N": str(ts)}})
            self.metrics.discard((iid, ts))
            self.note(f"delete metric {iid} {ts}")

    def upsert_alert(self) -> None:
        if self.alerts and self.rng.random() < 0.6:
            aid = self.rng.choice(sorted(self.alerts))
            state = self.alerts[aid]
            if self.rng.random() < 0.2:  # moved to another hour: both hours must be re-synced
                span = int((self.now - START.replace(minute=0)).total_seconds())
                state["at"] = START.replace(minute=0) + timedelta(seconds=self.rng.randrange(max(span, 1)))
            state["status"] = {"open": "acknowledged", "acknowledged": "resolved"}.get(state["status"], "resolved")
        else:
            if not self.instances:
                return
            aid = f"al-{self.counts.get('alert', 0) + 1}"
            state = self.alerts[aid] = {"iid": self.rng.choice(sorted(self.instances)), "status": "open",
                                        "at": max(START.replace(minute=0),
                                                  self.now - timedelta(minutes=self.rng.randrange(30)))}
        extra = {"status": {"S": state["status"]}, "severity": {"S": self.rng.choice(["low", "high", "critical"])},
                 "message": {"S": f"{state['iid']} says <b>hi</b> '; --"}}
        if state["status"] == "resolved":
            extra["resolved_at"] = {"N": str(to_ms(self.now))}
        put_alert(self.t.client, self.t.names, aid, state["iid"], state["at"], **extra)
        self.note(f"alert {aid} {state['status']} created {state['at']:%H:%M}")

    def delete_alert(self) -> None:
        if self.alerts:
            aid = self.rng.choice(sorted(self.alerts))
            self.t.client.delete_item(TableName=self.t.names.alerts, Key={"alert_id": {"S": aid}})
            del self.alerts[aid]
            self.note(f"delete alert {aid}")

    def upsert_instance(self) -> None:
        iid = self.rng.choice(POOL)
        put_instance(self.t.client, self.t.names, iid, hostname=f"{iid}.{self.rng.randrange(100)}.example",
                     tags={"M": {"team": {"S": self.rng.choice(["a", "b", "<i>c</i>"])}}},
                     updated_at={"N": str(to_ms(self.now))})
        self.instances.add(iid)
        self.note(f"instance {iid}")

    def decommission(self) -> None:
        """The instance and its metric items go (as a fleet teardown would)."""
        if len(self.instances) > 1:
            iid = self.rng.choice(sorted(self.instances))
            self.t.client.delete_item(TableName=self.t.names.instances, Key={"instance_id": {"S": iid}})
            for key in [k for k in self.metrics if k[0] == iid]:
                self.t.client.delete_item(TableName=self.t.names.metrics,
                                          Key={"instance_id": {"S": iid}, "timestamp": {"N": str(key[1])}})
                self.metrics.discard(key)
            self.instances.discard(iid)
            self.note(f"decommission {iid}")

    # ---- orchestration -----------------------------------------------------------------

    def request(self, run_key: str, partition: str | None) -> None:
        if run_key in self.launched:  # Dagster launches a run key at most once
            return
        self.launched.add(run_key)
        if partition not in self.queue:  # merged into the queued run that will read it anyway
            self.queue.append(partition)

    def tick(self, crash: bool) -> None:
        ctx = dg.build_sensor_context(cursor=self.cursor, resources={"dynamodb": self.res["dynamodb"]})
        result = self.sensor(ctx)
        for r in result.run_requests or []:
            self.request(r.run_key, r.partition_key)
        if not crash:
            self.cursor = result.cursor
        self.note(f"tick{' CRASH' if crash else ''} {sorted(str(r.partition_key) for r in result.run_requests or [])}")

    def advance(self, minutes: int) -> None:
        end = self.now + timedelta(minutes=minutes)
        t = self.now.replace(second=0, microsecond=0) + timedelta(minutes=1)
        while t <= end:
            self.now = t
            if t.minute % 15 == 0:  # at :00 the hour's close: its sync and the instances snapshot
                self._schedule("hour_close_schedule" if t.minute == 0 else "sync_schedule", t)
            t += timedelta(minutes=1)
        self.now = end

    def _schedule(self, name: str, at: datetime) -> None:
        ctx = dg.build_schedule_context(scheduled_execution_time=at)
        req = SCHEDULES[name](ctx)
        self.request(req.run_key, req.partition_key)
        if name == "hour_close_schedule":
            self.request(f"{req.run_key}:instances", None)
        self.note(f"schedule {name} -> {req.partition_key}")

    def execute(self, partition: str | None) -> None:
        result = sync_hour(self.res, partition) if partition else sync_instances(self.res)
        assert result.success, partition
        self.done.append(partition)
        self.note(f"run {partition or 'instances'}")

    def run_queued(self) -> None:
        if self.queue:
            self.execute(self.queue.pop(self.rng.randrange(len(self.queue))))

    def rerun(self) -> None:
        if self.done:
            self.execute(self.rng.choice(self.done))
            self.note("rerun")


def _diff(actual: dict[str, set], expected: dict[str, set], log: list[str]) -> str:
    lines = []
    for table in expected:
        for label, rows in (("missing", expected[table] - actual[table]), ("extra", actual[table] - expected[table])):
            lines += [f"{table} {label}: {r}" for r in sorted(rows, key=repr)[:10]]
    return "\n".join(lines + ["--- history ---", *log[-80:]])


@pytest.mark.parametrize("seed", SEEDS)
def test_random_interleaving_ends_exactly_equal_to_dynamodb(dynamodb_tables, warehouse, seed: int) -> None:
    t = dynamodb_tables
    world = World(t, {"warehouse": warehouse, "dynamodb": dynamodb_resource(t.endpoint_url, t.names)},
                  random.Random(seed))
    world.sensor = build_dynamodb_change_sensor(JOBS["sync_hourly_job"], JOBS["sync_instances_job"], PARTS,
                                                clock=lambda: world.now)
    for _ in range(3):
        world.upsert_instance()
    ops = [(20, lambda: world.put_metric(False)), (7, lambda: world.put_metric(True)), (6, world.update_metric),
           (4, world.delete_metric), (6, world.upsert_alert), (1, world.delete_alert), (3, world.upsert_instance),
           (1, world.decommission), (5, lambda: world.tick(False)), (3, lambda: world.tick(True)),
           (2, world.run_queued), (1, world.rerun), (6, lambda: world.advance(world.rng.randint(5, 25)))]
    while world.now < LAST_WRITE:
        world.rng.choices([fn for _, fn in ops], [w for w, _ in ops])[0]()

    # Drain: every hour closes, the sensor (no more crashes) and the schedules catch up.
    world.advance(110)
    for _ in range(10):
        world.tick(False)
        if not world.queue:
            break
        while world.queue:
            world.run_queued()
    world.rerun()  # and one more re-execution of a completed run, after everything settled
    last = (world.now - timedelta(hours=1)).replace(tzinfo=None, minute=0, second=0, microsecond=0)
    hours = int((last - FIRST_HOUR) / timedelta(hours=1)) + 1
    expected = expected_state(t.client, t.names, hour_windows(FIRST_HOUR, hours))
    actual = warehouse_state(warehouse)
    assert actual == expected, _diff(actual, expected, world.log)
    # the interleaving really exercised what it claims to
    assert world.counts.get("late", 0) and world.counts.get("delete", 0) and world.counts.get("rerun", 0)
    assert world.counts.get("run", 0) >= 5
    assert any("CRASH" in line for line in world.log) and world.counts.get("schedule", 0) >= 8
    assert expected["METRICS"] and expected["ALERTS"] and expected["INSTANCES"]
    print(f"seed {seed}: {world.counts}; final rows {({k: len(v) for k, v in expected.items()})}")
