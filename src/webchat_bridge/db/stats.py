"""Aggregates for the dashboard's overview."""

from __future__ import annotations

import sqlite3


def totals(db: sqlite3.Connection, active_since: str) -> dict:
    row = db.execute(
        "SELECT (SELECT COUNT(*) FROM web_chat_sessions),"
        " (SELECT COUNT(*) FROM web_chat_sessions WHERE last_active > ?),"
        " (SELECT COUNT(*) FROM web_chat_messages),"
        " (SELECT COUNT(*) FROM web_chat_messages WHERE processed = 0),"
        " (SELECT COUNT(*) FROM web_chat_responses)",
        (active_since,),
    ).fetchone()
    return {
        "sessions": row[0],
        "active_sessions": row[1],
        "messages": row[2],
        "unprocessed_messages": row[3],
        "responses": row[4],
    }


def response_time(db: sqlite3.Connection, since: str) -> tuple[float | None, int]:
    """Mean seconds from a message (sent after ``since``) to the first response
    after it in its session, and how many answered messages that covers."""
    row = db.execute(
        "SELECT AVG((julianday(first_answer) - julianday(asked)) * 86400.0), COUNT(first_answer)"
        " FROM (SELECT m.timestamp AS asked,"
        "        (SELECT MIN(r.timestamp) FROM web_chat_responses r"
        "         WHERE r.session_id = m.session_id AND r.timestamp >= m.timestamp) AS first_answer"
        "       FROM web_chat_messages m WHERE m.timestamp > ?)",
        (since,),
    ).fetchone()
    return (None if row[0] is None else float(row[0])), row[1]


def messages_per_hour(db: sqlite3.Connection, since: str) -> dict[str, int]:
    """Message counts keyed by hour (``YYYY-MM-DDTHH``) for messages after ``since``."""
    rows = db.execute(
        "SELECT substr(timestamp, 1, 13) AS hour, COUNT(*) FROM web_chat_messages"
        " WHERE timestamp > ? GROUP BY hour",
        (since,),
    )
    return {r[0]: r[1] for r in rows}
