"""Inputs and states found by trying to break the bridge, each pinned down."""

from __future__ import annotations

import os
import stat

import pytest

from .helpers import err, ok, post_message


def test_a_blob_in_a_text_column_is_served_as_text_and_loses_nothing(client, db, api_headers,
                                                                    admin_headers):
    post_message(client, "session_blob", "normal text")
    db.execute("INSERT INTO web_chat_messages (session_id, message, timestamp, processed)"
               " VALUES ('session_blob', X'deadbeef', '2026-01-01T00:00:00.000Z', 0)")
    db.execute("UPDATE web_chat_sessions SET metadata = X'ff00'")
    db.execute("INSERT INTO web_chat_messages (session_id, message, timestamp, processed)"
               " VALUES ('session_blob', CAST(X'6869ff' AS TEXT), '2026-01-01T00:00:01.000Z', 0)")
    data = ok(client.get("/api/v1/?action=inbox", headers=api_headers),
              "Messages retrieved successfully")
    texts = [m["message"] for m in data["messages"]]
    assert texts[0] == "normal text" and len(texts) == 3
    assert all(isinstance(t, str) for t in texts) and "\ufffd" in texts[2]
    ok(client.get("/api/v1/?action=sessions&active=all", headers=admin_headers),
       "Sessions retrieved successfully")
    ok(client.get("/api/v1/?action=session_messages&session_id=session_blob",
                  headers=admin_headers), "Session messages retrieved")


def test_request_paths_cannot_forge_log_lines(app, client):
    client.get("/api/v1/x%0A%5B2026-01-01%2000:00:00%5D%20%5BERROR%5D%20FORGED%0D%0Ay")
    with open(os.path.join(app.config["LOG_PATH"], "api.log"), encoding="utf-8") as log:
        lines = log.read().splitlines()
    assert not any(line.startswith("[2026-01-01 00:00:00]") for line in lines)
    assert any("FORGED" in line and "\\n" in line for line in lines)


def test_a_new_database_is_readable_by_its_owner_only(app):
    mode = stat.S_IMODE(os.stat(app.config["DATABASE"]).st_mode)
    assert mode == 0o600


def test_one_key_for_both_kinds_is_refused_at_start(tmp_path):
    from webchat_bridge import create_app
    from webchat_bridge.keys import KeyConflict

    with pytest.raises(KeyConflict, match="same"):
        create_app({"DATABASE": str(tmp_path / "k.db"), "LOG_PATH": str(tmp_path / "l"),
                    "ENVIRON": {"WEB_CHAT_API_KEY": "same-key-for-both",
                                "WEB_CHAT_ADMIN_KEY": "same-key-for-both"}})


def test_openapi_document_answers_other_methods_with_405(client):
    err(client.post("/api/v1/openapi.json"), 405, "Method not allowed")


def test_equal_keys_error_names_the_field_being_changed(tmp_path):
    from webchat_bridge import create_app

    app = create_app({"DATABASE": str(tmp_path / "e.db"), "LOG_PATH": str(tmp_path / "l"),
                      "ENVIRON": {}})
    keys = app.config["GENERATED_KEYS"]
    response = app.test_client().post(
        "/api/v1/?action=config", json={"admin_key": keys["api_key"]},
        headers={"Authorization": f"Bearer {keys['admin_key']}"})
    err(response, 400, "Invalid value for admin_key: the API key and the admin key must differ")


def test_a_deleted_database_is_503_not_a_lost_acknowledgement(app, client):
    ok(post_message(client, "session_gone", "before"), "Message received")
    os.remove(app.config["DATABASE"])
    err(post_message(client, "session_gone", "after"), 503, "Database unavailable")
    err(client.get("/api/v1/?action=health"), 503, "Database unavailable")
    assert not os.path.exists(app.config["DATABASE"])
