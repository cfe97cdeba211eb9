"""rate_limits: request counts per client, endpoint and fixed time window.

The table has no primary key (the specification's shape), so a window's row is
found by its three columns and created when the update finds none; both happen
inside one IMMEDIATE transaction, so concurrent workers never create two rows
for one window.
"""

from __future__ import annotations

import sqlite3

from .connection import transaction


def hit(db: sqlite3.Connection, client: str, endpoint: str, window_start: str) -> int:
    """Count one request; returns the count in this window including it."""
    with transaction(db):
        row = db.execute(
            "UPDATE rate_limits SET count = count + 1"
            " WHERE ip_address = ? AND endpoint = ? AND window_start = ?"
            " RETURNING count",
            (client, endpoint, window_start),
        ).fetchone()
        if row is not None:
            return row[0]
        db.execute(
            "INSERT INTO rate_limits (ip_address, endpoint, count, window_start)"
            " VALUES (?, ?, 1, ?)",
            (client, endpoint, window_start),
        )
        return 1


def prune(db: sqlite3.Connection, before: str) -> int:
    """Forget windows that started before ``before``."""
    with transaction(db):
        return db.execute("DELETE FROM rate_limits WHERE window_start < ?", (before,)).rowcount


def count_rows(db: sqlite3.Connection) -> int:
    return db.execute("SELECT COUNT(*) FROM rate_limits").fetchone()[0]
