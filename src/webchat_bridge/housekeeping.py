"""Cleanup of inactive sessions and old rate-limit windows.

Runs on demand (the ``cleanup`` action and command) and by itself,
piggybacked on API traffic: at most once a minute across all workers (a latch
row in the settings table decides which worker), after the response has been
sent, and bounded in size so that it never makes anything slow.
"""

from __future__ import annotations

import sqlite3

from . import timefmt
from .db import rate_limits, sessions, settings_store
from .settings import Settings

AUTO_INTERVAL_SECONDS = 60
AUTO_BATCH = 200
_LATCH = "_last_auto_cleanup"


def cleanup(db: sqlite3.Connection, settings: Settings, *, limit: int | None = None) -> int:
    """Delete removable inactive sessions; returns how many went."""
    now = timefmt.utcnow()
    return sessions.delete_inactive(
        db,
        idle_before=timefmt.sqlite_seconds(timefmt.ago(now, settings.session_timeout)),
        grace_before=timefmt.sqlite_seconds(
            timefmt.ago(now, settings.session_timeout + settings.answer_grace)
        ),
        limit=limit,
    )


def prune_rate_limits(db: sqlite3.Connection, settings: Settings) -> int:
    now = timefmt.utcnow()
    # Keep the current and the previous window; older ones can no longer matter.
    return rate_limits.prune(
        db, timefmt.sqlite_seconds(timefmt.ago(now, 2 * settings.rate_limit_window))
    )


def cleanup_now(db: sqlite3.Connection, settings: Settings) -> tuple[int, int]:
    """The on-demand run (action and command): every removable session in one
    transaction, then old rate-limit windows. Returns both counts."""
    return cleanup(db, settings), prune_rate_limits(db, settings)


def auto_cleanup(db: sqlite3.Connection, settings: Settings) -> int | None:
    """The piggybacked run: None when another run happened within the minute."""
    now = timefmt.utcnow()
    stamp = timefmt.sqlite_seconds(now)
    due_before = timefmt.sqlite_seconds(timefmt.ago(now, AUTO_INTERVAL_SECONDS))
    if not settings_store.claim_slot(db, _LATCH, stamp, due_before):
        return None
    removed = cleanup(db, settings, limit=AUTO_BATCH)
    prune_rate_limits(db, settings)
    return removed
