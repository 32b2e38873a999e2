"""Warehouse reads the analyses share: host names, hourly series for charts, root-cause context."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd

from nephos_pipeline.analytics.common import series_lookup
from nephos_pipeline.warehouse import Warehouse


def host_names(warehouse: Warehouse, conn: Any) -> dict[str, str]:
    df = warehouse.query("SELECT INSTANCE_ID, HOSTNAME FROM INSTANCES", None, conn)
    return {r.instance_id: (r.hostname or r.instance_id) for r in df.itertuples(index=False)}


def hourly_series(warehouse: Warehouse, conn: Any, start: datetime, end: datetime) -> dict[tuple[str, str], list]:
    df = warehouse.query(
        "SELECT INSTANCE_ID, METRIC, HOUR_START, AVG_VALUE FROM METRICS_HOURLY "
        "WHERE HOUR_START >= %(start)s::TIMESTAMP_NTZ AND HOUR_START < %(end)s::TIMESTAMP_NTZ",
        {"start": start, "end": end},
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
