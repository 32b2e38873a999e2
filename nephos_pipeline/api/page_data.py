"""The page's extra reads: host names for the instance ids, and the series its charts draw.

Why two batched statements instead of one query per card: a page holds up to 100 cards,
and each statement is a round trip to the warehouse (and, locally, a DuckDB scan). Both
take their inputs as one bound JSON array (``sql/api/hosts.sql``,
``sql/api/chart_series.sql``), so nothing is formatted into SQL. A failure here costs
the page its names or charts, never the page itself: the cards fall back to instance ids
and to the series stored with the insight.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import pandas as pd
from snowflake.connector import errors as sf_errors

from nephos_pipeline.api.chart_plan import SeriesSpec
from nephos_pipeline.api.chart_svg import Bucket
from nephos_pipeline.api.queries import api_sql
from nephos_pipeline.warehouse.base import Warehouse, WarehouseUnavailable

log = logging.getLogger(__name__)
MAX_SPECS = 400  # 100 cards x at most 2 series, with room to spare


def _rows(warehouse: Warehouse, conn: Any, name: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    try:
        frame = warehouse.query(api_sql(name), params, conn)
    except (sf_errors.Error, WarehouseUnavailable) as exc:
        log.warning("page query %s failed; the page is drawn without it: %s", name, exc)
        return []
    return frame.astype(object).to_dict("records")


def host_names(warehouse: Warehouse, conn: Any, instance_ids: Iterable[str]) -> dict[str, str]:
    """INSTANCE_ID -> HOSTNAME for the ids given (ids without a known name are left out)."""
    ids = sorted({str(i) for i in instance_ids})
    if not ids:
        return {}
    rows = _rows(warehouse, conn, "hosts", {"ids": json.dumps(ids)})
    return {str(r["instance_id"]): str(r["hostname"]) for r in rows if r.get("hostname")}


def _naive(value: Any) -> datetime:
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return stamp.to_pydatetime()


def chart_series(warehouse: Warehouse, conn: Any, specs: Sequence[SeriesSpec]) -> dict[str, list[Bucket]]:
    """Spec key -> [(bucket end, mean, min, max)] in time order, from METRICS."""
    specs = list(specs)[:MAX_SPECS]
    if not specs:
        return {}
    rows = _rows(warehouse, conn, "chart_series", {"specs": json.dumps([s.as_json() for s in specs])})
    out: dict[str, list[Bucket]] = {}
    for row in rows:
        try:
            point = (_naive(row["bucket_end"]), float(row["mean_value"]), float(row["min_value"]),
                     float(row["max_value"]))
        except (TypeError, ValueError):
            continue
        out.setdefault(str(row["k"]), []).append(point)
    for points in out.values():
        points.sort()
    return out
