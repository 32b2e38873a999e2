"""The data contract on bad input: every item is loaded or rejected with a reason."""

from __future__ import annotations

import pytest

from nephos_pipeline.ingest import records
from nephos_pipeline.tables import ALERTS, INSTANCES, METRICS

TS = {"N": "1767225600000"}  # 2026-01-01T00:00:00Z


def metric(**attrs):
    item = {"instance_id": {"S": "web-01"}, "timestamp": TS}
    item.update(attrs)
    return item


def test_valid_metric_item_becomes_long_rows_with_extras():
    batch = records.rows(METRICS, [metric(cpu_usage={"N": "12.5"}, gpu_usage={"N": "7"}, agent={"S": "v1"})])
    assert batch.rejects == []
    assert sorted(r[2] for r in batch.rows) == ["cpu_usage", "gpu_usage"]
    assert batch.ignored_attributes == 1
    assert batch.items == batch.loaded_items == 1


@pytest.mark.parametrize(
    ("item", "reason"),
    [
        ({"timestamp": TS, "cpu_usage": {"N": "1"}}, "instance_id: missing"),
        ({"instance_id": {"S": "a"}, "cpu_usage": {"N": "1"}}, "timestamp: missing"),
        (metric(cpu_usage={"S": "45.2"}), "cpu_usage: expected N, got S"),
        (metric(cpu_usage={"N": "NaN"}), "cpu_usage: not finite"),
        (metric(memory_usage={"N": "Infinity"}), "memory_usage: not finite"),
        (metric(disk_usage={"N": "-0.5"}), "disk_usage: -0.5 outside 0..100"),
        (metric(cpu_usage={"N": "100.01"}), "cpu_usage: 100.01 outside 0..100"),
        (metric(network_in={"N": "-3"}), "network_in: -3.0 is negative"),
        (metric(), "no numeric metric attributes"),
        ({"instance_id": {"S": "x" * 400_000}, "timestamp": TS, "cpu_usage": {"N": "1"}}, "longer than 255"),
        ({"instance_id": {"S": "a"}, "timestamp": {"N": "12"}, "cpu_usage": {"N": "1"}}, "not epoch milliseconds"),
        ({"instance_id": {"S": "bad\x00id"}, "timestamp": TS, "cpu_usage": {"N": "1"}}, "control characters"),
        ("not a map", "item is not a map"),
    ],
)
def test_bad_metric_items_are_rejected_with_reason(item, reason):
    batch = records.rows(METRICS, [item, metric(cpu_usage={"N": "1"})])
    assert batch.items == 2 and batch.loaded_items == 1
    assert len(batch.rejects) == 1
    assert reason in batch.rejects[0].reason
    assert batch.rejects[0].raw_item  # the raw item is kept for whoever fixes the agent


@pytest.mark.parametrize("iid", ["it's-a-host", "a;b", "'; DROP TABLE METRICS; --", "hôte-é-東京", 'q"uote'])
def test_hostile_but_valid_instance_ids_load_verbatim(iid):
    batch = records.rows(METRICS, [{"instance_id": {"S": iid}, "timestamp": TS, "cpu_usage": {"N": "5"}}])
    assert batch.rejects == []
    assert batch.rows[0][0] == iid


def test_alert_contract():
    good = {
        "alert_id": {"S": "a1"}, "instance_id": {"S": "web-01"}, "created_at": TS, "severity": {"S": "high"},
        "metric": {"S": "cpu_usage"}, "value": {"N": "97"}, "threshold": {"N": "90"},
        "message": {"S": "m" * 500_000}, "status": {"S": "open"},
    }
    bad_sev = {**good, "alert_id": {"S": "a2"}, "severity": {"S": "urgent"}}
    bad_status = {**good, "alert_id": {"S": "a3"}, "status": {"N": "1"}}
    batch = records.rows(ALERTS, [good, bad_sev, bad_status])
    assert batch.loaded_items == 1 and len(batch.rejects) == 2
    assert batch.truncated_fields == 1 and len(batch.rows[0][7]) == 8192
    assert "severity" in batch.rejects[0].reason and "status: expected S" in batch.rejects[1].reason


def test_instance_tags_must_be_a_map_of_strings():
    ok = {"instance_id": {"S": "i1"}, "hostname": {"S": "h"}, "tags": {"M": {"env": {"S": "prod"}}}}
    bad = {"instance_id": {"S": "i2"}, "tags": {"M": {"env": {"N": "1"}}}}
    bad2 = {"instance_id": {"S": "i3"}, "tags": {"L": []}}
    batch = records.rows(INSTANCES, [ok, bad, bad2])
    assert batch.loaded_items == 1
    assert [r.reason for r in batch.rejects] == ["tags.env: expected S, got N", "tags: expected M"]
    assert batch.rows[0][5] == '{"env": "prod"}'


@pytest.mark.parametrize("raw", ["1", "-0", "1.5e3", " 2 ", "1_000", "4.35", "0.1", "1e-400", "١٢",
                                 "12345678901234567890.123", "nan", "NaN12", "sNaN", "inf", "-Infinity", "1e400",
                                 "abc", "", "0x10", 42, 1.5, None])
def test_number_fast_path_gives_the_decimal_verdict(raw):
    """``contract.number`` parses with float() first (the sync's hot path); every value and
    every verdict must be what parsing through Decimal gives."""
    import math
    from decimal import Decimal, InvalidOperation

    from nephos_pipeline.tables import contract

    try:
        value = float(Decimal(str(raw)))
        expected = value if math.isfinite(value) else "not finite"
    except (InvalidOperation, ValueError, TypeError):
        expected = "not a number"
    try:
        got = contract.number({"x": {"N": raw}}, "x")
    except contract.ContractError as exc:
        got = str(exc).split(": ", 1)[1]
    assert got == expected and type(got) is type(expected)
