"""CONTRACT §4–§6 for the `messages` action."""

from __future__ import annotations

import json

import pytest

from .helpers import STAMP, err, ok, post_message

URL = "/api/v1/?action=messages"


def test_first_message_creates_the_session(client, db):
    data = ok(post_message(client, "session_alpha", "Hello there",
                           timestamp="2025-01-01T10:00:00Z"), "Message received")
    assert isinstance(data["message_id"], int) and data["message_id"] == 1
    assert data["session_id"] == "session_alpha"
    assert len(data["uid"]) == 16 and int(data["uid"], 16) >= 0
    assert data["is_new_user"] is True
    # The client's clock is never used: the stored time is the server's.
    assert data["timestamp"] != "2025-01-01T10:00:00Z" and STAMP.match(data["timestamp"])
    row = db.execute("SELECT * FROM web_chat_sessions").fetchone()
    assert row["id"] == "session_alpha" and row["uid"] == data["uid"]
    assert row["ip_address"] == "127.0.0.1"
    stored = db.execute("SELECT * FROM web_chat_messages").fetchone()
    assert stored["message"] == "Hello there" and stored["processed"] == 0
    assert stored["timestamp"] == data["timestamp"]


def test_second_message_keeps_uid_and_is_not_new(client):
    first = ok(post_message(client, "session_alpha", "one"), "Message received")
    second = ok(post_message(client, "session_alpha", "two"), "Message received")
    assert second["uid"] == first["uid"] and second["is_new_user"] is False
    assert second["message_id"] == first["message_id"] + 1
    assert second["timestamp"] >= first["timestamp"]


def test_returning_visitor_uid_is_adopted_for_a_new_session(client):
    first = ok(post_message(client, "session_one", "hi"), "Message received")
    again = ok(post_message(client, "session_two", "back", uid=first["uid"]), "Message received")
    assert again["uid"] == first["uid"] and again["is_new_user"] is False


@pytest.mark.parametrize("uid", ["xyz", "ABCDEF0123456789", "0123456789abcdef0", 12, None, ["a"]])
def test_invalid_uid_is_ignored(client, uid):
    data = ok(post_message(client, "session_u", "hi", uid=uid), "Message received")
    assert data["is_new_user"] is True and data["uid"] != uid


def test_text_is_stored_exactly_as_typed(client, db):
    text = "<script>alert(\"x\")</script> it's & \"quoted\" — ünïcödé 😀🎉 &amp; &lt;"
    ok(post_message(client, "session_alpha", text), "Message received")
    assert db.execute("SELECT message FROM web_chat_messages").fetchone()[0] == text


def test_surrounding_whitespace_and_nuls_are_removed(client, db):
    ok(post_message(client, "s", "  \x00 padded\x00 text \n "), "Message received")
    assert db.execute("SELECT message FROM web_chat_messages").fetchone()[0] == "padded text"


def test_zero_is_a_valid_message(client):
    ok(post_message(client, "s", "0"), "Message received")


def test_length_limit_counts_characters_after_trimming(client):
    ok(post_message(client, "s", "a" * 10000), "Message received")
    ok(post_message(client, "s", "  " + "a" * 10000 + "  "), "Message received")
    ok(post_message(client, "s", "a" * 9999 + "<"), "Message received")
    ok(post_message(client, "s", "😀" * 2501), "Message received")
    err(post_message(client, "s", "a" * 10001), 400, "Invalid message")


def test_length_limit_is_configurable(client, admin_headers):
    ok(client.post("/api/v1/?action=config", json={"max_message_length": 5},
                   headers=admin_headers), "Configuration updated successfully")
    ok(post_message(client, "s", "12345"), "Message received")
    err(post_message(client, "s", "123456"), 400, "Invalid message")


@pytest.mark.parametrize("body,text", [
    (b"", "Invalid JSON"),
    (b"   ", "Invalid JSON"),
    (b"{bad json", "Invalid JSON"),
    (b"{}", "Invalid JSON"),
    (b"[]", "Invalid JSON"),
    (b"[1, 2]", "Invalid JSON"),
    (b'"just a string"', "Invalid JSON"),
    (b"42", "Invalid JSON"),
    (b"null", "Invalid JSON"),
    (b'{"session_id": "s"}', "Missing required fields"),
    (b'{"message": "hi"}', "Missing required fields"),
    (b'{"session_id": "", "message": "hi"}', "Missing required fields"),
    (b'{"session_id": "s", "message": ""}', "Missing required fields"),
    (b'{"session_id": "s", "message": "   "}', "Missing required fields"),
    (b'{"session_id": "s", "message": null}', "Missing required fields"),
    (b'{"session_id": "bad id!", "message": "hi"}', "Invalid session ID"),
    (b'{"session_id": "a<b", "message": "hi"}', "Invalid session ID"),
    (b'{"session_id": "abc\\n", "message": "hi"}', "Invalid session ID"),
    (b'{"session_id": 42, "message": "int sid"}', "Invalid session ID"),
    (b'{"session_id": ["s"], "message": "hi"}', "Invalid session ID"),
    (b'{"session_id": "s", "message": 123}', "Invalid message"),
    (b'{"session_id": "s", "message": ["x"]}', "Invalid message"),
    (b'{"session_id": "s", "message": {"a": 1}}', "Invalid message"),
    (b'{"session_id": "s", "message": true}', "Invalid message"),
    (b'{"session_id": "s", "message": "hi", "timestamp": 12345}', "Invalid timestamp"),
    (b'{"session_id": "s", "message": "hi", "timestamp": {"a": 1}}', "Invalid timestamp"),
    (b'{"session_id": "s", "message": "\\ud83d"}', "Invalid JSON"),
    (b'{"session_id": "s", "message": "hi", "x": "\\udc00"}', "Invalid JSON"),
    (b'{"session_id": "s", "message": "\xff\xfe"}', "Invalid JSON"),
    (b"\xff\xfe\x00\x00", "Invalid JSON"),
    (b"[" * 100000 + b"]" * 100000, "Invalid JSON"),
])
def test_invalid_bodies_get_a_clear_400(client, db, body, text):
    err(client.post(URL, data=body, content_type="application/json"), 400, text)
    assert db.execute("SELECT COUNT(*) FROM web_chat_messages").fetchone()[0] == 0


def test_session_id_length_bounds(client):
    ok(post_message(client, "s" * 64, "sixty-four"), "Message received")
    err(post_message(client, "s" * 65, "too long"), 400, "Invalid session ID")
    ok(post_message(client, "plain-id-1", "hyphen"), "Message received")
    ok(post_message(client, "test123", "plain"), "Message received")


def test_body_read_whatever_the_content_type(client):
    body = json.dumps({"session_id": "s", "message": "text/plain body"})
    ok(client.post(URL, data=body, content_type="text/plain"), "Message received")
    ok(client.post(URL, data=body), "Message received")


def test_oversized_body_is_a_400(client):
    body = json.dumps({"session_id": "s", "message": "a" * (2 * 1024 * 1024)})
    err(client.post(URL, data=body, content_type="application/json"), 400,
        "Request body too large")


def test_client_address_is_remote_addr_not_x_forwarded_for(client, db):
    client.post(URL, json={"session_id": "xff", "message": "x"},
                headers={"X-Forwarded-For": "8.8.8.8"})
    assert db.execute("SELECT ip_address FROM web_chat_sessions").fetchone()[0] == "127.0.0.1"


def test_x_forwarded_for_is_honoured_behind_declared_proxies(tmp_path):
    from webchat_bridge import create_app

    app = create_app({"DATABASE": str(tmp_path / "p.db"), "LOG_PATH": str(tmp_path / "l"),
                      "ENVIRON": {}, "TRUSTED_PROXIES": 1})
    client = app.test_client()
    client.post(URL, json={"session_id": "xff", "message": "x"},
                headers={"X-Forwarded-For": "203.0.113.9, 198.51.100.7"})
    from webchat_bridge.db import connect

    conn = connect(str(tmp_path / "p.db"))
    # One trusted proxy: the last hop it added is the client.
    assert conn.execute("SELECT ip_address FROM web_chat_sessions").fetchone()[0] == "198.51.100.7"
    conn.close()


def test_ids_and_timestamps_follow_insertion_order(client):
    stamps = []
    for i in range(20):
        data = ok(post_message(client, f"s{i % 3}", f"m{i}"), "Message received")
        stamps.append((data["message_id"], data["timestamp"]))
    assert [s[0] for s in stamps] == sorted(s[0] for s in stamps)
    assert [s[1] for s in stamps] == sorted(s[1] for s in stamps)
