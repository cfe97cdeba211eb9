"""Web Chat Bridge: website visitors chat with an AI agent that polls for
their messages over HTTP."""

from __future__ import annotations

__version__ = "1.0.0"

DEFAULT_DATABASE = "db/web_chat_bridge.db"


def create_app(config: dict | None = None):
    """The application factory.

    Creates or upgrades the database, generates any missing key, sets up the
    log, and registers one blueprint per area: the API, the chat page, the
    widget and the dashboard.
    """
    import os

    from flask import Flask
    from werkzeug.middleware.proxy_fix import ProxyFix

    from . import admin, api, db, keys, logs, web, widget
    from .api.validation import MAX_BODY_BYTES
    from .settings import Settings
    from .wsgi_fixes import CollapseSlashes

    app = Flask(__name__, static_folder=None)
    environ = os.environ
    app.config.from_mapping(
        DATABASE=os.path.abspath(environ.get("WEB_CHAT_DATABASE_PATH") or DEFAULT_DATABASE),
        LOG_PATH=str(logs.log_dir()),
        ENVIRON=environ,
        TRUSTED_PROXIES=_int(environ.get("WEB_CHAT_TRUSTED_PROXIES"), 0),
        AUTO_CLEANUP=True,
        ACCESS_LOG=environ.get("WEB_CHAT_ACCESS_LOG", "on").lower() not in {"0", "off", "false", "no"},
        # One byte more than a body may hold, so that the API can tell "too
        # large" from "exactly at the limit" even for a chunked body.
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES + 1,
        JSON_SORT_KEYS=False,
    )
    if config:
        app.config.update(config)

    # Checked before anything is created: a refused start leaves no file.
    keys.check_distinct(Settings({}, app.config["ENVIRON"]))
    conn = db.open_database(app.config["DATABASE"])
    try:
        app.config["GENERATED_KEYS"] = keys.ensure_keys(conn, app.config["ENVIRON"])
    finally:
        conn.close()

    logs.configure(app.config["LOG_PATH"])
    db.init_app(app)
    api.register(app)
    web.register(app)
    widget.register(app)
    admin.register(app)
    from . import bench_ceiling

    if bench_ceiling.enabled(app.config["ENVIRON"]):
        app.register_blueprint(bench_ceiling.bp)

    if app.config["TRUSTED_PROXIES"]:
        # Only then is X-Forwarded-For believed, and only as many hops as the
        # operator declared (CONTRACT §7).
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    app.wsgi_app = CollapseSlashes(app.wsgi_app)
    return app


def _int(text: str | None, default: int) -> int:
    try:
        return max(0, int(text)) if text else default
    except ValueError:
        return default
