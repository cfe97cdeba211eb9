"""The JSON envelope of CONTRACT §2, for every answer under /api/."""

from __future__ import annotations

import json

from flask import Response

from .. import timefmt

CONTENT_TYPE = "application/json; charset=utf-8"

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type, Authorization",
    "Access-Control-Max-Age": "86400",
}


class ApiError(Exception):
    """Raised anywhere in an action to answer with an error envelope."""

    def __init__(self, status: int, text: str, *, headers=None, extra=None):
        super().__init__(text)
        self.status = status
        self.text = text
        self.headers = headers or {}
        self.extra = extra or {}


def _as_text(value):
    # A BLOB in a text column (a database written by another program) must
    # not turn an answer into a 500, least of all after inbox has claimed it.
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("utf-8", "replace")
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _json(body: dict, status: int, headers=None) -> Response:
    payload = json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=_as_text)
    response = Response(payload, status=status, content_type=CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def success(message: str, data: dict) -> Response:
    return _json(
        {
            "success": True,
            "message": message,
            "timestamp": timefmt.iso_ms(timefmt.utcnow()),
            "data": data,
        },
        200,
    )


def failure(status: int, text: str, *, headers=None, extra=None) -> Response:
    body = {
        "success": False,
        "error": text,
        "code": status,
        "timestamp": timefmt.iso_ms(timefmt.utcnow()),
    }
    body.update(extra or {})
    return _json(body, status, headers)


def from_error(err: ApiError) -> Response:
    return failure(err.status, err.text, headers=err.headers, extra=err.extra)
