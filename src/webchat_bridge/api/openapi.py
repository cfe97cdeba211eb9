"""The OpenAPI 3 document at /api/v1/openapi.json, generated from the action
table so that it cannot drift from what the dispatcher routes."""

from __future__ import annotations

from .. import __version__
from ..settings import SPECS

_STR = {"type": "string"}
_INT = {"type": "integer"}
_BOOL = {"type": "boolean"}
_TS = {"type": "string", "description": "UTC, e.g. 2025-08-04T03:08:55.484Z"}
_SQL_TS = {"type": ["string", "null"], "description": "UTC, SQLite form 2025-08-04 03:08:53"}
_SESSION_ID = {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"}


def _obj(props: dict, required=None) -> dict:
    return {"type": "object", "properties": props, "required": list(required or props)}


_PAGINATION = _obj({"total": _INT, "limit": _INT, "offset": _INT, "has_more": _BOOL})
_SESSION = _obj({
    "id": _STR, "uid": {"type": ["string", "null"]}, "created_at": _SQL_TS,
    "last_active": _SQL_TS, "ip_address": {"type": ["string", "null"]},
    "metadata": {"description": "decoded JSON, or null"},
})
_SETTING_TYPES = {int: _INT, bool: _BOOL, str: {"type": ["string", "null"]}}

SCHEMAS = {
    "MessageIn": _obj({
        "session_id": _SESSION_ID,
        "message": {"type": "string", "minLength": 1, "maxLength": 10000},
        "timestamp": {"type": "string", "description": "accepted, never used"},
        "uid": {"type": "string", "description": "a returning visitor's 16-hex uid"},
    }, ["session_id", "message"]),
    "ResponseIn": _obj({
        "session_id": _SESSION_ID,
        "response": {"type": "string", "minLength": 1, "maxLength": 10000},
        "message_id": {"type": ["integer", "null"], "minimum": 1},
        "timestamp": {"type": "string", "description": "accepted, never used"},
    }, ["session_id", "response"]),
    "ConfigIn": {
        "type": "object", "minProperties": 1, "additionalProperties": False,
        "properties": {name: _SETTING_TYPES[s.kind] | {"description": s.help}
                       for name, s in SPECS.items()},
    },
    "MessagePosted": _obj({
        "message_id": _INT, "session_id": _STR, "timestamp": _TS, "uid": _STR,
        "is_new_user": _BOOL,
    }),
    "ResponseList": _obj({
        "session_id": _STR,
        "responses": {"type": "array", "items": _obj({
            "id": _INT, "response": _STR, "timestamp": _TS,
            "message_id": {"type": ["integer", "null"]},
        })},
    }),
    "Inbox": _obj({
        "messages": {"type": "array", "items": _obj({
            "id": _INT, "session_id": _STR, "message": _STR, "timestamp": _TS,
            "uid": {"type": ["string", "null"]},
        })},
        "pagination": _PAGINATION,
    }),
    "ResponsePosted": _obj({"response_id": _INT, "session_id": _STR, "timestamp": _TS}),
    "SessionList": _obj({
        "sessions": {"type": "array", "items": {
            **_SESSION,
            "properties": {**_SESSION["properties"], "message_count": _INT, "response_count": _INT},
            "required": [*_SESSION["required"], "message_count", "response_count"],
        }},
        "pagination": _PAGINATION,
    }),
    "Transcript": _obj({
        "session": _SESSION,
        "messages": {"type": "array", "items": _obj({
            "id": _INT, "session_id": _STR, "message": _STR, "timestamp": _TS})},
        "responses": {"type": "array", "items": _obj({
            "id": _INT, "session_id": _STR, "response": _STR, "timestamp": _TS,
            "message_id": {"type": ["integer", "null"]}})},
    }),
    "Config": {
        "type": "object",
        "properties": {**{name: _SETTING_TYPES[s.kind] for name, s in SPECS.items()},
                       "pinned": {"type": "array", "items": _STR}},
        "required": [*SPECS, "pinned"],
    },
    "ConfigUpdated": _obj({"message": _STR, "updated": {"type": "array", "items": _STR}}),
    "Cleanup": _obj({"cleaned_count": _INT, "message": _STR}),
    "Cleared": _obj({"message": _STR, "remaining_data": _obj(
        {"responses": _INT, "messages": _INT, "sessions": _INT})}),
    "LogCleanup": _obj({
        "message": _STR, "current_log_size_mb": {"type": "number"},
        "backup_files_count": _INT, "total_log_size_mb": {"type": "number"},
        "retention_days": _INT, "max_size_mb": _INT,
    }),
    "Stats": _obj({
        "sessions": _INT, "active_sessions": _INT, "messages": _INT,
        "unprocessed_messages": _INT, "responses": _INT,
        "mean_response_seconds": {"type": ["number", "null"]},
        "messages_per_hour": {"type": "array", "items": _obj({"hour": _STR, "count": _INT})},
    }, ["sessions", "active_sessions", "messages", "unprocessed_messages", "responses",
        "mean_response_seconds", "messages_per_hour"]),
    "Health": _obj({"status": _STR, "database": _STR, "version": _STR}),
    "Error": {
        "type": "object",
        "properties": {
            "success": {"const": False}, "error": _STR, "code": _INT, "timestamp": _TS,
            "retry_after": _INT,
        },
        "required": ["success", "error", "code", "timestamp"],
    },
}

QUERY = {
    "session_id": ({"type": "string"}, "The session's id"),
    "since": ({"type": "string"}, "Only rows after this time (ISO 8601 or SQLite form)"),
    "since_id": ({"type": "integer", "minimum": 0}, "Only rows with a larger id (the exact cursor)"),
    "limit": ({"type": "integer", "minimum": 1, "default": 50},
              "Page size, 1 to 100 (larger values are clamped to 100)"),
    "offset": ({"type": "integer", "minimum": 0, "default": 0}, "Rows to skip"),
    "active": ({"type": "string", "default": "true"},
               "'true': active sessions only; any other value: all"),
    "search": ({"type": "string", "maxLength": 64}, "A prefix of the session id or uid"),
}

_ERRORS = {
    "400": "Invalid action, body or parameter",
    "401": "Missing or wrong key",
    "405": "Method not allowed",
    "429": "Rate limit exceeded (see Retry-After)",
    "500": "Unexpected fault",
    "503": "Database unavailable",
}


def _success(data_schema: str, message: str | None = None) -> dict:
    return {
        "type": "object",
        "properties": {
            "success": {"const": True},
            "message": _STR if message is None else {"const": message},
            "timestamp": _TS,
            "data": {"$ref": f"#/components/schemas/{data_schema}"},
        },
        "required": ["success", "message", "timestamp", "data"],
    }


def _operation(action, method: str) -> dict:
    op: dict = {
        "operationId": f"{action.name}_{method.lower()}",
        "summary": action.summary,
        "tags": [action.auth],
        "responses": {
            "200": {"description": "Success", "content": {"application/json": {
                "schema": _success(action.data[method])}}},
            **{code: {"description": text, "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Error"}}}}
               for code, text in _ERRORS.items()
               if code != "429" or action.rate_limited},
        },
    }
    if action.auth != "public":
        op["security"] = [{"apiKey" if action.auth == "api" else "adminKey": []}]
    else:
        op["responses"].pop("401")
    if action.name == "session_messages":
        op["responses"]["404"] = {"description": "Session not found", "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    if method == "GET":
        params = []
        for spec in action.query:
            name, required = spec.rstrip("!"), spec.endswith("!")
            schema, text = QUERY[name]
            params.append({"name": name, "in": "query", "required": required,
                           "schema": schema, "description": text})
        if params:
            op["parameters"] = params
    elif action.body:
        op["requestBody"] = {"required": True, "content": {"application/json": {
            "schema": {"$ref": f"#/components/schemas/{action.body}"}}}}
    return op


def document(server_url: str = "") -> dict:
    # Imported here: actions imports the package that imports this module.
    from .actions import ACTIONS

    paths = {}
    for action in ACTIONS.values():
        paths[f"/api/v1/{action.name}"] = {
            method.lower(): _operation(action, method) for method in action.handlers
        }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Web Chat Bridge API",
            "version": __version__,
            "description": (
                "Every action is reachable as /api/v1/<action> (documented here) and as "
                "/api/v1/?action=<action>. Every answer is a JSON envelope; every answer "
                "carries CORS headers; OPTIONS on any API URL answers 200 with no body."
            ),
        },
        "servers": [{"url": server_url or "/"}],
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "apiKey": {"type": "http", "scheme": "bearer",
                           "description": "The agent plugin's API key"},
                "adminKey": {"type": "http", "scheme": "bearer",
                             "description": "The admin key"},
            },
        },
    }
