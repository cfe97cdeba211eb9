"""Dashboard aggregates (db/stats.py) on known data."""

from __future__ import annotations

import pytest

from webchat_bridge.db import open_database, sessions, stats


@pytest.fixture
def conn(tmp_path):
    c = open_database(str(tmp_path / "bridge.db"))
    yield c
    c.close()


def msg(conn, sid, stamp, processed=1):
    conn.execute(
        "INSERT INTO web_chat_messages (session_id, message, timestamp, processed)"
        " VALUES (?, 'm', ?, ?)", (sid, stamp, processed))


def resp(conn, sid, stamp):
    conn.execute(
        "INSERT INTO web_chat_responses (session_id, response, timestamp) VALUES (?, 'r', ?)",
        (sid, stamp))


def test_totals(conn):
    sessions.create(conn, "a", uid=None, ip_address=None, now="2025-06-01 11:50:00")
    sessions.create(conn, "b", uid=None, ip_address=None, now="2025-06-01 09:00:00")
    sessions.create(conn, "c", uid=None, ip_address=None, now="2025-06-01 11:59:59")
    msg(conn, "a", "2025-06-01T11:50:00.000Z", processed=0)
    msg(conn, "a", "2025-06-01T11:50:01.000Z")
    msg(conn, "b", "2025-06-01T09:00:00.000Z", processed=0)
    resp(conn, "a", "2025-06-01T11:50:02.000Z")
    assert stats.totals(conn, "2025-06-01 11:30:00") == {
        "sessions": 3, "active_sessions": 2, "messages": 3, "unprocessed_messages": 2,
        "responses": 1,
    }


def test_totals_of_an_empty_database(conn):
    assert stats.totals(conn, "2025-06-01 11:30:00") == {
        "sessions": 0, "active_sessions": 0, "messages": 0, "unprocessed_messages": 0,
        "responses": 0,
    }
    assert stats.response_time(conn, "2025-06-01T00:00:00.000Z") == (None, 0)
    assert stats.messages_per_hour(conn, "2025-06-01T00:00:00.000Z") == {}


def test_response_time_is_to_the_first_answer_after_each_message(conn):
    for sid in ("a", "b"):
        sessions.create(conn, sid, uid=None, ip_address=None, now="2025-06-01 10:00:00")
    # An answer from before the message does not count for it.
    resp(conn, "a", "2025-06-01T10:00:00.000Z")
    msg(conn, "a", "2025-06-01T10:00:05.000Z")
    resp(conn, "a", "2025-06-01T10:00:15.000Z")  # first after it: 10 s
    resp(conn, "a", "2025-06-01T10:00:45.000Z")
    msg(conn, "b", "2025-06-01T10:10:00.000Z")
    resp(conn, "b", "2025-06-01T10:10:30.500Z")  # 30.5 s
    msg(conn, "b", "2025-06-01T10:20:00.000Z")  # never answered: not counted
    msg(conn, "b", "2025-06-01T08:00:00.000Z")  # before the window: not counted
    mean, answered = stats.response_time(conn, "2025-06-01T09:00:00.000Z")
    assert answered == 2
    assert mean == pytest.approx(20.25, abs=0.01)
    # A window that only holds the later exchange.
    mean, answered = stats.response_time(conn, "2025-06-01T10:05:00.000Z")
    assert (round(mean, 2), answered) == (30.5, 1)


def test_messages_per_hour(conn):
    sessions.create(conn, "a", uid=None, ip_address=None, now="2025-06-01 10:00:00")
    for stamp in ["2025-06-01T09:59:59.999Z", "2025-06-01T10:00:00.000Z",
                  "2025-06-01T10:59:59.000Z", "2025-06-01T11:30:00.000Z",
                  "2025-05-31T10:00:00.000Z"]:
        msg(conn, "a", stamp)
    assert stats.messages_per_hour(conn, "2025-06-01T00:00:00.000Z") == {
        "2025-06-01T09": 1, "2025-06-01T10": 2, "2025-06-01T11": 1,
    }
