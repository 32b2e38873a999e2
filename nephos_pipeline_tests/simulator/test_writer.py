"""The writer against a real moto server over HTTP, plus its retry logic against a fake.

The server is started here (not from shared fixtures) so this module stands alone. All
moto servers in a process share one in-memory backend, so each test gets its own tables
under unique names rather than relying on a fresh server.
"""

from __future__ import annotations

import argparse
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from boto3.dynamodb.types import TypeDeserializer
from moto.server import ThreadedMotoServer

from nephos_pipeline.cli import simulate
from nephos_pipeline.settings import TableNames
from nephos_pipeline.simulator import FleetSpec, iter_fleet_items
from nephos_pipeline.simulator.writer import batch_write, run_live, write_fleet, write_items

END = datetime(2024, 5, 10, 12, 34, tzinfo=UTC)
STREAM = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def client(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1")


def create_tables(client: Any, names: TableNames) -> None:
    """The three contract tables: keys and streams exactly as docs/data-contract.md says."""
    keys = {
        names.metrics: [("instance_id", "S", "HASH"), ("timestamp", "N", "RANGE")],
        names.alerts: [("alert_id", "S", "HASH")],
        names.instances: [("instance_id", "S", "HASH")],
    }
    for table, key in keys.items():
        client.create_table(
            TableName=table,
            KeySchema=[{"AttributeName": n, "KeyType": k} for n, _, k in key],
            AttributeDefinitions=[{"AttributeName": n, "AttributeType": t} for n, t, _ in key],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification=STREAM,
        )


def unique_names() -> TableNames:
    suffix = uuid.uuid4().hex[:8]
    return TableNames(f"sim-metrics-{suffix}", f"sim-alerts-{suffix}", f"sim-instances-{suffix}")


@pytest.fixture
def names(client: Any) -> TableNames:
    names = unique_names()
    create_tables(client, names)
    return names


def query_count(client: Any, table: str, instance_id: str, since_ms: int = 0) -> int:
    pages = client.get_paginator("query").paginate(
        TableName=table, Select="COUNT",
        KeyConditionExpression="instance_id = :i AND #ts >= :t",
        ExpressionAttributeNames={"#ts": "timestamp"},
        ExpressionAttributeValues={":i": {"S": instance_id}, ":t": {"N": str(since_ms)}},
    )
    return sum(page["Count"] for page in pages)


def scan_count(client: Any, table: str) -> int:
    return sum(p["Count"] for p in client.get_paginator("scan").paginate(TableName=table, Select="COUNT"))


def test_backfill_two_instances_one_day(client: Any, names: TableNames) -> None:
    spec = FleetSpec.last_days(1, end=END, instances=2)
    expected = Counter(table for table, _ in iter_fleet_items(spec))
    per_instance = Counter(i["instance_id"] for t, i in iter_fleet_items(spec) if t == "metrics")
    stats = write_fleet(client, names, spec)
    print(f"\nwrote {stats.summary()}")
    assert stats.counts == dict(expected) and stats.total == 2 * 1440 + 2 + expected["alerts"]
    assert len(per_instance) == 2
    for instance_id, n in per_instance.items():
        assert query_count(client, names.metrics, instance_id) == n == 1440
    assert scan_count(client, names.alerts) == expected["alerts"] > 0
    assert scan_count(client, names.instances) == 2
    # Round trip: what DynamoDB hands back is what the generator produced.
    table, original = next((t, i) for t, i in iter_fleet_items(spec) if t == "metrics")
    key = {"instance_id": {"S": original["instance_id"]}, "timestamp": {"N": str(original["timestamp"])}}
    stored = client.get_item(TableName=names.metrics, Key=key)["Item"]
    assert {k: TypeDeserializer().deserialize(v) for k, v in stored.items()} == original


def test_live_mode_writes_current_items(client: Any, names: TableNames) -> None:
    spec = FleetSpec.last_days(0, end=END, instances=2)
    # 20 simulated minutes per real second, for about a second.
    stats = run_live(client, names, spec, speed=1200, duration=1.0, tick=0.1, late=0.2)
    assert stats.counts["instances"] == 2 and 10 <= stats.counts["metrics"] <= 2 * 40
    instance_ids = [i["instance_id"]["S"] for i in client.scan(TableName=names.instances)["Items"]]
    written = sum(query_count(client, names.metrics, iid, spec.end_ms) for iid in instance_ids)
    assert written == stats.counts["metrics"] == scan_count(client, names.metrics)


class FakeClient:
    """Leaves the last item of each request unprocessed, ``stubborn`` times."""

    def __init__(self, stubborn: int) -> None:
        self.stubborn = stubborn
        self.requests: list[dict[str, list]] = []

    def batch_write_item(self, RequestItems: dict[str, list]) -> dict[str, Any]:  # noqa: N803
        self.requests.append(RequestItems)
        if len(self.requests) <= self.stubborn:
            return {"UnprocessedItems": {t: reqs[-1:] for t, reqs in RequestItems.items()}}
        return {"UnprocessedItems": {}}


def test_unprocessed_items_are_retried_with_backoff() -> None:
    fake, delays = FakeClient(stubborn=3), []
    items = [{"alert_id": {"S": str(n)}} for n in range(25)]
    assert batch_write(fake, "t", items, sleep=delays.append) == 3
    assert [len(r["t"]) for r in fake.requests] == [25, 1, 1, 1]
    assert len(delays) == 3 and delays[0] < delays[2]  # exponential, jittered
    with pytest.raises(RuntimeError, match="unprocessed"):
        batch_write(FakeClient(stubborn=99), "t", items, sleep=lambda _: None)


def test_batches_hold_25_and_a_repeated_key_keeps_its_last_version() -> None:
    fake, names = FakeClient(stubborn=0), TableNames()
    alerts = [("alerts", {"alert_id": f"a{n}", "status": "open"}) for n in range(30)]
    stats = write_items(fake, names, [*alerts, ("alerts", {"alert_id": "a29", "status": "resolved"})])
    sent = [r["PutRequest"]["Item"] for req in fake.requests for r in req[names.alerts]]
    assert sorted(len(req[names.alerts]) for req in fake.requests) == [5, 25]
    assert {"alert_id": {"S": "a29"}, "status": {"S": "resolved"}} in sent and len(sent) == 30
    assert stats.requests == 2 and stats.counts["alerts"] == 31


def _cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    simulate.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["simulate", *argv])
    return args.func(args)


def test_cli_backfills_into_existing_tables_and_never_creates_them(
    client: Any, endpoint: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = unique_names()
    for field, name in (("METRICS", missing.metrics), ("ALERTS", missing.alerts), ("INSTANCES", missing.instances)):
        monkeypatch.setenv(f"NEPHOS_{field}_TABLE", name)
    argv = ["--endpoint-url", endpoint, "--instances", "2", "--days", "0.25", "--end", "2024-05-10T12:34"]
    assert _cli(argv) == 1
    assert "try --create-tables" in capsys.readouterr().err
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.describe_table(TableName=missing.metrics)
    create_tables(client, missing)
    assert _cli(argv) == 0
    assert "backfill done: metrics=720" in capsys.readouterr().out
    assert scan_count(client, missing.metrics) == 720
