"""CONTRACT §5–§6 for `responses`, `inbox` and `outbox`."""

from __future__ import annotations

import pytest

from webchat_bridge import timefmt

from .helpers import STAMP, err, ok, post_message

INBOX = "/api/v1/?action=inbox"
OUTBOX = "/api/v1/?action=outbox"


def outbox(client, headers, session_id="session_abc", response="answer", **extra):
    return client.post(OUTBOX, json={"session_id": session_id, "response": response, **extra},
                       headers=headers)


def responses(client, session_id="session_abc", **query):
    params = "".join(f"&{k}={v}" for k, v in query.items())
    return client.get(f"/api/v1/?action=responses&session_id={session_id}{params}")


# -- responses ----------------------------------------------------------------

def test_responses_for_unknown_session_is_empty_and_creates_nothing(client, db):
    data = ok(responses(client, "session_fromresponses"), "Responses retrieved successfully")
    assert data == {"session_id": "session_fromresponses", "responses": []}
    assert db.execute("SELECT COUNT(*) FROM web_chat_sessions").fetchone()[0] == 0
    # The first message to it then makes a new user, as for any new session.
    assert ok(post_message(client, "session_fromresponses"), "Message received")["is_new_user"]


@pytest.mark.parametrize("query,text", [
    ("", "Missing session_id parameter"),
    ("&session_id=", "Missing session_id parameter"),
    ("&session_id=bad%20id!", "Invalid session ID"),
    ("&session_id=" + "s" * 65, "Invalid session ID"),
    ("&session_id=s&since=yesterday", "Invalid since parameter"),
    ("&session_id=s&since=2025-13-45", "Invalid since parameter"),
    ("&session_id=s&since_id=abc", "Invalid since_id parameter"),
    ("&session_id=s&since_id=-1", "Invalid since_id parameter"),
    ("&session_id=s&since_id=1.5", "Invalid since_id parameter"),
])
def test_responses_parameter_errors(client, query, text):
    err(client.get(f"/api/v1/?action=responses{query}"), 400, text)


def test_responses_in_creation_order_with_integer_ids(client, api_headers):
    post_message(client)
    first = ok(outbox(client, api_headers, response="Agent reply one", message_id=1),
               "Response sent successfully")
    ok(outbox(client, api_headers, response="Agent reply two"), "Response sent successfully")
    ok(outbox(client, api_headers, response="<b>bold</b> & \"q\" it's 😀"),
       "Response sent successfully")
    assert isinstance(first["response_id"], int)
    data = ok(responses(client), "Responses retrieved successfully")
    rows = data["responses"]
    assert [r["id"] for r in rows] == [1, 2, 3]
    assert [r["response"] for r in rows] == [
        "Agent reply one", "Agent reply two", "<b>bold</b> & \"q\" it's 😀"]
    assert rows[0]["message_id"] == 1 and rows[1]["message_id"] is None
    assert set(rows[0]) == {"id", "response", "timestamp", "message_id"}
    assert all(STAMP.match(r["timestamp"]) for r in rows)


def test_responses_since_id_is_the_exact_cursor(client, api_headers):
    post_message(client)
    for i in range(5):
        outbox(client, api_headers, response=f"r{i}")
    rows = ok(responses(client, since_id=3), "Responses retrieved successfully")["responses"]
    assert [r["id"] for r in rows] == [4, 5]
    assert ok(responses(client, since_id=5), "Responses retrieved successfully")["responses"] == []


@pytest.mark.parametrize("since", [
    "2025-06-01", "2025-06-01T10:00:00Z", "2025-06-01T10:00:00.123Z",
    "2025-06-01T12:00:00%2B02:00", "2025-06-01T12:00:00+02:00", "2025-06-01 10:00:00",
])
def test_responses_since_accepts_every_documented_form(client, api_headers, since):
    post_message(client)
    outbox(client, api_headers, response="new")
    rows = ok(responses(client, since=since), "Responses retrieved successfully")["responses"]
    assert [r["response"] for r in rows] == ["new"]
    rows = ok(responses(client, since="2999-01-01T00:00:00Z"),
              "Responses retrieved successfully")["responses"]
    assert rows == []


def test_since_compares_times_not_text(client, api_headers, monkeypatch):
    from datetime import datetime

    moment = datetime(2025, 6, 1, 10, 0, 0, 500000, tzinfo=timefmt.UTC)
    monkeypatch.setattr(timefmt, "utcnow", lambda: moment)
    post_message(client)
    outbox(client, api_headers, response="at 10:00:00.500Z")
    # 12:00:00+02:00 is 10:00:00Z, before the response; 12:00:01+02:00 is after.
    assert len(ok(responses(client, since="2025-06-01T12:00:00%2B02:00"),
                  "Responses retrieved successfully")["responses"]) == 1
    assert ok(responses(client, since="2025-06-01T12:00:01%2B02:00"),
              "Responses retrieved successfully")["responses"] == []


def test_polling_keeps_a_session_alive_writing_at_most_once_a_minute(client, db, monkeypatch):
    from datetime import datetime, timedelta

    start = datetime(2026, 1, 1, 12, 0, 0, tzinfo=timefmt.UTC)
    clock = [start]
    monkeypatch.setattr(timefmt, "utcnow", lambda: clock[0])
    post_message(client)

    def last_active():
        return db.execute("SELECT last_active FROM web_chat_sessions").fetchone()[0]

    assert last_active() == "2026-01-01 12:00:00"
    clock[0] = start + timedelta(seconds=30)
    responses(client)
    assert last_active() == "2026-01-01 12:00:00"  # within the minute: no write
    clock[0] = start + timedelta(seconds=61)
    responses(client)
    assert last_active() == "2026-01-01 12:01:01"


# -- inbox --------------------------------------------------------------------

def test_inbox_returns_oldest_first_and_marks_processed(client, api_headers, db):
    for i in range(3):
        post_message(client, f"s{i}", f"m{i}")
    data = ok(client.get(INBOX, headers=api_headers), "Messages retrieved successfully")
    assert [m["message"] for m in data["messages"]] == ["m0", "m1", "m2"]
    first = data["messages"][0]
    assert set(first) == {"id", "session_id", "message", "timestamp", "uid"}
    assert isinstance(first["id"], int) and len(first["uid"]) == 16
    assert data["pagination"] == {"total": 3, "limit": 50, "offset": 0, "has_more": False}
    assert db.execute("SELECT COUNT(*) FROM web_chat_messages WHERE processed = 0").fetchone()[0] == 0
    again = ok(client.get(INBOX, headers=api_headers), "Messages retrieved successfully")
    assert again["messages"] == [] and again["pagination"]["total"] == 0


def test_inbox_accepts_the_plugins_exact_request(client, api_headers):
    post_message(client)
    response = client.get("/api/v1/?action=inbox&limit=50&offset=0",
                          headers={**api_headers, "Content-Type": "application/json"})
    assert len(ok(response, "Messages retrieved successfully")["messages"]) == 1


def test_inbox_pagination_limit_offset(client, api_headers, db):
    for i in range(5):
        post_message(client, "s", f"m{i}")
    data = ok(client.get(INBOX + "&limit=2&offset=1", headers=api_headers),
              "Messages retrieved successfully")
    assert [m["message"] for m in data["messages"]] == ["m1", "m2"]
    assert data["pagination"] == {"total": 5, "limit": 2, "offset": 1, "has_more": True}
    # Only the returned ones were claimed.
    left = [r[0] for r in db.execute(
        "SELECT message FROM web_chat_messages WHERE processed = 0 ORDER BY id")]
    assert left == ["m0", "m3", "m4"]


@pytest.fixture
def no_limits(client, admin_headers):
    """Bulk seeding posts faster than a visitor may; switch the limits off."""
    ok(client.post("/api/v1/?action=config", json={"rate_limits_enabled": False},
                   headers=admin_headers), "Configuration updated successfully")


def test_inbox_limit_is_clamped_to_100(client, api_headers, no_limits):
    for i in range(105):
        post_message(client, f"s{i % 7}", f"m{i}")
    data = ok(client.get(INBOX + "&limit=500", headers=api_headers), "Messages retrieved successfully")
    assert len(data["messages"]) == 100
    assert data["pagination"] == {"total": 105, "limit": 100, "offset": 0, "has_more": True}


@pytest.mark.parametrize("query,text", [
    ("&limit=abc", "Invalid limit parameter"),
    ("&limit=0", "Invalid limit parameter"),
    ("&limit=-1", "Invalid limit parameter"),
    ("&limit=1.5", "Invalid limit parameter"),
    ("&limit=99999999999999999999999", "Invalid limit parameter"),
    ("&offset=-1", "Invalid offset parameter"),
    ("&offset=x", "Invalid offset parameter"),
    ("&since=not-a-date", "Invalid since parameter"),
    ("&since_id=z", "Invalid since_id parameter"),
])
def test_inbox_parameter_errors_claim_nothing(client, api_headers, db, query, text):
    post_message(client)
    err(client.get(INBOX + query, headers=api_headers), 400, text)
    assert db.execute("SELECT processed FROM web_chat_messages").fetchone()[0] == 0


def test_inbox_since_and_since_id_filters(client, api_headers, monkeypatch):
    from datetime import datetime

    for day, text in [(1, "old"), (3, "new")]:
        moment = datetime(2026, 1, day, tzinfo=timefmt.UTC)
        monkeypatch.setattr(timefmt, "utcnow", lambda m=moment: m)
        post_message(client, "s", text)
    data = ok(client.get(INBOX + "&since=2026-01-02", headers=api_headers),
              "Messages retrieved successfully")
    assert [m["message"] for m in data["messages"]] == ["new"]
    assert data["pagination"]["total"] == 1
    data = ok(client.get(INBOX + "&since_id=0", headers=api_headers), "Messages retrieved successfully")
    assert [m["message"] for m in data["messages"]] == ["old"]


def test_two_pollers_never_receive_the_same_message(app, api_headers, no_limits):
    import threading

    seed = app.test_client()
    for i in range(200):
        post_message(seed, f"s{i % 10}", f"m{i}")
    got: list[list[int]] = [[], []]

    def poll(slot):
        client = app.test_client()
        while True:
            data = client.get(INBOX + "&limit=7", headers=api_headers).get_json()["data"]
            if not data["messages"]:
                return
            got[slot].extend(m["id"] for m in data["messages"])

    threads = [threading.Thread(target=poll, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not set(got[0]) & set(got[1])
    assert sorted(got[0] + got[1]) == list(range(1, 201))


# -- outbox -------------------------------------------------------------------

def test_outbox_stores_the_answer(client, api_headers, db):
    post_message(client)
    data = ok(outbox(client, api_headers, response="  hi there  ", timestamp="2025-01-01T10:00:05Z"),
              "Response sent successfully")
    assert data["response_id"] == 1 and data["session_id"] == "session_abc"
    assert STAMP.match(data["timestamp"]) and data["timestamp"] != "2025-01-01T10:00:05Z"
    row = db.execute("SELECT * FROM web_chat_responses").fetchone()
    assert row["response"] == "hi there" and row["message_id"] is None


@pytest.mark.parametrize("body,text", [
    (b"", "Invalid JSON"),
    (b"{bad", "Invalid JSON"),
    (b'{"session_id": "session_abc"}', "Missing required fields"),
    (b'{"response": "x"}', "Missing required fields"),
    (b'{"session_id": "session_abc", "response": "  "}', "Missing required fields"),
    (b'{"session_id": "bad id!", "response": "hi"}', "Invalid session ID"),
    (b'{"session_id": "session_doesnotexist", "response": "hi"}', "Invalid or expired session"),
    (b'{"session_id": "session_abc", "response": 5}', "Invalid response"),
    (b'{"session_id": "session_abc", "response": "hi", "message_id": "abc"}', "Invalid message_id"),
    (b'{"session_id": "session_abc", "response": "hi", "message_id": "1"}', "Invalid message_id"),
    (b'{"session_id": "session_abc", "response": "hi", "message_id": 1.5}', "Invalid message_id"),
    (b'{"session_id": "session_abc", "response": "hi", "message_id": true}', "Invalid message_id"),
    (b'{"session_id": "session_abc", "response": "hi", "message_id": 999}', "Invalid message_id"),
    (b'{"session_id": "session_abc", "response": "hi", "message_id": -3}', "Invalid message_id"),
    (b'{"session_id": "session_abc", "response": "hi", "timestamp": 5}', "Invalid timestamp"),
])
def test_outbox_errors_store_nothing(client, api_headers, db, body, text):
    post_message(client)
    err(client.post(OUTBOX, data=body, headers={**api_headers, "Content-Type": "application/json"}),
        400, text)
    assert db.execute("SELECT COUNT(*) FROM web_chat_responses").fetchone()[0] == 0


def test_outbox_too_long(client, api_headers):
    post_message(client)
    ok(outbox(client, api_headers, response="a" * 10000), "Response sent successfully")
    err(outbox(client, api_headers, response="a" * 10001), 400, "Invalid response")


def test_outbox_message_id_must_belong_to_the_session(client, api_headers):
    post_message(client, "session_a", "mine")
    post_message(client, "session_b", "theirs")
    ok(outbox(client, api_headers, session_id="session_a", message_id=1), "Response sent successfully")
    ok(outbox(client, api_headers, session_id="session_a", message_id=None),
       "Response sent successfully")
    err(outbox(client, api_headers, session_id="session_a", message_id=2), 400, "Invalid message_id")


def test_outbox_accepts_a_session_idle_for_hours(client, api_headers, monkeypatch, db):
    from datetime import datetime, timedelta

    start = datetime(2026, 1, 1, tzinfo=timefmt.UTC)
    monkeypatch.setattr(timefmt, "utcnow", lambda: start)
    post_message(client)
    client.get(INBOX, headers=api_headers)
    later = start + timedelta(hours=5)
    monkeypatch.setattr(timefmt, "utcnow", lambda: later)
    ok(outbox(client, api_headers, response="late but kept"), "Response sent successfully")
    assert db.execute("SELECT last_active FROM web_chat_sessions").fetchone()[0] == "2026-01-01 05:00:00"
