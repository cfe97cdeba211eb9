"""The admin dashboard at /admin."""

from __future__ import annotations

from flask import Blueprint, redirect, url_for

bp = Blueprint("admin", __name__, template_folder="templates", static_folder="static",
               static_url_path="/static/admin")


@bp.route("/web/admin.php")
def legacy_admin():
    return redirect(url_for("admin.dashboard"), code=301)


@bp.route("/admin")
def dashboard():
    return "admin dashboard: under construction", 200


def register(app) -> None:
    app.register_blueprint(bp)
