"""The local server's persistence and the ``nephos dynamodb`` command, end to end."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest

from nephos_pipeline.dynamodb import snapshot
from nephos_pipeline.dynamodb.local_server import LocalDynamoDB
from nephos_pipeline.dynamodb.snapshot import MANIFEST_NAME
from nephos_pipeline.dynamodb.tables import ensure_tables, stream_arn
from nephos_pipeline.settings import TableNames

REPO = Path(__file__).resolve().parents[2]


def _scan_all(client, table_name):
    items = []
    for page in client.get_paginator("scan").paginate(TableName=table_name):
        items += page["Items"]
    return sorted(items, key=lambda item: json.dumps(item, sort_keys=True, default=repr))


def _metric(i: int) -> dict:
    return {
        "instance_id": {"S": f"i-{i % 3:04d}"},
        "timestamp": {"N": str(1_732_600_000_000 + i * 60_000)},
        "cpu_usage": {"N": f"{i % 100}.25"},
    }


def test_save_stop_restore_round_trips_items_exactly(tmp_path):
    names = TableNames()
    instance = {
        "instance_id": {"S": "i-0001"},
        "hostname": {"S": "web-1"},
        "tags": {"M": {"env": {"S": "prod"}, "team": {"S": "core"}}},
        "big": {"N": "12345678901234567890123456789012345678"},  # 38 digits: beyond float
        "tiny": {"N": "-0.000000000000000000000000000001"},
        "blob": {"B": b"\x00\xffbinary"},
        "sets": {"L": [{"SS": ["a", "b"]}, {"NS": ["1", "2.5"]}, {"BS": [b"x"]}, {"NULL": True}]},
        "flag": {"BOOL": False},
    }
    metrics = [_metric(i) for i in range(60)]  # > 2 batches of 25

    # Separate moto accounts: in one process both servers share moto's backend.
    with LocalDynamoDB(account_id="111111111111") as first:
        client = first.client()
        ensure_tables(client, names)
        client.put_item(TableName=names.instances, Item=instance)
        for item in metrics:
            client.put_item(TableName=names.metrics, Item=item)
        old_arn = stream_arn(client, names.metrics)
        assert first.save(tmp_path) == {names.metrics: 60, names.alerts: 0, names.instances: 1}
        saved = {name: _scan_all(client, name) for name in (names.metrics, names.instances)}

    with LocalDynamoDB(account_id="222222222222") as second:
        client = second.client()
        assert client.list_tables()["TableNames"] == []
        assert second.restore(tmp_path) == {names.metrics: 60, names.alerts: 0, names.instances: 1}
        for name, items in saved.items():
            assert _scan_all(client, name) == items
        assert (
            client.get_item(TableName=names.instances, Key={"instance_id": {"S": "i-0001"}})["Item"]
            == instance
        )
        new_arn = stream_arn(client, names.metrics)
        assert new_arn is not None and new_arn != old_arn  # consumers see a recreated table
        # ... whose stream starts empty: the restore itself is not replayed as 61 inserts
        streams = second.streams_client()
        shard = streams.describe_stream(StreamArn=new_arn)["StreamDescription"]["Shards"][0]["ShardId"]
        it = streams.get_shard_iterator(StreamArn=new_arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
        assert streams.get_records(ShardIterator=it["ShardIterator"])["Records"] == []
        assert ensure_tables(client, names)  # a restored table satisfies the contract


def _manifest(directory: Path) -> dict:
    return {t["name"]: t for t in json.loads((directory / MANIFEST_NAME).read_text())["tables"]}


def test_save_is_atomic_and_writes_only_what_changed(tmp_path):
    with LocalDynamoDB(account_id="333333333333") as server:
        client = server.client()
        ensure_tables(client, TableNames())
        for i in range(40):
            client.put_item(TableName="nephos-metrics", Item=_metric(i))
        server.save(tmp_path)
        first = _manifest(tmp_path)
        assert [len(t["segments"]) for t in first.values()] == [1, 1, 1]  # one base segment each

        client.put_item(TableName="nephos-alerts", Item={"alert_id": {"S": "a-1"}})
        client.update_item(TableName="nephos-metrics", Key={k: _metric(3)[k] for k in ("instance_id", "timestamp")},
                           UpdateExpression="SET cpu_usage = :v", ExpressionAttributeValues={":v": {"N": "99"}})
        client.delete_item(TableName="nephos-metrics", Key={k: _metric(4)[k] for k in ("instance_id", "timestamp")})
        assert server.save(tmp_path) == {"nephos-metrics": 39, "nephos-alerts": 1, "nephos-instances": 0}
        second = _manifest(tmp_path)
        # Unchanged tables keep their files; changed ones gain one delta segment with just the changes.
        assert second["nephos-instances"]["segments"] == first["nephos-instances"]["segments"]
        metrics = second["nephos-metrics"]
        assert metrics["segments"][0] == first["nephos-metrics"]["segments"][0] and len(metrics["segments"]) == 2
        assert metrics["delta_items"] == 2 and second["nephos-alerts"]["delta_items"] == 1
        assert server.save(tmp_path) and _manifest(tmp_path) == second  # nothing changed: nothing written

    files = sorted(p.name for p in tmp_path.iterdir())  # no temp files, nothing the manifest does not name
    assert files == sorted([MANIFEST_NAME, *(seg for t in second.values() for seg in t["segments"])])
    assert all(t["spec"]["StreamSpecification"]["StreamEnabled"] for t in second.values())

    with LocalDynamoDB(account_id="333333333334") as other:  # base + deltas restore to the same items
        assert other.restore(tmp_path) == {"nephos-metrics": 39, "nephos-alerts": 1, "nephos-instances": 0}
        got = other.client().get_item(TableName="nephos-metrics",
                                      Key={k: _metric(3)[k] for k in ("instance_id", "timestamp")})["Item"]
        assert got["cpu_usage"] == {"N": "99"}


def test_a_table_is_rewritten_whole_once_its_deltas_outgrow_it(tmp_path, monkeypatch):
    monkeypatch.setattr(snapshot, "MAX_DELTAS", 2)
    with LocalDynamoDB(account_id="333333333335") as server:
        client = server.client()
        ensure_tables(client, TableNames())
        server.save(tmp_path)
        for i in range(4):  # one more save than MAX_DELTAS allows deltas
            client.put_item(TableName="nephos-alerts", Item={"alert_id": {"S": f"a-{i}"}})
            server.save(tmp_path)
        alerts = _manifest(tmp_path)["nephos-alerts"]
        assert len(alerts["segments"]) <= 3 and alerts["item_count"] == 4
    with LocalDynamoDB(account_id="333333333336") as other:
        assert other.restore(tmp_path)["nephos-alerts"] == 4


def test_restore_reads_the_previous_format_and_removes_stale_temp_files(tmp_path):
    spec = {"TableName": "legacy", "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}], "BillingMode": "PAY_PER_REQUEST"}
    (tmp_path / "legacy.g1.jsonl").write_text('{"id":{"S":"x"},"b":{"B":"AP8="}}\n')
    (tmp_path / ".legacy.g2.jsonl.abc.tmp").write_text("half a save, killed")
    (tmp_path / MANIFEST_NAME).write_text(json.dumps(
        {"format": 1, "tables": [{"file": "legacy.g1.jsonl", "item_count": 1, "spec": spec}]}))
    with LocalDynamoDB(account_id="333333333337", snapshot_dir=tmp_path) as server:
        assert server.restore() == {"legacy": 1}
        assert not list(tmp_path.glob(".*.tmp"))
        item = server.client().get_item(TableName="legacy", Key={"id": {"S": "x"}})["Item"]
        assert item["b"] == {"B": b"\x00\xff"}
    assert json.loads((tmp_path / MANIFEST_NAME).read_text())["format"] == snapshot.SNAPSHOT_FORMAT  # rewritten on stop


def test_autosave_skips_a_tick_while_a_save_or_restore_runs(tmp_path):
    server = LocalDynamoDB(account_id="333333333338", snapshot_dir=tmp_path, autosave_seconds=0.05)
    server._save_lock.acquire()  # what save() and restore() hold, taken before autosave starts
    with server:
        ensure_tables(server.client(), TableNames())
        time.sleep(0.3)  # six ticks
        assert not server.has_snapshot(), "autosave ran while a save/restore held the lock"
        server._save_lock.release()
        deadline = time.monotonic() + 5
        while not server.has_snapshot() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.has_snapshot()


def test_autosave_runs_in_the_background_and_stop_saves(tmp_path):
    server = LocalDynamoDB(account_id="444444444444", snapshot_dir=tmp_path, autosave_seconds=0.2)
    with server:
        ensure_tables(server.client(), TableNames())
        deadline = time.monotonic() + 5
        while not server.has_snapshot() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.has_snapshot(), "autosave never wrote a manifest"
        server.client().put_item(TableName="nephos-alerts", Item={"alert_id": {"S": "late"}})
    assert _manifest(tmp_path)["nephos-alerts"]["item_count"] == 1  # the final save on stop caught the last write


def test_busy_port_fails_fast_instead_of_hanging(dynamodb_server):
    port = int(dynamodb_server.endpoint_url.rsplit(":", 1)[1])
    with pytest.raises(OSError, match="cannot listen"):
        LocalDynamoDB(port=port).start()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_cli(home: Path, port: int) -> tuple[subprocess.Popen, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEPHOS_")}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "nephos_pipeline.cli.main",
            "dynamodb",
            "--port",
            str(port),
            "--home",
            str(home),
            "--autosave-seconds",
            "0",
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    for line in proc.stdout:  # the export line is printed once the tables are ready
        if line.startswith("export NEPHOS_DYNAMODB_ENDPOINT_URL="):
            return proc, line.strip().split("=", 1)[1]
    proc.kill()
    raise AssertionError(f"nephos dynamodb exited early: {proc.wait()} {proc.stderr.read()}")


def _stop_cli(proc: subprocess.Popen) -> str:
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, err
    return out


def _client(endpoint: str):
    """A plain boto3 client, as any other tool pointed at the endpoint would build it."""
    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.mark.timeout(60)  # reading the child's stdout would otherwise block forever on a hang
def test_cli_serves_and_saves_on_sigterm_then_restores(tmp_path):
    port = _free_port()
    proc, endpoint = _start_cli(tmp_path, port)
    try:
        assert endpoint == f"http://127.0.0.1:{port}"
        client = _client(endpoint)
        assert sorted(client.list_tables()["TableNames"]) == [
            "nephos-alerts",
            "nephos-instances",
            "nephos-metrics",
        ]
        client.put_item(TableName="nephos-instances", Item={"instance_id": {"S": "i-cli"}, "tags": {"M": {}}})
    finally:
        out = _stop_cli(proc)
    assert "saved snapshot" in out
    assert (tmp_path / "dynamodb" / MANIFEST_NAME).is_file()

    proc, endpoint = _start_cli(tmp_path, 0)  # a new process: only the snapshot carries the data
    try:
        item = _client(endpoint).get_item(TableName="nephos-instances", Key={"instance_id": {"S": "i-cli"}})
        assert item["Item"] == {"instance_id": {"S": "i-cli"}, "tags": {"M": {}}}
    finally:
        _stop_cli(proc)
