"""web_chat_sessions: one row per conversation."""

from __future__ import annotations

import sqlite3

from .connection import transaction

_COLUMNS = "id, uid, created_at, last_active, ip_address, metadata"


def get(db: sqlite3.Connection, session_id: str) -> dict | None:
    row = db.execute(
        f"SELECT {_COLUMNS} FROM web_chat_sessions WHERE id = ?", (session_id,)
    ).fetchone()
    return dict(row) if row else None


def exists(db: sqlite3.Connection, session_id: str) -> bool:
    row = db.execute("SELECT 1 FROM web_chat_sessions WHERE id = ?", (session_id,)).fetchone()
    return row is not None


def last_active(db: sqlite3.Connection, session_id: str) -> str | None | bool:
    """The session's ``last_active``; False when there is no such session."""
    row = db.execute(
        "SELECT last_active FROM web_chat_sessions WHERE id = ?", (session_id,)
    ).fetchone()
    return False if row is None else row[0]


def create(
    db: sqlite3.Connection,
    session_id: str,
    *,
    uid: str | None,
    ip_address: str | None,
    now: str,
    metadata: str | None = None,
) -> None:
    db.execute(
        "INSERT INTO web_chat_sessions (id, uid, created_at, last_active, ip_address, metadata)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (session_id, uid, now, now, ip_address, metadata),
    )


def set_uid(db: sqlite3.Connection, session_id: str, uid: str) -> None:
    db.execute("UPDATE web_chat_sessions SET uid = ? WHERE id = ?", (uid, session_id))


def touch(db: sqlite3.Connection, session_id: str, now: str) -> None:
    db.execute("UPDATE web_chat_sessions SET last_active = ? WHERE id = ?", (now, session_id))


def touch_if_before(db: sqlite3.Connection, session_id: str, now: str, cutoff: str) -> bool:
    """Refresh ``last_active`` only if it is older than ``cutoff`` (polling
    writes at most once a minute per session)."""
    cur = db.execute(
        "UPDATE web_chat_sessions SET last_active = ?"
        " WHERE id = ? AND (last_active IS NULL OR last_active < ?)",
        (now, session_id, cutoff),
    )
    return cur.rowcount > 0


def _where(active_since: str | None, search: str | None) -> tuple[str, list]:
    clauses, params = [], []
    if active_since is not None:
        clauses.append("s.last_active > ?")
        params.append(active_since)
    if search:
        # A prefix of the id or the uid, with LIKE's wildcards taken literally.
        pattern = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        clauses.append("(s.id LIKE ? ESCAPE '\\' OR s.uid LIKE ? ESCAPE '\\')")
        params += [pattern, pattern]
    return ("WHERE " + " AND ".join(clauses)) if clauses else "", params


def count(
    db: sqlite3.Connection, active_since: str | None = None, search: str | None = None
) -> int:
    where, params = _where(active_since, search)
    return db.execute(f"SELECT COUNT(*) FROM web_chat_sessions s {where}", params).fetchone()[0]


def page(
    db: sqlite3.Connection,
    *,
    limit: int,
    offset: int,
    active_since: str | None = None,
    search: str | None = None,
) -> list[dict]:
    """Sessions, most recently active first, with their message and response
    counts.

    The counts are two correlated aggregates, each answered from its
    session_id index, so a page costs O(page size), not O(messages ×
    responses) as a join of both tables grouped per session would.
    """
    where, params = _where(active_since, search)
    rows = db.execute(
        f"SELECT {_COLUMNS},"
        " (SELECT COUNT(*) FROM web_chat_messages m WHERE m.session_id = s.id) AS message_count,"
        " (SELECT COUNT(*) FROM web_chat_responses r WHERE r.session_id = s.id) AS response_count"
        f" FROM web_chat_sessions s {where}"
        " ORDER BY s.last_active DESC LIMIT ? OFFSET ?",
        [*params, limit, offset],
    )
    return [dict(r) for r in rows]


# A session may go when it has been idle past the timeout, the agent has seen
# all its messages, and either the agent has answered its newest message or the
# grace period for a late answer has passed too.
# The unary + on processed keeps SQLite on the session_id index for the NOT
# EXISTS: without statistics it would otherwise walk every unprocessed message
# of the whole table once per session (52 s instead of 1.3 s for a full cleanup
# at a million messages).
_REMOVABLE = (
    "SELECT s.id FROM web_chat_sessions s"
    " WHERE s.last_active < :idle_before"
    " AND NOT EXISTS (SELECT 1 FROM web_chat_messages m"
    "                 WHERE m.session_id = s.id AND +m.processed = 0)"
    " AND (s.last_active < :grace_before"
    "      OR COALESCE((SELECT MAX(m.timestamp) FROM web_chat_messages m"
    "                   WHERE m.session_id = s.id), '')"
    "         <= COALESCE((SELECT MAX(r.timestamp) FROM web_chat_responses r"
    "                      WHERE r.session_id = s.id), ''))"
    " ORDER BY s.last_active"
)


def delete_inactive(
    db: sqlite3.Connection, *, idle_before: str, grace_before: str, limit: int | None = None
) -> int:
    """Delete removable sessions (their messages and responses cascade), in
    one transaction; at most ``limit`` of them when given."""
    sql = _REMOVABLE + (" LIMIT :limit" if limit is not None else "")
    params = {"idle_before": idle_before, "grace_before": grace_before, "limit": limit}
    with transaction(db):
        cur = db.execute(f"DELETE FROM web_chat_sessions WHERE id IN ({sql})", params)
        return cur.rowcount


def delete_all(db: sqlite3.Connection) -> dict:
    """Delete every session, message and response; returns what remains.

    The AUTOINCREMENT sequences are kept, so an id is never given twice and a
    poller's ``since_id`` cursor stays valid.
    """
    with transaction(db):
        db.execute("DELETE FROM web_chat_responses")
        db.execute("DELETE FROM web_chat_messages")
        db.execute("DELETE FROM web_chat_sessions")
        row = db.execute(
            "SELECT (SELECT COUNT(*) FROM web_chat_responses),"
            " (SELECT COUNT(*) FROM web_chat_messages),"
            " (SELECT COUNT(*) FROM web_chat_sessions)"
        ).fetchone()
    return {"responses": row[0], "messages": row[1], "sessions": row[2]}
