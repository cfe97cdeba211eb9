"""``GET /bench/ceiling``: the cheapest answer the server can give, for load tests.

The benchmark measures every API figure against this route, served by the same
gunicorn with the same settings, so that the ratio shows what the bridge's own
work costs on top of HTTP, WSGI and JSON. It touches no database and is
registered only when ``WEB_CHAT_BENCH_CEILING=1``, never in a normal start.
"""

from __future__ import annotations

from flask import Blueprint

from .api.envelope import success

bp = Blueprint("bench_ceiling", __name__)


@bp.route("/bench/ceiling", methods=["GET"])
def ceiling():
    return success("OK", {"status": "ok"})


def enabled(environ) -> bool:
    return environ.get("WEB_CHAT_BENCH_CEILING", "") == "1"
