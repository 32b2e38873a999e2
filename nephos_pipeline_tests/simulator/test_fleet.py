"""The fleet generator: determinism, contract shapes, planted scenarios, laziness.

Pure tests (no boto3): the generator must be usable and checkable on its own, and the
scenario checks here are the same ones downstream detectors are judged by.
"""

from __future__ import annotations

import itertools
import time
import tracemalloc
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest

from nephos_pipeline.simulator import (
    SCENARIO_HOSTS,
    FleetModel,
    FleetSpec,
    instance_items,
    iter_alerts,
    iter_fleet_items,
    iter_metrics,
    scenario_truth,
)
from nephos_pipeline.simulator.live import LiveFleet
from nephos_pipeline.simulator.spec import to_ms

END = datetime(2024, 5, 10, 12, 34, tzinfo=UTC)
METRIC_KEYS = {"instance_id", "timestamp", "cpu_usage", "memory_usage", "disk_usage",
               "network_in", "network_out", "load_avg"}
ALERT_KEYS = {"alert_id", "instance_id", "created_at", "severity", "metric", "value", "threshold",
              "message", "status"}
INSTANCE_KEYS = {"instance_id", "hostname", "region", "plan", "status", "tags", "created_at", "updated_at"}


def spec(days: float = 1, **kw: object) -> FleetSpec:
    return FleetSpec.last_days(days, end=END, **kw)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def scenario_fleet() -> dict:
    """Four scenario hosts over three days, as arrays per hostname: built once.

    On the classic profile (one cosine a day): these tests pin the planted stories' exact
    shapes against a plain baseline; the realistic profile has its own tests
    (``test_realistic.py``) and the analytics scenario tests run on it.
    """
    s = spec(3, instances=4, profile="classic")
    truth = scenario_truth(s)
    by_id = {iid: name for name, iid in truth.instance_ids.items()}
    cols: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    alerts, instances = [], {}
    for table, item in iter_fleet_items(s):
        if table == "metrics":
            c = cols[by_id[item["instance_id"]]]
            c["timestamp"].append(item["timestamp"])
            for k in ("cpu_usage", "memory_usage", "disk_usage"):
                c[k].append(float(item[k]))
        elif table == "alerts":
            alerts.append(item)
        else:
            instances[item["hostname"]] = item
    arrays = {h: {k: np.array(v) for k, v in c.items()} for h, c in cols.items()}
    return {"spec": s, "truth": truth, "m": arrays, "alerts": alerts, "instances": instances}


def test_same_seed_same_items_other_seed_other_items() -> None:
    first = list(itertools.islice(iter_fleet_items(spec(seed=7)), 3000))
    again = list(itertools.islice(iter_fleet_items(spec(seed=7)), 3000))
    other = list(itertools.islice(iter_fleet_items(spec(seed=8)), 3000))
    assert first == again
    assert first != other
    values = lambda items: [i.get("cpu_usage") for _, i in items]  # noqa: E731
    assert values(first) != values(other)


def test_metric_items_match_the_contract() -> None:
    s = spec(1, instances=8)
    items = list(iter_metrics(s))
    assert 8 * 1440 * 0.99 <= len(items) <= 8 * 1440  # ~one per instance-minute, rare gaps
    for item in items:
        assert set(item) == METRIC_KEYS
        assert isinstance(item["instance_id"], str) and isinstance(item["timestamp"], int)
        assert s.start_ms <= item["timestamp"] < s.end_ms
        for key in METRIC_KEYS - {"instance_id", "timestamp"}:
            assert isinstance(item[key], Decimal), key
        for key in ("cpu_usage", "memory_usage", "disk_usage"):
            assert 0 <= item[key] <= 100
        assert item["network_in"] >= 0 and item["network_out"] >= 0 and item["load_avg"] >= 0
    keys = [(i["instance_id"], i["timestamp"]) for i in items]
    assert len(set(keys)) == len(keys)
    assert len({i["instance_id"] for i in items}) == 8


def test_instance_and_alert_items_match_the_contract() -> None:
    s = spec(2, instances=8)
    instances = instance_items(s)
    assert len(instances) == 8
    for item in instances:
        assert INSTANCE_KEYS <= set(item) <= INSTANCE_KEYS | {"last_deployed_at"}
        assert all(isinstance(item[k], str) for k in ("instance_id", "hostname", "region", "plan", "status"))
        assert item["tags"] and all(isinstance(k, str) and isinstance(v, str) for k, v in item["tags"].items())
        assert all(isinstance(item[k], int) for k in INSTANCE_KEYS | {"last_deployed_at"} if k.endswith("_at") and k in item)
        assert item["updated_at"] >= item["created_at"]
    alerts = list(iter_alerts(s))
    assert alerts, "the scenarios raise alerts"
    for item in alerts:
        assert ALERT_KEYS <= set(item) <= ALERT_KEYS | {"resolved_at"}
        assert item["severity"] in {"low", "medium", "high", "critical"}
        assert item["status"] in {"open", "acknowledged", "resolved"}
        assert ("resolved_at" in item) == (item["status"] == "resolved")
        assert isinstance(item["value"], Decimal) and isinstance(item["threshold"], Decimal)
        assert isinstance(item["created_at"], int) and item["value"] > item["threshold"]
    assert len({a["alert_id"] for a in alerts}) == len(alerts)


def test_host_names() -> None:
    names = [i["hostname"] for i in instance_items(spec(instances=8))]
    assert names[:4] == list(SCENARIO_HOSTS)
    assert names[4:] == ["web-01", "api-01", "worker-01", "cache-01"]
    plain = [i["hostname"] for i in instance_items(spec(instances=6, scenarios=False))]
    assert not set(plain) & set(SCENARIO_HOSTS)
    assert scenario_truth(spec(instances=2)).hosts == SCENARIO_HOSTS[:2]


def test_a_minute_is_the_same_whichever_window_asks_for_it() -> None:
    s = spec(2, instances=6)
    model, later = FleetModel(s), FleetModel(spec(1, instances=6))
    host = model.hosts[5]  # an ordinary host
    day = s.end_ms // 86_400_000
    a = model.frame(host, day).values["cpu_usage"]
    b = later.frame(later.hosts[5], day).values["cpu_usage"]
    assert np.array_equal(a, b)


def _minute_of_day(ts: np.ndarray) -> np.ndarray:
    return (ts // 60_000) % 1440


def test_batch_worker_spikes_every_day_at_1400(scenario_fleet: dict) -> None:
    truth, m = scenario_fleet["truth"], scenario_fleet["m"][scenario_fleet["truth"].spike_host]
    minute, day = _minute_of_day(m["timestamp"]), m["timestamp"] // 86_400_000
    lo = truth.spike_hour * 60
    in_spike = (minute >= lo) & (minute < lo + truth.spike_minutes)
    around = ((minute >= lo - 60) & (minute < lo)) | ((minute >= lo + 30) & (minute < lo + 90))
    days = [d for d in np.unique(day) if (in_spike & (day == d)).sum() == 30]
    assert len(days) >= 2
    for d in days:
        for metric, delta in (("cpu_usage", truth.spike_cpu_delta), ("memory_usage", truth.spike_memory_delta)):
            jump = m[metric][in_spike & (day == d)].mean() - m[metric][around & (day == d)].mean()
            assert delta * 0.8 < jump < delta * 1.2, (metric, d, jump)
    assert m["cpu_usage"][~in_spike].max() < 70


def test_prod_web_deploys_then_memory_spikes(scenario_fleet: dict) -> None:
    truth, s = scenario_fleet["truth"], scenario_fleet["spec"]
    m = scenario_fleet["m"][truth.deploy_host]
    assert scenario_fleet["instances"][truth.deploy_host]["last_deployed_at"] == to_ms(truth.deployed_at)
    assert truth.deployed_at == (s.end - timedelta(hours=6)).replace(minute=7)
    assert truth.deployed_at < truth.memory_spike_start <= truth.deployed_at + timedelta(minutes=10)
    ts, mem = m["timestamp"], m["memory_usage"]
    core = (ts >= to_ms(truth.memory_spike_start) + 180_000) & (ts < to_ms(truth.memory_spike_end) - 180_000)
    assert core.sum() >= 38 and mem[core].min() > 90 and abs(mem[core].mean() - 95) < 1.5
    outside = (ts < to_ms(truth.memory_spike_start)) | (ts >= to_ms(truth.memory_spike_end) + 60_000)
    assert 38 < mem[outside].min() and mem[outside].max() < 57
    first_high = ts[mem > 80].min()
    assert to_ms(truth.deployed_at) < first_high < to_ms(truth.deployed_at) + 10 * 60_000
    mem_alerts = [a for a in scenario_fleet["alerts"] if a["instance_id"] == truth.instance_ids[truth.deploy_host]]
    assert len(mem_alerts) == 1 and mem_alerts[0]["metric"] == "memory_usage"
    assert mem_alerts[0]["status"] == "resolved"
    assert to_ms(truth.memory_spike_start) <= mem_alerts[0]["created_at"] <= to_ms(truth.memory_spike_start) + 600_000


def test_db_primary_disk_reaches_90_at_the_stated_crossing(scenario_fleet: dict) -> None:
    truth = scenario_fleet["truth"]
    m = scenario_fleet["m"][truth.disk_host]
    hours = (m["timestamp"] - to_ms(truth.start)) / 3_600_000
    slope, intercept = np.polyfit(hours, m["disk_usage"], 1)
    crossing_h = (truth.disk_threshold - intercept) / slope
    true_h = (truth.disk_crossing_at - truth.start).total_seconds() / 3600
    assert abs(crossing_h - true_h) / true_h < 0.01
    assert truth.disk_crossing_at == truth.end + timedelta(hours=72)
    assert truth.disk_at(truth.disk_crossing_at) == pytest.approx(90.0)
    assert m["disk_usage"][-60:].mean() < 85  # well below 90 at the end
    half = len(hours) // 2
    s1, s2 = np.polyfit(hours[:half], m["disk_usage"][:half], 1)[0], np.polyfit(hours[half:], m["disk_usage"][half:], 1)[0]
    assert s1 == pytest.approx(truth.disk_slope_per_hour, rel=0.02) and s2 == pytest.approx(s1, rel=0.03)


def test_control_host_is_clean(scenario_fleet: dict) -> None:
    truth = scenario_fleet["truth"]
    m = scenario_fleet["m"][truth.control_host]
    assert not [a for a in scenario_fleet["alerts"] if a["instance_id"] == truth.instance_ids[truth.control_host]]
    assert m["cpu_usage"].max() < 60 and m["memory_usage"].max() < 60
    assert "last_deployed_at" not in scenario_fleet["instances"][truth.control_host]
    hours = (m["timestamp"] - m["timestamp"][0]) / 3_600_000
    assert abs(np.polyfit(hours, m["disk_usage"], 1)[0]) < 0.002  # no disk trend
    peak_hour = np.bincount(_minute_of_day(m["timestamp"]) // 60, weights=m["cpu_usage"]).argmax()
    assert 13 <= peak_hour <= 17  # daily cycle peaks in the UTC afternoon


def test_big_fleet_streams_lazily() -> None:
    big = FleetSpec.last_days(30, end=END, instances=100)
    tracemalloc.start()
    started = time.perf_counter()
    stream = iter_fleet_items(big)
    first = list(itertools.islice(stream, 500))
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert iter(stream) is stream  # a generator, not a list
    assert [t for t, _ in first[:100]] == ["instances"] * 100 and first[-1][0] == "metrics"
    assert elapsed < 2.0 and peak < 30 * 2**20


def test_live_continues_after_the_backfill_and_updates_alerts_in_place() -> None:
    # End just before the batch worker's 14:00 spike so live mode sees it open and resolve.
    s = FleetSpec.last_days(0.5, end=datetime(2024, 5, 10, 13, 50, tzinfo=UTC), instances=4)
    live = LiveFleet(FleetModel(s), late=0.1)
    assert len(live.start()) == 4
    seen, versions = [], defaultdict(list)
    for minute in range(1, 61):
        for table, item in live.advance(s.end_ms + minute * 60_000):
            if table == "metrics":
                seen.append((item["instance_id"], item["timestamp"]))
            else:
                versions[item["alert_id"]].append(item["status"])
    held = live.held
    seen += [(i["instance_id"], i["timestamp"]) for _, i in live.drain()]
    assert held > 0 and len(seen) == len(set(seen)) == 4 * 60
    assert all(s.end_ms <= ts < s.end_ms + 3_600_000 for _, ts in seen)
    assert ["open", "acknowledged", "resolved"] in versions.values()


def test_live_resolves_in_place_an_alert_the_backfill_left_open() -> None:
    # Classic profile: the alert this test follows is one the cosine baseline is known to leave open.
    s = FleetSpec.last_days(0.5, end=datetime(2024, 5, 10, 14, 20, tzinfo=UTC), instances=1, profile="classic")
    left_open = [a for a in iter_alerts(s) if a["status"] != "resolved"]
    assert len(left_open) == 1 and left_open[0]["metric"] == "cpu_usage"
    live = LiveFleet(FleetModel(s))
    live.start()
    updates = [i for m in range(1, 31) for t, i in live.advance(s.end_ms + m * 60_000) if t == "alerts"]
    assert {u["alert_id"] for u in updates} == {left_open[0]["alert_id"]}  # no second alert raised
    assert [u["status"] for u in updates] == ["acknowledged", "resolved"]
