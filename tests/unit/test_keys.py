"""Key generation and rotation (keys.py)."""

from __future__ import annotations

import re

import pytest

from webchat_bridge import keys
from webchat_bridge.db import connect, open_database, settings_store
from webchat_bridge.settings import KEY_PATTERN

STRONG = re.compile(r"^[A-Za-z0-9_-]{43,}$")  # 32 random bytes, URL-safe base64


def test_missing_keys_are_generated_once(conn):
    generated = keys.ensure_keys(conn, environ={})
    assert set(generated) == {"api_key", "admin_key"}
    assert generated["api_key"] != generated["admin_key"]
    for key in generated.values():
        assert STRONG.match(key) and KEY_PATTERN.fullmatch(key)
    assert settings_store.get_all(conn) == generated
    assert keys.ensure_keys(conn, environ={}) == {}
    assert settings_store.get_all(conn) == generated


def test_only_the_missing_key_is_generated(conn):
    settings_store.put_many(conn, {"api_key": "stored-api-key-1"}, "2025-06-01 10:00:00")
    generated = keys.ensure_keys(conn, environ={})
    assert list(generated) == ["admin_key"]
    assert settings_store.get_all(conn)["api_key"] == "stored-api-key-1"


def test_pinned_keys_are_never_generated(conn):
    env = {"WEB_CHAT_API_KEY": "pinned-api-key-1", "WEB_CHAT_ADMIN_KEY": "pinned-admin-1"}
    assert keys.ensure_keys(conn, environ=env) == {}
    assert settings_store.get_all(conn) == {}
    generated = keys.ensure_keys(conn, environ={"WEB_CHAT_API_KEY": "pinned-api-key-1"})
    assert list(generated) == ["admin_key"]


def test_two_processes_starting_together_store_one_key(path, monkeypatch):
    a, b = connect(path), connect(path)
    try:
        first = keys.ensure_keys(a, environ={})
        # The second one read the table before the first one wrote it.
        monkeypatch.setattr(keys.settings_store, "get_all", lambda db: {})
        second = keys.ensure_keys(b, environ={})
        monkeypatch.undo()
        assert set(first) == {"api_key", "admin_key"} and second == {}
        assert settings_store.get_all(b) == first
    finally:
        a.close()
        b.close()


def test_keys_are_random(tmp_path):
    seen = set()
    for n in range(5):
        c = open_database(str(tmp_path / f"{n}.db"))
        seen.update(keys.ensure_keys(c, environ={}).values())
        c.close()
    assert len(seen) == 10


def test_rotate_replaces_the_stored_key(conn):
    old = keys.ensure_keys(conn, environ={})
    new = keys.rotate(conn, "api", environ={})
    assert STRONG.match(new) and new != old["api_key"]
    stored = settings_store.get_all(conn)
    assert stored["api_key"] == new
    assert stored["admin_key"] == old["admin_key"]
    assert keys.rotate(conn, "admin", environ={}) == settings_store.get_all(conn)["admin_key"]


def test_rotate_refuses_a_pinned_key(conn):
    keys.ensure_keys(conn, environ={})
    before = settings_store.get_all(conn)
    with pytest.raises(ValueError, match="WEB_CHAT_ADMIN_KEY"):
        keys.rotate(conn, "admin", environ={"WEB_CHAT_ADMIN_KEY": "pinned-admin-1"})
    assert settings_store.get_all(conn) == before
