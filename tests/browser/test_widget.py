"""The embeddable widget in headless Chromium, embedded in pages served from
another origin than the bridge, with an echo agent answering."""

from __future__ import annotations

import functools
import http.server
import threading
import time

import pytest
import requests
from playwright.sync_api import expect

from tests.conftest import API_KEY, free_port
from tests.echo_thread import AgentThread

HOST = "#webchat-bridge-widget"
LAUNCHER = f"{HOST} .wcb-launcher"
PANEL = f"{HOST} .wcb-panel"
INPUT = f"{HOST} .wcb-input"
AGENT_TEXT = f"{HOST} .msg-agent .msg-text"
VISITOR_TEXT = f"{HOST} .msg-visitor .msg-text"
BADGE = f"{HOST} .wcb-badge"


class HostSite:
    """A static site on its own loopback port: a different origin from the bridge."""

    def __init__(self, root):
        self.root = root
        handler = functools.partial(_QuietHandler, directory=str(root))
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def page(self, name: str, body: str, head: str = "") -> str:
        (self.root / name).write_text(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>Host page</title><link rel=\"icon\" href=\"data:,\">{head}</head><body>{body}</body></html>",
            encoding="utf-8",
        )
        return f"{self.url}/{name}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def bridge(live_server):
    return live_server


@pytest.fixture
def agent(bridge):
    running = AgentThread(bridge.url)
    yield running
    running.stop()


@pytest.fixture
def site(tmp_path):
    root = tmp_path / "site"
    root.mkdir()
    served = HostSite(root)
    yield served
    served.close()


def embed(bridge, **data) -> str:
    attributes = " ".join(f'data-{name.replace("_", "-")}="{value}"' for name, value in data.items())
    return f'<script src="{bridge.url}/widget.js" async {attributes}></script>'


def open_and_send(page, text: str):
    page.locator(LAUNCHER).click()
    expect(page.locator(PANEL)).to_be_visible()
    page.locator(INPUT).fill(text)
    page.locator(INPUT).press("Enter")


def session_of(page) -> str:
    return page.evaluate("SanctumChat.getState().sessionId")


# -- the exchange ---------------------------------------------------------------

def test_exchange_history_and_unread_badge(page, bridge, agent, site):
    url = site.page("index.html", "<h1>Shop</h1><p>Welcome.</p>" +
                    embed(bridge, title="Support", position="bottom-right", theme="auto",
                          primary_color="#2563eb"))
    page.goto(url)
    expect(page.locator(LAUNCHER)).to_be_visible()
    open_and_send(page, "Hello bridge")
    expect(page.locator(VISITOR_TEXT)).to_have_text(["Hello bridge"])
    expect(page.locator(AGENT_TEXT)).to_have_text(["Echo: Hello bridge"], timeout=10_000)
    assert page.locator(f"{HOST} .wcb-title").text_content() == "Support"
    expect(page.locator(f"{HOST} .wcb-status")).to_have_attribute("data-status", "online")
    first_session = session_of(page)

    page.reload()
    expect(page.locator(LAUNCHER)).to_be_visible()
    assert session_of(page) == first_session
    page.locator(LAUNCHER).click()
    expect(page.locator(VISITOR_TEXT)).to_have_text(["Hello bridge"])
    expect(page.locator(AGENT_TEXT)).to_have_text(["Echo: Hello bridge"])

    page.locator(LAUNCHER).click()  # close
    expect(page.locator(PANEL)).to_be_hidden()
    expect(page.locator(BADGE)).to_be_hidden()
    page.evaluate("SanctumChat.sendMessage('Are you there?')")
    expect(page.locator(BADGE)).to_be_visible(timeout=10_000)
    expect(page.locator(BADGE)).to_have_text("1")
    assert "1 unread" in page.locator(LAUNCHER).get_attribute("aria-label")
    page.locator(LAUNCHER).click()
    expect(page.locator(BADGE)).to_be_hidden()
    expect(page.locator(AGENT_TEXT)).to_have_text(["Echo: Hello bridge", "Echo: Are you there?"])
    state = page.evaluate("SanctumChat.getState()")
    assert state["isOpen"] is True and state["unread"] == 0
    assert len(state["uid"]) == 16
    assert page.errors == []


def test_empty_panel_has_a_hint_until_the_first_message(page, bridge, agent, site, screenshot):
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(site.page("empty.html", "<p>Host</p>" + embed(bridge)))
    page.locator(LAUNCHER).click()
    hint = page.locator(f"{HOST} .wcb-empty")
    expect(hint).to_be_visible()
    expect(hint).to_contain_text("How can we help?")
    assert page.locator(f"{HOST} .msg").count() == 0
    page.wait_for_timeout(300)
    screenshot(page, "widget-empty")
    page.locator(INPUT).fill("Hi")
    page.locator(INPUT).press("Enter")
    expect(page.locator(VISITOR_TEXT)).to_have_text(["Hi"])
    expect(hint).to_be_hidden()
    expect(page.locator(AGENT_TEXT)).to_have_text(["Echo: Hi"], timeout=10_000)
    page.locator(f"{HOST} .wcb-new").click()  # a new conversation is empty again
    expect(page.locator(f"{HOST} .msg")).to_have_count(0)
    expect(hint).to_be_visible()
    assert page.errors == []


def test_greeting_replaces_the_hint(page, bridge, site):
    page.goto(site.page("greet.html", "<p>Host</p>" + embed(bridge, greeting="Welcome aboard")))
    page.locator(LAUNCHER).click()
    expect(page.locator(AGENT_TEXT)).to_have_text(["Welcome aboard"])
    expect(page.locator(f"{HOST} .wcb-empty")).to_be_hidden()
    assert page.errors == []


def test_text_is_never_markup(page, bridge, site):
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    url = site.page("xss.html", "<p>Host</p>" + embed(bridge))
    page.goto(url)
    hostile = "<img src=x onerror=alert(1)>"
    open_and_send(page, hostile)
    expect(page.locator(VISITOR_TEXT)).to_have_text([hostile])
    # Shown at once, but stored only when its POST returns: the session must
    # exist before the agent can answer it.
    expect(page.locator(f"{HOST} .msg-visitor:not(.msg-sending)")).to_have_count(1)
    answer = "<script>alert(2)</script>\n<b>bold</b><img src=y onerror=alert(3)>"
    sent = requests.post(f"{bridge.url}/api/v1/?action=outbox", timeout=5,
                         headers={"Authorization": f"Bearer {API_KEY}"},
                         json={"session_id": session_of(page), "response": answer})
    assert sent.status_code == 200
    expect(page.locator(AGENT_TEXT)).to_have_count(1, timeout=10_000)
    assert page.locator(AGENT_TEXT).text_content() == answer
    counts = page.evaluate("""() => {
        const root = document.querySelector('#webchat-bridge-widget').shadowRoot;
        return {
            shadow: root.querySelectorAll('img, script, b').length,
            document: document.querySelectorAll('img, b').length,
            scripts: document.scripts.length,
        };
    }""")
    assert counts == {"shadow": 0, "document": 0, "scripts": 1}
    # The line break is kept by CSS, not by markup.
    white_space = page.locator(f"{HOST} .msg-agent .msg-bubble").evaluate(
        "el => getComputedStyle(el).whiteSpace")
    assert white_space == "pre-wrap"
    assert dialogs == []
    assert page.errors == []


# -- living beside the host page ---------------------------------------------------

HOSTILE_CSS = """<style>
* { all: unset; }
html { font-size: 48px; }
body { display: block; font-size: 60px; line-height: 3; }
#banner { display: block; }
</style>"""


def test_host_css_and_widget_do_not_meet(page, bridge, site):
    page.set_viewport_size({"width": 1280, "height": 800})
    clicks = "<button id=\"under\" style=\"position:fixed; right:60px; bottom:300px; " \
             "width:120px; height:40px; display:block; background:#eee\">Beneath</button>"
    url = site.page("css.html",
                    "<div id=\"banner\">Host banner</div><p id=\"para\">Paragraph text</p>" + clicks,
                    head=HOSTILE_CSS)
    page.goto(url)
    page.evaluate("""() => {
        window.underClicks = 0;
        document.getElementById('under').addEventListener('click', () => window.underClicks++);
    }""")
    layout = "() => ['banner', 'para', 'under'].map(id => " \
             "JSON.stringify(document.getElementById(id).getBoundingClientRect()))"
    before = page.evaluate(layout)
    page.evaluate(f"""() => {{
        const s = document.createElement('script');
        s.src = '{bridge.url}/widget.js';
        document.body.appendChild(s);
    }}""")
    expect(page.locator(LAUNCHER)).to_be_visible()
    assert page.evaluate(layout) == before

    box = page.locator(LAUNCHER).bounding_box()
    assert 56 <= box["width"] <= 64 and 56 <= box["height"] <= 64
    assert 1280 - 30 <= box["x"] + box["width"] <= 1280 - 10   # bottom-right corner
    host = page.evaluate("""() => {
        const r = document.getElementById('webchat-bridge-widget').getBoundingClientRect();
        return [r.width, r.height];
    }""")
    assert host == [0, 0]

    # Closed, the panel's area lets clicks through to the page.
    target = page.locator("#under").bounding_box()
    page.mouse.click(target["x"] + target["width"] / 2, target["y"] + target["height"] / 2)
    assert page.evaluate("window.underClicks") == 1

    page.locator(LAUNCHER).click()
    panel = page.locator(PANEL).bounding_box()
    assert 360 <= panel["width"] <= 380 and 400 <= panel["height"] <= 600
    font = page.locator(INPUT).evaluate("el => getComputedStyle(el).fontSize")
    assert font == "14px"
    # Open, the panel is on top of the button.
    page.mouse.click(target["x"] + target["width"] / 2, target["y"] + target["height"] / 2)
    assert page.evaluate("window.underClicks") == 1
    assert page.evaluate(layout) == before
    assert page.errors == []


def test_late_tag_and_double_load_make_one_widget_and_one_loop(page, bridge, agent, site):
    url = site.page("late.html", "<p>Loaded first, widget later.</p>" + embed(bridge) + embed(bridge))
    polls, overlaps, in_flight = [], [], set()

    def on_request(request):
        if "action=responses" in request.url:
            if in_flight:
                overlaps.append(request.url)
            in_flight.add(request)
            polls.append(time.monotonic())

    def on_done(request):
        in_flight.discard(request)

    page.on("request", on_request)
    page.on("requestfinished", on_done)
    page.on("requestfailed", on_done)
    page.goto(url)
    page.wait_for_load_state("load")
    # A third copy, added after the page has loaded (as a single-page site would).
    page.evaluate(f"""() => {{
        const s = document.createElement('script');
        s.src = '{bridge.url}/widget.js?again=1';
        s.async = true;
        document.body.appendChild(s);
    }}""")
    page.wait_for_function("performance.getEntriesByType('resource')"
                           ".filter(e => e.name.includes('again=1')).length === 1")
    expect(page.locator(LAUNCHER)).to_have_count(1)
    assert page.evaluate("document.querySelectorAll('#webchat-bridge-widget').length") == 1

    open_and_send(page, "Just one loop")
    expect(page.locator(AGENT_TEXT)).to_have_text(["Echo: Just one loop"], timeout=10_000)
    start = time.monotonic()
    page.wait_for_timeout(6_000)
    window = [t for t in polls if t >= start]
    # One loop at 2 s gives about 3 polls in 6 s; two loops would give 6.
    assert 2 <= len(window) <= 4, window
    assert overlaps == []
    assert page.errors == []


def test_tag_added_after_load(page, bridge, agent, site):
    url = site.page("spa.html", "<p>A single-page site.</p>")
    page.goto(url)
    page.wait_for_load_state("load")
    page.evaluate(f"""() => {{
        const s = document.createElement('script');
        s.src = '{bridge.url}/widget.js';
        s.dataset.title = 'Late help';
        s.dataset.position = 'top-left';
        document.head.appendChild(s);
    }}""")
    expect(page.locator(LAUNCHER)).to_be_visible()
    box = page.locator(LAUNCHER).bounding_box()
    assert box["x"] < 40 and box["y"] < 40   # top-left
    config = page.evaluate("SanctumChat.getConfig()")
    assert config["title"] == "Late help" and config["apiBase"] == f"{bridge.url}/api/v1/"
    open_and_send(page, "late hello")
    expect(page.locator(AGENT_TEXT)).to_have_text(["Echo: late hello"], timeout=10_000)
    assert page.errors == []


def test_keyboard_only_and_host_shortcuts_stay_quiet(page, bridge, agent, site):
    url = site.page("keys.html", "<a href=\"#top\" id=\"first\">Skip</a><p>Press s to search.</p>" +
                    embed(bridge))
    page.goto(url)
    page.evaluate("""() => {
        window.hostKeys = [];
        document.addEventListener('keydown', e => window.hostKeys.push(e.key));
    }""")
    expect(page.locator(LAUNCHER)).to_be_visible()
    page.keyboard.press("s")  # the listener works for keys typed into the page
    assert page.evaluate("window.hostKeys") == ["s"]

    for _ in range(6):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.id === "
                         "'webchat-bridge-widget'"):
            break
    focused = page.evaluate("document.activeElement.shadowRoot.activeElement.className")
    assert focused == "wcb-launcher"
    page.keyboard.press("Enter")
    expect(page.locator(PANEL)).to_be_visible()
    expect(page.locator(INPUT)).to_be_focused()
    page.keyboard.type("s/ search s")
    page.keyboard.press("Enter")
    expect(page.locator(AGENT_TEXT)).to_have_text(["Echo: s/ search s"], timeout=10_000)
    keys = page.evaluate("window.hostKeys")
    assert "/" not in keys and keys.count("s") == 1, keys
    page.keyboard.press("Escape")
    expect(page.locator(PANEL)).to_be_hidden()
    assert page.evaluate("document.activeElement.shadowRoot.activeElement.className") == "wcb-launcher"
    assert page.errors == []


def test_slow_polls_never_duplicate_or_overlap(page, bridge, site):
    """Each poll takes 3 s, longer than the 2 s interval: the five answers
    still appear exactly once, and no two polls are ever in flight."""
    held, overlaps = [], []

    def hold(route):
        if held:
            overlaps.append(route.request.url)
        held.append((time.monotonic(), route))

    page.route(lambda url: "action=responses" in url, hold)
    url = site.page("slow.html", "<p>Slow network.</p>" + embed(bridge))
    page.goto(url)
    open_and_send(page, "slow start")
    expect(page.locator(f"{HOST} .msg-visitor:not(.msg-sending)")).to_have_count(1)
    session = session_of(page)

    def pump(seconds):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            page.wait_for_timeout(100)
            while held and time.monotonic() - held[0][0] >= 3:
                held.pop(0)[1].continue_()

    texts = [f"answer {n}" for n in range(1, 6)]
    for text in texts:
        reply = requests.post(f"{bridge.url}/api/v1/?action=outbox", timeout=5,
                              headers={"Authorization": f"Bearer {API_KEY}"},
                              json={"session_id": session, "response": text})
        assert reply.status_code == 200
        pump(1.2)
    deadline = time.monotonic() + 15
    while page.locator(AGENT_TEXT).count() < 5 and time.monotonic() < deadline:
        pump(0.5)
    pump(4)  # one more slow round trip must not add anything
    assert page.locator(AGENT_TEXT).all_text_contents() == texts
    assert overlaps == []
    page.unroute(lambda url: "action=responses" in url)
    assert page.errors == []


def test_api_key_option_is_ignored_with_a_warning(page, bridge, site):
    warnings = []
    page.on("console", lambda msg: msg.type == "warning" and warnings.append(msg.text))
    url = site.page("key.html", embed(bridge, api_key="secret-plugin-key", theme="neon"))
    page.goto(url)
    expect(page.locator(LAUNCHER)).to_be_visible()
    assert any("apiKey" in text and "ignored" in text for text in warnings)
    assert any("theme" in text for text in warnings)
    config = page.evaluate("SanctumChat.getConfig()")
    assert "apiKey" not in config and config["theme"] == "light"
    page.evaluate("SanctumChat.destroy()")
    expect(page.locator(HOST)).to_have_count(0)
    page.evaluate("SanctumChat.init({position: 'bottom-left', autoOpen: true})")
    expect(page.locator(PANEL)).to_be_visible()
    assert page.evaluate("SanctumChat.getState().isOpen") is True
    assert page.errors == []


# -- how it looks -------------------------------------------------------------------

@pytest.mark.parametrize("size", [(1280, 800), (390, 844)], ids=["desktop", "phone"])
def test_screenshots(page, bridge, agent, site, screenshot, size):
    width, height = size
    page.set_viewport_size({"width": width, "height": height})
    body = ("<main style=\"font-family:system-ui;max-width:720px;margin:40px auto;padding:0 20px\">"
            "<h1>Acme Outdoor</h1><p>Tents, stoves and everything for the trail.</p></main>")
    url = site.page("shot.html", body + embed(bridge, title="Acme support", primary_color="#2563eb",
                                              greeting="Hi! Ask us anything about your order."))
    page.goto(url)
    open_and_send(page, "Do you ship to Norway?\nAnd how long does it take?")
    expect(page.locator(AGENT_TEXT)).to_have_count(2, timeout=10_000)  # greeting + answer
    page.wait_for_timeout(300)
    path = screenshot(page, f"widget-open-{'desktop' if width > 500 else 'phone'}")
    assert path.exists()
    if width < 500:
        panel = page.locator(PANEL).bounding_box()
        assert panel["width"] == width and panel["height"] == height
    assert page.errors == []


def test_demo_page_applies_options_under_its_csp(page, bridge, screenshot):
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(bridge.url + "/widget/demo")
    expect(page.locator(LAUNCHER)).to_be_visible()
    box = page.locator(LAUNCHER).bounding_box()
    assert box["x"] > 1000 and box["y"] > 600   # bottom-right by default
    page.select_option("#opt-position", "top-left")
    page.fill("#opt-title", "Demo desk")
    page.select_option("#opt-autoOpen", "true")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator(PANEL)).to_be_visible()
    expect(page.locator(f"{HOST} .wcb-title")).to_have_text("Demo desk")
    box = page.locator(LAUNCHER).bounding_box()
    assert box["x"] < 40 and box["y"] < 40
    expect(page.locator("#demo-embed")).to_contain_text('data-position="top-left"')
    assert page.locator(HOST).count() == 1
    # The styles reached the shadow root despite style-src 'self'.
    radius = page.locator(LAUNCHER).evaluate("el => getComputedStyle(el).borderRadius")
    assert radius == "50%"
    page.wait_for_timeout(300)  # let the opening animation finish
    screenshot(page, "widget-demo")
    assert page.errors == []


@pytest.mark.parametrize("width", [1280, 390], ids=["desktop", "phone"])
def test_demo_page_speaks_in_attributes_and_wraps_the_tag(page, bridge, screenshot, width):
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(bridge.url + "/widget/demo")
    expect(page.locator("label[for='opt-primaryColor']")).to_contain_text("data-primary-color")
    expect(page.locator("label[for='opt-autoOpen']")).to_contain_text("data-auto-open")
    expect(page.locator("#demo-no-events")).to_have_text("No events yet")
    page.fill("#opt-title", "A rather long title for the support desk")
    page.fill("#opt-greeting", "Hello there, ask us anything you like")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("#demo-embed")).to_contain_text('data-greeting="Hello there')
    page.locator("#demo-open").click()
    expect(page.locator("#demo-events li")).not_to_have_count(0)
    expect(page.locator("#demo-no-events")).to_be_hidden()
    # Every line break of the tag falls at a space: no attribute is cut in two.
    lines = page.locator("#demo-embed").evaluate("""code => {
        const range = document.createRange(), text = code.firstChild, tops = [], out = [];
        for (let i = 0; i < text.length; i++) {
            range.setStart(text, i); range.setEnd(text, i + 1);
            const top = Math.round(range.getBoundingClientRect().top);
            if (!tops.length || top > tops[tops.length - 1]) { tops.push(top); out.push(''); }
            out[out.length - 1] += text.data[i];
        }
        return out;
    }""")
    assert len(lines) > 1
    for before in lines[:-1]:
        assert before.endswith(" "), lines
    pre = page.locator("#demo-embed").bounding_box()
    assert pre["x"] >= 0 and pre["x"] + pre["width"] <= width
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.evaluate("SanctumChat.close()")  # on a phone the open panel covers the page
    page.locator("#demo-embed").scroll_into_view_if_needed()
    page.wait_for_timeout(300)  # let the panel's closing animation finish
    screenshot(page, f"widget-demo-{'desktop' if width > 500 else 'phone'}")
    assert page.errors == []
