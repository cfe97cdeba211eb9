"""End-to-end against `webchat-bridge serve` (gunicorn on a loopback port)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest
import requests

from tests.conftest import ADMIN_KEY, API_KEY

pytestmark = pytest.mark.e2e


def post(server, session_id, text, **extra):
    return requests.post(f"{server.url}/api/v1/?action=messages",
                         json={"session_id": session_id, "message": text, **extra}, timeout=10)


def wait_for_responses(server, session_id, count, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        data = requests.get(f"{server.url}/api/v1/?action=responses&session_id={session_id}",
                            timeout=10).json()["data"]["responses"]
        if len(data) >= count:
            return data
        time.sleep(0.2)
    raise AssertionError(f"no {count} responses for {session_id} within {timeout} s")


def test_a_message_goes_through_echo_agent_and_comes_back(live_server):
    assert post(live_server, "session_e2e", "Hello, agent").json()["success"]
    agent = subprocess.Popen(
        [sys.executable, "-m", "webchat_bridge", "echo-agent", "--url", live_server.url,
         "--key", API_KEY, "--interval", "0.5"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    try:
        answers = wait_for_responses(live_server, "session_e2e", 1)
    finally:
        agent.terminate()
        agent.wait(10)
    assert answers[0]["response"] == "Echo: Hello, agent"
    assert isinstance(answers[0]["id"], int)


def test_plugin_with_trailing_slash_base_url(live_server):
    """The plugin joins "base/" and "/api/v1/": the bridge takes "//api/v1/"."""
    from webchat_bridge.echo_agent import EchoAgent

    post(live_server, "session_slash", "via double slash")
    agent = EchoAgent(live_server.url + "/", API_KEY, interval=0.1, log=lambda _: None)
    assert agent.base.endswith("//api/v1/")
    assert agent.poll_once() == 1
    assert wait_for_responses(live_server, "session_slash", 1)[0]["response"] == (
        "Echo: via double slash")


def test_two_inbox_pollers_receive_disjoint_sets_covering_everything(live_server_factory):
    server = live_server_factory(workers=3, env={"WEB_CHAT_RATE_LIMITS": "off"})
    sent = set()
    for i in range(150):
        body = post(server, f"session_{i % 15}", f"message {i}").json()
        sent.add(body["data"]["message_id"])
    got = [[], []]
    headers = {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"}

    def poll(slot):
        with requests.Session() as http:
            empty = 0
            while empty < 3:
                data = http.get(f"{server.url}/api/v1/?action=inbox&limit=10&offset=0",
                                headers=headers, timeout=10).json()["data"]
                got[slot].extend(m["id"] for m in data["messages"])
                empty = empty + 1 if not data["messages"] else 0

    threads = [threading.Thread(target=poll, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert got[0] and got[1], "both pollers should have had a share"
    assert not set(got[0]) & set(got[1])
    assert len(got[0]) + len(got[1]) == len(sent)
    assert set(got[0]) | set(got[1]) == sent


def test_flooding_client_is_refused_within_its_first_minute(live_server):
    started = time.monotonic()
    refused_at = None
    for i in range(200):
        response = post(live_server, "session_flood", f"spam {i}")
        if response.status_code == 429:
            refused_at = time.monotonic() - started
            body = response.json()
            assert body["retry_after"] >= 1 and response.headers["Retry-After"]
            assert response.headers["Access-Control-Allow-Origin"] == "*"
            break
        assert response.status_code == 200
    assert refused_at is not None and refused_at < 60


def test_documented_clients_are_never_refused(live_server):
    """A shortened run of the real cadence, widget, plugin and dashboard
    sharing one address (the simulated hour is in the contract tests)."""
    post(live_server, "session_steady", "hello")
    admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
    api = {"Authorization": f"Bearer {API_KEY}"}
    statuses = []
    started = time.monotonic()
    next_poll = next_inbox = next_dash = started
    while time.monotonic() - started < 12:
        now = time.monotonic()
        if now >= next_poll:
            statuses.append(requests.get(
                f"{live_server.url}/api/v1/?action=responses&session_id=session_steady",
                timeout=10).status_code)
            next_poll += 2
        if now >= next_inbox:
            statuses.append(requests.get(f"{live_server.url}/api/v1/?action=inbox",
                                         headers=api, timeout=10).status_code)
            next_inbox += 5
        if now >= next_dash:
            statuses.append(requests.get(f"{live_server.url}/api/v1/?action=sessions",
                                         headers=admin, timeout=10).status_code)
            next_dash += 30
        time.sleep(0.05)
    assert len(statuses) >= 10 and set(statuses) == {200}


def test_serve_prints_where_everything_is(live_server):
    text = live_server.output.read_text()
    for needle in ("chat page:", "/admin", "/widget.js", "/api/v1/", "webchat-bridge keys"):
        assert needle in text
    # Pinned keys are not generated, so none are printed.
    assert API_KEY not in text and ADMIN_KEY not in text


def test_first_start_generates_and_shows_keys(live_server_factory):
    server = live_server_factory(env={"WEB_CHAT_API_KEY": "", "WEB_CHAT_ADMIN_KEY": ""})
    text = server.output.read_text()
    assert "Generated a new API key" in text and "Generated a new admin key" in text
    key = [line.split(": ", 1)[1].strip() for line in text.splitlines()
           if line.strip().startswith("api_key:")][0]
    response = requests.get(f"{server.url}/api/v1/?action=inbox",
                            headers={"Authorization": f"Bearer {key}"}, timeout=10)
    assert response.status_code == 200


def test_api_errors_from_the_real_server_are_json(live_server):
    for method, path in [("GET", "/api/v1/nope/deeper"), ("DELETE", "/api/v1/?action=inbox"),
                         ("GET", "/api/v1/?action=bogus")]:
        response = requests.request(method, live_server.url + path, timeout=10)
        assert response.headers["Content-Type"] == "application/json; charset=utf-8"
        assert response.json()["success"] is False
