"""web_chat_settings (db/settings_store.py)."""

from __future__ import annotations

import sqlite3

import pytest

from webchat_bridge.db import connect, settings_store


def updated_at(conn, name):
    return conn.execute(
        "SELECT updated_at FROM web_chat_settings WHERE name = ?", (name,)).fetchone()[0]


def test_empty_at_first(conn):
    assert settings_store.get_all(conn) == {}


def test_put_many_inserts_and_updates(conn):
    settings_store.put_many(conn, {"a": "1", "b": "two"}, "2025-06-01 10:00:00")
    assert settings_store.get_all(conn) == {"a": "1", "b": "two"}
    settings_store.put_many(conn, {"a": "3"}, "2025-06-01 11:00:00")
    assert settings_store.get_all(conn) == {"a": "3", "b": "two"}
    assert updated_at(conn, "a") == "2025-06-01 11:00:00"
    assert updated_at(conn, "b") == "2025-06-01 10:00:00"
    settings_store.put_many(conn, {}, "2025-06-01 12:00:00")
    assert settings_store.get_all(conn) == {"a": "3", "b": "two"}


def test_put_many_is_all_or_nothing(conn):
    with pytest.raises(sqlite3.IntegrityError):
        settings_store.put_many(conn, {"a": "1", "b": None}, "2025-06-01 10:00:00")
    assert settings_store.get_all(conn) == {}


def test_put_if_absent(conn):
    assert settings_store.put_if_absent(conn, "k", "first", "2025-06-01 10:00:00") is True
    assert settings_store.put_if_absent(conn, "k", "second", "2025-06-01 11:00:00") is False
    assert settings_store.get_all(conn) == {"k": "first"}
    assert updated_at(conn, "k") == "2025-06-01 10:00:00"


def test_claim_slot_latch(conn, path):
    t0, t30, t61 = "2025-06-01 10:00:00", "2025-06-01 10:00:30", "2025-06-01 10:01:01"
    # Absent: the first caller wins.
    assert settings_store.claim_slot(conn, "latch", t0, "2025-06-01 09:59:00") is True
    # Thirty seconds later, "not after a minute ago" excludes it: nobody wins,
    # whichever connection asks.
    other = connect(path)
    try:
        assert settings_store.claim_slot(other, "latch", t30, "2025-06-01 09:59:30") is False
        assert settings_store.claim_slot(conn, "latch", t30, "2025-06-01 09:59:30") is False
        assert settings_store.get_all(conn)["latch"] == t0
        # A minute on, exactly one of two callers wins the new slot.
        wins = [settings_store.claim_slot(c, "latch", t61, "2025-06-01 10:00:01")
                for c in (other, conn)]
        assert wins == [True, False]
        assert settings_store.get_all(conn)["latch"] == t61
    finally:
        other.close()
