"""Small helpers shared by tests: write contract-shaped items and build resources."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from nephos_pipeline.dynamodb.resource import DynamoDBResource
from nephos_pipeline.settings import TableNames


def ms(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def put_instance(client: Any, names: TableNames, instance_id: str, **extra: Any) -> None:
    item = {
        "instance_id": {"S": instance_id},
        "hostname": {"S": extra.pop("hostname", instance_id)},
        "region": {"S": "ewr"},
        "plan": {"S": "vc2-1c-1gb"},
        "status": {"S": "active"},
        "tags": {"M": {"env": {"S": "test"}}},
        "created_at": {"N": "1767225600000"},
        "updated_at": {"N": "1767225600000"},
    }
    item.update(extra)
    client.put_item(TableName=names.instances, Item=item)


def put_metric(client: Any, names: TableNames, instance_id: str, at: datetime | int, **values: Any) -> None:
    ts = at if isinstance(at, int) else ms(at)
    item = {"instance_id": {"S": instance_id}, "timestamp": {"N": str(ts)}}
    for key, value in values.items():
        item[key] = value if isinstance(value, dict) else {"N": str(value)}
    client.put_item(TableName=names.metrics, Item=item)


def put_alert(client: Any, names: TableNames, alert_id: str, instance_id: str, at: datetime, **extra: Any) -> None:
    item = {
        "alert_id": {"S": alert_id},
        "instance_id": {"S": instance_id},
        "created_at": {"N": str(ms(at))},
        "severity": {"S": "high"},
        "metric": {"S": "cpu_usage"},
        "value": {"N": "97"},
        "threshold": {"N": "90"},
        "message": {"S": "CPU above 90%"},
        "status": {"S": "open"},
    }
    item.update(extra)
    client.put_item(TableName=names.alerts, Item=item)


def dynamodb_resource(endpoint_url: str, names: TableNames, **kwargs: Any) -> DynamoDBResource:
    return DynamoDBResource(
        region_name="us-east-1",
        endpoint_url=endpoint_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        metrics_table=names.metrics,
        alerts_table=names.alerts,
        instances_table=names.instances,
        **kwargs,
    )
