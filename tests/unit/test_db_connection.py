"""Connections, transactions and upgrades (db/connection.py)."""

from __future__ import annotations

import os
import sqlite3

import pytest

from webchat_bridge import db as dbpkg
from webchat_bridge.db import connection


def test_connect_configures_the_connection(path, monkeypatch):
    monkeypatch.delenv("WEB_CHAT_SYNCHRONOUS", raising=False)
    conn = dbpkg.connect(path)
    try:
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 30000
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
        assert conn.isolation_level is None  # autocommit; transactions are explicit
        row = conn.execute("SELECT 1 AS one").fetchone()
        assert row["one"] == 1
    finally:
        conn.close()


@pytest.mark.parametrize("value, expected", [("FULL", 2), ("off", 0), ("bogus", 1)])
def test_synchronous_from_the_environment(path, monkeypatch, value, expected):
    monkeypatch.setenv("WEB_CHAT_SYNCHRONOUS", value)
    conn = dbpkg.connect(path)
    try:
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == expected
    finally:
        conn.close()


def test_readonly_connection_cannot_write(path):
    conn = dbpkg.connect(path, readonly=True)
    try:
        assert conn.execute("SELECT COUNT(*) FROM web_chat_sessions").fetchone()[0] == 0
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            conn.execute("INSERT INTO web_chat_sessions (id) VALUES ('x')")
    finally:
        conn.close()


def test_transaction_commits(path):
    conn = dbpkg.connect(path)
    with dbpkg.transaction(conn):
        assert conn.in_transaction
        conn.execute("INSERT INTO web_chat_sessions (id) VALUES ('a')")
    assert not conn.in_transaction
    other = dbpkg.connect(path)
    assert other.execute("SELECT COUNT(*) FROM web_chat_sessions").fetchone()[0] == 1
    conn.close()
    other.close()


def test_transaction_rolls_back_on_error(path):
    conn = dbpkg.connect(path)
    with pytest.raises(ZeroDivisionError):
        with dbpkg.transaction(conn):
            conn.execute("INSERT INTO web_chat_sessions (id) VALUES ('a')")
            1 / 0
    assert not conn.in_transaction
    assert conn.execute("SELECT COUNT(*) FROM web_chat_sessions").fetchone()[0] == 0
    conn.close()


def test_inner_transaction_joins_the_outer_one(path):
    conn = dbpkg.connect(path)
    with pytest.raises(RuntimeError):
        with dbpkg.transaction(conn):
            with dbpkg.transaction(conn):
                conn.execute("INSERT INTO web_chat_sessions (id) VALUES ('a')")
            # The inner block did not commit: still inside the outer one.
            assert conn.in_transaction
            raise RuntimeError
    assert conn.execute("SELECT COUNT(*) FROM web_chat_sessions").fetchone()[0] == 0
    conn.close()


def test_transaction_takes_the_write_lock_at_once(path):
    # BEGIN IMMEDIATE: a second writer waits at BEGIN rather than failing
    # later when it tries to upgrade a stale read snapshot.
    holder = dbpkg.connect(path)
    other = sqlite3.connect(path, timeout=0.05, isolation_level=None)
    try:
        with dbpkg.transaction(holder):
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
    finally:
        holder.close()
        other.close()


def test_split_script_skips_comments_and_keeps_semicolons_in_strings():
    script = (
        "-- a comment; with a semicolon\n"
        "CREATE TABLE t (a TEXT DEFAULT ';');\n"
        "\n"
        "INSERT INTO t VALUES ('x;y');\n"
        "SELECT 1"
    )
    assert connection._split_script(script) == [
        "CREATE TABLE t (a TEXT DEFAULT ';');",
        "INSERT INTO t VALUES ('x;y');",
        "SELECT 1",
    ]


def test_upgrade_is_a_no_op_at_the_current_version(path):
    conn = dbpkg.connect(path)
    try:
        assert connection.upgrade(conn) == dbpkg.SCHEMA_VERSION
        assert not conn.in_transaction
    finally:
        conn.close()


def test_a_failed_upgrade_leaves_the_file_untouched(tmp_path, monkeypatch):
    path = str(tmp_path / "bridge.db")
    broken = lambda: "CREATE TABLE web_chat_sessions (id TEXT);\nTHIS IS NOT SQL;\n"  # noqa: E731
    monkeypatch.setitem(connection.UPGRADES, 1, broken)
    with pytest.raises(sqlite3.OperationalError):
        dbpkg.open_database(path)
    raw = sqlite3.connect(path)
    try:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == 0
        assert raw.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0] == 0
    finally:
        raw.close()


def test_get_db_is_one_connection_per_thread_kept_between_requests(app):
    import threading

    with app.app_context():
        first = dbpkg.get_db()
        assert dbpkg.get_db() is first
        assert first.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        first.execute("BEGIN IMMEDIATE")
    # Teardown never leaves a transaction behind, and the thread's next
    # request reuses the connection.
    assert not first.in_transaction
    with app.app_context():
        assert dbpkg.get_db() is first
    other = []

    def in_another_thread():
        with app.app_context():
            other.append(dbpkg.get_db())

    thread = threading.Thread(target=in_another_thread)
    thread.start()
    thread.join()
    assert other[0] is not first


def test_a_thread_keeps_only_a_few_files_open(tmp_path):
    for i in range(6):
        dbpkg.open_database(str(tmp_path / f"{i}.db")).close()
    opened = [dbpkg.connection._thread_connection(str(tmp_path / f"{i}.db")) for i in range(6)]
    # The oldest ones were closed to make room.
    with pytest.raises(sqlite3.ProgrammingError):
        opened[0].execute("SELECT 1")
    assert opened[-1].execute("SELECT 1").fetchone()[0] == 1
    assert dbpkg.connection._thread_connection(str(tmp_path / "5.db")) is opened[-1]


def test_a_deleted_or_replaced_file_is_not_written_through_an_old_connection(tmp_path):
    path = str(tmp_path / "live.db")
    dbpkg.open_database(path).close()
    first = dbpkg.connection._thread_connection(path)
    os.remove(path)
    # Missing now: an error, and no empty file created in its place.
    with pytest.raises(sqlite3.OperationalError):
        dbpkg.connection._thread_connection(path)
    assert not os.path.exists(path)
    # Restored (a new file at the same path): a new connection reads it.
    dbpkg.open_database(path).close()
    again = dbpkg.connection._thread_connection(path)
    assert again is not first
    assert again.execute("SELECT COUNT(*) FROM web_chat_sessions").fetchone()[0] == 0
