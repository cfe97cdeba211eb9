"""The visitor chat page."""

from __future__ import annotations

from flask import Blueprint, make_response, redirect, render_template, request, url_for

from .. import __version__
from ..page_headers import cache_static, protect_page

bp = Blueprint("web", __name__, template_folder="templates", static_folder="static",
               static_url_path="/static/web")

TITLE = "Chat with us"


@bp.route("/web/chat.php")
def legacy_chat():
    return redirect(url_for("web.chat"), code=301)


@bp.route("/")
@bp.route("/chat")
def chat():
    page = render_template("chat.html", title=TITLE, version=__version__,
                           api_base=request.script_root + "/api/v1/")
    return protect_page(make_response(page))


@bp.after_request
def _static_headers(response):
    if request.endpoint == "web.static":
        return cache_static(response)
    return response


def register(app) -> None:
    app.register_blueprint(bp)
