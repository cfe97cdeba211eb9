"""Bearer keys (CONTRACT §3): case-insensitive header and scheme, exact key,
constant-time comparison."""

from __future__ import annotations

import hmac

from flask import Request

from ..settings import Settings
from .envelope import ApiError

FAILURES = {
    "api": "Invalid or missing API key",
    "admin": "Invalid or missing admin key",
}


def bearer_token(request: Request) -> bytes | None:
    header = request.headers.get("Authorization")
    if not header:
        return None
    parts = header.strip().split(None, 1)
    if len(parts) != 2 or parts[0].lower() != "bearer":
        return None
    # WSGI hands header values over as latin-1 text; back to the bytes sent.
    return parts[1].strip().encode("latin-1", "replace")


def check(request: Request, settings: Settings, kind: str) -> bytes:
    """The presented key when it opens ``kind`` ("api" or "admin") actions."""
    expected = settings.api_key if kind == "api" else settings.admin_key
    presented = bearer_token(request)
    if not presented or not expected:
        raise ApiError(401, FAILURES[kind])
    if not hmac.compare_digest(presented, expected.encode("utf-8")):
        raise ApiError(401, FAILURES[kind])
    return presented
