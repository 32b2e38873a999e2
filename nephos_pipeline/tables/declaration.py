"""What the pipeline needs to know about one DynamoDB table, declared once.

Everything else is derived from a :class:`Table`: the DynamoDB ``CreateTable`` arguments,
the extract's access path, the contract check, the landing and staging tables, the MERGE
files it runs, the Dagster assets and sync jobs, the change sensor's mapping of stream
records to hours, and ``nephos doctor``'s checks. Pure Python: no boto3, no Dagster, no SQL
execution, so the DynamoDB layer can import it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from nephos_pipeline.tables.contract import Item

#: Every table carries a stream with both images: the speed layer's consumers need the
#: old image to see status transitions (alerts are updated in place).
STREAM_SPECIFICATION: dict[str, Any] = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}


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

    def key_names(self) -> tuple[str, ...]:
        return tuple(k["AttributeName"] for k in self.key_schema())

    def create_table_kwargs(self, table_name: str) -> dict[str, Any]:
        """Arguments for ``CreateTable``; on-demand billing because load is bursty."""
        return {
            "TableName": table_name,
            "KeySchema": self.key_schema(),
            "AttributeDefinitions": self.attribute_definitions(),
            "BillingMode": "PAY_PER_REQUEST",
            "StreamSpecification": dict(STREAM_SPECIFICATION),
        }


@dataclass
class Converted:
    """What one valid item becomes: its rows, and counters for the run's metadata."""

    rows: list[tuple]
    truncated: int = 0
    ignored: int = 0


@dataclass(frozen=True)
class Table:
    """One DynamoDB table of the data contract and how it reaches the warehouse.

    ``name`` is the logical name (``metrics``): the key of ``TableNames``, the change
    sensor's table kind, ``REJECTS.SOURCE_TABLE``, the assets ``raw_<name>`` and ``<name>``
    and the SQL files ``load/merge_<name>.sql`` and ``load/prune_<name>.sql``. Warehouse
    identifiers (``LANDING_<NAME>``, ``STG_<NAME>``, ``<NAME>``) are derived from it, so they
    are constants of the registry, never data.
    """

    name: str
    spec: TableSpec
    convert: Callable[[Item], Converted]  # one item -> its rows, or ``ContractError``
    columns: tuple[tuple[str, str], ...]  # landing columns (name, Snowflake type) in the rows' order
    time: tuple[str, str] | None = None  # (DynamoDB attribute, column) placing an item in an hour; None: snapshot
    preview: tuple[str, ...] = ()  # columns of the merged table shown (and ordered by) in the asset's metadata
    read_per_instance: bool = False  # Query each instance's window (needs ``instance_id`` hash key and ``time`` range key)
    after: tuple[str, ...] = ()  # tables whose extract runs first (Metrics reads the instance ids)
    extract_description: str = ""
    description: str = ""
    sql_package: str = "nephos_pipeline.sql"  # where ``load/merge_<name>.sql`` etc. are found

    def __post_init__(self) -> None:
        if not self.name.isidentifier() or not self.name.islower():
            raise ValueError(f"table name {self.name!r} must be a lower-case identifier (it names SQL tables)")
        if self.read_per_instance and (self.time is None or self.spec.range_key is None
                                       or self.spec.range_key[0] != self.time[0]):
            raise ValueError(f"{self.name}: a per-instance Query needs the time attribute as the range key")

    @property
    def partitioned(self) -> bool:
        """Hourly partitions (an extract window per hour) or one snapshot of the whole table."""
        return self.time is not None

    @property
    def landing(self) -> str:
        return f"LANDING_{self.name.upper()}"

    @property
    def stage(self) -> str:
        return f"STG_{self.name.upper()}"

    @property
    def target(self) -> str:
        return self.name.upper()

    @property
    def raw_asset(self) -> str:
        return f"raw_{self.name}"

    @property
    def column_names(self) -> list[str]:
        return [name for name, _ in self.columns]

    @property
    def datetime_columns(self) -> tuple[str, ...]:
        return tuple(name for name, kind in self.columns if kind == "TIMESTAMP_NTZ")

    def sql_file(self, kind: str) -> str:
        """``load/<kind>_<name>.sql``: the table's own statements (``merge``, ``prune``)."""
        return f"load/{kind}_{self.name}.sql"
