"""The schema a fresh file gets: the specification's four tables, their
indexes and foreign keys, the settings table, the version stamp, WAL, and no
rows; and the files that must be refused."""

from __future__ import annotations

import sqlite3

import pytest

from tests.php_fixtures import PHP_SCHEMA
from webchat_bridge.db import SCHEMA_VERSION, SchemaError, open_database

# (name, declared type, default) per column, in order, as the specification
# writes them.
TABLES = {
    "web_chat_sessions": [
        ("id", "VARCHAR(64)", None),
        ("uid", "VARCHAR(16)", None),
        ("created_at", "TEXT", None),
        ("last_active", "TEXT", None),
        ("ip_address", "VARCHAR(45)", None),
        ("metadata", "TEXT", None),
    ],
    "web_chat_messages": [
        ("id", "INTEGER", None),
        ("session_id", "VARCHAR(64)", None),
        ("message", "TEXT", None),
        ("timestamp", "TEXT", None),
        ("processed", "INTEGER", "0"),
        ("broca_message_id", "INTEGER", None),
    ],
    "web_chat_responses": [
        ("id", "INTEGER", None),
        ("session_id", "VARCHAR(64)", None),
        ("response", "TEXT", None),
        ("timestamp", "TEXT", None),
        ("message_id", "INTEGER", None),
    ],
    "rate_limits": [
        ("ip_address", "VARCHAR(45)", None),
        ("endpoint", "VARCHAR(50)", None),
        ("count", "INTEGER", None),
        ("window_start", "TEXT", None),
    ],
}

PRIMARY_KEYS = {
    "web_chat_sessions": ["id"],
    "web_chat_messages": ["id"],
    "web_chat_responses": ["id"],
    "rate_limits": [],
}

INDEXES = {
    "idx_sessions_last_active": ("web_chat_sessions", ["last_active"]),
    "idx_sessions_uid": ("web_chat_sessions", ["uid"]),
    "idx_sessions_ip": ("web_chat_sessions", ["ip_address"]),
    "idx_messages_session_id": ("web_chat_messages", ["session_id"]),
    "idx_messages_processed": ("web_chat_messages", ["processed"]),
    "idx_messages_timestamp": ("web_chat_messages", ["timestamp"]),
    "idx_messages_broca_id": ("web_chat_messages", ["broca_message_id"]),
    "idx_responses_session_id": ("web_chat_responses", ["session_id"]),
    "idx_responses_timestamp": ("web_chat_responses", ["timestamp"]),
    "idx_responses_message_id": ("web_chat_responses", ["message_id"]),
    "idx_rate_limits_ip_endpoint": ("rate_limits", ["ip_address", "endpoint"]),
    "idx_rate_limits_window": ("rate_limits", ["window_start"]),
}

# (table, column, referenced table, referenced column, ON DELETE)
FOREIGN_KEYS = {
    ("web_chat_messages", "session_id", "web_chat_sessions", "id", "CASCADE"),
    ("web_chat_responses", "session_id", "web_chat_sessions", "id", "CASCADE"),
    ("web_chat_responses", "message_id", "web_chat_messages", "id", "SET NULL"),
}


@pytest.fixture
def fresh(tmp_path):
    conn = open_database(str(tmp_path / "db" / "bridge.db"))
    yield conn
    conn.close()


def _tables(conn) -> set[str]:
    rows = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    )
    return {r[0] for r in rows}


def test_exactly_the_four_tables_and_the_settings_table(fresh):
    assert _tables(fresh) == {*TABLES, "web_chat_settings"}


@pytest.mark.parametrize("table", sorted(TABLES))
def test_columns_types_and_defaults(fresh, table):
    info = fresh.execute(f"PRAGMA table_info({table})").fetchall()
    assert [(r["name"], r["type"], r["dflt_value"]) for r in info] == TABLES[table]
    pk = [r["name"] for r in sorted(info, key=lambda r: r["pk"]) if r["pk"]]
    assert pk == PRIMARY_KEYS[table]


def test_ids_are_autoincrement(fresh):
    sql = {r[0]: r[1] for r in fresh.execute("SELECT name, sql FROM sqlite_master")}
    assert "AUTOINCREMENT" in sql["web_chat_messages"].upper()
    assert "AUTOINCREMENT" in sql["web_chat_responses"].upper()


def test_processed_defaults_to_zero(fresh):
    fresh.execute("INSERT INTO web_chat_sessions (id) VALUES ('s')")
    fresh.execute("INSERT INTO web_chat_messages (session_id, message) VALUES ('s', 'x')")
    assert fresh.execute("SELECT processed FROM web_chat_messages").fetchone()[0] == 0


def test_every_specified_index(fresh):
    found = {}
    for table in TABLES:
        for row in fresh.execute(f"PRAGMA index_list({table})"):
            if row["origin"] != "c":  # skip automatic ones (primary keys)
                continue
            cols = [c["name"] for c in fresh.execute(f"PRAGMA index_info({row['name']})")]
            found[row["name"]] = (table, cols)
    assert found == INDEXES


def test_foreign_keys(fresh):
    found = set()
    for table in TABLES:
        for row in fresh.execute(f"PRAGMA foreign_key_list({table})"):
            found.add((table, row["from"], row["table"], row["to"], row["on_delete"]))
    assert found == FOREIGN_KEYS


def test_foreign_keys_are_enforced_on_every_connection(fresh):
    assert fresh.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    with pytest.raises(sqlite3.IntegrityError):
        fresh.execute("INSERT INTO web_chat_messages (session_id, message) VALUES ('nobody', 'x')")


def test_settings_table(fresh):
    info = fresh.execute("PRAGMA table_info(web_chat_settings)").fetchall()
    assert [(r["name"], r["type"], r["notnull"], r["pk"]) for r in info] == [
        ("name", "TEXT", 0, 1),
        ("value", "TEXT", 1, 0),
        ("updated_at", "TEXT", 1, 0),
    ]


def test_version_and_wal(fresh):
    assert fresh.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert SCHEMA_VERSION >= 1
    assert fresh.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal"


def test_no_rows_anywhere(fresh):
    for table in _tables(fresh):
        assert fresh.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] == 0, table


def test_creates_the_folder(tmp_path):
    path = tmp_path / "a" / "b" / "bridge.db"
    open_database(str(path)).close()
    assert path.is_file()


def test_opening_twice_is_idempotent(tmp_path):
    path = str(tmp_path / "bridge.db")
    first = open_database(path)
    first.execute("INSERT INTO web_chat_sessions (id) VALUES ('kept')")
    schema = sorted(tuple(r) for r in first.execute("SELECT type, name, sql FROM sqlite_master"))
    first.close()
    second = open_database(path)
    try:
        again = sorted(tuple(r) for r in second.execute("SELECT type, name, sql FROM sqlite_master"))
        assert again == schema
        assert [r[0] for r in second.execute("SELECT id FROM web_chat_sessions")] == ["kept"]
        assert second.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    finally:
        second.close()


def test_a_newer_version_is_refused(tmp_path):
    path = str(tmp_path / "bridge.db")
    open_database(path).close()
    raw = sqlite3.connect(path)
    raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    raw.close()
    with pytest.raises(SchemaError, match="newer"):
        open_database(path)


def test_a_php_database_is_refused_and_not_upgraded(tmp_path):
    path = str(tmp_path / "web_chat.db")
    raw = sqlite3.connect(path)
    raw.executescript(PHP_SCHEMA)
    raw.execute("INSERT INTO web_chat_sessions (id, uid) VALUES ('session_php_1', '0123456789abcdef')")
    raw.commit()
    raw.close()
    with pytest.raises(SchemaError, match="migrate-php"):
        open_database(path)
    raw = sqlite3.connect(path)
    try:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == 0
        assert "web_chat_settings" not in {
            r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        assert raw.execute("SELECT COUNT(*) FROM web_chat_sessions").fetchone()[0] == 1
    finally:
        raw.close()
