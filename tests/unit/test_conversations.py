"""The visitor's and the agent's side of a conversation (conversations.py),
with the clock replaced so that minutes and hours pass instantly."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest

from webchat_bridge import conversations
from webchat_bridge.db import messages, open_database, responses, sessions

START = datetime(2025, 6, 1, 12, 0, 0, 250000, tzinfo=timezone.utc)
HEX16 = re.compile(r"^[0-9a-f]{16}$")


@pytest.fixture
def conn(tmp_path):
    c = open_database(str(tmp_path / "bridge.db"))
    yield c
    c.close()


def writes(conn):
    """Collects the data-changing statements run on ``conn``."""
    seen: list[str] = []

    def trace(sql: str) -> None:
        if sql.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
            seen.append(sql)

    conn.set_trace_callback(trace)
    return seen


# -- post_message ----------------------------------------------------------------

def test_first_message_creates_the_session(conn, clock):
    posted = conversations.post_message(conn, "s1", "hello", ip_address="203.0.113.7")
    assert posted.is_new_user is True
    assert HEX16.match(posted.uid)
    assert posted.session_id == "s1"
    assert posted.timestamp == "2025-06-01T12:00:00.250Z"
    row = sessions.get(conn, "s1")
    assert row == {
        "id": "s1", "uid": posted.uid, "created_at": "2025-06-01 12:00:00",
        "last_active": "2025-06-01 12:00:00", "ip_address": "203.0.113.7", "metadata": None,
    }
    stored = conn.execute("SELECT * FROM web_chat_messages").fetchall()
    assert [(r["id"], r["session_id"], r["message"], r["processed"]) for r in stored] == [
        (posted.message_id, "s1", "hello", 0)]


def test_later_messages_keep_the_uid_and_refresh_last_active(conn, clock):
    first = conversations.post_message(conn, "s1", "a", ip_address="203.0.113.7")
    clock.advance(600)
    second = conversations.post_message(conn, "s1", "b", ip_address="198.51.100.1",
                                        uid_hint="0123456789abcdef")
    assert second.uid == first.uid and second.is_new_user is False
    assert second.message_id > first.message_id
    row = sessions.get(conn, "s1")
    assert row["last_active"] == "2025-06-01 12:10:00"
    assert row["created_at"] == "2025-06-01 12:00:00"
    assert row["ip_address"] == "203.0.113.7"  # the first address is the session's


def test_a_valid_uid_hint_is_adopted_for_a_new_session(conn, clock):
    posted = conversations.post_message(conn, "s1", "hi", ip_address=None,
                                        uid_hint="0123456789abcdef")
    assert (posted.uid, posted.is_new_user) == ("0123456789abcdef", False)
    assert sessions.get(conn, "s1")["uid"] == "0123456789abcdef"


@pytest.mark.parametrize("hint", [
    "", "0123456789ABCDEF", "0123456789abcde", "0123456789abcdef0", "0123456789abcdeg",
    " 0123456789abcdef", "0123456789abcde\n", "０123456789abcdef",
])
def test_an_invalid_uid_hint_is_ignored(conn, clock, hint):
    posted = conversations.post_message(conn, "s1", "hi", ip_address=None, uid_hint=hint)
    assert posted.is_new_user is True
    assert posted.uid != hint and HEX16.match(posted.uid)


def test_a_session_without_uid_gets_one(conn, clock):
    sessions.create(conn, "legacy", uid=None, ip_address=None, now="2025-06-01 11:00:00")
    posted = conversations.post_message(conn, "legacy", "hi", ip_address=None)
    assert posted.is_new_user is True and HEX16.match(posted.uid)
    assert sessions.get(conn, "legacy")["uid"] == posted.uid


def test_uids_are_random(conn, clock):
    uids = {conversations.post_message(conn, f"s{n}", "x", ip_address=None).uid
            for n in range(20)}
    assert len(uids) == 20


def test_message_times_follow_id_order_when_the_clock_steps_back(conn, clock):
    a = conversations.post_message(conn, "s1", "a", ip_address=None)
    clock.advance(-3600)
    b = conversations.post_message(conn, "s2", "b", ip_address=None)
    clock.advance(3600 + 1)
    c = conversations.post_message(conn, "s1", "c", ip_address=None)
    assert a.message_id < b.message_id < c.message_id
    assert a.timestamp <= b.timestamp < c.timestamp
    assert b.timestamp == a.timestamp


# -- poll_responses ----------------------------------------------------------------

def test_polling_an_unknown_session_returns_nothing_and_creates_nothing(conn, clock):
    seen = writes(conn)
    assert conversations.poll_responses(conn, "nobody") == []
    assert sessions.count(conn) == 0
    assert seen == []


def test_polling_returns_the_answers(conn, clock):
    m = conversations.post_message(conn, "s1", "q", ip_address=None)
    a = conversations.post_response(conn, "s1", "one", message_id=m.message_id)
    clock.advance(1)
    b = conversations.post_response(conn, "s1", "two")
    rows = conversations.poll_responses(conn, "s1")
    assert rows == [
        {"id": a.response_id, "response": "one", "timestamp": a.timestamp,
         "message_id": m.message_id},
        {"id": b.response_id, "response": "two", "timestamp": b.timestamp, "message_id": None},
    ]
    assert conversations.poll_responses(conn, "s1", since_id=a.response_id) == rows[1:]
    assert conversations.poll_responses(conn, "s1", since=a.timestamp) == rows[1:]


def test_polling_writes_last_active_at_most_once_a_minute(conn, clock):
    conversations.post_message(conn, "s1", "q", ip_address=None)
    seen = writes(conn)
    for _ in range(5):
        clock.advance(10)
        conversations.poll_responses(conn, "s1")
    assert seen == []  # 50 s: every poll read-only
    assert sessions.last_active(conn, "s1") == "2025-06-01 12:00:00"
    clock.advance(11)  # 61 s since the last write
    conversations.poll_responses(conn, "s1")
    assert len(seen) == 1
    assert sessions.last_active(conn, "s1") == "2025-06-01 12:01:01"
    clock.advance(30)
    conversations.poll_responses(conn, "s1")
    assert len(seen) == 1
    clock.advance(31)
    conversations.poll_responses(conn, "s1")
    assert len(seen) == 2
    assert sessions.last_active(conn, "s1") == "2025-06-01 12:02:02"


def test_polling_keeps_an_idle_session_alive(conn, clock):
    conversations.post_message(conn, "s1", "q", ip_address=None)
    clock.advance(3 * 3600)
    conversations.poll_responses(conn, "s1")
    assert sessions.last_active(conn, "s1") == "2025-06-01 15:00:00"


# -- post_response -----------------------------------------------------------------

def test_an_answer_to_a_session_idle_for_hours_is_kept(conn, clock):
    m = conversations.post_message(conn, "s1", "q", ip_address=None)
    messages.claim(conn, limit=10)
    clock.advance(5 * 3600)
    answered = conversations.post_response(conn, "s1", "late", message_id=m.message_id)
    assert answered.session_id == "s1"
    assert answered.timestamp == "2025-06-01T17:00:00.250Z"
    assert sessions.last_active(conn, "s1") == "2025-06-01 17:00:00"
    assert [r["response"] for r in responses.for_session(conn, "s1")] == ["late"]


def test_an_answer_to_an_unknown_session_raises_and_stores_nothing(conn, clock):
    with pytest.raises(conversations.UnknownSession):
        conversations.post_response(conn, "nobody", "x")
    assert responses.count(conn) == 0 and sessions.count(conn) == 0


def test_an_answer_to_an_unknown_or_foreign_message_raises(conn, clock):
    mine = conversations.post_message(conn, "s1", "q", ip_address=None)
    theirs = conversations.post_message(conn, "s2", "q", ip_address=None)
    with pytest.raises(conversations.UnknownMessage):
        conversations.post_response(conn, "s1", "x", message_id=theirs.message_id)
    with pytest.raises(conversations.UnknownMessage):
        conversations.post_response(conn, "s1", "x", message_id=mine.message_id + 1000)
    assert responses.count(conn) == 0
    assert not conn.in_transaction


def test_response_times_follow_id_order_when_the_clock_steps_back(conn, clock):
    conversations.post_message(conn, "s1", "q", ip_address=None)
    a = conversations.post_response(conn, "s1", "a")
    clock.advance(-120)
    b = conversations.post_response(conn, "s1", "b")
    assert b.response_id > a.response_id and b.timestamp == a.timestamp


# -- claim_inbox and transcript ----------------------------------------------------------

def test_claim_inbox(conn, clock):
    ids = [conversations.post_message(conn, "s1", f"m{k}", ip_address=None).message_id
           for k in range(3)]
    rows, total = conversations.claim_inbox(conn, limit=2, offset=0, since=None, since_id=None)
    assert [r["id"] for r in rows] == ids[:2] and total == 3
    rows, total = conversations.claim_inbox(conn, limit=2, offset=0, since=None, since_id=None)
    assert [r["id"] for r in rows] == ids[2:] and total == 1


def test_transcript(conn, clock):
    assert conversations.transcript(conn, "nobody") is None
    m = conversations.post_message(conn, "s1", "q", ip_address="192.0.2.1")
    r = conversations.post_response(conn, "s1", "a", message_id=m.message_id)
    found = conversations.transcript(conn, "s1")
    assert found["session"]["id"] == "s1"
    assert found["messages"] == [
        {"id": m.message_id, "session_id": "s1", "message": "q", "timestamp": m.timestamp}]
    assert found["responses"] == [
        {"id": r.response_id, "session_id": "s1", "response": "a", "timestamp": r.timestamp,
         "message_id": m.message_id}]
