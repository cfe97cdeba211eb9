"""A simulated hour of the documented clients against the real server.

The server's rate-limit window is set to one second, and every client runs
sixty times faster than in life: so one real minute is an hour of windows,
each seeing exactly the traffic a real minute would. The server is told it
sits behind one proxy, and each simulated client sends its own address in
X-Forwarded-For, as the proxy would.
"""

from __future__ import annotations

import threading
import time

import pytest
import requests

from tests.conftest import ADMIN_KEY, API_KEY

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SPEED = 60  # simulated seconds per real second
HOUR = 3600 / SPEED


def test_documented_clients_run_an_hour_while_a_flooder_is_refused(live_server_factory):
    server = live_server_factory(env={"WEB_CHAT_TRUSTED_PROXIES": "1"})
    admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
    answer = requests.post(f"{server.url}/api/v1/?action=config", headers=admin,
                           json={"rate_limit_window": 1}, timeout=10)
    assert answer.status_code == 200, answer.text
    visitor = {"X-Forwarded-For": "198.51.100.20"}
    clients = {
        # name: (seconds between calls in life, method, URL, headers, body)
        "widget poll": (2, "GET", "/api/v1/?action=responses&session_id=session_hour&since_id=0",
                        visitor, None),
        "visitor writes": (20, "POST", "/api/v1/?action=messages", visitor,
                           {"session_id": "session_hour", "message": "still here"}),
        "plugin inbox": (5, "GET", "/api/v1/?action=inbox&limit=50&offset=0",
                         {"Authorization": f"Bearer {API_KEY}",
                          "Content-Type": "application/json"}, None),
        "dashboard": (30, "GET", "/api/v1/?action=sessions",
                      {**admin, "X-Forwarded-For": "198.51.100.30"}, None),
    }
    statuses: dict[str, list[int]] = {name: [] for name in clients}
    started = time.monotonic()

    def run(name, every, method, path, headers, body):
        with requests.Session() as http:
            due = started
            while due - started < HOUR:
                time.sleep(max(0.0, due - time.monotonic()))
                statuses[name].append(http.request(method, server.url + path, headers=headers,
                                                   json=body, timeout=10).status_code)
                due += every / SPEED

    refused_after: list[float] = []

    def flood():
        with requests.Session() as http:
            while time.monotonic() - started < 5:
                code = http.post(f"{server.url}/api/v1/?action=messages",
                                 headers={"X-Forwarded-For": "203.0.113.66"},
                                 json={"session_id": "session_flood", "message": "spam"},
                                 timeout=10).status_code
                if code == 429:
                    refused_after.append((time.monotonic() - started) * SPEED)
                    return

    threads = [threading.Thread(target=run, args=(name, *spec)) for name, spec in clients.items()]
    threads.append(threading.Thread(target=flood))
    for t in threads:
        t.start()
    for t in threads:
        t.join(HOUR + 30)
    assert len(statuses["widget poll"]) >= 1700 and len(statuses["plugin inbox"]) >= 700
    assert len(statuses["dashboard"]) >= 115
    for name, codes in statuses.items():
        assert set(codes) == {200}, (name, sorted(set(codes)))
    # Refused within its first (simulated) minute.
    assert refused_after and refused_after[0] < 60
