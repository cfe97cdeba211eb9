"""The visitor chat page."""

from __future__ import annotations

from flask import Blueprint, redirect, url_for

bp = Blueprint("web", __name__, template_folder="templates", static_folder="static",
               static_url_path="/static/web")


@bp.route("/web/chat.php")
def legacy_chat():
    return redirect(url_for("web.chat"), code=301)


@bp.route("/")
@bp.route("/chat")
def chat():
    return "chat page: under construction", 200


def register(app) -> None:
    app.register_blueprint(bp)
