"""Rate limits (CONTRACT §7): fixed windows counted in the rate_limits table,
shared by every worker process."""

from __future__ import annotations

import hashlib
import math
from datetime import datetime, timezone

from .. import timefmt
from ..db import rate_limits
from ..settings import Settings
from .envelope import ApiError


def _window_start(now: datetime, window: int) -> tuple[str, int]:
    epoch = int(now.timestamp())
    start = epoch - epoch % window
    stamp = timefmt.sqlite_seconds(datetime.fromtimestamp(start, timezone.utc))
    return stamp, start + window - epoch


def client_key(endpoint: str, ip_address: str | None, api_key: bytes | None) -> str:
    """Plugin endpoints are counted per API key (a digest: the key itself is
    never stored); public and admin ones per client address."""
    if api_key is not None and endpoint in ("inbox", "outbox"):
        return "key:" + hashlib.sha256(api_key).hexdigest()[:16]
    return ip_address or "unknown"


def check(db, settings: Settings, endpoint: str, client: str) -> None:
    if not settings.rate_limits_enabled:
        return
    allowed = settings.rate_limit(endpoint)
    if allowed is None:
        return
    window = settings.rate_limit_window
    start, remaining = _window_start(timefmt.utcnow(), window)
    used = rate_limits.hit(db, client, endpoint, start)
    if used > allowed:
        retry_after = max(1, math.ceil(remaining))
        raise ApiError(
            429,
            "Rate limit exceeded",
            headers={"Retry-After": str(retry_after)},
            extra={"retry_after": retry_after},
        )
