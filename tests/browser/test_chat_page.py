"""The visitor chat page in headless Chromium, against a real server with an
echo agent answering."""

from __future__ import annotations

import re
import time

import pytest
import requests
from playwright.sync_api import expect

from tests.conftest import API_KEY, LiveServer
from tests.echo_thread import AgentThread

INPUT = "#chat-input"
AGENT_TEXT = ".msg-agent .msg-text"
VISITOR_TEXT = ".msg-visitor .msg-text"
SESSION_FORM = re.compile(r"^session_[0-9a-z]+_[0-9a-z]{9}$")


@pytest.fixture
def agent(live_server):
    running = AgentThread(live_server.url)
    yield running
    running.stop()


def stored(page) -> dict:
    return page.evaluate("""() => {
        const key = Object.keys(localStorage).find(k => k.endsWith(':chat'));
        return JSON.parse(localStorage.getItem(key));
    }""")


def send(page, text: str):
    page.locator(INPUT).fill(text)
    page.locator(INPUT).press("Enter")


def test_exchange_history_and_new_conversation(page, live_server, agent):
    response = page.goto(live_server.url + "/chat")
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    expect(page.locator(INPUT)).to_be_focused()
    expect(page.locator("#chat-status")).to_have_attribute("data-status", "online")

    # Shift+Enter is a newline, Enter sends.
    page.locator(INPUT).type("line one")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("line two")
    height_two_lines = page.locator(INPUT).bounding_box()["height"]
    page.keyboard.press("Enter")
    expect(page.locator(VISITOR_TEXT)).to_have_text(["line one\nline two"])
    expect(page.locator(AGENT_TEXT)).to_have_text(["Echo: line one\nline two"], timeout=10_000)
    expect(page.locator(INPUT)).to_have_value("")
    assert page.locator(INPUT).bounding_box()["height"] < height_two_lines

    # The input grows with its text, up to a cap.
    page.locator(INPUT).fill("\n".join(f"row {n}" for n in range(30)))
    page.locator(INPUT).dispatch_event("input")
    grown = page.locator(INPUT).bounding_box()["height"]
    assert height_two_lines < grown <= 170
    page.locator(INPUT).fill("")

    hostile = "<img src=x onerror=alert(1)>"
    send(page, hostile)
    expect(page.locator(AGENT_TEXT)).to_have_count(2, timeout=10_000)
    assert page.locator(AGENT_TEXT).nth(1).text_content() == "Echo: " + hostile
    assert page.evaluate("document.querySelectorAll('#chat-log img').length") == 0

    state = stored(page)
    assert SESSION_FORM.match(state["sessionId"])
    uid = state["uid"]
    assert re.fullmatch(r"[0-9a-f]{16}", uid)
    times = page.locator(".msg time").evaluate_all("els => els.map(e => e.getAttribute('datetime'))")
    assert all(t.endswith("Z") for t in times)

    # History on reload: same session, same messages, nothing twice.
    page.reload()
    expect(page.locator(AGENT_TEXT)).to_have_count(2)
    expect(page.locator("#chat-status")).to_have_attribute("data-status", "online")
    page.wait_for_timeout(2500)  # a poll from since_id 0 merges without duplicates
    expect(page.locator(AGENT_TEXT)).to_have_count(2)
    expect(page.locator(VISITOR_TEXT)).to_have_count(2)
    assert stored(page)["sessionId"] == state["sessionId"]

    # A new conversation: a new session, the same visitor.
    page.get_by_role("button", name="New conversation").click()
    expect(page.locator(".msg")).to_have_count(0)
    send(page, "second conversation")
    expect(page.locator(AGENT_TEXT)).to_have_text(["Echo: second conversation"], timeout=10_000)
    fresh = stored(page)
    assert fresh["sessionId"] != state["sessionId"] and fresh["uid"] == uid
    rows = requests.get(f"{live_server.url}/api/v1/?action=sessions&active=all", timeout=5,
                        headers={"Authorization": "Bearer test-admin-key-0123456789"}).json()
    uids = {row["id"]: row["uid"] for row in rows["data"]["sessions"]}
    assert uids == {state["sessionId"]: uid, fresh["sessionId"]: uid}
    assert page.errors == []


def test_agent_answer_is_text_and_typing_hint_clears(page, live_server):
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(live_server.url + "/")
    send(page, "hello")
    expect(page.locator("#chat-typing")).to_be_visible()
    expect(page.locator(".msg-visitor:not(.msg-sending)")).to_have_count(1)
    answer = "<script>alert(1)</script>\n<b>not bold</b>"
    reply = requests.post(f"{live_server.url}/api/v1/?action=outbox", timeout=5,
                          headers={"Authorization": f"Bearer {API_KEY}"},
                          json={"session_id": stored(page)["sessionId"], "response": answer})
    assert reply.status_code == 200
    expect(page.locator(AGENT_TEXT)).to_have_count(1, timeout=10_000)
    assert page.locator(AGENT_TEXT).text_content() == answer
    expect(page.locator("#chat-typing")).to_be_hidden()
    assert page.evaluate("document.querySelectorAll('#chat-log b, #chat-log script').length") == 0
    assert dialogs == []
    assert page.errors == []


def test_failed_send_is_kept_and_retried_after_restart(page, live_server_factory):
    server = live_server_factory()
    agent = AgentThread(server.url)
    restarted = None
    try:
        page.goto(server.url + "/chat")
        send(page, "before the outage")
        expect(page.locator(AGENT_TEXT)).to_have_text(["Echo: before the outage"], timeout=10_000)

        server.stop()
        send(page, "during the outage")
        failed = page.locator(".msg-failed")
        expect(failed).to_have_count(1, timeout=10_000)
        expect(failed.locator(".msg-text")).to_have_text("during the outage")
        expect(failed.get_by_role("button", name="Retry sending this message")).to_be_visible()
        expect(page.locator("#chat-status")).to_have_attribute("data-status", "offline", timeout=10_000)
        # Typed but not sent: kept as a draft, in the page and in storage.
        page.locator(INPUT).type("a draft")
        page.wait_for_timeout(400)
        assert stored(page)["draft"] == "a draft"
        assert [i["status"] for i in stored(page)["items"]][-1] == "failed"

        restarted = LiveServer(server.workdir, port=server.port).start()
        # The status recovers by itself with the next poll.
        expect(page.locator("#chat-status")).to_have_attribute("data-status", "online", timeout=20_000)
        failed.get_by_role("button", name="Retry sending this message").click()
        expect(page.locator(".msg-failed")).to_have_count(0)
        expect(page.locator(AGENT_TEXT)).to_have_text(
            ["Echo: before the outage", "Echo: during the outage"], timeout=10_000)
        expect(page.locator(INPUT)).to_have_value("a draft")
        # Console errors here are the refused requests of the outage, nothing else.
        assert all("ERR_CONNECTION_REFUSED" in e or "Failed to load resource" in e
                   for e in page.errors), page.errors
    finally:
        agent.stop()
        if restarted:
            restarted.stop()


@pytest.mark.parametrize("size", [(1280, 800), (390, 844)], ids=["desktop", "phone"])
def test_screenshots(page, live_server, agent, screenshot, size):
    width, height = size
    page.set_viewport_size({"width": width, "height": height})
    page.goto(live_server.url + "/chat")
    send(page, "Hi! Can I change the delivery address of my order?")
    expect(page.locator(AGENT_TEXT)).to_have_count(1, timeout=10_000)
    send(page, "It is order 10423.\nThanks!")
    expect(page.locator(AGENT_TEXT)).to_have_count(2, timeout=10_000)
    page.locator(INPUT).fill("Great, ")
    page.wait_for_timeout(300)
    name = "chat-page-desktop" if width > 500 else "chat-page-phone"
    assert screenshot(page, name).exists()
    overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    assert overflow is False
    assert page.errors == []


def test_rate_limited_poll_backs_off_for_retry_after_then_recovers(page, live_server):
    polls = []
    refused = {"done": False}

    def answer(route):
        polls.append(time.monotonic())
        if not refused["done"] and len(polls) >= 2:
            refused["done"] = True
            route.fulfill(status=429, headers={
                "Retry-After": "3", "Access-Control-Allow-Origin": "*",
                "Content-Type": "application/json; charset=utf-8",
            }, body='{"success":false,"error":"Rate limit exceeded","code":429,"retry_after":3}')
            return
        route.continue_()

    page.route(lambda url: "action=responses" in url, answer)
    page.goto(live_server.url + "/chat")
    expect(page.locator("#chat-status")).to_have_attribute("data-status", "limited", timeout=10_000)
    page.locator(INPUT).type("typed while limited")
    expect(page.locator("#chat-status")).to_have_attribute("data-status", "online", timeout=10_000)
    index = 1  # the refused poll is the second one
    assert polls[index + 1] - polls[index] >= 2.9
    expect(page.locator(INPUT)).to_have_value("typed while limited")
    assert all("429" in e for e in page.errors), page.errors
