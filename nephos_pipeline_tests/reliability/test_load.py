"""Load: 100 instances writing live, one item a minute, for a simulated day, while the sensor
and the schedules keep the warehouse in sync. The backlog must not grow; no row may be lost.

Slow (about 20 minutes on two cores): skipped unless ``NEPHOS_RUN_SLOW=1``::

    NEPHOS_RUN_SLOW=1 .venv/bin/python -m pytest nephos_pipeline_tests/reliability/test_load.py -s -p no:cacheprovider

Knobs (environment): ``NEPHOS_LOAD_INSTANCES`` (100), ``NEPHOS_LOAD_HOURS`` (24 simulated
hours), ``NEPHOS_LOAD_SPEED`` (96 simulated minutes per real minute: a day in 15 real
minutes). The local DynamoDB (moto) runs in its own process (``nephos dynamodb`` through
``fast_moto.py``, which makes moto's Query read one partition instead of sorting the whole
table) so it gets the second core; the simulator's live writer
(``simulator.writer.run_live``, 5 % late items) runs in a thread; the sensor daemon ticks
in another thread every 2 s (cursor saved); this thread plays the scheduler and the run
queue on the simulated clock: the real schedules fire at every cron tick crossed, and
requested runs are executed one at a time, oldest first (a request for a partition already
queued joins that queued run).

Measured: the run queue length and the number of closed hours still waiting for their
post-close sync, sampled all along. Asserted: neither grows from the first third of the day
to the last, and at the end METRICS holds exactly 6 rows per metric item in DynamoDB (no
loss, no duplicates), ALERTS one row per alert, INSTANCES one per instance, no rejects.
The printed ``LOAD SUMMARY`` line has the figures quoted in docs/reliability.md.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest

from nephos_pipeline.orchestration.change_sensor import build_dynamodb_change_sensor
from nephos_pipeline.orchestration.schedules import build_jobs, build_schedules
from nephos_pipeline.partitions import Partitions
from nephos_pipeline.settings import TableNames
from nephos_pipeline.simulator.spec import FleetSpec
from nephos_pipeline.simulator.writer import run_live
from nephos_pipeline_tests.helpers import dynamodb_resource
from nephos_pipeline_tests.reliability.common import FMT, sync_hour, sync_instances
from nephos_pipeline_tests.reliability.conftest import slow_enabled

INSTANCES = int(os.environ.get("NEPHOS_LOAD_INSTANCES", "100"))
HOURS = float(os.environ.get("NEPHOS_LOAD_HOURS", "24"))
SPEED = float(os.environ.get("NEPHOS_LOAD_SPEED", "96"))
SIM_START = datetime(2026, 3, 2, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]
PARTS = Partitions.build()
JOBS = build_jobs(PARTS)
SCHEDULES = {s.name: s for s in build_schedules(JOBS, dg.DefaultScheduleStatus.STOPPED)}


@pytest.fixture
def moto_process(tmp_path: Path):
    """``nephos dynamodb`` in its own process (contract tables created, no autosave), with
    moto's Query made partition-local (see fast_moto.py)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NEPHOS_HOME": str(tmp_path / "ddb")}
    proc = subprocess.Popen([sys.executable, "-m", "nephos_pipeline_tests.reliability.fast_moto", "--port", "0",
                             "--autosave-seconds", "0"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    endpoint = None
    deadline = time.monotonic() + 60
    while endpoint is None and time.monotonic() < deadline and proc.poll() is None:
        line = proc.stdout.readline()
        if match := re.search(r"NEPHOS_DYNAMODB_ENDPOINT_URL=(\S+)", line):
            endpoint = match.group(1)
    assert endpoint, "nephos dynamodb did not start"
    try:
        yield endpoint
    finally:
        os.kill(proc.pid, signal.SIGKILL)  # no shutdown snapshot: it would scan every item
        proc.wait(timeout=30)
        proc.stdout.close()


class Daemon:
    """The scheduler, the sensor daemon and a one-at-a-time run queue, on the simulated clock."""

    def __init__(self, res: dict, clock) -> None:
        self.res, self.clock = res, clock
        self.sensor = build_dynamodb_change_sensor(JOBS["sync_hourly_job"], JOBS["sync_instances_job"], PARTS,
                                                   clock=clock)
        self.cursor: str | None = None
        self.launched: set[str] = set()
        self.queue: list[str | None] = []
        self.next_quarter = SIM_START + timedelta(minutes=15)
        self.runs: list[tuple[str | None, float]] = []
        self.synced_after_close: set[str] = set()
        self.lock = threading.Lock()
        self.ticks: list[tuple[float, int]] = []  # (seconds, run requests)

    def request(self, run_key: str, partition: str | None) -> None:
        with self.lock:
            if run_key not in self.launched:
                self.launched.add(run_key)
                if partition not in self.queue:
                    self.queue.append(partition)

    def schedules(self, now: datetime) -> None:
        while self.next_quarter <= now:  # at :00 the hour's close: its sync and the instances snapshot
            name = "hour_close_schedule" if self.next_quarter.minute == 0 else "sync_schedule"
            req = SCHEDULES[name](dg.build_schedule_context(scheduled_execution_time=self.next_quarter))
            self.request(req.run_key, req.partition_key)
            if name == "hour_close_schedule":
                self.request(f"{req.run_key}:instances", None)
            self.next_quarter += timedelta(minutes=15)

    def tick(self) -> int:
        started = time.monotonic()
        ctx = dg.build_sensor_context(cursor=self.cursor, resources={"dynamodb": self.res["dynamodb"]})
        result = self.sensor(ctx)
        self.cursor = result.cursor
        for r in result.run_requests or []:
            self.request(r.run_key, r.partition_key)
        self.ticks.append((time.monotonic() - started, len(result.run_requests or [])))
        return len(result.run_requests or [])

    def sensor_loop(self, stop: threading.Event, every: float = 2.0) -> None:
        """The sensor daemon: ticks on its own, independently of the runs (as in Dagster)."""
        while not stop.wait(every):
            self.tick()

    def run_one(self) -> None:
        with self.lock:
            partition = self.queue.pop(0)
        started_sim, started = self.clock(), time.monotonic()
        result = sync_hour(self.res, partition) if partition else sync_instances(self.res)
        assert result.success, partition
        self.runs.append((partition, time.monotonic() - started))
        if partition and started_sim >= datetime.strptime(partition, FMT).replace(tzinfo=UTC) + timedelta(hours=1):
            self.synced_after_close.add(partition)

    def hours_behind(self, now: datetime) -> int:
        """Closed hours (since the start) whose post-close sync has not completed yet."""
        closed = int((now - SIM_START) / timedelta(hours=1))
        return sum(1 for h in range(closed)
                   if (SIM_START + timedelta(hours=h)).strftime(FMT) not in self.synced_after_close)


def _count(client, table: str) -> int:
    total, kwargs = 0, {"TableName": table, "Select": "COUNT"}
    while True:
        page = client.scan(**kwargs)
        total += page["Count"]
        if not page.get("LastEvaluatedKey"):
            return total
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def test_fast_moto_queries_return_what_moto_returns(dynamodb_tables, monkeypatch) -> None:
    """The load test's moto speed-up changes the cost of a Query, not its answer."""
    from nephos_pipeline.dynamodb.extract import query_instance, to_ms
    from nephos_pipeline_tests.helpers import put_metric
    from nephos_pipeline_tests.reliability import fast_moto

    t = dynamodb_tables
    start = datetime(2026, 3, 2, 10)
    for n in range(3):
        for m in range(0, 120, 7):
            put_metric(t.client, t.names, f"i-{n}", start + timedelta(minutes=m), cpu_usage=m % 100)

    def answers() -> list:
        return [query_instance(t.client, t.names.metrics, f"i-{n}", to_ms(start + timedelta(minutes=30)),
                               to_ms(start + timedelta(minutes=90)))[0] for n in range(4)]

    plain = answers()
    monkeypatch.setattr(fast_moto.Table, "all_items", fast_moto._partition_items)
    monkeypatch.setattr(fast_moto.Table, "query", fast_moto._partition_query)
    assert answers() == plain and all(plain[:3]) and plain[3] == []


@pytest.mark.slow
@pytest.mark.skipif(not slow_enabled(), reason="load test: set NEPHOS_RUN_SLOW=1")
def test_a_simulated_day_of_100_instances_keeps_up_and_loses_nothing(moto_process: str, warehouse) -> None:
    names = TableNames()
    ddb = dynamodb_resource(moto_process, names, max_attempts=8)
    res = {"warehouse": warehouse, "dynamodb": ddb}
    spec = FleetSpec(start=SIM_START, end=SIM_START, instances=INSTANCES, seed=11)
    t0: list[float] = []

    def real_clock() -> float:
        now = time.monotonic()
        if not t0:
            t0.append(now)
        return now

    def sim_clock() -> datetime:
        return SIM_START + timedelta(seconds=((time.monotonic() - t0[0]) if t0 else 0) * SPEED)

    duration = HOURS * 3600 / SPEED
    stop = threading.Event()
    written: dict = {}
    writer = threading.Thread(target=lambda: written.update(stats=run_live(
        ddb.client(), names, spec, rate=1.0, speed=SPEED, duration=duration, late=0.05, tick=0.5, stop=stop,
        clock=real_clock)), name="live-writer", daemon=True)
    daemon = Daemon(res, sim_clock)
    samples: list[tuple[float, int, int]] = []  # (simulated hours, queue length, hours behind)
    sensor_stop = threading.Event()
    sensor = threading.Thread(target=daemon.sensor_loop, args=(sensor_stop,), name="sensor-daemon", daemon=True)
    writer.start()
    sensor.start()
    started = time.monotonic()
    try:
        while writer.is_alive():
            now = sim_clock()
            daemon.schedules(now)
            samples.append(((now - SIM_START) / timedelta(hours=1), len(daemon.queue), daemon.hours_behind(now)))
            if daemon.queue:
                daemon.run_one()
            else:
                time.sleep(0.2)
    finally:
        stop.set()
        writer.join(timeout=120)
        sensor_stop.set()
        sensor.join(timeout=120)
    live_seconds = time.monotonic() - started

    # Drain: the clock moves past the last hour; the sensor and schedules catch up.
    end = SIM_START + timedelta(hours=HOURS + 2)
    daemon.clock = lambda: end
    daemon.sensor = build_dynamodb_change_sensor(JOBS["sync_hourly_job"], JOBS["sync_instances_job"], PARTS,
                                                 clock=lambda: end)
    daemon.schedules(end)
    for _ in range(20):
        daemon.tick()
        if not daemon.queue:
            break
        while daemon.queue:
            daemon.run_one()

    stats = written["stats"]
    items = _count(ddb.client(), names.metrics)
    alerts = _count(ddb.client(), names.alerts)
    rows = warehouse.query(
        "SELECT (SELECT COUNT(*) FROM METRICS) AS metric_rows, "
        "(SELECT COUNT(*) FROM (SELECT DISTINCT INSTANCE_ID, TS FROM METRICS)) AS metric_items, "
        "(SELECT COUNT(*) FROM ALERTS) AS alerts, (SELECT COUNT(*) FROM INSTANCES) AS instances, "
        "(SELECT COUNT(*) FROM REJECTS) AS rejects").iloc[0]
    thirds = [[s for s in samples if i * HOURS / 3 <= s[0] < (i + 1) * HOURS / 3] for i in range(3)]
    summary = {
        "instances": INSTANCES, "simulated_hours": HOURS, "speed": SPEED, "live_real_s": round(live_seconds),
        "written": stats.counts, "metric_items_in_dynamodb": items, "alerts_in_dynamodb": alerts,
        "warehouse": {k: int(v) for k, v in rows.items()}, "runs": len(daemon.runs),
        "mean_run_s": round(sum(d for _, d in daemon.runs) / max(len(daemon.runs), 1), 2),
        "sensor_ticks": len(daemon.ticks), "mean_tick_s": round(sum(d for d, _ in daemon.ticks) / max(len(daemon.ticks), 1), 2),
        "max_queue_by_third": [max((s[1] for s in th), default=0) for th in thirds],
        "max_hours_behind_by_third": [max((s[2] for s in th), default=0) for th in thirds],
    }
    print(f"\nLOAD SUMMARY {summary}")
    assert items == stats.counts["metrics"]  # every item written is in DynamoDB
    assert rows.metric_items == items and rows.metric_rows == 6 * items  # ...and in METRICS, once
    assert rows.alerts == alerts and rows.instances == INSTANCES and rows.rejects == 0
    queue, behind = summary["max_queue_by_third"], summary["max_hours_behind_by_third"]
    assert queue[2] <= queue[0] + 2 and behind[2] <= max(behind[0], 1) + 1, summary  # the backlog does not grow
    assert max(behind) <= 3, summary
