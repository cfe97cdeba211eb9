"""Assertions shared by the contract tests."""

from __future__ import annotations

import re

CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type, Authorization",
    "Access-Control-Max-Age": "86400",
}
STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
SQLITE_STAMP = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")


def assert_cors(response) -> None:
    for name, value in CORS.items():
        assert response.headers.get(name) == value, name


def ok(response, message: str) -> dict:
    """A success envelope with ``message``; returns its data."""
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert_cors(response)
    body = response.get_json()
    assert body["success"] is True
    assert body["message"] == message
    assert STAMP.match(body["timestamp"])
    return body["data"]


def err(response, status: int, text: str) -> dict:
    """An error envelope with ``status`` and ``text``; returns the body."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert_cors(response)
    body = response.get_json()
    assert body["success"] is False
    assert body["error"] == text
    assert body["code"] == status
    assert STAMP.match(body["timestamp"])
    assert set(body) <= {"success", "error", "code", "timestamp", "retry_after"}
    return body


def post_message(client, session_id="session_abc", message="hello", **extra):
    return client.post("/api/v1/?action=messages", json={
        "session_id": session_id, "message": message, **extra})
