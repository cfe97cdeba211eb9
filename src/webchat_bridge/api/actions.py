"""The actions of CONTRACT §5: one small function each (parse → decide →
answer), and the table that routes, guards and documents them."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Callable

from flask import current_app, request

from .. import __version__, conversations, housekeeping, logs, overview, timefmt
from ..context import get_settings
from ..db import get_db, readable, sessions, settings_store
from ..settings import SPECS, SettingError, validate_changes
from . import validation as v
from .envelope import ApiError, success


def _metadata(text):
    if text is None or text == "":
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def _session_view(row: dict) -> dict:
    return {**row, "metadata": _metadata(row.get("metadata"))}


def _pagination(total: int, limit: int, offset: int) -> dict:
    return {"total": total, "limit": limit, "offset": offset, "has_more": offset + limit < total}


# -- visitor ------------------------------------------------------------------

def post_message():
    body = v.json_object(request)
    v.require(body, "session_id", "message")
    session_id = v.session_id(body["session_id"])
    text = v.text(body["message"], field="message", max_length=get_settings().max_message_length)
    v.optional_string(body, "timestamp")  # accepted, never used (CONTRACT §6)
    uid = body.get("uid")
    posted = conversations.post_message(
        get_db(), session_id, text,
        ip_address=request.remote_addr,
        uid_hint=uid if isinstance(uid, str) else None,
    )
    return success("Message received", {
        "message_id": posted.message_id,
        "session_id": posted.session_id,
        "timestamp": posted.timestamp,
        "uid": posted.uid,
        "is_new_user": posted.is_new_user,
    })


def get_responses():
    session_id = v.query_session_id(request.args)
    since, since_id = v.since(request.args), v.since_id(request.args)
    rows = conversations.poll_responses(get_db(), session_id, since=since, since_id=since_id)
    return success("Responses retrieved successfully", {"session_id": session_id, "responses": rows})


# -- agent plugin -------------------------------------------------------------

def get_inbox():
    limit, offset = v.limit(request.args), v.offset(request.args)
    since, since_id = v.since(request.args), v.since_id(request.args)
    rows, total = conversations.claim_inbox(
        get_db(), limit=limit, offset=offset, since=since, since_id=since_id
    )
    return success("Messages retrieved successfully", {
        "messages": rows, "pagination": _pagination(total, limit, offset),
    })


def post_outbox():
    body = v.json_object(request)
    v.require(body, "session_id", "response")
    session_id = v.session_id(body["session_id"])
    text = v.text(body["response"], field="response", max_length=get_settings().max_message_length)
    message_id = v.optional_int(body.get("message_id"), name="message_id")
    v.optional_string(body, "timestamp")
    try:
        answered = conversations.post_response(get_db(), session_id, text, message_id=message_id)
    except conversations.UnknownSession:
        raise ApiError(400, "Invalid or expired session") from None
    except conversations.UnknownMessage:
        raise ApiError(400, "Invalid message_id") from None
    return success("Response sent successfully", {
        "response_id": answered.response_id,
        "session_id": answered.session_id,
        "timestamp": answered.timestamp,
    })


# -- admin --------------------------------------------------------------------

def _active_since() -> str:
    now = timefmt.utcnow()
    return timefmt.sqlite_seconds(timefmt.ago(now, get_settings().session_timeout))


def get_sessions():
    limit, offset = v.limit(request.args), v.offset(request.args)
    active_only = request.args.get("active", "true") == "true"
    search = request.args.get("search", "").strip()[:64] or None
    active_since = _active_since() if active_only else None
    db = get_db()
    rows = sessions.page(db, limit=limit, offset=offset, active_since=active_since, search=search)
    total = sessions.count(db, active_since, search)
    return success("Sessions retrieved successfully", {
        "sessions": [_session_view(r) for r in rows],
        "pagination": _pagination(total, limit, offset),
    })


def get_session_messages():
    session_id = v.query_session_id(request.args)
    found = conversations.transcript(get_db(), session_id)
    if found is None:
        raise ApiError(404, "Session not found")
    found["session"] = _session_view(found["session"])
    return success("Session messages retrieved", found)


def get_config():
    settings = get_settings()
    data = {name: getattr(settings, name) for name in SPECS}
    data["pinned"] = settings.pinned
    return success("Configuration retrieved successfully", data)


def post_config():
    body = v.json_object(request)
    try:
        values = validate_changes(body, get_settings())
    except SettingError as err:
        raise ApiError(400, str(err)) from None
    settings_store.put_many(get_db(), values, timefmt.sqlite_seconds(timefmt.utcnow()))
    logs.event(logging.INFO, "Configuration updated", settings=sorted(values))
    return success("Configuration updated successfully", {
        "message": "Configuration updated successfully", "updated": sorted(values),
    })


def post_cleanup():
    removed, _pruned = housekeeping.cleanup_now(get_db(), get_settings())
    logs.event(logging.INFO, "Cleanup", cleaned_count=removed)
    return success("Cleanup completed successfully", {
        "cleaned_count": removed, "message": f"Cleaned up {removed} inactive sessions",
    })


def post_clear_data():
    remaining = sessions.delete_all(get_db())
    logs.event(logging.WARNING, "All data cleared", remaining=remaining)
    return success("All data cleared successfully", {
        "message": "All data cleared successfully", "remaining_data": remaining,
    })


def post_cleanup_logs():
    figures = logs.rotate_and_prune(current_app.config["LOG_PATH"])
    return success("Log cleanup completed successfully", {
        "message": "Log cleanup completed successfully", **figures,
    })


def get_stats():
    return success("Statistics retrieved successfully",
                   overview.system_stats(get_db(), get_settings()))


def get_health():
    if not readable(current_app.config["DATABASE"]):
        raise ApiError(503, "Database unavailable")
    return success("OK", {"status": "ok", "database": "ok", "version": __version__})


# -- the table ----------------------------------------------------------------

@dataclass(frozen=True)
class Action:
    name: str
    handlers: dict[str, Callable]
    auth: str  # "public", "api" or "admin"
    rate_limited: bool
    summary: str
    query: tuple = ()  # names of query parameters (documented in openapi.py)
    body: str | None = None  # name of the body schema
    data: dict = field(default_factory=dict)  # method -> name of the data schema


ACTIONS: dict[str, Action] = {
    a.name: a
    for a in [
        Action("messages", {"POST": post_message}, "public", True,
               "A visitor sends a message", body="MessageIn", data={"POST": "MessagePosted"}),
        Action("responses", {"GET": get_responses}, "public", True,
               "A visitor's page polls for the agent's answers",
               query=("session_id!", "since", "since_id"), data={"GET": "ResponseList"}),
        Action("inbox", {"GET": get_inbox}, "api", True,
               "The agent claims unprocessed messages (marked processed as they are returned)",
               query=("limit", "offset", "since", "since_id"), data={"GET": "Inbox"}),
        Action("outbox", {"POST": post_outbox}, "api", True,
               "The agent answers a session", body="ResponseIn", data={"POST": "ResponsePosted"}),
        Action("sessions", {"GET": get_sessions}, "admin", True,
               "List sessions with their message and response counts",
               query=("limit", "offset", "active", "search"), data={"GET": "SessionList"}),
        Action("session_messages", {"GET": get_session_messages}, "admin", False,
               "One session with all its messages and responses",
               query=("session_id!",), data={"GET": "Transcript"}),
        Action("config", {"GET": get_config, "POST": post_config}, "admin", False,
               "Read or change the runtime settings", body="ConfigIn",
               data={"GET": "Config", "POST": "ConfigUpdated"}),
        Action("cleanup", {"POST": post_cleanup}, "admin", False,
               "Delete inactive sessions with their messages and responses",
               data={"POST": "Cleanup"}),
        Action("clear_data", {"POST": post_clear_data}, "admin", False,
               "Delete every session, message and response", data={"POST": "Cleared"}),
        Action("cleanup_logs", {"POST": post_cleanup_logs}, "admin", False,
               "Rotate and prune the log files now", data={"POST": "LogCleanup"}),
        Action("stats", {"GET": get_stats}, "admin", False,
               "System-wide figures for the dashboard", data={"GET": "Stats"}),
        Action("health", {"GET": get_health}, "public", False,
               "Is the bridge up and its database readable", data={"GET": "Health"}),
    ]
}
