"""Read-only access to AI_INSIGHTS for the API: the ``sql/api/*.sql`` files, bound params.

Why a connection per request: locally, DuckDB lets one process write a database file at a
time and the pipeline may be writing, so the service opens the warehouse for the request
and releases it straight after; on Snowflake the connection comes from the warehouse's
session pool (``warehouse/sessions.py``), so a request does not log in afresh. A busy or unreachable warehouse becomes a
:class:`WarehouseError` (a 503), never a 500. Only SELECT statements are ever issued;
in production the service should also run as the read-only NEPHOS_READER_ROLE.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cache
from typing import Any

from snowflake.connector import errors as sf_errors

from nephos_pipeline import insight_types
from nephos_pipeline.api.params import Filters, View, encode_cursor
from nephos_pipeline.api.shapes import counts_json, insight_json, summary_json, timestamp_key
from nephos_pipeline.sql_files import load_sql, split_statements
from nephos_pipeline.warehouse.base import Warehouse, WarehouseUnavailable

log = logging.getLogger(__name__)


class WarehouseError(RuntimeError):
    """The warehouse could not answer; ``str()`` is safe to show to any client."""


@cache
def api_sql(name: str) -> str:
    """``sql/api/<name>.sql`` without comment lines, checked to be a single SELECT."""
    statements = split_statements(load_sql(f"api/{name}.sql"))
    if len(statements) != 1:
        raise RuntimeError(f"sql/api/{name}.sql must hold exactly one statement")
    lines = [ln for ln in statements[0].splitlines() if not ln.strip().startswith("--")]
    text = "\n".join(lines).strip()
    if text.split(None, 1)[0].upper() not in {"SELECT", "WITH"}:
        raise RuntimeError(f"sql/api/{name}.sql is not a SELECT; the API is read-only")
    return text


def _bind_time(moment: datetime) -> str:
    """Aware or naive-UTC datetime -> the naive UTC text TIMESTAMP_NTZ columns hold."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(sep=" ", timespec="microseconds")


@contextmanager
def read_connection(warehouse: Warehouse) -> Iterator[Any]:
    """A connection for one request; warehouse failures become :class:`WarehouseError`."""
    try:
        with warehouse.request_connection() as conn:
            yield conn
    except WarehouseUnavailable as exc:
        log.warning("warehouse unavailable: %s", exc)
        raise WarehouseError("the warehouse is busy or unreachable; retry shortly") from exc
    except sf_errors.ProgrammingError as exc:
        log.warning("warehouse query failed: %s", exc)
        if "does not exist" in str(exc).lower():
            raise WarehouseError("the AI_INSIGHTS table does not exist yet; run the pipeline first") from exc
        raise WarehouseError("the warehouse could not run the insights query") from exc
    except sf_errors.Error as exc:
        log.warning("warehouse error: %s", exc)
        raise WarehouseError("the warehouse is busy or unreachable; retry shortly") from exc


def _records(warehouse: Warehouse, conn: Any, name: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    frame = warehouse.query(api_sql(name), params, conn)
    return frame.astype(object).to_dict("records")


def fetch_insights(
    warehouse: Warehouse, conn: Any, filters: Filters, now: datetime
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of insights (active now, or as of ``filters.view``) and the next page's cursor."""
    params = {
        **_view_params(filters.view, now),
        "type": filters.type,
        "severity": filters.severity,
        "instance": filters.instance,
        "since": filters.since,
        "after_at": filters.after_at,
        "after_id": filters.after_id,
        "limit": filters.limit + 1,
        "listed_types": insight_types.sql_param(only_listed=True),
    }
    rows = _records(warehouse, conn, "insights", params)
    page = rows[: filters.limit]
    next_cursor = None
    if len(rows) > filters.limit and page:
        last = page[-1]
        next_cursor = encode_cursor(timestamp_key(last["created_at"]), str(last["insight_id"]))
    return [insight_json(row) for row in page], next_cursor


def _view_params(view: View, now: datetime) -> dict[str, Any]:
    """The history binds every sql/api statement takes: the moment, as_of and the archive flag."""
    return {"at": view.as_of or _bind_time(now), "as_of": view.as_of, "include_archived": int(view.include_archived)}


def fetch_summary(warehouse: Warehouse, conn: Any, now: datetime, view: View | None = None) -> dict[str, Any]:
    """{summary, counts, generatedAt}: the newest summary row's text and the counts, now or as of."""
    bound = _view_params(view or View(), now)
    bound.pop("include_archived")
    counts = counts_json(_records(warehouse, conn, "counts", {**bound, "listed_types": insight_types.sql_param(True)}))
    latest = _records(warehouse, conn, "summary", bound)
    return summary_json(latest[0] if latest else None, counts, (view or View()).as_of or now)


def probe(warehouse: Warehouse, conn: Any) -> None:
    """Raise if the warehouse or its AI_INSIGHTS table cannot be read."""
    _records(warehouse, conn, "health", {"probe": 1})
