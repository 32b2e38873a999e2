"""The contract tables, created on a real moto server and checked through the real API."""

from __future__ import annotations

import uuid

import pytest

from nephos_pipeline.dynamodb.tables import (
    STREAM_SPECIFICATION,
    TABLE_SPECS,
    ensure_tables,
    stream_arn,
    table_names_by_logical_name,
)


def test_tables_match_the_data_contract(dynamodb_tables):
    client = dynamodb_tables.client
    expected_keys = {
        "metrics": [("instance_id", "HASH", "S"), ("timestamp", "RANGE", "N")],
        "alerts": [("alert_id", "HASH", "S")],
        "instances": [("instance_id", "HASH", "S")],
    }
    for logical, table_name in table_names_by_logical_name(dynamodb_tables.names).items():
        table = client.describe_table(TableName=table_name)["Table"]
        types = {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]}
        keys = [(k["AttributeName"], k["KeyType"], types[k["AttributeName"]]) for k in table["KeySchema"]]
        assert keys == expected_keys[logical]
        assert table["TableStatus"] == "ACTIVE"
        assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
        assert table["StreamSpecification"] == STREAM_SPECIFICATION
        assert stream_arn(client, table_name) == table["LatestStreamArn"]


def test_ensure_tables_is_idempotent(dynamodb_tables):
    client, names = dynamodb_tables.client, dynamodb_tables.names
    arns_before = {n: stream_arn(client, n) for n in table_names_by_logical_name(names).values()}
    client.put_item(TableName=names.alerts, Item={"alert_id": {"S": "a-1"}, "status": {"S": "open"}})

    assert ensure_tables(client, names) == {
        "metrics": names.metrics,
        "alerts": names.alerts,
        "instances": names.instances,
    }
    # Nothing was recreated: same streams, data still there.
    assert {n: stream_arn(client, n) for n in arns_before} == arns_before
    assert client.get_item(TableName=names.alerts, Key={"alert_id": {"S": "a-1"}})["Item"]["status"] == {
        "S": "open"
    }


def test_stream_sees_an_insert_from_trim_horizon(dynamodb_tables):
    client, streams, names = dynamodb_tables.client, dynamodb_tables.streams, dynamodb_tables.names
    item = {
        "instance_id": {"S": "i-0001"},
        "timestamp": {"N": "1732600000000"},
        "cpu_usage": {"N": "42.5"},
    }
    client.put_item(TableName=names.metrics, Item=item)

    description = streams.describe_stream(StreamArn=stream_arn(client, names.metrics))["StreamDescription"]
    assert description["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert description["StreamStatus"] == "ENABLED"
    records = []
    for shard in description["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=description["StreamArn"], ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        records += streams.get_records(ShardIterator=iterator)["Records"]

    assert [r["eventName"] for r in records] == ["INSERT"]
    assert records[0]["dynamodb"]["Keys"] == {k: item[k] for k in ("instance_id", "timestamp")}
    assert records[0]["dynamodb"]["NewImage"] == item


def test_stream_arn_is_none_without_a_stream(dynamodb_server):
    client = dynamodb_server.client()
    name = f"nephos-plain-{uuid.uuid4().hex[:10]}"
    kwargs = TABLE_SPECS["alerts"].create_table_kwargs(name)
    del kwargs["StreamSpecification"]
    client.create_table(**kwargs)
    try:
        assert stream_arn(client, name) is None
    finally:
        client.delete_table(TableName=name)


def test_ensure_tables_refuses_a_table_with_the_wrong_key_schema(dynamodb_tables):
    client, names = dynamodb_tables.client, dynamodb_tables.names
    client.delete_table(TableName=names.metrics)
    client.create_table(**TABLE_SPECS["instances"].create_table_kwargs(names.metrics))  # no sort key

    with pytest.raises(ValueError, match="key schema"):
        ensure_tables(client, names)
