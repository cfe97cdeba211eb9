"""The embeddable widget and its JSON helpers under /widget/."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    current_app,
    make_response,
    render_template,
    request,
    send_from_directory,
)
from markupsafe import escape

from .. import __version__
from ..api.envelope import CORS_HEADERS, failure, success
from ..db import readable
from ..page_headers import IMMUTABLE, cache_static, protect_page
from . import bundle, options

bp = Blueprint("widget", __name__, template_folder="templates", static_folder="static",
               static_url_path="/static/widget")

# The script's URL is stable, so a short cache lets a new release reach every
# page within minutes; a URL carrying the version can be kept for good.
SHORT_CACHE = "public, max-age=300"


def _base() -> str:
    return request.host_url.rstrip("/") + request.script_root


def _cache_for_version(response: Response) -> Response:
    response.headers["Cache-Control"] = IMMUTABLE if request.args.get("v") == __version__ else SHORT_CACHE
    return response


@bp.route("/widget.js")
@bp.route("/widget/static/js/chat-widget.js")
@bp.route("/widget/assets/js/chat-widget.js")
def script():
    text, etag = bundle.script()
    response = Response(text, content_type="application/javascript; charset=utf-8")
    response.set_etag(etag)
    response.make_conditional(request)
    return _cache_for_version(response)


@bp.route("/widget/static/css/chat-widget.css")
def stylesheet():
    response = send_from_directory(bp.static_folder, "css/chat-widget.css", max_age=0)
    response.headers["Content-Type"] = "text/css; charset=utf-8"
    response.headers.pop("Expires", None)
    return _cache_for_version(response)


@bp.route("/widget/config")
@bp.route("/widget/config.php")
def config():
    return success("Configuration options loaded", options.catalogue())


@bp.route("/widget/health")
@bp.route("/widget/health.php")
def health():
    if not readable(current_app.config["DATABASE"]):
        return failure(503, "Database unavailable")
    return success("Widget service is healthy", {
        "status": "ok", "database": "ok", "version": __version__,
    })


@bp.route("/widget/init")
@bp.route("/widget/init.php")
def init():
    try:
        resolved, warnings = options.resolve(request.args)
    except options.OptionError as err:
        return failure(400, str(err))
    base = _base()
    return success("Widget initialised", {
        "config": resolved,
        "warnings": warnings,
        "version": __version__,
        "api": {
            "base": base + "/api/v1/",
            "messages": base + "/api/v1/?action=messages",
            "responses": base + "/api/v1/?action=responses",
        },
        "assets": {
            "script": f"{base}/widget.js?v={__version__}",
            "stylesheet": f"{base}/widget/static/css/chat-widget.css?v={__version__}",
        },
        "embed": _embed_tag(base, resolved),
    })


def _attribute(name: str) -> str:
    """The tag attribute a site owner writes for an option: primaryColor -> data-primary-color."""
    return "data-" + "".join("-" + c.lower() if c.isupper() else c for c in name)


def _embed_tag(base: str, resolved: dict) -> str:
    attributes = [f'src="{escape(base)}/widget.js"', "async"]
    for option in options.OPTIONS:
        value = resolved[option.name]
        if value == option.default:
            continue
        name = _attribute(option.name)
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        attributes.append(f'{name}="{escape(text)}"')
    return "<script " + " ".join(attributes) + "></script>"


@bp.route("/widget/")
@bp.route("/widget/demo")
@bp.route("/widget/demo.php")
def demo():
    page = render_template("demo.html", version=__version__, catalogue=options.catalogue(),
                           attribute=_attribute, base=_base())
    return protect_page(make_response(page))


@bp.after_request
def _headers(response: Response):
    if request.endpoint == "widget.static":
        return cache_static(response)
    if request.endpoint in {"widget.script", "widget.stylesheet", "widget.config",
                            "widget.health", "widget.init"}:
        for name, value in CORS_HEADERS.items():
            response.headers[name] = value
        response.headers["X-Content-Type-Options"] = "nosniff"
        if request.endpoint in {"widget.config", "widget.health", "widget.init"}:
            response.headers["Cache-Control"] = "no-store"
    return response


def register(app) -> None:
    app.register_blueprint(bp)
