"""Warehouse reads the analyses share: host names, hourly series for charts, root-cause context."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import pandas as pd

from nephos_pipeline.analytics.common import series_lookup
from nephos_pipeline.warehouse import Warehouse


def host_names(warehouse: Warehouse, conn: Any) -> dict[str, str]:
    df = warehouse.query("SELECT INSTANCE_ID, HOSTNAME FROM INSTANCES", None, conn)
    return {r.instance_id: (r.hostname or r.instance_id) for r in df.itertuples(index=False)}


def hourly_series(warehouse: Warehouse, conn: Any, start: datetime, end: datetime,
                  instance_ids: Sequence[str] | None = None) -> dict[tuple[str, str], list]:
    """Hourly means per (instance, metric) for charts; ``instance_ids`` limits the hosts read,
    so a large fleet with a few findings does not read every host's week."""
    df = warehouse.query(
        "SELECT INSTANCE_ID, METRIC, HOUR_START, AVG_VALUE FROM METRICS_HOURLY "
        "WHERE HOUR_START >= %(start)s::TIMESTAMP_NTZ AND HOUR_START < %(end)s::TIMESTAMP_NTZ "
        "AND (%(ids)s IS NULL OR INSTANCE_ID IN "
        "(SELECT f.VALUE::VARCHAR FROM TABLE(FLATTEN(INPUT => PARSE_JSON(%(ids)s))) f))",
        {"start": start, "end": end, "ids": None if instance_ids is None else json.dumps(list(instance_ids))},
        conn,
    )
    return series_lookup(df)


def alerts_between(warehouse: Warehouse, conn: Any, start: datetime, end: datetime) -> pd.DataFrame:
    return warehouse.query(
        "SELECT INSTANCE_ID, CREATED_AT, SEVERITY, METRIC, MESSAGE FROM ALERTS "
        "WHERE SOURCE = 'agent' AND CREATED_AT >= %(start)s::TIMESTAMP_NTZ AND CREATED_AT < %(end)s::TIMESTAMP_NTZ",
        {"start": start, "end": end},
        conn,
    )


def deployments_between(warehouse: Warehouse, conn: Any, start: datetime, end: datetime) -> pd.DataFrame:
    return warehouse.query(
        "SELECT INSTANCE_ID, LAST_DEPLOYED_AT FROM INSTANCES "
        "WHERE LAST_DEPLOYED_AT >= %(start)s::TIMESTAMP_NTZ AND LAST_DEPLOYED_AT < %(end)s::TIMESTAMP_NTZ",
        {"start": start, "end": end},
        conn,
    )
