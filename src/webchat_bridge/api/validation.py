"""Parsing and checking of bodies and query parameters (CONTRACT §4).

Each function returns a clean value or raises ApiError(400) with the
contract's text. Nothing here touches the database.
"""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Request
from werkzeug.exceptions import RequestEntityTooLarge

from .. import timefmt
from .envelope import ApiError

SESSION_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
MAX_BODY_BYTES = 1024 * 1024
MAX_LIMIT = 100


def bad(text: str) -> ApiError:
    return ApiError(400, text)


def _valid_unicode(value: Any) -> bool:
    """False when any string (or key) holds a lone surrogate, which no UTF-8
    store can keep."""
    # An explicit stack, not recursion: json.loads accepts nesting deep enough
    # that a recursive walk would overflow the interpreter's stack.
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return False
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return True


def json_object(request: Request) -> dict:
    """The body as a non-empty JSON object, whatever the Content-Type says
    (the PHP system read text/plain bodies too)."""
    length = request.content_length
    if length is not None and length > MAX_BODY_BYTES:
        raise bad("Request body too large")
    try:
        # One byte past the limit tells a body that is too large from one that
        # is exactly at it, also when it comes chunked, without a length.
        raw = request.stream.read(MAX_BODY_BYTES + 1)
    except RequestEntityTooLarge:
        raise bad("Request body too large") from None
    except Exception:  # the server could not read it: a broken chunked body, a lie about its length
        raise bad("Invalid request body") from None
    if len(raw) > MAX_BODY_BYTES:
        raise bad("Request body too large")
    if not raw.strip():
        raise bad("Invalid JSON")
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise bad("Invalid JSON") from None
    if not isinstance(body, dict) or not body or not _valid_unicode(body):
        raise bad("Invalid JSON")
    return body


def _present(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, str):
        return value.replace("\x00", "").strip() != ""
    return True


def require(body: dict, *names: str) -> None:
    if not all(_present(body.get(n)) for n in names):
        raise bad("Missing required fields")


def session_id(value: Any) -> str:
    if not isinstance(value, str) or not SESSION_ID.fullmatch(value):
        raise bad("Invalid session ID")
    return value


def text(value: Any, *, field: str, max_length: int) -> str:
    """NULs removed, surrounding whitespace trimmed, then 1..max characters."""
    if not isinstance(value, str):
        raise bad(f"Invalid {field}")
    cleaned = value.replace("\x00", "").strip()
    if not cleaned:
        raise bad("Missing required fields")
    if len(cleaned) > max_length:
        raise bad(f"Invalid {field}")
    return cleaned


def optional_string(body: dict, name: str) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise bad(f"Invalid {name}")
    return value


def optional_int(value: Any, *, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not (0 < value < 2**63):
        raise bad(f"Invalid {name}")
    return value


def _query_int(args, name: str, default: int | None, minimum: int) -> int | None:
    raw = args.get(name)
    if raw is None or raw == "":
        return default
    # [0-9], not \d: \d and int() would also take other scripts' digits ("５").
    if not re.fullmatch(r"\s*[+-]?[0-9]{1,19}\s*", raw):
        raise bad(f"Invalid {name} parameter")
    value = int(raw)
    if value < minimum or value >= 2**63:
        raise bad(f"Invalid {name} parameter")
    return value


def limit(args, default: int = 50) -> int:
    return min(_query_int(args, "limit", default, 1), MAX_LIMIT)


def offset(args) -> int:
    return _query_int(args, "offset", 0, 0)


def since_id(args) -> int | None:
    return _query_int(args, "since_id", None, 0)


def since(args) -> str | None:
    """``since`` in the stored form, so that it compares as text."""
    raw = args.get("since")
    if raw is None or raw == "":
        return None
    moment = timefmt.parse_client_time(raw)
    if moment is None:
        raise bad("Invalid since parameter")
    return timefmt.iso_ms(moment)


def query_session_id(args) -> str:
    raw = args.get("session_id")
    if raw is None or raw == "":
        raise bad("Missing session_id parameter")
    return session_id(raw)
