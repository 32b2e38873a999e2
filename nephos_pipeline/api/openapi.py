"""The OpenAPI 3.1 document served at ``/openapi.json``.

Why written out by hand: Starlette has no request models to derive it from, and the
document is the contract the property-based tests fuzz against, so it states exactly the
parameters, enums, bounds and error responses the handlers enforce.
"""

from __future__ import annotations

from typing import Any

from nephos_pipeline import insight_types
from nephos_pipeline.api.params import LIMIT_DEFAULT, LIMIT_MAX, LIMIT_MIN, SEVERITIES

_REF = "#/components/schemas/"


def _param(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


_CURSOR = _param("cursor", "The nextCursor of the previous page.", {"type": "string", "pattern": "^[A-Za-z0-9_-]+$"})
_FILTERS = [
    _param("severity", "Only this severity.", {"type": "string", "enum": list(SEVERITIES)}),
    _param("instance", "Only insights naming this instance.", {"type": "string", "minLength": 1, "maxLength": 256}),
    _param(
        "since",
        "Only insights created at or after this ISO-8601 time (no offset means UTC).",
        {"type": "string", "format": "date-time"},
    ),
    _param(
        "limit",
        "Page size.",
        {"type": "integer", "minimum": LIMIT_MIN, "maximum": LIMIT_MAX, "default": LIMIT_DEFAULT},
    ),
    _CURSOR,
]
_AS_OF = _param(
    "as_of",
    "Show the insights as they were active at this past ISO-8601 time (no offset means UTC): created by "
    "then and not yet expired. Insights archived since (AI_INSIGHTS_ARCHIVE) are included. A row keeps "
    "its latest words and evidence; the archive keeps no versions.",
    {"type": "string", "format": "date-time"},
)
_INCLUDE_ARCHIVED = _param(
    "include_archived",
    "Also list insights no longer active at as_of (or now): expired ones, including those moved to "
    "AI_INSIGHTS_ARCHIVE. With since, the history of a period.",
    {"type": "boolean", "default": False},
)
_FILTERS += [_AS_OF, _INCLUDE_ARCHIVED]


def _type_param() -> dict[str, Any]:
    """The ``type`` parameter; its enum is the listed types of the registry at the time of the call."""
    return _param("type", "Only this insight type.", {"type": "string", "enum": list(insight_types.listed_names())})


def _json(schema: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": _REF + schema}}}}


_ERRORS = {
    "400": _json("Error", "A query parameter is invalid; the error names it and why."),
    "401": _json("Error", "Missing or wrong bearer token."),
    "503": _json("Error", "The warehouse is busy or unreachable."),
}


def _list_op(summary: str, with_type: bool) -> dict[str, Any]:
    return {
        "summary": summary,
        "parameters": ([_type_param()] if with_type else []) + _FILTERS,
        "responses": {"200": _json("InsightList", "Insights active now (or as of as_of), newest first."),
                      **_ERRORS},
    }


_SCHEMAS: dict[str, Any] = {
    "Insight": {
        "type": "object",
        "required": ["id", "type", "severity", "title", "description", "recommendations", "confidenceScore",
                     "affectedInstances", "createdAt", "expiresAt", "evidence"],
        "properties": {
            "id": {"type": "string"},
            "type": {"type": "string"},  # enum filled in by openapi_document
            "severity": {"type": "string"},
            "title": {"type": "string"},
            "description": {"type": "string"},
            "recommendations": {"type": ["string", "null"]},
            "confidenceScore": {"type": ["number", "null"], "minimum": 0, "maximum": 1},
            "affectedInstances": {"type": "array", "items": {"type": "string"}},
            "createdAt": {"type": ["string", "null"], "format": "date-time"},
            "expiresAt": {"type": ["string", "null"], "format": "date-time"},
            "evidence": {"type": ["object", "null"], "description": "Numbers behind the finding; "
                         "'series' is a list of [isoTime, value]."},
        },
    },
    "InsightList": {
        "type": "object",
        "required": ["insights", "nextCursor"],
        "properties": {
            "insights": {"type": "array", "items": {"$ref": _REF + "Insight"}},
            "nextCursor": {"type": ["string", "null"]},
        },
    },
    "Counts": {
        "type": "object",
        "required": ["total", "byType", "bySeverity"],
        "properties": {
            "total": {"type": "integer", "minimum": 0},
            "byType": {"type": "object", "additionalProperties": {"type": "integer"}},
            "bySeverity": {"type": "object", "additionalProperties": {"type": "integer"}},
        },
    },
    "Summary": {
        "type": "object",
        "required": ["summary", "counts", "generatedAt"],
        "properties": {
            "summary": {"type": "string"},
            "counts": {"$ref": _REF + "Counts"},
            "generatedAt": {"type": "string", "format": "date-time", "description": (
                "The end of the window the summary row describes (rows are stamped by window, not by "
                "run time); without a summary row, the moment the sentence was counted at.")},
        },
    },
    "Health": {
        "type": "object",
        "required": ["status", "warehouse", "checkedAt"],
        "properties": {
            "status": {"type": "string", "enum": ["ok", "unavailable"]},
            "warehouse": {"type": "object", "required": ["reachable"], "properties": {
                "reachable": {"type": "boolean"}, "error": {"type": "string"}}},
            "checkedAt": {"type": "string", "format": "date-time"},
        },
    },
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
            "code": {"type": "string"}, "message": {"type": "string"}, "parameter": {"type": "string"}}}},
    },
}


def _schemas() -> dict[str, Any]:
    insight = _SCHEMAS["Insight"]
    typed = {**insight["properties"], "type": {"type": "string", "enum": list(insight_types.listed_names())}}
    return {**_SCHEMAS, "Insight": {**insight, "properties": typed}}


def openapi_document(version: str = "1.0.0") -> dict[str, Any]:
    """The schema; ``security`` is global, with /health and /openapi.json left open."""
    html = {"description": "The insights page.", "content": {"text/html": {"schema": {"type": "string"}}}}
    page_errors = {code: {"description": d["description"], "content": {"text/html": {"schema": {"type": "string"}}}}
                   for code, d in _ERRORS.items()}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Nephos Insights API", "version": version,
                 "description": "Active AI insights from the Nephos batch layer (AI_INSIGHTS)."},
        "security": [{"bearerAuth": []}],
        "paths": {
            "/insights": {"get": _list_op("Active insights", with_type=True)},
            **{t.route: {"get": _list_op(f"Active {t.name} insights", with_type=False)} for t in insight_types.listed()},
            "/insights/summary": {"get": {
                "summary": "Executive summary and counts, now or as of a past moment",
                "parameters": [_AS_OF],
                "responses": {"200": _json("Summary", "The newest summary and counts."), **_ERRORS},
            }},
            "/health": {"get": {
                "summary": "Service and warehouse reachability",
                "security": [],
                "responses": {"200": _json("Health", "Warehouse reachable."),
                              "503": _json("Health", "Warehouse unreachable.")},
            }},
            "/": {"get": {
                "summary": "The insights page (HTML)",
                "parameters": [_type_param(), _CURSOR, _AS_OF, _INCLUDE_ARCHIVED, _param(
                    "token", "Sign in once with NEPHOS_API_TOKEN; answered by a 303 that sets a cookie.",
                    {"type": "string"})],
                "responses": {"200": html, "303": {"description": "After ?token=: sets the session cookie."},
                              **page_errors},
            }},
        },
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer",
                                               "description": "NEPHOS_API_TOKEN"}},
            "schemas": _schemas(),
        },
    }
