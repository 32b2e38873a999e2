"""Alerts: written by the agents' API, updated in place (open -> acknowledged -> resolved)."""

from __future__ import annotations

from nephos_pipeline.tables import contract as c
from nephos_pipeline.tables.declaration import Converted, Table, TableSpec


def convert(item: c.Item) -> Converted:
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


ALERTS = Table(
    name="alerts",
    spec=TableSpec("alerts", hash_key=("alert_id", "S")),
    convert=convert,
    columns=(("ALERT_ID", "VARCHAR"), ("INSTANCE_ID", "VARCHAR"), ("CREATED_AT", "TIMESTAMP_NTZ"),
             ("SEVERITY", "VARCHAR"), ("METRIC", "VARCHAR"), ("VALUE", "FLOAT"), ("THRESHOLD", "FLOAT"),
             ("MESSAGE", "VARCHAR"), ("STATUS", "VARCHAR"), ("RESOLVED_AT", "TIMESTAMP_NTZ")),
    time=("created_at", "CREATED_AT"),
    preview=("CREATED_AT", "ALERT_ID", "INSTANCE_ID", "SEVERITY", "STATUS"),
    extract_description="Alerts created in the hour (filtered parallel Scan; see dynamodb/extract.py).",
    description="ALERTS, MERGEd by alert_id from the landed window.",
)
