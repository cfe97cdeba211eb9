"""Bulk work on a bridge database: copying migrated rows in, reading them back
for validation, online backups, integrity checks and optimisation."""

from __future__ import annotations

import sqlite3
from typing import Callable, Iterable, Iterator

DATA_TABLES = ("web_chat_sessions", "web_chat_messages", "web_chat_responses")
SEQUENCED = ("web_chat_messages", "web_chat_responses")


# -- migration: writing ------------------------------------------------------

def data_counts(db: sqlite3.Connection) -> dict[str, int]:
    return {t: db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in DATA_TABLES}


def defer_foreign_keys(db: sqlite3.Connection) -> None:
    """Check foreign keys at COMMIT instead of per statement (for this
    transaction only), so sessions can be written after their messages."""
    db.execute("PRAGMA defer_foreign_keys = ON")


def foreign_key_violations(db: sqlite3.Connection, limit: int = 10) -> list[tuple]:
    rows = db.execute("PRAGMA foreign_key_check").fetchmany(limit)
    return [tuple(r) for r in rows]


def wipe_data(db: sqlite3.Connection) -> None:
    """Delete every session, message and response (settings and keys stay).
    The AUTOINCREMENT sequences are left as they are, so ids never go back."""
    db.execute("DELETE FROM web_chat_responses")
    db.execute("DELETE FROM web_chat_messages")
    db.execute("DELETE FROM web_chat_sessions")


def existing_ids(db: sqlite3.Connection, table: str, ids: Iterable) -> list:
    """Those of ``ids`` already present in ``table`` (checked in chunks that
    stay under SQLite's parameter limit)."""
    ids = list(ids)
    found = []
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        rows = db.execute(
            f"SELECT id FROM {table} WHERE id IN ({','.join('?' * len(chunk))}) ORDER BY id",
            chunk,
        )
        found.extend(r[0] for r in rows)
    return found


def insert_sessions(db: sqlite3.Connection, rows: Iterable[dict]) -> None:
    db.executemany(
        "INSERT INTO web_chat_sessions (id, uid, created_at, last_active, ip_address, metadata)"
        " VALUES (:id, :uid, :created_at, :last_active, :ip_address, :metadata)",
        rows,
    )


def insert_messages(db: sqlite3.Connection, rows: Iterable[dict]) -> None:
    db.executemany(
        "INSERT INTO web_chat_messages"
        " (id, session_id, message, timestamp, processed, broca_message_id)"
        " VALUES (:id, :session_id, :message, :timestamp, :processed, :broca_message_id)",
        rows,
    )


def insert_responses(db: sqlite3.Connection, rows: Iterable[dict]) -> None:
    db.executemany(
        "INSERT INTO web_chat_responses (id, session_id, response, timestamp, message_id)"
        " VALUES (:id, :session_id, :response, :timestamp, :message_id)",
        rows,
    )


def sequences(db: sqlite3.Connection) -> dict[str, int]:
    rows = db.execute(
        "SELECT name, seq FROM sqlite_sequence WHERE name IN ('web_chat_messages',"
        " 'web_chat_responses')"
    )
    return {r[0]: int(r[1] or 0) for r in rows}


def raise_sequence(db: sqlite3.Connection, table: str, at_least: int) -> None:
    """Make the next AUTOINCREMENT id of ``table`` greater than ``at_least``
    (never lowers it)."""
    if table not in SEQUENCED:
        raise ValueError(table)
    cur = db.execute(
        "UPDATE sqlite_sequence SET seq = MAX(seq, ?) WHERE name = ?", (at_least, table)
    )
    if cur.rowcount == 0 and at_least > 0:
        db.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", (table, at_least))


# -- migration: reading back for validation ---------------------------------

def _rows(db: sqlite3.Connection, sql: str) -> Iterator[dict]:
    cur = db.execute(sql)
    while True:
        batch = cur.fetchmany(1000)
        if not batch:
            return
        for r in batch:
            yield dict(r)


def session_rows(db: sqlite3.Connection) -> Iterator[dict]:
    return _rows(db, "SELECT id, uid, created_at, last_active, ip_address, metadata"
                     " FROM web_chat_sessions ORDER BY id")


def message_rows(db: sqlite3.Connection) -> Iterator[dict]:
    return _rows(db, "SELECT id, session_id, message, timestamp, processed, broca_message_id"
                     " FROM web_chat_messages ORDER BY id")


def response_rows(db: sqlite3.Connection) -> Iterator[dict]:
    return _rows(db, "SELECT id, session_id, response, timestamp, message_id"
                     " FROM web_chat_responses ORDER BY id")


# -- backup, integrity, optimisation -----------------------------------------

def schema_version(db: sqlite3.Connection) -> int:
    return db.execute("PRAGMA user_version").fetchone()[0]


def integrity_check(db: sqlite3.Connection) -> list[str]:
    """SQLite's own verdict: ``["ok"]`` for a sound file, else the problems."""
    return [r[0] for r in db.execute("PRAGMA integrity_check")]


def page_count(db: sqlite3.Connection) -> int:
    return db.execute("PRAGMA page_count").fetchone()[0]


def copy_pages(
    source: sqlite3.Connection,
    dest: sqlite3.Connection,
    *,
    pages: int,
    progress: Callable[[int, int, int], object] | None = None,
) -> None:
    """SQLite's online backup API. With ``pages=-1`` the whole file is copied in
    one step under a single read snapshot; with a step size, each step reads a
    fresh snapshot and a write by another connection restarts the copy."""
    source.backup(dest, pages=pages, progress=progress, sleep=0)


def use_rollback_journal(db: sqlite3.Connection) -> None:
    """A backup copied from a WAL database is WAL too; make it one
    self-contained file instead."""
    db.execute("PRAGMA journal_mode = DELETE").fetchone()


def analyze(db: sqlite3.Connection) -> None:
    db.execute("ANALYZE")


def reindex(db: sqlite3.Connection) -> None:
    db.execute("REINDEX")


def vacuum(db: sqlite3.Connection) -> None:
    db.execute("VACUUM")


def checkpoint_truncate(db: sqlite3.Connection) -> tuple[int, int, int]:
    """(busy, WAL frames, frames checkpointed); busy=1 when a reader kept the
    WAL from being emptied."""
    row = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    return int(row[0]), int(row[1]), int(row[2])
