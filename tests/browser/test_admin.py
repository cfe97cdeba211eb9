"""The admin dashboard in headless Chromium, against a real ``webchat-bridge
serve``: sign-in, figures, sessions, transcript, configuration, key rotation,
maintenance, escaping and the 30-second refresh."""

from __future__ import annotations

import re
import sqlite3
from datetime import datetime, timedelta, timezone

import requests
from playwright.sync_api import expect

from tests.conftest import ADMIN_KEY, API_KEY
from webchat_bridge import db as bridge_db
from webchat_bridge import timefmt
from webchat_bridge.db import settings_store

LAPTOP = {"width": 1366, "height": 850}
PHONE = {"width": 390, "height": 844}
STORAGE_NAME = "webchat-bridge.admin-key"
# Chromium reports every 4xx answer to fetch() on the console; a test that
# provokes a 401 on purpose expects exactly that line and nothing else.
EXPECTED_401 = "the server responded with a status of 401"
XSS_IMG = "<img src=x onerror=alert(1)>"
XSS_BOLD = "<b>bold</b>"


# -- talking to the bridge behind the page's back ------------------------------

class Bridge:
    def __init__(self, server):
        self.server = server
        self.base = server.url + "/api/v1/"

    def post_message(self, session_id: str, text: str) -> dict:
        r = requests.post(self.base, params={"action": "messages"}, timeout=5,
                          json={"session_id": session_id, "message": text})
        r.raise_for_status()
        return r.json()["data"]

    def claim(self, limit: int) -> list[dict]:
        r = requests.get(self.base, params={"action": "inbox", "limit": limit}, timeout=5,
                         headers={"Authorization": f"Bearer {API_KEY}"})
        r.raise_for_status()
        return r.json()["data"]["messages"]

    def respond(self, session_id: str, text: str, message_id: int | None = None,
                api_key: str = API_KEY) -> dict:
        body = {"session_id": session_id, "response": text}
        if message_id is not None:
            body["message_id"] = message_id
        r = requests.post(self.base, params={"action": "outbox"}, json=body, timeout=5,
                          headers={"Authorization": f"Bearer {api_key}"})
        r.raise_for_status()
        return r.json()["data"]

    def admin(self, action: str, key: str, method: str = "GET", **kwargs) -> requests.Response:
        return requests.request(method, self.base, params={"action": action}, timeout=5,
                                headers={"Authorization": f"Bearer {key}"}, **kwargs)

    def sql(self, query: str, *params):
        conn = sqlite3.connect(self.server.database, timeout=5)
        try:
            return conn.execute(query, params).fetchone()
        finally:
            conn.close()

    def counts(self) -> dict:
        return {
            "sessions": self.sql("SELECT COUNT(*) FROM web_chat_sessions")[0],
            "messages": self.sql("SELECT COUNT(*) FROM web_chat_messages")[0],
            "responses": self.sql("SELECT COUNT(*) FROM web_chat_responses")[0],
        }


def set_admin_key(server, key: str) -> None:
    """What ``webchat-bridge keys`` does: store the key in the settings table."""
    conn = bridge_db.connect(server.database)
    try:
        settings_store.put_many(conn, {"admin_key": key},
                                timefmt.sqlite_seconds(timefmt.utcnow()))
    finally:
        conn.close()


UNPINNED = {"WEB_CHAT_ADMIN_KEY": "", "WEB_CHAT_API_KEY": ""}
KNOWN_ADMIN_KEY = "known-admin-key-for-rotation-42"


# -- driving the page ----------------------------------------------------------

def sign_in(page, server, key: str = ADMIN_KEY, remember: bool = False) -> None:
    page.goto(server.url + "/admin")
    expect(page.locator("#signin")).to_be_visible()
    page.fill("#signin-key", key)
    if remember:
        page.check("#signin-remember")
    page.click("#signin-submit")
    expect(page.locator("#app")).to_be_visible()
    expect(page.locator("#signin")).to_be_hidden()


def open_view(page, name: str) -> None:
    page.click(f'a[data-nav="{name}"]')
    expect(page.locator(f"#view-{name}")).to_be_visible()


def stored_keys(page) -> dict:
    return page.evaluate(
        "name => ({session: sessionStorage.getItem(name), local: localStorage.getItem(name)})",
        STORAGE_NAME,
    )


def unexpected_errors(page) -> list[str]:
    return [e for e in page.errors if EXPECTED_401 not in e]


def setting(page, name: str):
    return page.locator(f'form[data-setting="{name}"]')


# -- sign-in ---------------------------------------------------------------------

def test_wrong_key_is_refused_and_sign_out_forgets_the_key(page, live_server, screenshot):
    page.set_viewport_size(LAPTOP)
    page.goto(live_server.url + "/admin")
    page.fill("#signin-key", "not-the-admin-key")
    page.click("#signin-submit")
    expect(page.locator("#signin-error")).to_have_text("That admin key was not accepted.")
    expect(page.locator("#signin")).to_be_visible()
    expect(page.locator("#app")).to_be_hidden()
    assert stored_keys(page) == {"session": None, "local": None}
    screenshot(page, "admin-signin-refused-laptop")

    page.fill("#signin-key", ADMIN_KEY)
    page.click("#signin-submit")
    expect(page.locator("#view-overview")).to_be_visible()
    # Without "remember me" the key lives in this tab only.
    assert stored_keys(page) == {"session": ADMIN_KEY, "local": None}
    page.reload()
    expect(page.locator("#view-overview")).to_be_visible()

    page.click("#signout")
    expect(page.locator("#signin")).to_be_visible()
    assert stored_keys(page) == {"session": None, "local": None}
    assert all(EXPECTED_401 in e for e in page.errors) and len(page.errors) == 1, page.errors


def test_remember_me_keeps_the_key_for_other_tabs(browser_context, page, live_server):
    sign_in(page, live_server, remember=True)
    assert stored_keys(page) == {"session": None, "local": ADMIN_KEY}
    other = browser_context.new_page()
    other.goto(live_server.url + "/admin")
    expect(other.locator("#view-overview")).to_be_visible()
    other.click("#signout")
    expect(other.locator("#signin")).to_be_visible()
    assert stored_keys(other) == {"session": None, "local": None}
    page.reload()
    expect(page.locator("#signin")).to_be_visible()
    assert page.errors == []


# -- overview --------------------------------------------------------------------

def test_overview_figures_equal_the_database(page, live_server, screenshot):
    bridge = Bridge(live_server)
    for n in range(3):
        for k in range(n + 2):
            bridge.post_message(f"session_overview{n}", f"question {k} of session {n}")
    claimed = bridge.claim(limit=5)
    for m in claimed[:4]:
        bridge.respond(m["session_id"], "answer to " + m["message"], m["id"])

    sign_in(page, live_server)
    expected = {
        "sessions": bridge.sql("SELECT COUNT(*) FROM web_chat_sessions")[0],
        "active_sessions": bridge.sql(
            "SELECT COUNT(*) FROM web_chat_sessions WHERE last_active > datetime('now', ?)",
            "-1800 seconds")[0],
        "messages": bridge.sql("SELECT COUNT(*) FROM web_chat_messages")[0],
        "unprocessed_messages": bridge.sql(
            "SELECT COUNT(*) FROM web_chat_messages WHERE processed = 0")[0],
        "responses": bridge.sql("SELECT COUNT(*) FROM web_chat_responses")[0],
    }
    assert expected == {"sessions": 3, "active_sessions": 3, "messages": 9,
                        "unprocessed_messages": 4, "responses": 4}
    for name, value in expected.items():
        expect(page.locator(f'[data-stat="{name}"]')).to_have_text(str(value))
    expect(page.locator('[data-stat="mean_response"]')).to_have_text(
        re.compile(r"^\d+(\.\d)? s$|^\d+ min( \d+ s)?$"))
    # A message counts as answered once any response in its session follows it.
    answered = bridge.sql(
        "SELECT COUNT(*) FROM web_chat_messages m WHERE EXISTS (SELECT 1 FROM web_chat_responses r"
        " WHERE r.session_id = m.session_id AND r.timestamp >= m.timestamp)")[0]
    expect(page.locator('[data-stat="mean_response_note"]')).to_have_text(
        f"{answered} answered in 24 h")

    bars = page.locator("#chart rect.chart-bar")
    expect(bars).to_have_count(24)
    counts = [int(c) for c in bars.evaluate_all("rs => rs.map(r => r.dataset.count)")]
    assert sum(counts) == expected["messages"]
    assert counts[-1] == expected["messages"]  # all were sent this hour
    heights = bars.evaluate_all("rs => rs.map(r => Number(r.getAttribute('height')))")
    assert heights[-1] > 0 and heights[:-1] == [0] * 23
    expect(page.locator("#chart-total")).to_contain_text("9 messages")

    page.set_viewport_size(LAPTOP)
    screenshot(page, "admin-overview-laptop")
    page.set_viewport_size(PHONE)
    expect(bars).to_have_count(24)
    # Redrawn for the narrower box: nothing sticks out sideways.
    expect(page.locator("#chart svg")).to_have_attribute("width", re.compile(r"^(2|3)\d\d$"))
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "admin-overview-phone")
    assert page.errors == []


# -- sessions and the transcript ---------------------------------------------------

def test_transcript_interleaves_visitor_and_agent_in_time_order(page, live_server, screenshot):
    bridge = Bridge(live_server)
    sid = "session_interleave"
    bridge.post_message("session_other", "another conversation")
    first = bridge.post_message(sid, "First question")
    bridge.claim(limit=10)
    bridge.respond(sid, "First answer", first["message_id"])
    bridge.post_message(sid, "Second question")
    third = bridge.post_message(sid, "Third question\nwith a second line")
    bridge.claim(limit=10)
    bridge.respond(sid, "Answer to both", third["message_id"])

    page.set_viewport_size(LAPTOP)
    sign_in(page, live_server)
    open_view(page, "sessions")
    row = page.locator(f'#sessions-body tr[data-session="{sid}"]')
    expect(row).to_be_visible()
    expect(row.locator('td[data-label="Messages"]')).to_have_text("3")
    expect(row.locator('td[data-label="Responses"]')).to_have_text("2")
    expect(page.locator("#sessions-body tr")).to_have_count(2)
    expect(page.locator("#sessions-range")).to_have_text("1–2 of 2 active sessions")
    screenshot(page, "admin-sessions-laptop")
    page.set_viewport_size(PHONE)
    expect(row).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "admin-sessions-phone")

    row.locator('td[data-label="UID"]').click()  # anywhere on the row opens it
    expect(page.locator("#view-transcript")).to_be_visible()
    expect(page.locator("#transcript-id")).to_have_text(sid)
    items = page.locator("#transcript li")
    expect(items).to_have_count(5)
    kinds = items.evaluate_all("ls => ls.map(l => l.dataset.kind)")
    texts = page.locator("#transcript .bubble-text").all_text_contents()
    assert kinds == ["visitor", "agent", "visitor", "visitor", "agent"]
    assert texts == ["First question", "First answer", "Second question",
                     "Third question\nwith a second line", "Answer to both"]
    stamps = items.locator("time").evaluate_all("ts => ts.map(t => t.getAttribute('datetime'))")
    assert stamps == sorted(stamps)
    # Visitor and agent look different: other side, other colour.
    visitor, agent = items.nth(0), items.nth(1)
    assert visitor.evaluate("e => getComputedStyle(e).backgroundColor") != \
        agent.evaluate("e => getComputedStyle(e).backgroundColor")
    assert visitor.bounding_box()["x"] < agent.bounding_box()["x"]
    screenshot(page, "admin-transcript-phone")
    page.set_viewport_size(LAPTOP)
    screenshot(page, "admin-transcript-laptop")

    page.click(".back")
    expect(page.locator("#view-sessions")).to_be_visible()
    assert page.errors == []


def test_session_times_are_read_as_utc_and_shown_in_local_time(browser, live_server):
    bridge = Bridge(live_server)
    bridge.post_message("session_clock", "what time is it?")
    created = bridge.sql("SELECT created_at FROM web_chat_sessions WHERE id = 'session_clock'")[0]
    utc = datetime.strptime(created, "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc)
    local = utc.astimezone(timezone(timedelta(hours=5, minutes=30)))

    context = browser.new_context(timezone_id="Asia/Kolkata", locale="en-US")
    try:
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
        sign_in(page, live_server)
        open_view(page, "sessions")
        cell = page.locator('tr[data-session="session_clock"] td[data-label="Created"] time')
        expect(cell).to_have_attribute("datetime", utc.strftime("%Y-%m-%dT%H:%M:%SZ"))
        expect(cell).to_contain_text(local.strftime("%I:%M"))
        assert utc.strftime("%I:%M") not in cell.inner_text()
        expect(cell).to_have_attribute("title", re.compile(local.strftime("%I:%M:%S")))
        assert errors == []
    finally:
        context.close()


def test_sessions_search_paging_and_scope(page, live_server):
    bridge = Bridge(live_server)
    for n in range(12):
        bridge.post_message(f"session_page{n:02d}", "hello")
    bridge.post_message("other_visitor", "hello")
    # One idle session, outside "active".
    conn = sqlite3.connect(live_server.database)
    with conn:
        conn.execute("UPDATE web_chat_sessions SET last_active = datetime('now', '-2 hours')"
                     " WHERE id = 'other_visitor'")
    conn.close()

    sign_in(page, live_server)
    open_view(page, "sessions")
    page.select_option("#sessions-limit", "10")
    expect(page.locator("#sessions-range")).to_have_text("1–10 of 12 active sessions")
    expect(page.locator("#sessions-body tr")).to_have_count(10)
    page.click("#sessions-next")
    expect(page.locator("#sessions-range")).to_have_text("11–12 of 12 active sessions")
    expect(page.locator("#sessions-next")).to_be_disabled()
    page.click('label:has(input[value="all"])')
    expect(page.locator("#sessions-range")).to_have_text("1–10 of 13 sessions")

    page.fill("#sessions-search", "other_")
    expect(page.locator("#sessions-range")).to_have_text("1–1 of 1 session")
    expect(page.locator("#sessions-body tr")).to_have_attribute("data-session", "other_visitor")
    uid = bridge.sql("SELECT uid FROM web_chat_sessions WHERE id = 'session_page03'")[0]
    page.fill("#sessions-search", uid[:10])
    expect(page.locator("#sessions-body tr")).to_have_attribute("data-session", "session_page03")
    assert page.errors == []


# -- configuration ---------------------------------------------------------------

def test_session_timeout_persists_and_refusals_show_the_api_error(page, live_server, screenshot):
    sign_in(page, live_server)
    open_view(page, "config")
    form = setting(page, "session_timeout")
    box = form.locator("input")
    expect(box).to_have_value("1800")
    expect(form.locator('[data-act="save"]')).to_be_disabled()

    box.fill("5")
    form.locator('[data-act="save"]').click()
    expect(form.locator(".setting-status")).to_have_text(
        "Invalid value for session_timeout: must be between 60 and 2592000")

    box.fill("900")
    expect(form.locator("[data-hint]")).to_have_text("= 15 min")
    form.locator('[data-act="save"]').click()
    expect(form.locator(".setting-status")).to_have_text("Saved.")
    stored = Bridge(live_server).sql(
        "SELECT value FROM web_chat_settings WHERE name = 'session_timeout'")
    assert stored == ("900",)

    rate = setting(page, "rate_limits_enabled")
    rate.locator("input").uncheck()
    rate.locator('[data-act="save"]').click()
    expect(rate.locator(".setting-status")).to_have_text("Saved.")

    page.reload()
    expect(page.locator("#view-config")).to_be_visible()
    expect(setting(page, "session_timeout").locator("input")).to_have_value("900")
    expect(setting(page, "rate_limits_enabled").locator("input")).not_to_be_checked()

    # The keys are pinned by this server's environment: read-only, and saying why.
    for name, env in [("api_key", "WEB_CHAT_API_KEY"), ("admin_key", "WEB_CHAT_ADMIN_KEY")]:
        key_form = setting(page, name)
        expect(key_form.locator("input")).to_be_disabled()
        expect(key_form.locator(".pinned-note")).to_be_visible()
        expect(key_form.locator(".pinned-note")).to_contain_text(env)
        expect(key_form.locator('[data-act="generate"]')).to_be_hidden()
    admin_box = setting(page, "admin_key").locator("input")
    expect(admin_box).to_have_attribute("type", "password")
    setting(page, "admin_key").locator('[data-act="reveal"]').click()
    expect(admin_box).to_have_attribute("type", "text")
    expect(admin_box).to_have_value(ADMIN_KEY)
    page.set_viewport_size(LAPTOP)
    screenshot(page, "admin-config-laptop")
    # Only the refused value's 400, which Chromium reports on the console.
    assert page.errors == ["Failed to load resource: the server responded with a status of 400"
                           " (BAD REQUEST)"]


def test_rotating_the_admin_key_from_the_page(page, live_server_factory):
    server = live_server_factory(env=UNPINNED)
    set_admin_key(server, KNOWN_ADMIN_KEY)
    bridge = Bridge(server)
    sign_in(page, server, key=KNOWN_ADMIN_KEY)
    open_view(page, "config")
    form = setting(page, "admin_key")
    box = form.locator("input")
    expect(box).to_be_enabled()
    expect(box).to_have_value(KNOWN_ADMIN_KEY)
    expect(form.locator(".pinned-note")).to_be_hidden()

    form.locator('[data-act="generate"]').click()
    expect(box).to_have_attribute("type", "text")
    new_key = box.input_value()
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", new_key), new_key
    form.locator('[data-act="generate"]').click()
    assert box.input_value() != new_key  # each one fresh
    new_key = box.input_value()
    form.locator('[data-act="save"]').click()
    expect(form.locator(".setting-status")).to_have_text("Saved. The new key is in force.")
    expect(box).to_have_attribute("type", "password")

    assert bridge.admin("stats", KNOWN_ADMIN_KEY).status_code == 401
    assert bridge.admin("stats", new_key).status_code == 200
    assert stored_keys(page) == {"session": new_key, "local": None}

    # Still signed in and working, with the new key.
    open_view(page, "sessions")
    expect(page.locator("#sessions-range")).to_have_text("0 sessions")
    page.reload()
    expect(page.locator("#view-sessions")).to_be_visible()
    expect(page.locator("#sessions-range")).to_have_text("0 sessions")
    expect(page.locator("#signin")).to_be_hidden()

    # The API key can be replaced the same way, and the plugin's old key stops working.
    old_api = bridge.sql("SELECT value FROM web_chat_settings WHERE name = 'api_key'")[0]
    open_view(page, "config")
    api_form = setting(page, "api_key")
    expect(api_form.locator("input")).to_have_value(old_api)
    api_form.locator('[data-act="generate"]').click()
    new_api = api_form.locator("input").input_value()
    api_form.locator('[data-act="save"]').click()
    expect(api_form.locator(".setting-status")).to_have_text("Saved. The new key is in force.")
    inbox = requests.get(bridge.base, params={"action": "inbox"}, timeout=5,
                         headers={"Authorization": f"Bearer {old_api}"})
    assert inbox.status_code == 401
    inbox = requests.get(bridge.base, params={"action": "inbox"}, timeout=5,
                         headers={"Authorization": f"Bearer {new_api}"})
    assert inbox.status_code == 200
    assert page.errors == []


def test_a_401_mid_session_returns_to_sign_in(page, live_server_factory):
    server = live_server_factory(env=UNPINNED)
    set_admin_key(server, KNOWN_ADMIN_KEY)
    bridge = Bridge(server)
    bridge.post_message("session_before", "hello")
    sign_in(page, server, key=KNOWN_ADMIN_KEY)
    open_view(page, "sessions")
    expect(page.locator('tr[data-session="session_before"]')).to_be_visible()

    changed = bridge.admin("config", KNOWN_ADMIN_KEY, method="POST",
                           json={"admin_key": "rotated-behind-the-page-1"})
    assert changed.status_code == 200
    page.click("#sessions-refresh")
    expect(page.locator("#signin")).to_be_visible()
    expect(page.locator("#signin-error")).to_contain_text("no longer accepted")
    expect(page.locator("#app")).to_be_hidden()
    assert stored_keys(page) == {"session": None, "local": None}
    # What the old key showed is gone from the page.
    expect(page.locator("#sessions-body tr")).to_have_count(0)
    assert unexpected_errors(page) == []

    sign_in(page, server, key="rotated-behind-the-page-1")
    expect(page.locator("#view-overview")).to_be_visible()


# -- maintenance -----------------------------------------------------------------

def test_clear_all_data_needs_the_typed_confirmation(page, live_server, screenshot):
    bridge = Bridge(live_server)
    for n in range(3):
        bridge.post_message(f"session_clear{n}", "hello")
    bridge.claim(limit=2)
    bridge.respond("session_clear0", "hi")
    before = bridge.counts()
    assert before == {"sessions": 3, "messages": 3, "responses": 1}

    sign_in(page, live_server)
    open_view(page, "maintenance")
    button = page.locator("#do-clear")
    expect(button).to_be_disabled()
    for almost in ["delete", "DELET", "DELETE ", " DELETE"]:
        page.fill("#clear-confirm", almost)
        expect(button).to_be_disabled()
    page.locator("#clear-confirm").press("Enter")  # submitting the form does not bypass it
    assert bridge.counts() == before

    page.fill("#clear-confirm", "DELETE")
    expect(button).to_be_enabled()
    page.set_viewport_size(PHONE)
    screenshot(page, "admin-maintenance-phone")
    button.click()
    expect(page.locator("#clear-result")).to_have_text(
        "All data cleared. Remaining: 0 sessions, 0 messages, 0 responses.")
    assert bridge.counts() == {"sessions": 0, "messages": 0, "responses": 0}
    expect(page.locator("#clear-confirm")).to_have_value("")
    expect(button).to_be_disabled()

    open_view(page, "overview")
    expect(page.locator('[data-stat="sessions"]')).to_have_text("0")
    expect(page.locator("#chart .chart-empty")).to_have_text("No messages in the last 24 hours")
    assert page.errors == []


def test_cleanup_and_log_cleanup_show_their_figures(page, live_server):
    bridge = Bridge(live_server)
    bridge.post_message("session_idle", "old question")
    bridge.claim(limit=1)
    bridge.respond("session_idle", "old answer")
    bridge.post_message("session_fresh", "new question")
    conn = sqlite3.connect(live_server.database)
    with conn:
        conn.execute("UPDATE web_chat_sessions SET last_active = datetime('now', '-3 hours')"
                     " WHERE id = 'session_idle'")
    conn.close()

    sign_in(page, live_server)
    open_view(page, "maintenance")
    page.click("#do-cleanup")
    expect(page.locator("#cleanup-result")).to_have_text("Removed 1 inactive session.")
    assert bridge.sql("SELECT id FROM web_chat_sessions") == ("session_fresh",)
    page.click("#do-cleanup")
    expect(page.locator("#cleanup-result")).to_have_text("Removed 0 inactive sessions.")

    page.click("#do-cleanup-logs")
    figures = page.locator("#cleanup-logs-result")
    expect(figures).to_be_visible()
    expect(page.locator("#cleanup-logs-status")).to_have_text("Log cleanup completed successfully")
    expect(figures.locator('[data-figure="retention_days"] dd')).to_have_text(re.compile(r"^\d+ days?$"))
    expect(figures.locator('[data-figure="backup_files_count"] dd')).to_have_text(re.compile(r"^\d+$"))
    expect(figures.locator('[data-figure="current_log_size_mb"] dd')).to_have_text(
        re.compile(r"^\d+(\.\d+)? MB$"))
    assert page.errors == []


# -- escaping --------------------------------------------------------------------

def test_html_in_data_is_shown_as_text(page, live_server):
    bridge = Bridge(live_server)
    sid = "session_xss"
    bridge.post_message(sid, XSS_IMG)
    bridge.post_message(sid, XSS_BOLD)
    bridge.claim(limit=5)
    bridge.respond(sid, XSS_BOLD)
    bridge.respond(sid, XSS_IMG)
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))

    sign_in(page, live_server)
    open_view(page, "sessions")
    page.click(f'tr[data-session="{sid}"] a')
    texts = page.locator("#transcript .bubble-text")
    expect(texts).to_have_count(4)
    assert texts.all_text_contents() == [XSS_IMG, XSS_BOLD, XSS_BOLD, XSS_IMG]
    assert page.locator("#transcript img, #transcript b").count() == 0

    open_view(page, "sessions")
    search_term = "<b>x</b><img src=y onerror=alert(2)>"
    page.fill("#sessions-search", search_term)
    expect(page.locator("#sessions-empty")).to_have_text(
        f"No active sessions match “{search_term}”.")
    assert page.locator("#sessions-empty b, #sessions-empty img").count() == 0
    assert page.locator("main img").count() == 0
    assert dialogs == []
    assert page.errors == []


# -- the 30-second refresh -------------------------------------------------------

def test_sessions_refresh_every_30s_single_flight_and_pause_when_hidden(page, live_server):
    bridge = Bridge(live_server)
    bridge.post_message("session_first", "hello")
    page.clock.install()
    listed, in_flight, peak = [], [0], [0]

    def started(request):
        if "action=sessions" in request.url:
            listed.append(request.url)
            in_flight[0] += 1
            peak[0] = max(peak[0], in_flight[0])

    def ended(request):
        if "action=sessions" in request.url:
            in_flight[0] -= 1

    page.on("request", started)
    page.on("requestfinished", ended)
    page.on("requestfailed", ended)

    sign_in(page, live_server)
    with page.expect_response(lambda r: "action=sessions" in r.url):
        open_view(page, "sessions")
    expect(page.locator("#sessions-body tr")).to_have_count(1)
    assert len(listed) == 1

    bridge.post_message("session_second", "hello")
    page.clock.fast_forward(29_000)
    page.wait_for_timeout(200)  # real time for a request that must not come
    assert len(listed) == 1
    with page.expect_response(lambda r: "action=sessions" in r.url):
        page.clock.fast_forward(1_500)
    expect(page.locator('tr[data-session="session_second"]')).to_be_visible()
    for _ in range(3):
        with page.expect_response(lambda r: "action=sessions" in r.url):
            page.clock.fast_forward(30_000)
    assert len(listed) == 5

    # Hidden: no requests at all, however long.
    page.evaluate("""() => {
        Object.defineProperty(document, 'hidden', {configurable: true, get: () => true});
        document.dispatchEvent(new Event('visibilitychange'));
    }""")
    page.clock.fast_forward(10 * 60_000)
    page.wait_for_timeout(200)
    assert len(listed) == 5

    # Visible again: one catch-up request at once, then the usual rhythm.
    bridge.post_message("session_third", "hello")
    with page.expect_response(lambda r: "action=sessions" in r.url):
        page.evaluate("""() => {
            Object.defineProperty(document, 'hidden', {configurable: true, get: () => false});
            document.dispatchEvent(new Event('visibilitychange'));
        }""")
    expect(page.locator('tr[data-session="session_third"]')).to_be_visible()
    assert len(listed) == 6

    # Clicks while a request is in flight queue one follow-up, never a second
    # request at the same time.
    page.evaluate("() => { for (let i = 0; i < 5; i++) document.getElementById('sessions-refresh').click(); }")
    expect(page.locator("#sessions-body tr")).to_have_count(3)
    page.wait_for_timeout(300)
    assert peak[0] == 1
    assert len(listed) <= 8
    assert page.errors == []


def test_a_rate_limit_or_a_vanished_session_is_reported_not_fatal(page, live_server):
    bridge = Bridge(live_server)
    bridge.post_message("session_limited", "hello")
    r = bridge.admin("config", ADMIN_KEY, method="POST", json={"rate_limit_sessions": 2})
    assert r.status_code == 200
    sign_in(page, live_server)
    open_view(page, "sessions")
    expect(page.locator('tr[data-session="session_limited"]')).to_be_visible()
    with page.expect_response(lambda r: "action=sessions" in r.url):
        page.click("#sessions-refresh")
    with page.expect_response(lambda r: "action=sessions" in r.url and r.status == 429):
        page.click("#sessions-refresh")
    expect(page.locator("#notice")).to_contain_text("rate limiting this dashboard")
    expect(page.locator('tr[data-session="session_limited"]')).to_be_visible()
    expect(page.locator("#app")).to_be_visible()

    page.goto(live_server.url + "/admin#session/session_gone")
    expect(page.locator("#transcript-empty")).to_have_text("This session no longer exists.")
    expect(page.locator("#transcript-id")).to_have_text("session_gone")
    assert page.errors == [
        "Failed to load resource: the server responded with a status of 429 (TOO MANY REQUESTS)",
        "Failed to load resource: the server responded with a status of 404 (NOT FOUND)",
    ]
