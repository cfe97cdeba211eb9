"""web_chat_responses: the agent's answers, polled by the visitor's page."""

from __future__ import annotations

import sqlite3

from .connection import after


def insert(
    db: sqlite3.Connection,
    session_id: str,
    text: str,
    message_id: int | None,
    now: str,
) -> tuple[int, str]:
    """Store an answer; returns its id and stored timestamp (see messages.insert)."""
    row = db.execute(
        "INSERT INTO web_chat_responses (session_id, response, timestamp, message_id)"
        " VALUES (?, ?, MAX(?, COALESCE((SELECT MAX(timestamp) FROM web_chat_responses), '')), ?)"
        " RETURNING id, timestamp",
        (session_id, text, now, message_id),
    ).fetchone()
    return row[0], row[1]


def for_session(
    db: sqlite3.Connection,
    session_id: str,
    *,
    since: str | None = None,
    since_id: int | None = None,
    with_session_id: bool = False,
) -> list[dict]:
    columns = "id, session_id, response, timestamp, message_id" if with_session_id else (
        "id, response, timestamp, message_id"
    )
    clauses, params = after(since, since_id)
    clauses, params = ["session_id = ?", *clauses], [session_id, *params]
    rows = db.execute(
        f"SELECT {columns} FROM web_chat_responses WHERE {' AND '.join(clauses)} ORDER BY id",
        params,
    )
    return [dict(r) for r in rows]


def count(db: sqlite3.Connection) -> int:
    return db.execute("SELECT COUNT(*) FROM web_chat_responses").fetchone()[0]
