"""Create and check the registered speed-layer tables (``docs/data-contract.md``).

The specs live in code (each table's declaration in ``nephos_pipeline.tables``), not in a
CloudFormation file, so the local server, the test fixtures and any provisioning script
create byte-for-byte the same tables: a mismatch in key schema between local and
production is exactly the kind of bug that only shows up after deploy.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from nephos_pipeline.settings import TableNames
from nephos_pipeline.tables import TABLES, Table, TableSpec
from nephos_pipeline.tables.declaration import STREAM_SPECIFICATION

__all__ = ["STREAM_SPECIFICATION", "TABLE_SPECS", "TableSpec", "ensure_tables", "stream_arn",
           "table_names_by_logical_name"]

log = logging.getLogger(__name__)

# Tables become ACTIVE instantly on moto; on real AWS it takes seconds. Poll every
# second rather than the waiter's default 20 s so local runs are not slowed down.
_WAITER_CONFIG = {"Delay": 1, "MaxAttempts": 120}

#: Keyed by logical name, in registry order (``nephos_pipeline.tables``).
TABLE_SPECS: dict[str, TableSpec] = {t.name: t.spec for t in TABLES}


def table_names_by_logical_name(names: TableNames, tables: Iterable[Table] = TABLES) -> dict[str, str]:
    """``{"metrics": "nephos-metrics", ...}`` for every registered table, in registry order."""
    return {t.name: names.of(t.name) for t in tables}


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


def ensure_tables(client: Any, names: TableNames, tables: Iterable[Table] = TABLES) -> dict[str, str]:
    """Create whichever contract tables are missing, wait until all are ACTIVE.

    Idempotent: existing tables are left as they are (after a key-schema check), so it is
    safe to call on every start-up of the local server and in every test. Returns
    ``{logical_name: table_name}``.
    """
    tables = list(tables)
    mapping = table_names_by_logical_name(names, tables)
    for table in tables:
        spec, table_name, logical = table.spec, mapping[table.name], table.name
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
