"""Time: one clock and the two stored forms of CONTRACT §6.

Messages and responses carry ``2025-08-04T03:08:55.484Z`` (fixed width, so text
order is time order); sessions carry SQLite's ``2025-08-04 03:08:53``. Every
time the bridge writes comes from :func:`utcnow`, which tests replace to
simulate the passing of hours without waiting for them.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

UTC = timezone.utc


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso_ms(moment: datetime) -> str:
    """The stored form of a message or response time."""
    moment = moment.astimezone(UTC)
    # %Y does not pad years before 1000, which would break text order.
    return f"{moment.year:04d}" + moment.strftime("-%m-%dT%H:%M:%S.") + (
        f"{moment.microsecond // 1000:03d}Z"
    )


def sqlite_seconds(moment: datetime) -> str:
    """The stored form of a session time (SQLite's datetime('now'))."""
    moment = moment.astimezone(UTC)
    return f"{moment.year:04d}" + moment.strftime("-%m-%d %H:%M:%S")


def ago(moment: datetime, seconds: float) -> datetime:
    return moment - timedelta(seconds=seconds)


# "2025-06-01T10:00:00 02:00": an offset whose "+" arrived unencoded in a query
# string and was decoded as a space.
_SPACE_OFFSET = re.compile(r"^(.*\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}(?::?\d{2})?)$")
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?"
    r"(?:Z|z|[+-]\d{2}(?::?\d{2})?)?$"
)


def parse_client_time(text: str) -> datetime | None:
    """Read the time forms clients send as ``since``; None when unreadable.

    Accepted: ISO 8601 with ``Z``, an offset or neither (then UTC), with or
    without fractions; a bare date; SQLite's ``YYYY-MM-DD HH:MM:SS``.
    """
    if not isinstance(text, str):
        return None
    text = text.strip()
    if len(text) > 40:
        return None
    match = _SPACE_OFFSET.match(text)
    if match and "T" in match.group(1):
        text = f"{match.group(1)}+{match.group(2)}"
    if not (_DATE_ONLY.match(text) or _DATETIME.match(text)):
        return None
    text = text.replace("z", "Z")
    # fromisoformat takes at most microseconds; a longer fraction is cut.
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)
    # "+0200" and "+02" are ISO 8601 too; Python wants "+02:00".
    text = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", text)
    text = re.sub(r"([+-]\d{2})$", r"\1:00", text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except (OverflowError, ValueError):
        return None
