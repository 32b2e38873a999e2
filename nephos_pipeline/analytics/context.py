"""Warehouse reads the analyses share: host names, hourly series for charts, root-cause context."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

import pandas as pd

from nephos_pipeline.analytics.common import iso, naive_utc, series_lookup
from nephos_pipeline.sql_files import load_sql
from nephos_pipeline.warehouse import Warehouse


def host_names(warehouse: Warehouse, conn: Any) -> dict[str, str]:
    df = warehouse.query(load_sql("analytics/host_names.sql"), None, conn)
    return {r.instance_id: (r.hostname or r.instance_id) for r in df.itertuples(index=False)}


def hourly_series(warehouse: Warehouse, conn: Any, start: datetime, end: datetime,
                  instance_ids: Sequence[str] | None = None) -> dict[tuple[str, str], list]:
    """Hourly means per (instance, metric) for charts; ``instance_ids`` limits the hosts read,
    so a large fleet with a few findings does not read every host's week."""
    df = warehouse.query(
        load_sql("analytics/hourly_series.sql"),
        {"start": start, "end": end, "ids": None if instance_ids is None else json.dumps(list(instance_ids))},
        conn,
    )
    return series_lookup(df)


def alerts_between(warehouse: Warehouse, conn: Any, start: datetime, end: datetime) -> pd.DataFrame:
    return warehouse.query(load_sql("analytics/agent_alerts.sql"), {"start": start, "end": end}, conn)


def deployments_between(warehouse: Warehouse, conn: Any, start: datetime, end: datetime) -> pd.DataFrame:
    return warehouse.query(load_sql("analytics/deployments.sql"), {"start": start, "end": end}, conn)


class SeriesWindow(Mapping):
    """One window's view of series read once for a range: the points in [start, end).

    Why: a range reads its charts once; a finding must still carry exactly the series a
    run of its own window would have read. Sliced lazily, only for the series asked for.
    """

    def __init__(self, series: dict[tuple[str, str], list], start: datetime, end: datetime) -> None:
        self.series, self.lo, self.hi = series, iso(naive_utc(start)), iso(naive_utc(end))

    def __getitem__(self, key: tuple[str, str]) -> list:
        points = [p for p in self.series[key] if self.lo <= p[0] < self.hi]
        if not points:
            raise KeyError(key)
        return points

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return (k for k in self.series if k in self)

    def __len__(self) -> int:
        return sum(1 for _ in self)
