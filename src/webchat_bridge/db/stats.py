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
    after it in its session, and how many answered messages that covers.

    One pass over the window's messages and responses, ordered per session: a
    message's first answer is the earliest response at or after it. (A
    correlated subquery per message read every response of the session for
    every message, which grew with the square of a long conversation.)
    """
    row = db.execute(
        "WITH events AS ("
        "  SELECT session_id, timestamp AS at, 0 AS is_answer FROM web_chat_messages"
        "  WHERE timestamp > :since"
        "  UNION ALL"
        "  SELECT session_id, timestamp, 1 FROM web_chat_responses WHERE timestamp > :since),"
        " paired AS ("
        "  SELECT at, is_answer, MIN(CASE WHEN is_answer = 1 THEN at END) OVER ("
        "    PARTITION BY session_id ORDER BY at, is_answer"
        "    ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) AS first_answer"
        "  FROM events)"
        " SELECT AVG((julianday(first_answer) - julianday(at)) * 86400.0), COUNT(first_answer)"
        " FROM paired WHERE is_answer = 0",
        {"since": since},
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
