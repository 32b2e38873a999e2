"""Turn raw DynamoDB items into warehouse rows, or into rejects with a reason.

Each ``*_rows`` function takes items in AttributeValue form and returns a
:class:`Batch`: typed rows for the landing table, rejects, and counters. Every item ends
up either loaded or rejected, so ``items == loaded_items + len(rejects)`` always holds.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from nephos_pipeline.ingest import contract as c
from nephos_pipeline.ingest.contract import ContractError, Item

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


@dataclass
class Converted:
    """What one valid item becomes: its rows, and counters for the run's metadata."""

    rows: list[tuple]
    truncated: int = 0
    ignored: int = 0


def _convert(items: Iterable[Item], key_names: tuple[str, ...], one: Callable[[Item], Converted]) -> Batch:
    """The loop every table shares: each item is converted, or rejected with its reason."""
    batch = Batch()
    for item in items:
        batch.items += 1
        try:
            if not isinstance(item, dict):
                raise ContractError("item is not a map")
            converted = one(item)
        except ContractError as exc:
            batch.rejects.append(Reject(_key_of(item, *key_names), str(exc), raw_json(item)))
            continue
        batch.rows += converted.rows
        batch.loaded_items += 1
        batch.truncated_fields += converted.truncated
        batch.ignored_attributes += converted.ignored
    return batch


def _metric(item: Item) -> Converted:
    instance_id = c.ident(item, "instance_id")
    ts = c.epoch_ms(item, "timestamp")
    out = Converted([])
    for name, attr in item.items():
        if name in c.METRIC_KEYS:
            continue
        if c.is_known_metric(name) or (isinstance(attr, dict) and "N" in attr):
            value = c.number(item, name)
            c.check_metric_value(name, value)
            out.rows.append((instance_id, ts, name, value))
        else:
            out.ignored += 1  # non-numeric extras (agent version, labels) are not metrics
    if not out.rows:
        raise ContractError("no numeric metric attributes")
    return out


def metric_rows(items: Iterable[Item]) -> Batch:
    """Long-format rows ``(instance_id, ts, metric, value)``; extra numeric attributes kept."""
    return _convert(items, ("instance_id", "timestamp"), _metric)


def _alert(item: Item) -> Converted:
    message, truncated = c.text(item, "message")
    row = (
        c.ident(item, "alert_id"),
        c.ident(item, "instance_id"),
        c.epoch_ms(item, "created_at"),
        c.enum(item, "severity", c.SEVERITIES),
        c.ident(item, "metric"),
        c.number(item, "value", required=False),
        c.number(item, "threshold", required=False),
        message,
        c.enum(item, "status", c.ALERT_STATUSES),
        c.epoch_ms(item, "resolved_at", required=False),
    )
    return Converted([row], truncated=int(truncated))


def alert_rows(items: Iterable[Item]) -> Batch:
    return _convert(items, ("alert_id",), _alert)


def _tags(item: Item) -> str:
    attr = item.get("tags")
    if attr is None:
        return "{}"
    if not isinstance(attr, dict) or set(attr) != {"M"} or not isinstance(attr["M"], dict):
        raise ContractError("tags: expected M")
    tags = {}
    for key, value in attr["M"].items():
        if not isinstance(value, dict) or set(value) != {"S"}:
            kind = next(iter(value)) if isinstance(value, dict) and value else "?"
            raise ContractError(f"tags.{str(key)[:40]}: expected S, got {kind}")
        tags[str(key)] = c.text({"v": value}, "v")[0]
    return json.dumps(tags, ensure_ascii=False, sort_keys=True)


def _instance(item: Item) -> Converted:
    return Converted([(
        c.ident(item, "instance_id"),
        c.text(item, "hostname")[0],
        c.text(item, "region")[0],
        c.text(item, "plan")[0],
        c.text(item, "status")[0],
        _tags(item),
        c.epoch_ms(item, "created_at", required=False),
        c.epoch_ms(item, "updated_at", required=False),
        c.epoch_ms(item, "last_deployed_at", required=False),
    )])


def instance_rows(items: Iterable[Item]) -> Batch:
    return _convert(items, ("instance_id",), _instance)
