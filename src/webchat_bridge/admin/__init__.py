"""The admin dashboard at /admin.

One HTML page and its static assets; everything it shows comes from the
admin actions of the API, called by the page with the operator's key. The
page itself holds no data and needs no key, so it is served to anyone, under
a Content-Security-Policy that allows nothing but this origin.
"""

from __future__ import annotations

import os

from flask import (
    Blueprint,
    make_response,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)

from .. import __version__
from ..page_headers import cache_static, protect_page
from ..settings import SPECS

bp = Blueprint("admin", __name__, template_folder="templates", static_folder=None)

STATIC_FOLDER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "static")

# How the configuration form names and groups the settings of settings.SPECS.
LABELS = {
    "api_key": "API key (agent plugin)",
    "admin_key": "Admin key (this dashboard)",
    "session_timeout": "Session timeout",
    "answer_grace": "Answer grace period",
    "max_message_length": "Maximum message length",
    "rate_limits_enabled": "Rate limiting",
    "rate_limit_window": "Rate-limit window",
    "rate_limit_messages": "Messages per window",
    "rate_limit_responses": "Response polls per window",
    "rate_limit_inbox": "Inbox polls per window",
    "rate_limit_outbox": "Outbox posts per window",
    "rate_limit_sessions": "Session lists per window",
}
UNITS = {
    "session_timeout": "seconds",
    "answer_grace": "seconds",
    "rate_limit_window": "seconds",
    "max_message_length": "characters",
}
GROUPS = [
    ("Sessions and messages", ["session_timeout", "answer_grace", "max_message_length"]),
    ("Rate limits", ["rate_limits_enabled", "rate_limit_window", "rate_limit_messages",
                     "rate_limit_responses", "rate_limit_inbox", "rate_limit_outbox",
                     "rate_limit_sessions"]),
]


def _field(name: str) -> dict:
    spec = SPECS[name]
    kind = "key" if spec.secret else ("bool" if spec.kind is bool else "int")
    return {
        "name": name,
        "label": LABELS.get(name, name),
        "help": spec.help,
        "env": spec.env,
        "kind": kind,
        "unit": UNITS.get(name, ""),
        "minimum": spec.minimum,
        "maximum": spec.maximum,
    }


@bp.route("/web/admin.php")
def legacy_admin():
    return redirect(url_for("admin.dashboard"), code=301)


@bp.route("/admin/")
def trailing_slash():
    return redirect(url_for("admin.dashboard"), code=301)


@bp.route("/admin")
def dashboard():
    html = render_template(
        "dashboard.html",
        version=__version__,
        api_base=request.script_root + "/api/v1/",
        key_fields=[_field("api_key"), _field("admin_key")],
        groups=[(title, [_field(n) for n in names]) for title, names in GROUPS],
    )
    # no-store: the page is the operator's console, never worth caching.
    return protect_page(make_response(html), cache="no-store")


@bp.route("/static/admin/<path:filename>")
def static(filename: str):
    return cache_static(send_from_directory(STATIC_FOLDER, filename))


def register(app) -> None:
    app.register_blueprint(bp)
