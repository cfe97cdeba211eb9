"""web_chat_sessions (db/sessions.py): lookups, paging, search, cleanup rules."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone

import pytest

from webchat_bridge import timefmt
from webchat_bridge.db import messages, open_database, responses, sessions, transaction

NOW = datetime(2025, 6, 1, 12, 0, 0, tzinfo=timezone.utc)
TIMEOUT = 1800
GRACE = 86400


def sq(seconds_ago: float) -> str:
    return timefmt.sqlite_seconds(timefmt.ago(NOW, seconds_ago))


def iso(seconds_ago: float) -> str:
    return timefmt.iso_ms(timefmt.ago(NOW, seconds_ago))


@pytest.fixture
def conn(tmp_path):
    c = open_database(str(tmp_path / "bridge.db"))
    yield c
    c.close()


def make(conn, sid, *, idle=0.0, uid=None, ip="127.0.0.1", msgs=(), resps=()):
    """A session last active ``idle`` seconds ago, with messages given as
    (seconds_ago, processed) and responses as seconds_ago."""
    sessions.create(conn, sid, uid=uid, ip_address=ip, now=sq(idle))
    for ago, processed in msgs:
        conn.execute(
            "INSERT INTO web_chat_messages (session_id, message, timestamp, processed)"
            " VALUES (?, 'm', ?, ?)", (sid, iso(ago), int(processed)))
    for ago in resps:
        conn.execute(
            "INSERT INTO web_chat_responses (session_id, response, timestamp) VALUES (?, 'r', ?)",
            (sid, iso(ago)))


def ids(conn, table="web_chat_sessions", column="id"):
    return {r[0] for r in conn.execute(f"SELECT {column} FROM {table}")}


def cleanup(conn, limit=None):
    return sessions.delete_inactive(
        conn, idle_before=sq(TIMEOUT), grace_before=sq(TIMEOUT + GRACE), limit=limit)


# -- lookups and writes --------------------------------------------------------

def test_create_and_get(conn):
    sessions.create(conn, "s1", uid="0123456789abcdef", ip_address="10.0.0.1", now=sq(5),
                    metadata='{"a": 1}')
    assert sessions.get(conn, "s1") == {
        "id": "s1", "uid": "0123456789abcdef", "created_at": sq(5), "last_active": sq(5),
        "ip_address": "10.0.0.1", "metadata": '{"a": 1}',
    }
    assert sessions.get(conn, "s2") is None


def test_create_twice_is_an_integrity_error(conn):
    sessions.create(conn, "s1", uid=None, ip_address=None, now=sq(0))
    with pytest.raises(sqlite3.IntegrityError):
        sessions.create(conn, "s1", uid=None, ip_address=None, now=sq(0))


def test_exists(conn):
    make(conn, "s1")
    assert sessions.exists(conn, "s1") is True
    assert sessions.exists(conn, "S1") is False  # ids are case-sensitive
    assert sessions.exists(conn, "nobody") is False


def test_last_active(conn):
    make(conn, "s1", idle=60)
    conn.execute("INSERT INTO web_chat_sessions (id) VALUES ('bare')")
    assert sessions.last_active(conn, "s1") == sq(60)
    assert sessions.last_active(conn, "bare") is None
    assert sessions.last_active(conn, "nobody") is False


def test_set_uid_and_touch(conn):
    make(conn, "s1", idle=600)
    sessions.set_uid(conn, "s1", "fedcba9876543210")
    sessions.touch(conn, "s1", sq(0))
    row = sessions.get(conn, "s1")
    assert row["uid"] == "fedcba9876543210"
    assert row["last_active"] == sq(0)
    assert row["created_at"] == sq(600)


def test_touch_if_before(conn):
    make(conn, "s1", idle=30)
    # Last active 30 s ago, cutoff 60 s ago: not due.
    assert sessions.touch_if_before(conn, "s1", sq(0), sq(60)) is False
    assert sessions.last_active(conn, "s1") == sq(30)
    # Cutoff 10 s ago: due.
    assert sessions.touch_if_before(conn, "s1", sq(0), sq(10)) is True
    assert sessions.last_active(conn, "s1") == sq(0)
    conn.execute("INSERT INTO web_chat_sessions (id) VALUES ('bare')")
    assert sessions.touch_if_before(conn, "bare", sq(0), sq(60)) is True
    assert sessions.touch_if_before(conn, "nobody", sq(0), sq(60)) is False


# -- count and page ------------------------------------------------------------

def test_count_with_active_and_search(conn):
    make(conn, "alpha1", idle=10, uid="aaaa000000000000")
    make(conn, "alpha2", idle=TIMEOUT * 2)
    make(conn, "beta", idle=10, uid="bbbb000000000000")
    assert sessions.count(conn) == 3
    assert sessions.count(conn, sq(TIMEOUT)) == 2
    assert sessions.count(conn, None, "alpha") == 2
    assert sessions.count(conn, sq(TIMEOUT), "alpha") == 1
    assert sessions.count(conn, None, "bbbb") == 1  # a uid prefix
    assert sessions.count(conn, None, "lpha") == 0  # a prefix, not a substring
    assert sessions.count(conn, None, "") == 3


def test_search_takes_like_wildcards_literally(conn):
    for sid in ["a_b", "axb", "a%c", "abc", "a\\d"]:
        make(conn, sid)
    search = lambda text: {r["id"] for r in sessions.page(  # noqa: E731
        conn, limit=100, offset=0, search=text)}
    assert search("a_") == {"a_b"}
    assert search("a%") == {"a%c"}
    assert search("a\\") == {"a\\d"}
    assert search("a") == {"a_b", "axb", "a%c", "abc", "a\\d"}
    assert sessions.count(conn, None, "a_") == 1
    assert sessions.count(conn, None, "%") == 0


def test_page_order_limit_offset_and_active(conn):
    for n in range(7):
        make(conn, f"s{n}", idle=n * 100)
    make(conn, "idle", idle=TIMEOUT + 1)
    page = sessions.page(conn, limit=3, offset=0)
    assert [r["id"] for r in page] == ["s0", "s1", "s2"]
    assert [r["id"] for r in sessions.page(conn, limit=3, offset=6)] == ["s6", "idle"]
    active = sessions.page(conn, limit=100, offset=0, active_since=sq(TIMEOUT))
    assert "idle" not in {r["id"] for r in active} and len(active) == 7
    assert set(page[0]) == {"id", "uid", "created_at", "last_active", "ip_address", "metadata",
                            "message_count", "response_count"}


def test_page_counts_are_per_session_not_a_join(conn):
    make(conn, "busy", msgs=[(i, True) for i in range(30)], resps=list(range(40)))
    make(conn, "quiet", msgs=[(1, False)])
    make(conn, "empty")
    got = {r["id"]: (r["message_count"], r["response_count"])
           for r in sessions.page(conn, limit=10, offset=0)}
    assert got == {"busy": (30, 40), "quiet": (1, 0), "empty": (0, 0)}
    for sid, (m, r) in got.items():
        assert m == conn.execute(
            "SELECT COUNT(*) FROM web_chat_messages WHERE session_id = ?", (sid,)).fetchone()[0]
        assert r == conn.execute(
            "SELECT COUNT(*) FROM web_chat_responses WHERE session_id = ?", (sid,)).fetchone()[0]


def test_page_counts_use_the_session_id_indexes(conn):
    captured = []
    real = conn.execute

    class Spy:
        def execute(self, sql, params=()):
            captured.append((sql, params))
            return real(sql, params)

    sessions.page(Spy(), limit=5, offset=0)
    sql, params = captured[-1]
    plan = [r["detail"] for r in conn.execute("EXPLAIN QUERY PLAN " + sql, params)]
    for index in ("idx_messages_session_id", "idx_responses_session_id"):
        steps = [step for step in plan if index in step]
        # An index lookup per session, never a scan of the whole table.
        assert steps and all(step.startswith("SEARCH") for step in steps), plan
    assert not any(step.startswith("SCAN") and "session" not in step for step in plan), plan


def test_page_counts_match_brute_force_on_mixed_data(conn):
    for n in range(12):
        make(conn, f"s{n:02d}", idle=n,
             msgs=[(k, k % 2 == 0) for k in range(n % 5)], resps=list(range(n % 3)))
    brute = {
        r[0]: (r[1], r[2]) for r in conn.execute(
            "SELECT s.id,"
            " (SELECT COUNT(*) FROM web_chat_messages WHERE session_id = s.id),"
            " (SELECT COUNT(*) FROM web_chat_responses WHERE session_id = s.id)"
            " FROM web_chat_sessions s")
    }
    rows = sessions.page(conn, limit=5, offset=0) + sessions.page(conn, limit=5, offset=5) + \
        sessions.page(conn, limit=5, offset=10)
    assert {r["id"]: (r["message_count"], r["response_count"]) for r in rows} == brute
    assert len(rows) == 12


# -- delete_inactive -----------------------------------------------------------

def test_idle_answered_session_goes_with_its_rows(conn):
    make(conn, "gone", idle=TIMEOUT + 60, msgs=[(TIMEOUT + 120, True)], resps=[TIMEOUT + 60])
    make(conn, "active", idle=10, msgs=[(10, True)], resps=[5])
    assert cleanup(conn) == 1
    assert ids(conn) == {"active"}
    assert ids(conn, "web_chat_messages", "session_id") == {"active"}
    assert ids(conn, "web_chat_responses", "session_id") == {"active"}


def test_idle_session_without_messages_goes(conn):
    make(conn, "empty", idle=TIMEOUT + 1)
    assert cleanup(conn) == 1
    assert ids(conn) == set()


def test_never_a_session_with_unprocessed_messages(conn):
    make(conn, "unseen", idle=GRACE * 10, msgs=[(GRACE * 10, False), (GRACE * 11, True)],
         resps=[GRACE * 10 - 5])
    assert cleanup(conn) == 0
    assert ids(conn) == {"unseen"}


def test_unanswered_newest_message_waits_for_the_grace(conn):
    # Seen by the agent, but its newest message is newer than its newest
    # response: the agent may still be answering.
    make(conn, "waiting", idle=TIMEOUT + 60, msgs=[(TIMEOUT + 60, True)], resps=[TIMEOUT + 120])
    make(conn, "never_answered", idle=TIMEOUT + 60, msgs=[(TIMEOUT + 60, True)])
    make(conn, "past_grace", idle=TIMEOUT + GRACE + 60, msgs=[(TIMEOUT + GRACE + 60, True)])
    assert cleanup(conn) == 1
    assert ids(conn) == {"waiting", "never_answered"}


def test_active_sessions_stay(conn):
    make(conn, "recent", idle=TIMEOUT - 5)
    assert cleanup(conn) == 0


def test_limit_is_honoured_oldest_first(conn):
    for n in range(5):
        make(conn, f"old{n}", idle=TIMEOUT + 100 * (n + 1))
    assert cleanup(conn, limit=2) == 2
    assert ids(conn) == {"old0", "old1", "old2"}
    assert cleanup(conn, limit=10) == 3
    assert ids(conn) == set()


def test_delete_inactive_is_one_transaction(conn):
    make(conn, "gone", idle=TIMEOUT + 60)
    with pytest.raises(RuntimeError):
        with transaction(conn):
            assert cleanup(conn) == 1
            raise RuntimeError
    assert ids(conn) == {"gone"}


# -- delete_all ----------------------------------------------------------------

def test_delete_all_keeps_the_sequences(conn):
    make(conn, "s1")
    m1, _ = messages.insert(conn, "s1", "hi", iso(0))
    r1, _ = responses.insert(conn, "s1", "hello", m1, iso(0))
    assert sessions.delete_all(conn) == {"responses": 0, "messages": 0, "sessions": 0}
    assert sessions.count(conn) == 0
    make(conn, "s2")
    m2, _ = messages.insert(conn, "s2", "again", iso(0))
    r2, _ = responses.insert(conn, "s2", "again", m2, iso(0))
    assert m2 > m1 and r2 > r1
