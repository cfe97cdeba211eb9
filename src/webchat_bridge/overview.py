"""The dashboard's overview: system-wide figures assembled from the data layer."""

from __future__ import annotations

import sqlite3

from . import timefmt
from .db import stats
from .settings import Settings

HOURS = 24


def system_stats(db: sqlite3.Connection, settings: Settings) -> dict:
    """Totals, the mean time to the first answer, and messages per hour for
    the last 24 hours (oldest first, the current hour last, empty hours as 0)."""
    now = timefmt.utcnow()
    day_ago = timefmt.iso_ms(timefmt.ago(now, HOURS * 3600))
    totals = stats.totals(
        db, timefmt.sqlite_seconds(timefmt.ago(now, settings.session_timeout))
    )
    mean, answered = stats.response_time(db, day_ago)
    counts = stats.messages_per_hour(db, day_ago)
    this_hour = now.replace(minute=0, second=0, microsecond=0)
    hours = []
    for back in range(HOURS - 1, -1, -1):
        key = timefmt.ago(this_hour, back * 3600).strftime("%Y-%m-%dT%H")
        hours.append({"hour": key + ":00:00Z", "count": counts.get(key, 0)})
    return {
        **totals,
        "mean_response_seconds": None if mean is None else round(mean, 3),
        "answered_messages_24h": answered,
        "messages_per_hour": hours,
        "session_timeout": settings.session_timeout,
        "generated_at": timefmt.iso_ms(now),
    }
