"""web_chat_settings: runtime settings as name → text value."""

from __future__ import annotations

import sqlite3

from .connection import transaction


def get_all(db: sqlite3.Connection) -> dict[str, str]:
    return {r[0]: r[1] for r in db.execute("SELECT name, value FROM web_chat_settings")}


def put_many(db: sqlite3.Connection, values: dict[str, str], now: str) -> None:
    with transaction(db):
        db.executemany(
            "INSERT INTO web_chat_settings (name, value, updated_at) VALUES (?, ?, ?)"
            " ON CONFLICT(name) DO UPDATE SET value = excluded.value,"
            " updated_at = excluded.updated_at",
            [(name, value, now) for name, value in values.items()],
        )


def put_if_absent(db: sqlite3.Connection, name: str, value: str, now: str) -> bool:
    """Store ``value`` unless the setting exists; True when this call stored it."""
    cur = db.execute(
        "INSERT INTO web_chat_settings (name, value, updated_at) VALUES (?, ?, ?)"
        " ON CONFLICT(name) DO NOTHING",
        (name, value, now),
    )
    return cur.rowcount > 0


def claim_slot(db: sqlite3.Connection, name: str, now: str, not_after: str) -> bool:
    """Set ``name`` to ``now`` only if absent or older than ``not_after``.

    Used as a cross-process "at most once a minute" latch: exactly one worker
    wins each slot.
    """
    with transaction(db):
        cur = db.execute(
            "INSERT INTO web_chat_settings (name, value, updated_at) VALUES (?, ?, ?)"
            " ON CONFLICT(name) DO UPDATE SET value = excluded.value,"
            " updated_at = excluded.updated_at WHERE web_chat_settings.value < ?",
            (name, now, now, not_after),
        )
        return cur.rowcount > 0
