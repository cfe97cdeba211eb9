"""CONTRACT §5 and §7 for the admin actions."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from webchat_bridge import timefmt

from .helpers import SQLITE_STAMP, err, ok, post_message

START = datetime(2026, 3, 1, 12, 0, 0, tzinfo=timefmt.UTC)


@pytest.fixture
def clock(monkeypatch):
    now = [START]
    monkeypatch.setattr(timefmt, "utcnow", lambda: now[0])

    def advance(**delta):
        now[0] = now[0] + timedelta(**delta)

    return advance


def api(client, action, headers, method="GET", query="", **body):
    url = f"/api/v1/?action={action}{query}"
    if method == "GET":
        return client.get(url, headers=headers)
    return client.post(url, json=body or None, headers=headers)


# -- sessions -----------------------------------------------------------------

def test_sessions_lists_active_sessions_most_recent_first(client, admin_headers, api_headers, clock):
    post_message(client, "session_old", "one")
    clock(minutes=40)
    post_message(client, "session_a", "a1")
    clock(seconds=5)
    post_message(client, "session_b", "b1")
    post_message(client, "session_b", "b2")
    client.post("/api/v1/?action=outbox", headers=api_headers,
                json={"session_id": "session_b", "response": "r"})
    data = ok(api(client, "sessions", admin_headers), "Sessions retrieved successfully")
    assert [s["id"] for s in data["sessions"]] == ["session_b", "session_a"]
    first = data["sessions"][0]
    assert first["message_count"] == 2 and first["response_count"] == 1
    assert set(first) == {"id", "uid", "created_at", "last_active", "ip_address", "metadata",
                          "message_count", "response_count"}
    assert SQLITE_STAMP.match(first["created_at"]) and SQLITE_STAMP.match(first["last_active"])
    assert first["metadata"] is None and first["ip_address"] == "127.0.0.1"
    assert data["pagination"] == {"total": 2, "limit": 50, "offset": 0, "has_more": False}
    everything = ok(api(client, "sessions", admin_headers, query="&active=false"),
                    "Sessions retrieved successfully")
    assert [s["id"] for s in everything["sessions"]] == ["session_b", "session_a", "session_old"]


def test_sessions_pagination(client, admin_headers, clock):
    for i in range(5):
        post_message(client, f"s{i}", "x")
        clock(seconds=1)
    data = ok(api(client, "sessions", admin_headers, query="&active=all&limit=2&offset=1"),
              "Sessions retrieved successfully")
    assert [s["id"] for s in data["sessions"]] == ["s3", "s2"]
    assert data["pagination"] == {"total": 5, "limit": 2, "offset": 1, "has_more": True}
    err(api(client, "sessions", admin_headers, query="&limit=x"), 400, "Invalid limit parameter")
    err(api(client, "sessions", admin_headers, query="&offset=-2"), 400, "Invalid offset parameter")


def test_sessions_search_by_id_or_uid_prefix(client, admin_headers):
    uid = ok(post_message(client, "session_findme", "x"), "Message received")["uid"]
    post_message(client, "session_other", "y")
    post_message(client, "zz_100", "z")
    by_id = ok(api(client, "sessions", admin_headers, query="&search=session_f"),
               "Sessions retrieved successfully")
    assert [s["id"] for s in by_id["sessions"]] == ["session_findme"]
    by_uid = ok(api(client, "sessions", admin_headers, query=f"&search={uid[:6]}"),
                "Sessions retrieved successfully")
    assert "session_findme" in [s["id"] for s in by_uid["sessions"]]
    # LIKE wildcards are literal: "_" matches only "_".
    literal = ok(api(client, "sessions", admin_headers, query="&search=zz%5F"),
                 "Sessions retrieved successfully")
    assert [s["id"] for s in literal["sessions"]] == ["zz_100"]
    none = ok(api(client, "sessions", admin_headers, query="&search=%25"),
              "Sessions retrieved successfully")
    assert none["sessions"] == [] and none["pagination"]["total"] == 0


def test_session_messages_transcript(client, admin_headers, api_headers):
    post_message(client, "session_t", "question")
    client.post("/api/v1/?action=outbox", headers=api_headers,
                json={"session_id": "session_t", "response": "answer", "message_id": 1})
    post_message(client, "session_t", "path a/b and url http://x.y/z")
    data = ok(api(client, "session_messages", admin_headers, query="&session_id=session_t"),
              "Session messages retrieved")
    assert data["session"]["id"] == "session_t" and data["session"]["metadata"] is None
    assert set(data["session"]) == {"id", "uid", "created_at", "last_active", "ip_address",
                                    "metadata"}
    assert [m["message"] for m in data["messages"]] == ["question", "path a/b and url http://x.y/z"]
    assert set(data["messages"][0]) == {"id", "session_id", "message", "timestamp"}
    assert data["responses"] == [{
        "id": 1, "session_id": "session_t", "response": "answer",
        "timestamp": data["responses"][0]["timestamp"], "message_id": 1}]


@pytest.mark.parametrize("query,status,text", [
    ("", 400, "Missing session_id parameter"),
    ("&session_id=bad%20id!", 400, "Invalid session ID"),
    ("&session_id=session_nope", 404, "Session not found"),
])
def test_session_messages_errors(client, admin_headers, query, status, text):
    err(api(client, "session_messages", admin_headers, query=query), status, text)


# -- config -------------------------------------------------------------------

def test_config_get_lists_every_setting(client, admin_headers):
    from webchat_bridge.settings import SPECS

    data = ok(api(client, "config", admin_headers), "Configuration retrieved successfully")
    assert set(SPECS) <= set(data)
    assert data["session_timeout"] == 1800 and data["api_key"] and data["admin_key"]
    assert sorted(data["pinned"]) == ["admin_key", "api_key"]
    assert data["rate_limits_enabled"] is True


def test_config_post_changes_settings(client, admin_headers):
    data = ok(api(client, "config", admin_headers, "POST", session_timeout=600,
                  rate_limit_messages=10), "Configuration updated successfully")
    assert data["message"] == "Configuration updated successfully"
    after = ok(api(client, "config", admin_headers), "Configuration retrieved successfully")
    assert after["session_timeout"] == 600 and after["rate_limit_messages"] == 10


@pytest.mark.parametrize("body,text", [
    ({"bogus": 1}, "Unknown setting: bogus"),
    ({"session_timeout": "600"}, "Invalid value for session_timeout: expected an integer"),
    ({"session_timeout": True}, "Invalid value for session_timeout: expected an integer"),
    ({"session_timeout": 5}, "Invalid value for session_timeout: must be between 60 and 2592000"),
    ({"rate_limits_enabled": "no"}, "Invalid value for rate_limits_enabled: expected true or false"),
    ({"admin_key": "short"}, "admin_key is set by the environment variable WEB_CHAT_ADMIN_KEY "
                             "and cannot be changed here"),
])
def test_config_post_refuses_bad_values_naming_the_field(client, admin_headers, body, text):
    err(client.post("/api/v1/?action=config", json=body, headers=admin_headers), 400, text)
    assert ok(api(client, "config", admin_headers),
              "Configuration retrieved successfully")["session_timeout"] == 1800


def test_config_post_refuses_weak_or_equal_keys_when_not_pinned(tmp_path):
    from webchat_bridge import create_app

    app = create_app({"DATABASE": str(tmp_path / "k.db"), "LOG_PATH": str(tmp_path / "l"),
                      "ENVIRON": {}})
    keys = app.config["GENERATED_KEYS"]
    client = app.test_client()
    headers = {"Authorization": f"Bearer {keys['admin_key']}"}
    err(client.post("/api/v1/?action=config", json={"api_key": "short"}, headers=headers), 400,
        "Invalid value for api_key: a key is 8 to 256 visible ASCII characters, without spaces")
    err(client.post("/api/v1/?action=config", json={"api_key": keys["admin_key"]}, headers=headers),
        400, "Invalid value for api_key: the API key and the admin key must differ")


def test_config_post_body_errors(client, admin_headers):
    err(client.post("/api/v1/?action=config", data=b"{bad", headers=admin_headers), 400,
        "Invalid JSON")
    err(client.post("/api/v1/?action=config", data=b"{}", headers=admin_headers), 400,
        "Invalid JSON")


# -- cleanup ------------------------------------------------------------------

def test_cleanup_removes_idle_sessions_with_their_rows(client, admin_headers, api_headers, db, clock):
    post_message(client, "session_done", "q")
    client.get("/api/v1/?action=inbox", headers=api_headers)
    client.post("/api/v1/?action=outbox", headers=api_headers,
                json={"session_id": "session_done", "response": "a"})
    post_message(client, "session_waiting", "never claimed")
    clock(hours=1)
    post_message(client, "session_fresh", "recent")
    data = ok(api(client, "cleanup", admin_headers, "POST"), "Cleanup completed successfully")
    assert data == {"cleaned_count": 1, "message": "Cleaned up 1 inactive sessions"}
    ids = {r[0] for r in db.execute("SELECT id FROM web_chat_sessions")}
    assert ids == {"session_waiting", "session_fresh"}
    assert db.execute("SELECT COUNT(*) FROM web_chat_messages WHERE session_id = 'session_done'"
                      ).fetchone()[0] == 0
    assert db.execute("SELECT COUNT(*) FROM web_chat_responses").fetchone()[0] == 0
    data = ok(api(client, "cleanup", admin_headers, "POST"), "Cleanup completed successfully")
    assert data == {"cleaned_count": 0, "message": "Cleaned up 0 inactive sessions"}


def test_cleanup_waits_for_a_late_answer_until_the_grace_passes(client, admin_headers,
                                                                 api_headers, db, clock):
    post_message(client, "session_asked", "q")
    client.get("/api/v1/?action=inbox", headers=api_headers)  # seen, not yet answered
    clock(hours=2)
    assert ok(api(client, "cleanup", admin_headers, "POST"),
              "Cleanup completed successfully")["cleaned_count"] == 0
    clock(hours=23)
    assert ok(api(client, "cleanup", admin_headers, "POST"),
              "Cleanup completed successfully")["cleaned_count"] == 1


# -- clear_data, cleanup_logs, stats, health -----------------------------------

def test_clear_data_deletes_everything_but_keeps_ids_increasing(client, admin_headers, api_headers):
    post_message(client, "s1", "a")
    client.post("/api/v1/?action=outbox", headers=api_headers,
                json={"session_id": "s1", "response": "b"})
    data = ok(api(client, "clear_data", admin_headers, "POST"), "All data cleared successfully")
    assert data == {"message": "All data cleared successfully",
                    "remaining_data": {"responses": 0, "messages": 0, "sessions": 0}}
    assert ok(api(client, "sessions", admin_headers, query="&active=false"),
              "Sessions retrieved successfully")["sessions"] == []
    assert ok(post_message(client, "s2", "c"), "Message received")["message_id"] == 2


def test_cleanup_logs_reports_real_figures(app, client, admin_headers):
    import os

    for i in range(30):
        post_message(client, f"log{i}", "x" * 100)
    # A small log is left as it is: pressing the button erases nothing recent.
    small = ok(api(client, "cleanup_logs", admin_headers, "POST"),
               "Log cleanup completed successfully")
    assert small["rotated"] is False and small["backup_files_count"] == 0
    with open(os.path.join(app.config["LOG_PATH"], "api.log"), "a", encoding="utf-8") as log:
        log.write("[2026-03-01 11:00:00] [INFO] earlier line\n" * 30000)  # over 1 MB
    data = ok(api(client, "cleanup_logs", admin_headers, "POST"),
              "Log cleanup completed successfully")
    assert data["message"] == "Log cleanup completed successfully" and data["rotated"] is True
    assert data["retention_days"] == 30 and data["max_size_mb"] == 100
    folder = app.config["LOG_PATH"]
    backups = [n for n in os.listdir(folder) if n.startswith("api.log.")]
    assert data["backup_files_count"] == len(backups) >= 1
    total = sum(os.path.getsize(os.path.join(folder, n))
                for n in os.listdir(folder) if n.startswith("api.log"))
    assert abs(data["total_log_size_mb"] - round(total / 1048576, 2)) <= 0.01
    assert isinstance(data["current_log_size_mb"], float)


def test_stats_figures_match_the_database(client, admin_headers, api_headers, clock):
    post_message(client, "s1", "a")
    post_message(client, "s1", "b")
    post_message(client, "s2", "c")
    client.get("/api/v1/?action=inbox&limit=2", headers=api_headers)
    clock(seconds=30)
    client.post("/api/v1/?action=outbox", headers=api_headers,
                json={"session_id": "s1", "response": "r"})
    data = ok(api(client, "stats", admin_headers), "Statistics retrieved successfully")
    assert (data["sessions"], data["active_sessions"], data["messages"],
            data["unprocessed_messages"], data["responses"]) == (2, 2, 3, 1, 1)
    # Both s1 messages were answered by the response 30 s later.
    assert data["mean_response_seconds"] == pytest.approx(30.0, abs=0.01)
    hours = data["messages_per_hour"]
    assert len(hours) == 24 and hours[-1] == {"hour": "2026-03-01T12:00:00Z", "count": 3}
    assert sum(h["count"] for h in hours) == 3


def test_health(client):
    from webchat_bridge import __version__

    data = ok(client.get("/api/v1/?action=health"), "OK")
    assert data == {"status": "ok", "database": "ok", "version": __version__}


def test_health_is_503_when_the_database_cannot_be_read(app, client):
    import os

    os.remove(app.config["DATABASE"])
    os.makedirs(app.config["DATABASE"])  # a folder where the file was: unreadable
    err(client.get("/api/v1/?action=health"), 503, "Database unavailable")


def test_cleanup_runs_by_itself_after_an_answer_at_most_once_a_minute(tmp_path, clock):
    from webchat_bridge import create_app
    from webchat_bridge.api import _next_auto
    from webchat_bridge.db import connect

    saved = _next_auto[0]
    _next_auto[0] = 0.0  # due now in this process
    app = create_app({"DATABASE": str(tmp_path / "auto.db"), "LOG_PATH": str(tmp_path / "l"),
                      "ENVIRON": {}, "AUTO_CLEANUP": True})
    client = app.test_client()
    post_message(client, "session_idle", "q").close()  # its own auto run finds nothing yet
    conn = connect(str(tmp_path / "auto.db"))
    conn.execute("UPDATE web_chat_messages SET processed = 1")
    clock(hours=26)  # past the timeout and the grace for an unanswered message
    # Within the process's minute nothing runs, however much time the
    # database's clock says has passed.
    client.get("/api/v1/?action=responses&session_id=other").close()
    assert conn.execute("SELECT COUNT(*) FROM web_chat_sessions").fetchone()[0] == 1
    _next_auto[0] = 0.0
    response = client.get("/api/v1/?action=responses&session_id=other")
    assert conn.execute("SELECT COUNT(*) FROM web_chat_sessions").fetchone()[0] == 1
    response.close()  # the run happens once the answer has been sent
    assert conn.execute("SELECT COUNT(*) FROM web_chat_sessions").fetchone()[0] == 0
    conn.close()
    _next_auto[0] = saved
