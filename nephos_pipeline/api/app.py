"""The insights service: the seed's endpoints and the insights page, served from AI_INSIGHTS.

Why Starlette without FastAPI: it already ships with dagster-webserver, and the service is
a handful of GET routes whose contract is written out in :mod:`nephos_pipeline.api.openapi`.
Client mistakes become 400s naming the parameter, a missing or wrong token a 401, a busy
or unreachable warehouse a 503; every error is JSON (HTML on the page) and none is a 500.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from importlib.metadata import PackageNotFoundError, version

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from nephos_pipeline import insight_types
from nephos_pipeline.api.auth import PAGE_PATH, BearerAuth, SecurityHeaders, error_json
from nephos_pipeline.api.chart_plan import plan_chart
from nephos_pipeline.api.openapi import openapi_document
from nephos_pipeline.api.page import PAGE_CSP, PageContext, render_message, render_page
from nephos_pipeline.api.page_data import chart_series, host_names
from nephos_pipeline.api.params import (
    HISTORY_PARAMS,
    BadParameter,
    Filters,
    decode_cursor,
    parse_choice,
    parse_filters,
    parse_view,
    single_values,
)
from nephos_pipeline.api.queries import (
    WarehouseError,
    fetch_insights,
    fetch_summary,
    probe,
    read_connection,
)
from nephos_pipeline.api.shapes import iso_utc
from nephos_pipeline.clock import utc_now
from nephos_pipeline.warehouse.base import Warehouse

log = logging.getLogger(__name__)
PAGE_LIMIT = 100
RETRY_AFTER_S = 5


def _version() -> str:
    try:
        return version("nephos_pipeline")
    except PackageNotFoundError:
        return "0.0.0"


def _warehouse(request: Request) -> Warehouse:
    return request.app.state.warehouse


def list_endpoint(fixed_type: str | None) -> Callable[[Request], Response]:
    """GET /insights (any type) or /insights/<type>s (type fixed by the path)."""

    def endpoint(request: Request) -> Response:
        now = utc_now()
        filters = parse_filters(request.query_params, now, fixed_type=fixed_type)
        warehouse = _warehouse(request)
        with read_connection(warehouse) as conn:
            insights, next_cursor = fetch_insights(warehouse, conn, filters, now)
        return JSONResponse({"insights": insights, "nextCursor": next_cursor})

    endpoint.__name__ = f"list_{fixed_type or 'all'}"
    return endpoint


def summary(request: Request) -> Response:
    """The summary and counts now, or ``as_of`` a past moment (archived insights included)."""
    now = utc_now()
    view = parse_view(single_values(request.query_params, ("as_of",)), now)
    warehouse = _warehouse(request)
    with read_connection(warehouse) as conn:
        body = fetch_summary(warehouse, conn, now, view)
    return JSONResponse(body)


def health(request: Request) -> Response:
    """Public and cheap: says whether AI_INSIGHTS can be read right now, without details."""
    checked = iso_utc(utc_now().replace(tzinfo=None))
    warehouse = _warehouse(request)
    try:
        with read_connection(warehouse) as conn:
            probe(warehouse, conn)
    except WarehouseError as exc:
        body = {"status": "unavailable", "warehouse": {"reachable": False, "error": str(exc)}, "checkedAt": checked}
        return JSONResponse(body, status_code=503, headers={"Retry-After": str(RETRY_AFTER_S)})
    return JSONResponse({"status": "ok", "warehouse": {"reachable": True}, "checkedAt": checked})


def openapi(request: Request) -> Response:
    return JSONResponse(request.app.state.openapi)


def page(request: Request) -> Response:
    """The insights page: executive summary, type tabs and up to PAGE_LIMIT insight cards."""
    values = single_values(request.query_params, ("type", "cursor", "token", *HISTORY_PARAMS))
    kind = parse_choice("type", values.get("type"), insight_types.listed_names())
    after_at, after_id = decode_cursor(values.get("cursor"))
    warehouse, now = _warehouse(request), utc_now()
    view = parse_view(values, now)
    filters = Filters(type=kind, limit=PAGE_LIMIT, after_at=after_at, after_id=after_id, view=view)
    ctx = PageContext(now=now, view=view)
    with read_connection(warehouse) as conn:
        summary_body = fetch_summary(warehouse, conn, now, view)
        insights, next_cursor = fetch_insights(warehouse, conn, filters, now)
        plans = {i["id"]: plan for i in insights if (plan := plan_chart(i, ctx.moment)) is not None}
        named = {n for i in insights for n in i["affectedInstances"]}
        ctx = replace(ctx, plans=plans, names=host_names(warehouse, conn, named),
                      series=chart_series(warehouse, conn, [s for p in plans.values() for s in p.series]))
    html = render_page(summary_body, insights, next_cursor, kind, ctx)
    return HTMLResponse(html, headers={"Content-Security-Policy": PAGE_CSP})


def _is_page(request: Request) -> bool:
    return request.url.path == PAGE_PATH


def _html(status: int, title: str, message: str, refresh: int = 300, headers: dict | None = None) -> Response:
    csp = {"Content-Security-Policy": PAGE_CSP, **(headers or {})}
    return HTMLResponse(render_message(title, message, refresh), status_code=status, headers=csp)


async def on_bad_parameter(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, BadParameter)
    if _is_page(request):
        return _html(400, "Bad request", f"{exc.parameter}: {exc.reason}", refresh=3600)
    return error_json(400, "bad_parameter", f"{exc.parameter}: {exc.reason}", exc.parameter)


async def on_warehouse_error(request: Request, exc: Exception) -> Response:
    retry = {"Retry-After": str(RETRY_AFTER_S)}
    if _is_page(request):
        return _html(503, "Warehouse unavailable", f"{exc} This page retries in 30 seconds.", 30, retry)
    response = error_json(503, "warehouse_unavailable", str(exc))
    response.headers.update(retry)
    return response


async def on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    message = {404: "no such endpoint; see /openapi.json", 405: "only GET is supported"}.get(
        exc.status_code, str(exc.detail)
    )
    response = error_json(exc.status_code, code, message)
    response.headers.update(exc.headers or {})
    return response


async def on_unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error serving %s", request.url.path, exc_info=exc)
    return error_json(500, "internal_error", "unexpected server error; it has been logged")


def create_app(
    warehouse: Warehouse,
    *,
    token: str | None,
    auth_disabled: bool = False,
    cors_origins: Sequence[str] = (),
) -> Starlette:
    """The ASGI app. A token is required unless ``auth_disabled`` is passed explicitly."""
    if not auth_disabled and not token:
        raise ValueError("an API token is required unless authentication is explicitly disabled")
    routes = [
        Route("/", page, methods=["GET"]),
        Route("/insights", list_endpoint(None), methods=["GET"]),
        Route("/insights/summary", summary, methods=["GET"]),
        *(Route(t.route, list_endpoint(t.name), methods=["GET"]) for t in insight_types.listed()),
        Route("/health", health, methods=["GET"]),
        Route("/openapi.json", openapi, methods=["GET"]),
    ]
    middleware = [
        Middleware(
            CORSMiddleware,
            allow_origins=list(cors_origins),
            allow_methods=["GET"],
            allow_headers=["Authorization"],
            max_age=600,
        ),
        Middleware(SecurityHeaders),
        Middleware(BearerAuth, token=token, disabled=auth_disabled),
    ]
    handlers = {
        BadParameter: on_bad_parameter,
        WarehouseError: on_warehouse_error,
        HTTPException: on_http_error,
        Exception: on_unexpected,
    }
    app = Starlette(routes=routes, middleware=middleware, exception_handlers=handlers)
    app.state.warehouse = warehouse
    app.state.openapi = openapi_document(_version())
    return app
