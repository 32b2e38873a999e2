"""Metrics: one item per instance and minute, one row per metric attribute (long format)."""

from __future__ import annotations

from nephos_pipeline.tables import contract as c
from nephos_pipeline.tables.declaration import Converted, Table, TableSpec


def convert(item: c.Item) -> Converted:
    """Rows ``(instance_id, ts, metric, value)``; extra numeric attributes are kept as metrics."""
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
        raise c.ContractError("no numeric metric attributes")
    return out


METRICS = Table(
    name="metrics",
    spec=TableSpec("metrics", hash_key=("instance_id", "S"), range_key=("timestamp", "N")),
    convert=convert,
    columns=(("INSTANCE_ID", "VARCHAR"), ("TS", "TIMESTAMP_NTZ"), ("METRIC", "VARCHAR"), ("VALUE", "FLOAT")),
    time=("timestamp", "TS"),
    preview=("TS", "INSTANCE_ID", "METRIC", "VALUE"),
    read_per_instance=True,
    after=("instances",),
    extract_description="Metrics items per hour: a Query per instance (registered or known to report) over the "
                        "window, landed with rejects.",
    description="METRICS (long format: instance, ts, metric, value), MERGEd from the landed window.",
)
