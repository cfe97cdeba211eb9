"""CONTRACT §1–§2: routing, CORS, methods, the order of checks, the envelope."""

from __future__ import annotations

import pytest

from tests.conftest import ADMIN_KEY, API_KEY

from .helpers import assert_cors, err, ok, post_message


@pytest.mark.parametrize("path", [
    "/api/v1/?action=messages",
    "/api/v1?action=messages",
    "/api/v1/index.php?action=messages",
    "/api/v1/messages",
])
def test_every_routing_variant_reaches_the_dispatcher(client, path):
    response = client.post(path, json={"session_id": "s_route", "message": "hi"})
    ok(response, "Message received")


def test_doubled_leading_slash_as_the_plugin_sends_it(client, api_headers):
    post_message(client)
    # The test client would read "//api" as a host name, so the path is set
    # the way a real server hands it over.
    response = client.get(
        "/", query_string="action=inbox&limit=50&offset=0",
        environ_overrides={"PATH_INFO": "//api/v1/"},
        headers={**api_headers, "Content-Type": "application/json"},
    )
    data = ok(response, "Messages retrieved successfully")
    assert [m["message"] for m in data["messages"]] == ["hello"]


@pytest.mark.parametrize("path", [
    "/api/v1/?action=messages", "/api/v1/", "/api/v1/?action=bogus", "/api/v1/inbox",
    "/api/v1/nothing/here", "/api/v1/openapi.json",
])
def test_options_answers_200_with_an_empty_body_and_cors(client, path):
    response = client.open(path, method="OPTIONS", headers={
        "Origin": "http://example.com", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "Content-Type, Authorization"})
    assert response.status_code == 200
    assert response.data == b""
    assert_cors(response)


@pytest.mark.parametrize("query", ["", "?action=", "?action=bogus", "?action=MESSAGES"])
def test_unknown_or_missing_action_is_400(client, query):
    err(client.get(f"/api/v1/{query}"), 400, "Invalid action")


def test_unknown_action_by_path_is_400(client):
    err(client.post("/api/v1/bogus"), 400, "Invalid action")


@pytest.mark.parametrize("method,action", [
    ("PUT", "messages"), ("GET", "messages"), ("DELETE", "inbox"), ("POST", "inbox"),
    ("GET", "outbox"), ("POST", "responses"), ("POST", "sessions"),
    ("POST", "session_messages"), ("PUT", "config"), ("GET", "cleanup"),
    ("GET", "cleanup_logs"), ("GET", "clear_data"), ("POST", "stats"), ("POST", "health"),
    ("PATCH", "messages"),
])
def test_wrong_method_is_405_before_auth(client, method, action):
    # No key is sent: the method is checked first (CONTRACT §1), unlike the
    # PHP system, which checked config's key before its method.
    response = client.open(f"/api/v1/?action={action}", method=method)
    err(response, 405, "Method not allowed")
    assert "OPTIONS" in response.headers["Allow"]


def test_head_is_refused_so_it_cannot_claim_messages(client, api_headers, db):
    post_message(client)
    response = client.head("/api/v1/?action=inbox", headers=api_headers)
    assert response.status_code == 405
    assert db.execute("SELECT processed FROM web_chat_messages").fetchone()[0] == 0


def test_order_method_then_auth_then_rate_limit_then_validation(app, client):
    # Wrong method with no key: 405.
    err(client.get("/api/v1/?action=outbox"), 405, "Method not allowed")
    # Right method, no key, invalid body: 401 (auth comes before validation).
    err(client.post("/api/v1/?action=outbox", data=b"{bad"), 401, "Invalid or missing API key")
    # Right key, invalid body: 400.
    headers = {"Authorization": f"Bearer {API_KEY}"}
    err(client.post("/api/v1/?action=outbox", data=b"{bad", headers=headers), 400, "Invalid JSON")


def test_rate_limit_comes_before_validation(client, admin_headers):
    client.post("/api/v1/?action=config", json={"rate_limit_messages": 2}, headers=admin_headers)
    for _ in range(2):
        err(client.post("/api/v1/?action=messages", data=b"{bad"), 400, "Invalid JSON")
    err(client.post("/api/v1/?action=messages", data=b"{bad"), 429, "Rate limit exceeded")


def test_unknown_api_path_is_a_json_404(client):
    for path in ("/api/v2/messages", "/api/", "/api/v1/messages/extra"):
        err(client.get(path), 404, "Not found")


def test_unexpected_fault_is_a_json_500_without_detail(app, client, monkeypatch):
    from webchat_bridge import conversations

    def explode(*args, **kwargs):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(conversations, "poll_responses", explode)
    response = client.get("/api/v1/?action=responses&session_id=abc")
    body = err(response, 500, "Internal server error")
    assert "secret" not in response.get_data(as_text=True)
    assert body["code"] == 500


def test_database_unreachable_is_503(app, client, monkeypatch):
    import sqlite3

    from webchat_bridge.api import actions

    def broken(*args, **kwargs):
        raise sqlite3.OperationalError("unable to open database file")

    monkeypatch.setattr(actions.conversations, "poll_responses", broken)
    err(client.get("/api/v1/?action=responses&session_id=abc"), 503, "Database unavailable")


def test_openapi_document_describes_every_action(client):
    from webchat_bridge.api.actions import ACTIONS

    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    doc = response.get_json()
    assert doc["openapi"].startswith("3.")
    for name, action in ACTIONS.items():
        operations = doc["paths"][f"/api/v1/{name}"]
        assert set(operations) == {m.lower() for m in action.handlers}
        for operation in operations.values():
            assert "200" in operation["responses"] and "400" in operation["responses"]


def test_key_of_one_kind_does_not_open_the_other(client):
    api = {"Authorization": f"Bearer {API_KEY}"}
    admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
    err(client.get("/api/v1/?action=inbox", headers=admin), 401, "Invalid or missing API key")
    err(client.get("/api/v1/?action=sessions", headers=api), 401, "Invalid or missing admin key")
    err(client.post("/api/v1/?action=outbox", headers=admin, json={"session_id": "a", "response": "b"}),
        401, "Invalid or missing API key")
    for action, method in [("session_messages", "GET"), ("config", "GET"), ("config", "POST"),
                           ("cleanup", "POST"), ("clear_data", "POST"), ("cleanup_logs", "POST"),
                           ("stats", "GET")]:
        err(client.open(f"/api/v1/?action={action}", method=method, headers=api), 401,
            "Invalid or missing admin key")


def test_public_actions_need_no_key(client):
    ok(post_message(client), "Message received")
    ok(client.get("/api/v1/?action=responses&session_id=session_abc"),
       "Responses retrieved successfully")
    ok(client.get("/api/v1/?action=health"), "OK")


def test_log_file_and_database_are_not_served(client):
    for path in ("/logs/api.log", "/db/web_chat_bridge.db", "/db/web_chat.db"):
        assert client.get(path).status_code == 404
