"""Response headers for the bridge's own pages (chat, widget demo, dashboard)
and their static files."""

from __future__ import annotations

from flask import Response, request

from . import __version__

# No inline script or style, nothing from another origin, no framing. The
# pages only ever talk to this bridge's API, so connect-src is 'self' too.
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

IMMUTABLE = "public, max-age=31536000, immutable"


def protect_page(response: Response, *, cache: str = "no-cache") -> Response:
    """The headers of an HTML page that must not be framed."""
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = cache
    return response


def cache_static(response: Response) -> Response:
    """A static file asked for with the current ``?v=`` never changes; any
    other URL of it is revalidated."""
    if response.status_code == 200:
        if request.args.get("v") == __version__:
            response.headers["Cache-Control"] = IMMUTABLE
        else:
            response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
