"""The local server's partition Query answers exactly what a Query over the table would."""

from __future__ import annotations

import pytest
from boto3.dynamodb.conditions import Attr, Key
from moto.dynamodb.models.table import Table

T0 = 1_732_600_000_000


@pytest.fixture
def metrics(dynamodb_tables):
    import boto3

    resource = boto3.resource(
        "dynamodb", endpoint_url=dynamodb_tables.endpoint_url, region_name=dynamodb_tables.region,
        aws_access_key_id="testing", aws_secret_access_key="testing",
    )
    table = resource.Table(dynamodb_tables.names.metrics)
    with table.batch_writer() as batch:
        for i in range(600):
            batch.put_item(Item={"instance_id": f"i-{i % 7}", "timestamp": T0 + i * 60_000,
                                 "cpu_usage": i % 100, "note": "x" * (i % 5)})
    return table


def _everything(table) -> list[dict]:
    items, kwargs = [], {}
    while True:
        page = table.scan(**kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _pages(table, **kwargs) -> list[list[dict]]:
    pages = []
    while True:
        page = table.query(**kwargs)
        pages.append(page["Items"])
        if "LastEvaluatedKey" not in page:
            return pages
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def test_the_server_has_the_partition_query_installed(dynamodb_server):
    assert getattr(Table.query, "reads_partition", False)


@pytest.mark.parametrize("forward", [True, False])
@pytest.mark.parametrize("limit", [None, 7])
def test_query_pages_are_the_partitions_items_in_order(metrics, forward, limit):
    everything = _everything(metrics)
    low, high = T0 + 50 * 60_000, T0 + 400 * 60_000
    expected = sorted(
        (it for it in everything if it["instance_id"] == "i-3" and low <= it["timestamp"] <= high
         and it["cpu_usage"] >= 20),
        key=lambda it: it["timestamp"], reverse=not forward,
    )
    kwargs = {"KeyConditionExpression": Key("instance_id").eq("i-3") & Key("timestamp").between(low, high),
              "FilterExpression": Attr("cpu_usage").gte(20), "ScanIndexForward": forward,
              "ProjectionExpression": "instance_id, #t, cpu_usage", "ExpressionAttributeNames": {"#t": "timestamp"}}
    if limit:
        kwargs["Limit"] = limit
    pages = _pages(metrics, **kwargs)
    got = [item for page in pages for item in page]
    assert got == [{k: it[k] for k in ("instance_id", "timestamp", "cpu_usage")} for it in expected]
    assert got and (limit is None or len(pages) > 1)


def test_a_query_never_leaks_its_partition_into_a_scan_or_an_unknown_key(metrics):
    assert _pages(metrics, KeyConditionExpression=Key("instance_id").eq("i-unknown")) == [[]]
    metrics.query(KeyConditionExpression=Key("instance_id").eq("i-1"))
    assert len(_everything(metrics)) == 600  # the Scan after it still sees every partition
