"""web_chat_responses (db/responses.py)."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone

import pytest

from webchat_bridge import timefmt
from webchat_bridge.db import messages, open_database, responses, sessions

NOW = datetime(2025, 6, 1, 12, 0, 0, tzinfo=timezone.utc)


def iso(seconds_ago: float) -> str:
    return timefmt.iso_ms(timefmt.ago(NOW, seconds_ago))


@pytest.fixture
def conn(tmp_path):
    c = open_database(str(tmp_path / "bridge.db"))
    for sid in ("s1", "s2"):
        sessions.create(c, sid, uid=None, ip_address=None, now="2025-06-01 11:00:00")
    yield c
    c.close()


def test_insert_and_for_session(conn):
    mid, _ = messages.insert(conn, "s1", "q", iso(20))
    r1, t1 = responses.insert(conn, "s1", "a1", mid, iso(10))
    r2, t2 = responses.insert(conn, "s1", "a2", None, iso(5))
    responses.insert(conn, "s2", "other", None, iso(4))
    assert (t1, t2) == (iso(10), iso(5))
    assert responses.for_session(conn, "s1") == [
        {"id": r1, "response": "a1", "timestamp": iso(10), "message_id": mid},
        {"id": r2, "response": "a2", "timestamp": iso(5), "message_id": None},
    ]
    full = responses.for_session(conn, "s1", with_session_id=True)
    assert [r["session_id"] for r in full] == ["s1", "s1"]
    assert responses.for_session(conn, "nobody") == []
    assert responses.count(conn) == 3


def test_timestamps_never_go_back(conn):
    a, ta = responses.insert(conn, "s1", "a", None, iso(0))
    b, tb = responses.insert(conn, "s2", "b", None, iso(600))
    assert b > a and tb == ta


def test_since_and_since_id(conn):
    ids = [responses.insert(conn, "s1", f"r{k}", None, iso(10 - k))[0] for k in range(5)]
    assert [r["id"] for r in responses.for_session(conn, "s1", since=iso(8))] == ids[3:]
    assert [r["id"] for r in responses.for_session(conn, "s1", since_id=ids[1])] == ids[2:]
    both = responses.for_session(conn, "s1", since=iso(9), since_id=ids[3])
    assert [r["id"] for r in both] == ids[4:]
    assert responses.for_session(conn, "s1", since_id=ids[-1]) == []
    # Unlike the inbox, reading responses changes nothing.
    assert len(responses.for_session(conn, "s1")) == 5


def test_unknown_session_or_message_is_refused_by_the_schema(conn):
    with pytest.raises(sqlite3.IntegrityError):
        responses.insert(conn, "nobody", "x", None, iso(0))
    with pytest.raises(sqlite3.IntegrityError):
        responses.insert(conn, "s1", "x", 10**6, iso(0))


def test_deleting_a_message_unlinks_its_responses(conn):
    mid, _ = messages.insert(conn, "s1", "q", iso(1))
    rid, _ = responses.insert(conn, "s1", "a", mid, iso(0))
    conn.execute("DELETE FROM web_chat_messages WHERE id = ?", (mid,))
    assert responses.for_session(conn, "s1") == [
        {"id": rid, "response": "a", "timestamp": iso(0), "message_id": None}]
