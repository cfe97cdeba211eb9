"""The embeddable widget and its JSON helpers under /widget/."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("widget", __name__, template_folder="templates", static_folder="static",
               static_url_path="/static/widget")


def register(app) -> None:
    app.register_blueprint(bp)
