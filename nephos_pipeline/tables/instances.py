"""Instances: one item per host, read whole (a snapshot) on every sync."""

from __future__ import annotations

import json

from nephos_pipeline.tables import contract as c
from nephos_pipeline.tables.declaration import Converted, Table, TableSpec


def _tags(item: c.Item) -> str:
    attr = item.get("tags")
    if attr is None:
        return "{}"
    if not isinstance(attr, dict) or set(attr) != {"M"} or not isinstance(attr["M"], dict):
        raise c.ContractError("tags: expected M")
    tags = {}
    for key, value in attr["M"].items():
        if not isinstance(value, dict) or set(value) != {"S"}:
            kind = next(iter(value)) if isinstance(value, dict) and value else "?"
            raise c.ContractError(f"tags.{str(key)[:40]}: expected S, got {kind}")
        tags[str(key)] = c.text({"v": value}, "v")[0]
    return json.dumps(tags, ensure_ascii=False, sort_keys=True)


def convert(item: c.Item) -> Converted:
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


INSTANCES = Table(
    name="instances",
    spec=TableSpec("instances", hash_key=("instance_id", "S")),
    convert=convert,
    columns=(("INSTANCE_ID", "VARCHAR"), ("HOSTNAME", "VARCHAR"), ("REGION", "VARCHAR"), ("PLAN", "VARCHAR"),
             ("STATUS", "VARCHAR"), ("TAGS", "VARCHAR"), ("CREATED_AT", "TIMESTAMP_NTZ"),
             ("UPDATED_AT", "TIMESTAMP_NTZ"), ("LAST_DEPLOYED_AT", "TIMESTAMP_NTZ")),
    preview=("INSTANCE_ID", "HOSTNAME", "REGION", "STATUS", "LAST_DEPLOYED_AT"),
    extract_description="Full snapshot of the Instances table (parallel Scan).",
    description="INSTANCES, MERGEd by instance_id from the latest snapshot.",
)
