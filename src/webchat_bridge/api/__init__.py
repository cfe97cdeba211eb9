"""The bridge API at /api/v1/: one dispatcher, routed by ``?action=`` or by
path, with the checks of CONTRACT §1 in their order."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request
from werkzeug.exceptions import HTTPException

from .. import housekeeping, logs
from ..context import get_settings
from ..db import connect, get_db, settings_store
from ..settings import Settings
from . import auth, limits
from .actions import ACTIONS
from .envelope import CORS_HEADERS, ApiError, failure, from_error
from .openapi import document

bp = Blueprint("api", __name__)

ANY_METHOD = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"]


def _is_api(path: str) -> bool:
    return path == "/api" or path.startswith("/api/")


@bp.route("/api/v1", methods=ANY_METHOD)
@bp.route("/api/v1/", methods=ANY_METHOD)
@bp.route("/api/v1/index.php", methods=ANY_METHOD)
@bp.route("/api/v1/<action>", methods=ANY_METHOD)
def dispatch(action: str | None = None):
    name = action if action is not None else request.args.get("action", "")
    spec = ACTIONS.get(name)
    if spec is None:
        raise ApiError(400, "Invalid action")
    # HEAD is refused like any other method an action does not list: a HEAD of
    # inbox must not claim messages.
    handler = spec.handlers.get(request.method)
    if handler is None:
        raise ApiError(405, "Method not allowed", headers={
            "Allow": ", ".join([*spec.handlers, "OPTIONS"]),
        })
    g.action = name
    settings = get_settings()
    presented = None
    if spec.auth != "public":
        presented = auth.check(request, settings, spec.auth)
    if spec.rate_limited:
        client = limits.client_key(name, request.remote_addr, presented)
        limits.check(get_db(), settings, name, client)
    return handler()


@bp.route("/api/v1/openapi.json", methods=ANY_METHOD)
def openapi():
    if request.method != "GET":
        raise ApiError(405, "Method not allowed", headers={"Allow": "GET, OPTIONS"})
    response = jsonify(document(request.host_url.rstrip("/")))
    response.headers["Cache-Control"] = "no-cache"
    return response


# -- process-wide glue, installed by register() --------------------------------

_auto_lock = threading.Lock()
_next_auto = [0.0]


def _auto_cleanup_due() -> bool:
    # A process-local clock keeps this off the database on all but one request
    # a minute per worker; the latch in the database then picks one worker.
    now = time.monotonic()
    with _auto_lock:
        if now < _next_auto[0]:
            return False
        _next_auto[0] = now + housekeeping.AUTO_INTERVAL_SECONDS
        return True


def _run_auto_cleanup(app: Flask) -> None:
    try:
        with app.app_context():
            conn = connect(app.config["DATABASE"], create=False)
            try:
                settings = Settings(settings_store.get_all(conn), app.config["ENVIRON"])
                removed = housekeeping.auto_cleanup(conn, settings)
            finally:
                conn.close()
        if removed:
            logs.event(logging.INFO, "Automatic cleanup", cleaned_count=removed)
    except Exception:  # housekeeping must never break serving
        logging.getLogger(logs.LOGGER_NAME).exception("Automatic cleanup failed")


def register(app: Flask) -> None:
    app.register_blueprint(bp)

    @app.before_request
    def _preflight():
        g.started = time.perf_counter()
        if request.method == "OPTIONS" and _is_api(request.path):
            return Response(b"", status=200)
        return None

    @app.after_request
    def _api_headers(response: Response):
        if not _is_api(request.path):
            return response
        for name, value in CORS_HEADERS.items():
            response.headers[name] = value
        if request.method != "OPTIONS":
            _log_request(response)
            if app.config["AUTO_CLEANUP"] and _auto_cleanup_due():
                # After the answer has gone out: no request waits for it.
                response.call_on_close(lambda: _run_auto_cleanup(app))
        return response

    @app.errorhandler(ApiError)
    def _api_error(err: ApiError):
        return from_error(err)

    @app.errorhandler(HTTPException)
    def _http_error(err: HTTPException):
        if not _is_api(request.path):
            return err
        if err.code == 413:
            return failure(400, "Request body too large")
        text = {404: "Not found", 405: "Method not allowed"}.get(err.code, err.name)
        return failure(err.code or 500, text)

    @app.errorhandler(sqlite3.OperationalError)
    def _db_error(err: sqlite3.OperationalError):
        logging.getLogger(logs.LOGGER_NAME).exception("Database error on %s", request.path)
        if not _is_api(request.path):
            return Response("Service unavailable", status=503, mimetype="text/plain")
        return failure(503, "Database unavailable")

    @app.errorhandler(Exception)
    def _unexpected(err: Exception):
        logging.getLogger(logs.LOGGER_NAME).exception("Unhandled error on %s", request.path)
        if not _is_api(request.path):
            return Response("Internal server error", status=500, mimetype="text/plain")
        return failure(500, "Internal server error")


def _log_request(response: Response) -> None:
    if not current_app.config["ACCESS_LOG"]:
        return
    started = g.get("started")
    action = g.get("action")
    logs.event(
        logging.INFO,
        f"API Request: {request.method} {'/api/' + action if action else request.path}",
        endpoint=g.get("action"),
        method=request.method,
        ip=request.remote_addr,
        status_code=response.status_code,
        user_agent=request.headers.get("User-Agent", "")[:200],
        duration_ms=None if started is None else round((time.perf_counter() - started) * 1000, 2),
    )
