"""web_chat_messages: what visitors typed, waiting for or seen by the agent."""

from __future__ import annotations

import sqlite3

from .connection import after, transaction


def insert(db: sqlite3.Connection, session_id: str, text: str, now: str) -> tuple[int, str]:
    """Store an unprocessed message; returns its id and stored timestamp.

    Call inside the write transaction that took ``now``: the timestamp is never
    older than the newest one stored, so id order and time order agree even if
    the system clock steps back.
    """
    row = db.execute(
        "INSERT INTO web_chat_messages (session_id, message, timestamp, processed)"
        " VALUES (?, ?, MAX(?, COALESCE((SELECT MAX(timestamp) FROM web_chat_messages), '')), 0)"
        " RETURNING id, timestamp",
        (session_id, text, now),
    ).fetchone()
    return row[0], row[1]


def _filter(since: str | None, since_id: int | None) -> tuple[str, list]:
    clauses, params = after(since, since_id, alias="m.")
    return " AND ".join(["m.processed = 0", *clauses]), params


def claim(
    db: sqlite3.Connection,
    *,
    limit: int,
    offset: int = 0,
    since: str | None = None,
    since_id: int | None = None,
) -> tuple[list[dict], int]:
    """Select unprocessed messages oldest first and mark them processed, in
    one transaction, so that two pollers never receive the same message.

    Returns the claimed rows and how many unprocessed messages matched the
    filter before this call.
    """
    where, params = _filter(since, since_id)
    with transaction(db):
        total = db.execute(
            f"SELECT COUNT(*) FROM web_chat_messages m WHERE {where}", params
        ).fetchone()[0]
        rows = [
            dict(r)
            for r in db.execute(
                "SELECT m.id, m.session_id, m.message, m.timestamp, s.uid"
                " FROM web_chat_messages m"
                " LEFT JOIN web_chat_sessions s ON s.id = m.session_id"
                f" WHERE {where} ORDER BY m.id LIMIT ? OFFSET ?",
                [*params, limit, offset],
            )
        ]
        if rows:
            ids = [r["id"] for r in rows]
            db.execute(
                "UPDATE web_chat_messages SET processed = 1"
                f" WHERE id IN ({','.join('?' * len(ids))})",
                ids,
            )
    return rows, total


def for_session(db: sqlite3.Connection, session_id: str) -> list[dict]:
    rows = db.execute(
        "SELECT id, session_id, message, timestamp FROM web_chat_messages"
        " WHERE session_id = ? ORDER BY id",
        (session_id,),
    )
    return [dict(r) for r in rows]


def belongs_to(db: sqlite3.Connection, message_id: int, session_id: str) -> bool:
    row = db.execute(
        "SELECT 1 FROM web_chat_messages WHERE id = ? AND session_id = ?",
        (message_id, session_id),
    ).fetchone()
    return row is not None


def count(db: sqlite3.Connection, *, unprocessed: bool = False) -> int:
    sql = "SELECT COUNT(*) FROM web_chat_messages"
    if unprocessed:
        sql += " WHERE processed = 0"
    return db.execute(sql).fetchone()[0]
