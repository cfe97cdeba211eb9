"""Reading a database file written by the PHP system (read-only).

Every statement names its columns: the PHP file was created by hand-written
``CREATE TABLE`` statements that may have drifted between installations, so
positional ``SELECT *`` could silently shift one column into another. The file
is opened with ``mode=ro`` so that nothing here can ever change it.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Iterator

from .connection import decode_text

# The columns the migration reads, per table. A file missing any of them is not
# a PHP bridge database (or is one this release does not understand).
COLUMNS = {
    "web_chat_sessions": ("id", "uid", "created_at", "last_active", "ip_address", "metadata"),
    "web_chat_messages": ("id", "session_id", "message", "timestamp", "processed",
                          "broca_message_id"),
    "web_chat_responses": ("id", "session_id", "response", "timestamp", "message_id"),
}

BATCH = 1000


class NotAPhpDatabase(ValueError):
    """The file cannot be read as a database of the PHP system."""


def open_source(path: str) -> sqlite3.Connection:
    """A read-only connection to the PHP file at ``path``, its shape checked."""
    if not os.path.exists(path):
        raise NotAPhpDatabase(f"{path}: no such file")
    if not os.path.isfile(path):
        raise NotAPhpDatabase(f"{path}: not a file")
    # as_uri() percent-encodes the path, so a '?' or '#' in a folder name
    # cannot be mistaken for URI syntax.
    uri = Path(path).resolve().as_uri() + "?mode=ro"
    conn = sqlite3.connect(uri, uri=True, timeout=30.0, isolation_level=None)
    # Text that is not valid UTF-8 is read with U+FFFD in place of the bad
    # bytes rather than stopping the whole migration.
    conn.text_factory = decode_text
    conn.row_factory = sqlite3.Row
    try:
        check_shape(conn, path)
    except BaseException:
        conn.close()
        raise
    return conn


def _tables(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def check_shape(conn: sqlite3.Connection, path: str) -> None:
    try:
        tables = _tables(conn)
        version = conn.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.DatabaseError as err:
        raise NotAPhpDatabase(f"{path}: not an SQLite database ({err})") from None
    if "web_chat_settings" in tables or version > 0:
        raise NotAPhpDatabase(
            f"{path}: this is a webchat-bridge database, not one of the PHP system"
        )
    missing_tables = [t for t in COLUMNS if t not in tables]
    if missing_tables:
        raise NotAPhpDatabase(
            f"{path}: not a database of the PHP bridge (no table {', '.join(missing_tables)})"
        )
    for table, wanted in COLUMNS.items():
        present = {r["name"] for r in conn.execute(f"PRAGMA table_info({table})")}
        missing = [c for c in wanted if c not in present]
        if missing:
            raise NotAPhpDatabase(
                f"{path}: table {table} lacks column(s) {', '.join(missing)}; "
                "not a database of the PHP bridge"
            )


def begin_snapshot(conn: sqlite3.Connection) -> None:
    """Read everything inside one read transaction: one consistent picture even
    if something still writes to the file."""
    conn.execute("BEGIN")
    # A deferred BEGIN takes its snapshot at the first read.
    conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()


def end_snapshot(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:
        conn.execute("ROLLBACK")


def counts(conn: sqlite3.Connection) -> dict[str, int]:
    return {
        table: conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
        for table in COLUMNS
    }


def rate_limit_rows(conn: sqlite3.Connection) -> int:
    if "rate_limits" not in _tables(conn):
        return 0
    return conn.execute("SELECT COUNT(*) FROM rate_limits").fetchone()[0]


def sequences(conn: sqlite3.Connection) -> dict[str, int]:
    """The AUTOINCREMENT high-water marks (higher than the largest id when the
    newest rows were deleted by the PHP cleanup)."""
    if "sqlite_sequence" not in _tables(conn):
        return {}
    rows = conn.execute(
        "SELECT name, seq FROM sqlite_sequence"
        " WHERE name IN ('web_chat_messages', 'web_chat_responses')"
    )
    return {r["name"]: int(r["seq"] or 0) for r in rows}


def _batches(cursor: sqlite3.Cursor) -> Iterator[list[dict]]:
    while True:
        rows = cursor.fetchmany(BATCH)
        if not rows:
            return
        yield [dict(r) for r in rows]


def sessions(conn: sqlite3.Connection) -> Iterator[list[dict]]:
    return _batches(conn.execute(
        "SELECT id, uid, created_at, last_active, ip_address, metadata"
        " FROM web_chat_sessions ORDER BY id"
    ))


def messages(conn: sqlite3.Connection) -> Iterator[list[dict]]:
    return _batches(conn.execute(
        "SELECT id, session_id, message, timestamp, processed, broca_message_id"
        " FROM web_chat_messages ORDER BY id"
    ))


def responses(conn: sqlite3.Connection) -> Iterator[list[dict]]:
    return _batches(conn.execute(
        "SELECT id, session_id, response, timestamp, message_id"
        " FROM web_chat_responses ORDER BY id"
    ))


def message_ids(conn: sqlite3.Connection) -> set[int]:
    return {r[0] for r in conn.execute("SELECT id FROM web_chat_messages")}
