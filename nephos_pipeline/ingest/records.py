"""Turn raw DynamoDB items into warehouse rows, or into rejects with a reason.

``rows`` takes items in AttributeValue form and a table's declaration (whose converter
lives in ``nephos_pipeline.tables``) and returns a :class:`Batch`: typed rows for the
landing table, rejects, and counters. Every item ends up either loaded or rejected, so
``items == loaded_items + len(rejects)`` always holds.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from nephos_pipeline.tables import Table
from nephos_pipeline.tables.contract import ContractError, Item

MAX_RAW_CHARS = 1_000_000  # a raw item is at most 400 KB in DynamoDB; this is a safety cap


@dataclass
class Reject:
    item_key: str
    reason: str
    raw_item: str


@dataclass
class Batch:
    rows: list[tuple] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    items: int = 0
    loaded_items: int = 0
    truncated_fields: int = 0
    ignored_attributes: int = 0

    def extend(self, other: Batch) -> None:
        self.rows += other.rows
        self.rejects += other.rejects
        self.items += other.items
        self.loaded_items += other.loaded_items
        self.truncated_fields += other.truncated_fields
        self.ignored_attributes += other.ignored_attributes


def raw_json(item: Any) -> str:
    try:
        text = json.dumps(item, ensure_ascii=False, default=str, sort_keys=True)
    except (TypeError, ValueError) as exc:
        text = json.dumps({"unserialisable": repr(exc)})
    return text[:MAX_RAW_CHARS]


def _key_of(item: Any, *names: str) -> str:
    parts = []
    for name in names:
        attr = item.get(name) if isinstance(item, dict) else None
        value = next(iter(attr.values())) if isinstance(attr, dict) and len(attr) == 1 else None
        parts.append(str(value)[:200] if value is not None else "?")
    return "|".join(parts)


def rows(table: Table, items: Iterable[Item]) -> Batch:
    """Convert items with the table's converter; each one is loaded or rejected with its reason."""
    key_names = table.spec.key_names()
    batch = Batch()
    for item in items:
        batch.items += 1
        try:
            if not isinstance(item, dict):
                raise ContractError("item is not a map")
            converted = table.convert(item)
        except ContractError as exc:
            batch.rejects.append(Reject(_key_of(item, *key_names), str(exc), raw_json(item)))
            continue
        batch.rows += converted.rows
        batch.loaded_items += 1
        batch.truncated_fields += converted.truncated
        batch.ignored_attributes += converted.ignored
    return batch
