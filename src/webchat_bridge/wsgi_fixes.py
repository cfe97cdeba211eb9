"""WSGI middleware applied around the Flask application."""

from __future__ import annotations

import re

_SLASHES = re.compile(r"/{2,}")


class CollapseSlashes:
    """``//api/v1/`` → ``/api/v1/`` before routing.

    The agent's plugin sends a doubled slash when its base URL ends in ``/``;
    Werkzeug would answer with a redirect, which a POST would not survive.
    """

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if "//" in path:
            environ["PATH_INFO"] = _SLASHES.sub("/", path)
        return self.app(environ, start_response)
