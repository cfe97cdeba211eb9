"""web_chat_messages (db/messages.py): insert order, claims, filters."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone

import pytest

from webchat_bridge import timefmt
from webchat_bridge.db import connect, messages, open_database, sessions, transaction

NOW = datetime(2025, 6, 1, 12, 0, 0, tzinfo=timezone.utc)


def iso(seconds_ago: float) -> str:
    return timefmt.iso_ms(timefmt.ago(NOW, seconds_ago))


@pytest.fixture
def path(tmp_path):
    return str(tmp_path / "bridge.db")


@pytest.fixture
def conn(path):
    c = open_database(path)
    sessions.create(c, "s1", uid="0123456789abcdef", ip_address=None, now="2025-06-01 11:00:00")
    sessions.create(c, "s2", uid=None, ip_address=None, now="2025-06-01 11:00:00")
    yield c
    c.close()


def post(conn, n, session="s1", start=100):
    """``n`` messages, one second apart, oldest first; returns their ids."""
    out = []
    for k in range(n):
        with transaction(conn):
            out.append(messages.insert(conn, session, f"m{k}", iso(start - k))[0])
    return out


def test_insert_returns_id_and_stored_timestamp(conn):
    mid, stamp = messages.insert(conn, "s1", "hello", iso(0))
    assert stamp == iso(0)
    row = conn.execute("SELECT * FROM web_chat_messages WHERE id = ?", (mid,)).fetchone()
    assert (row["session_id"], row["message"], row["timestamp"], row["processed"]) == (
        "s1", "hello", iso(0), 0)
    assert row["broca_message_id"] is None


def test_timestamps_never_go_back_when_the_clock_does(conn):
    first, t1 = messages.insert(conn, "s1", "a", iso(0))
    # The clock stepped back an hour: the stored time holds at the newest one.
    second, t2 = messages.insert(conn, "s2", "b", iso(3600))
    third, t3 = messages.insert(conn, "s1", "c", iso(-1))
    assert first < second < third
    assert t1 == t2 == iso(0)
    assert t3 == iso(-1)
    stored = [r[0] for r in conn.execute("SELECT timestamp FROM web_chat_messages ORDER BY id")]
    assert stored == sorted(stored)


def test_insert_for_an_unknown_session_fails(conn):
    import sqlite3

    with pytest.raises(sqlite3.IntegrityError):
        messages.insert(conn, "nobody", "x", iso(0))


def test_claim_returns_oldest_first_and_marks_processed(conn):
    ids = post(conn, 3, "s1") + post(conn, 2, "s2", start=50)
    rows, total = messages.claim(conn, limit=10)
    assert total == 5
    assert [r["id"] for r in rows] == ids
    assert set(rows[0]) == {"id", "session_id", "message", "timestamp", "uid"}
    assert rows[0]["uid"] == "0123456789abcdef"
    assert rows[-1]["uid"] is None
    assert messages.count(conn, unprocessed=True) == 0
    assert messages.count(conn) == 5
    assert messages.claim(conn, limit=10) == ([], 0)


def test_claim_limit_and_total(conn):
    ids = post(conn, 5)
    rows, total = messages.claim(conn, limit=2)
    assert [r["id"] for r in rows] == ids[:2] and total == 5
    rows, total = messages.claim(conn, limit=2)
    assert [r["id"] for r in rows] == ids[2:4] and total == 3


def test_claim_offset_leaves_the_skipped_ones_unprocessed(conn):
    ids = post(conn, 5)
    rows, total = messages.claim(conn, limit=2, offset=1)
    assert [r["id"] for r in rows] == ids[1:3] and total == 5
    left = [r[0] for r in conn.execute("SELECT id FROM web_chat_messages WHERE processed = 0")]
    assert left == [ids[0], ids[3], ids[4]]


def test_claim_since_and_since_id(conn):
    ids = post(conn, 6)  # timestamps iso(100) .. iso(95)
    rows, total = messages.claim(conn, limit=10, since=iso(98))
    assert [r["id"] for r in rows] == ids[3:] and total == 3
    rows, total = messages.claim(conn, limit=10, since_id=ids[0])
    assert [r["id"] for r in rows] == ids[1:3] and total == 2
    assert messages.claim(conn, limit=10, since_id=ids[-1]) == ([], 0)
    rows, _ = messages.claim(conn, limit=10)
    assert [r["id"] for r in rows] == ids[:1]


def test_since_is_strictly_after(conn):
    (only,) = post(conn, 1, start=0)
    assert messages.claim(conn, limit=10, since=iso(0)) == ([], 0)
    rows, _ = messages.claim(conn, limit=10, since=iso(0.001))
    assert [r["id"] for r in rows] == [only]


def test_a_claim_inside_a_failed_transaction_is_undone(conn):
    post(conn, 2)
    with pytest.raises(RuntimeError):
        with transaction(conn):
            rows, _ = messages.claim(conn, limit=10)
            assert len(rows) == 2
            raise RuntimeError
    assert messages.count(conn, unprocessed=True) == 2


def test_two_concurrent_claimers_never_get_the_same_message(conn, path):
    total = 300
    post(conn, total)
    got: list[list[int]] = [[], []]
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def widen_the_race(sql: str) -> None:
        # Pause between selecting and marking, so that without one
        # transaction around both the other poller would select the same rows.
        if sql.startswith("UPDATE web_chat_messages"):
            time.sleep(0.003)

    def poll(slot):
        c = connect(path)
        c.set_trace_callback(widen_the_race)
        try:
            start.wait()
            while True:
                rows, _ = messages.claim(c, limit=7)
                if not rows:
                    return
                got[slot].extend(r["id"] for r in rows)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            c.close()

    threads = [threading.Thread(target=poll, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    assert not set(got[0]) & set(got[1])
    assert len(got[0]) + len(got[1]) == total
    assert messages.count(conn, unprocessed=True) == 0


def test_for_session_and_belongs_to(conn):
    a = post(conn, 2, "s1")
    b = post(conn, 1, "s2")
    rows = messages.for_session(conn, "s1")
    assert [r["id"] for r in rows] == a
    assert set(rows[0]) == {"id", "session_id", "message", "timestamp"}
    assert messages.for_session(conn, "nobody") == []
    assert messages.belongs_to(conn, a[0], "s1") is True
    assert messages.belongs_to(conn, b[0], "s1") is False
    assert messages.belongs_to(conn, 10**9, "s1") is False


def test_count(conn):
    post(conn, 4)
    messages.claim(conn, limit=1)
    assert messages.count(conn) == 4
    assert messages.count(conn, unprocessed=True) == 3
