"""CONTRACT §7: rate limits counted in rate_limits, shared by every worker."""

from __future__ import annotations

import heapq
from datetime import datetime, timedelta

import pytest

from webchat_bridge import timefmt

from .helpers import assert_cors, err, ok

START = datetime(2026, 5, 1, 9, 0, 0, tzinfo=timefmt.UTC)
FLOODER = {"REMOTE_ADDR": "203.0.113.50"}


@pytest.fixture
def clock(monkeypatch):
    now = [START]
    monkeypatch.setattr(timefmt, "utcnow", lambda: now[0])
    return now


def flood(client, count, environ=FLOODER):
    return [client.post("/api/v1/?action=messages", json={"session_id": "flood", "message": "x"},
                        environ_overrides=environ) for _ in range(count)]


def test_429_carries_retry_after_and_cors(client, clock):
    answers = flood(client, 31)
    assert [a.status_code for a in answers[:30]] == [200] * 30
    body = err(answers[30], 429, "Rate limit exceeded")
    assert_cors(answers[30])
    assert body["retry_after"] == int(answers[30].headers["Retry-After"])
    assert 1 <= body["retry_after"] <= 60


def test_the_window_reopens(client, clock):
    flood(client, 31)
    clock[0] = START + timedelta(seconds=61)
    assert flood(client, 1)[0].status_code == 200


def test_counts_live_in_the_rate_limits_table(client, db, clock):
    flood(client, 3)
    rows = db.execute("SELECT ip_address, endpoint, count, window_start FROM rate_limits").fetchall()
    assert [tuple(r) for r in rows] == [("203.0.113.50", "messages", 3, "2026-05-01 09:00:00")]


def test_limits_are_per_client_and_per_endpoint(client, clock):
    flood(client, 31)
    assert flood(client, 1, {"REMOTE_ADDR": "198.51.100.1"})[0].status_code == 200
    response = client.get("/api/v1/?action=responses&session_id=flood",
                          environ_overrides=FLOODER)
    ok(response, "Responses retrieved successfully")


def test_plugin_limits_are_kept_per_api_key(client, api_headers, db, clock):
    client.get("/api/v1/?action=inbox", headers=api_headers)
    row = db.execute("SELECT ip_address FROM rate_limits WHERE endpoint = 'inbox'").fetchone()
    assert row[0].startswith("key:") and "test-api-key" not in row[0]


def test_options_preflights_are_never_counted(client, db, clock):
    for _ in range(50):
        client.open("/api/v1/?action=messages", method="OPTIONS", environ_overrides=FLOODER)
    assert db.execute("SELECT COUNT(*) FROM rate_limits").fetchone()[0] == 0
    assert flood(client, 1)[0].status_code == 200


def test_limits_are_configurable(client, admin_headers, clock):
    ok(client.post("/api/v1/?action=config", json={"rate_limit_messages": 2, "rate_limit_window": 10},
                   headers=admin_headers), "Configuration updated successfully")
    assert [a.status_code for a in flood(client, 3)] == [200, 200, 429]
    clock[0] = START + timedelta(seconds=10)
    assert flood(client, 1)[0].status_code == 200


def test_rate_limiting_can_be_switched_off(tmp_path, clock):
    from webchat_bridge import create_app

    app = create_app({"DATABASE": str(tmp_path / "r.db"), "LOG_PATH": str(tmp_path / "l"),
                      "ENVIRON": {"WEB_CHAT_RATE_LIMITS": "off"}})
    assert all(a.status_code == 200 for a in flood(app.test_client(), 100))


def test_setting_switches_limits_off(client, admin_headers, clock):
    ok(client.post("/api/v1/?action=config", json={"rate_limits_enabled": False},
                   headers=admin_headers), "Configuration updated successfully")
    assert all(a.status_code == 200 for a in flood(client, 60))


def test_x_forwarded_for_cannot_dodge_the_limit(client, clock):
    answers = [client.post("/api/v1/?action=messages", json={"session_id": "f", "message": "x"},
                           headers={"X-Forwarded-For": f"10.0.0.{i}"}) for i in range(31)]
    assert answers[-1].status_code == 429


def test_documented_clients_run_for_an_hour_while_a_flooder_is_refused(app, api_headers,
                                                                       admin_headers, clock):
    """A simulated hour: a widget polling responses every 2 s (and its visitor
    writing every 20 s), the plugin polling inbox every 5 s, the dashboard
    refreshing sessions every 30 s — and one client posting messages 10 times a
    second. None of the first three ever sees a 429; the flooder is refused
    within its first minute."""
    client = app.test_client()
    visitor = {"REMOTE_ADDR": "198.51.100.20"}
    operator = {"REMOTE_ADDR": "198.51.100.30"}
    calls = {
        "poll": (2.0, lambda: client.get(
            "/api/v1/?action=responses&session_id=session_visitor&since_id=0",
            environ_overrides=visitor)),
        "write": (20.0, lambda: client.post(
            "/api/v1/?action=messages", json={"session_id": "session_visitor", "message": "hi"},
            environ_overrides=visitor)),
        "inbox": (5.0, lambda: client.get(
            "/api/v1/?action=inbox&limit=50&offset=0", headers=api_headers)),
        "dashboard": (30.0, lambda: client.get(
            "/api/v1/?action=sessions", headers=admin_headers, environ_overrides=operator)),
        "flood": (0.1, lambda: client.post(
            "/api/v1/?action=messages", json={"session_id": "session_flood", "message": "spam"},
            environ_overrides=FLOODER)),
    }
    queue = [(0.0, name) for name in calls]
    heapq.heapify(queue)
    refused: dict[str, list[float]] = {name: [] for name in calls}
    counts = dict.fromkeys(calls, 0)
    while queue:
        at, name = heapq.heappop(queue)
        if at >= 3600:
            continue
        if name == "flood" and at >= 120:
            continue  # two minutes of flooding are enough to show the pattern
        clock[0] = START + timedelta(seconds=at)
        status = calls[name][1]().status_code
        counts[name] += 1
        if status == 429:
            refused[name].append(at)
        else:
            assert status == 200, (name, at, status)
        heapq.heappush(queue, (at + calls[name][0], name))
    assert counts["poll"] == 1800 and counts["inbox"] == 720 and counts["dashboard"] == 120
    for name in ("poll", "write", "inbox", "dashboard"):
        assert refused[name] == [], name
    assert refused["flood"] and refused["flood"][0] < 60
