"""The three speed-layer tables, as specified in ``docs/data-contract.md``.

The specs live in code (not in a CloudFormation file) so the local server, the test
fixtures and any provisioning script create byte-for-byte the same tables: a mismatch in
key schema between local and production is exactly the kind of bug that only shows up
after deploy.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, fields
from typing import Any

from nephos_pipeline.settings import TableNames

log = logging.getLogger(__name__)

#: Every table carries a stream with both images: the speed layer's consumers need the
#: old image to see status transitions (alerts are updated in place).
STREAM_SPECIFICATION: dict[str, Any] = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}

# Tables become ACTIVE instantly on moto; on real AWS it takes seconds. Poll every
# second rather than the waiter's default 20 s so local runs are not slowed down.
_WAITER_CONFIG = {"Delay": 1, "MaxAttempts": 120}


@dataclass(frozen=True)
class TableSpec:
    """Key schema of one contract table; the physical name comes from ``TableNames``."""

    logical_name: str
    hash_key: tuple[str, str]
    range_key: tuple[str, str] | None = None

    def key_schema(self) -> list[dict[str, str]]:
        schema = [{"AttributeName": self.hash_key[0], "KeyType": "HASH"}]
        if self.range_key:
            schema.append({"AttributeName": self.range_key[0], "KeyType": "RANGE"})
        return schema

    def attribute_definitions(self) -> list[dict[str, str]]:
        keys = [self.hash_key, *([self.range_key] if self.range_key else [])]
        return [{"AttributeName": name, "AttributeType": kind} for name, kind in keys]

    def create_table_kwargs(self, table_name: str) -> dict[str, Any]:
        """Arguments for ``CreateTable``; on-demand billing because load is bursty."""
        return {
            "TableName": table_name,
            "KeySchema": self.key_schema(),
            "AttributeDefinitions": self.attribute_definitions(),
            "BillingMode": "PAY_PER_REQUEST",
            "StreamSpecification": dict(STREAM_SPECIFICATION),
        }


#: Keyed by the field names of ``TableNames`` so the two can be zipped.
TABLE_SPECS: dict[str, TableSpec] = {
    "metrics": TableSpec("metrics", hash_key=("instance_id", "S"), range_key=("timestamp", "N")),
    "alerts": TableSpec("alerts", hash_key=("alert_id", "S")),
    "instances": TableSpec("instances", hash_key=("instance_id", "S")),
}


def table_names_by_logical_name(names: TableNames) -> dict[str, str]:
    """``{"metrics": "nephos-metrics", ...}`` in the order of ``TableNames``' fields."""
    return {f.name: getattr(names, f.name) for f in fields(names)}


def _describe(client: Any, table_name: str) -> dict[str, Any] | None:
    try:
        return client.describe_table(TableName=table_name)["Table"]
    except client.exceptions.ResourceNotFoundException:
        return None


def _check_key_schema(spec: TableSpec, table: dict[str, Any]) -> None:
    """An existing table with another key schema would corrupt every read: fail loudly."""
    actual = sorted((k["AttributeName"], k["KeyType"]) for k in table["KeySchema"])
    expected = sorted((k["AttributeName"], k["KeyType"]) for k in spec.key_schema())
    if actual != expected:
        raise ValueError(
            f"table {table['TableName']!r} exists with key schema {actual}, "
            f"but the data contract needs {expected} for {spec.logical_name}"
        )


def ensure_tables(client: Any, names: TableNames) -> dict[str, str]:
    """Create whichever contract tables are missing, wait until all are ACTIVE.

    Idempotent: existing tables are left as they are (after a key-schema check), so it is
    safe to call on every start-up of the local server and in every test. Returns
    ``{logical_name: table_name}``.
    """
    mapping = table_names_by_logical_name(names)
    for logical, table_name in mapping.items():
        spec = TABLE_SPECS[logical]
        existing = _describe(client, table_name)
        if existing is not None:
            _check_key_schema(spec, existing)
            continue
        try:
            client.create_table(**spec.create_table_kwargs(table_name))
            log.info("created DynamoDB table %s (%s)", table_name, logical)
        except client.exceptions.ResourceInUseException:
            # Someone else created it between our describe and create: that is fine.
            log.info("DynamoDB table %s appeared concurrently", table_name)
    waiter = client.get_waiter("table_exists")
    for table_name in mapping.values():
        waiter.wait(TableName=table_name, WaiterConfig=_WAITER_CONFIG)
    return mapping


def stream_arn(client: Any, table_name: str) -> str | None:
    """The table's current stream ARN, or ``None`` if it has no enabled stream.

    A missing table raises ``ResourceNotFoundException``: silently returning ``None`` there
    would make "wrong table name" look like "streams disabled".
    """
    table = client.describe_table(TableName=table_name)["Table"]
    if not table.get("StreamSpecification", {}).get("StreamEnabled"):
        return None
    return table.get("LatestStreamArn")
