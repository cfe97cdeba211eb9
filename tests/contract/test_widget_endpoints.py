"""The widget's HTTP surface and the chat page's headers, through the Flask
test client: JSON helpers in the API envelope, the script's types and caches,
the CSP of the pages and the PHP-era paths."""

from __future__ import annotations

import os
import re

import pytest

from webchat_bridge import __version__

ENVELOPE_KEYS = {"success", "message", "timestamp", "data"}
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def assert_json_envelope(response, status=200):
    assert response.status_code == status
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    body = response.get_json()
    if status == 200:
        assert set(body) == ENVELOPE_KEYS and body["success"] is True
    else:
        assert body["success"] is False and body["code"] == status and body["error"]
    assert ISO.match(body["timestamp"])
    return body


@pytest.mark.parametrize("path", ["/widget/config", "/widget/config.php"])
def test_config_lists_options_with_allowed_values_and_defaults(client, path):
    body = assert_json_envelope(client.get(path))
    data = body["data"]
    assert data["positions"] == ["bottom-right", "bottom-left", "top-right", "top-left"]
    assert data["themes"] == ["light", "dark", "auto"]
    assert data["defaults"] == {
        "position": "bottom-right", "theme": "light", "title": "Chat with us",
        "primaryColor": "#007bff", "greeting": "", "autoOpen": False,
    }
    described = {option["name"]: option for option in data["options"]}
    assert set(described) == set(data["defaults"])
    assert described["position"]["allowed"] == data["positions"]
    assert "apiKey" not in described


@pytest.mark.parametrize("path", ["/widget/health", "/widget/health.php"])
def test_health_reads_the_database(client, path):
    body = assert_json_envelope(client.get(path))
    assert body["data"] == {"status": "ok", "database": "ok", "version": __version__}


def test_health_is_503_when_the_database_cannot_be_read(app, client):
    path = app.config["DATABASE"]
    with open(path, "r+b") as handle:  # overwrite the header: no longer a database
        handle.write(b"this is not an sqlite file at all" * 4)
    for suffix in ("-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    body = assert_json_envelope(client.get("/widget/health"), status=503)
    assert body["error"] == "Database unavailable"


def test_init_resolves_defaults_and_overrides(client):
    body = assert_json_envelope(client.get("/widget/init"))
    data = body["data"]
    assert data["config"]["position"] == "bottom-right" and data["config"]["autoOpen"] is False
    assert data["api"]["base"] == "http://localhost/api/v1/"
    assert data["assets"]["script"] == f"http://localhost/widget.js?v={__version__}"
    assert data["warnings"] == []

    query = {"position": "top-left", "theme": "dark", "title": "Help <desk>",
             "primaryColor": "#2563eb", "greeting": "Hi", "autoOpen": "true"}
    data = assert_json_envelope(client.get("/widget/init.php", query_string=query))["data"]
    assert data["config"] == {**query, "autoOpen": True}
    assert 'data-position="top-left"' in data["embed"]
    assert 'data-title="Help &lt;desk&gt;"' in data["embed"]
    assert 'data-auto-open="true"' in data["embed"]


def test_init_ignores_an_api_key_with_a_warning(client):
    data = assert_json_envelope(client.get("/widget/init?apiKey=abc&autoOpen=true"))["data"]
    assert data["config"]["autoOpen"] is True
    assert "apiKey" not in data["config"] and "abc" not in str(data)
    assert any("apiKey" in warning for warning in data["warnings"])


@pytest.mark.parametrize("name,value", [
    ("position", "middle"),
    ("theme", "neon"),
    ("primaryColor", "red; background:url(x)"),
    ("autoOpen", "maybe"),
    ("title", "x" * 101),
    ("greeting", "y" * 501),
])
def test_init_refuses_invalid_values_naming_the_option(client, name, value):
    body = assert_json_envelope(client.get("/widget/init", query_string={name: value}), status=400)
    assert name in body["error"]


@pytest.mark.parametrize("path", ["/widget.js", "/widget/static/js/chat-widget.js",
                                  "/widget/assets/js/chat-widget.js"])
def test_widget_script_types_cors_and_short_cache(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/javascript; charset=utf-8"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Cache-Control"] == "public, max-age=300"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    text = response.get_data(as_text=True)
    # One bundle: the shared conversation core and the widget, with no key.
    assert "var ChatCore" in text and "SanctumChat" in text and "attachShadow" in text
    assert "innerHTML" not in text and "Bearer" not in text
    again = client.get(path, headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_versioned_assets_are_immutable(client):
    script = client.get(f"/widget.js?v={__version__}")
    assert script.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    old = client.get("/widget.js?v=0.0.1")
    assert old.headers["Cache-Control"] == "public, max-age=300"
    css = client.get(f"/widget/static/css/chat-widget.css?v={__version__}")
    assert css.status_code == 200 and css.headers["Content-Type"] == "text/css; charset=utf-8"
    assert css.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    core = client.get(f"/static/web/chat/chat-core.js?v={__version__}")
    assert core.status_code == 200 and "javascript" in core.headers["Content-Type"]
    assert core.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert client.get("/static/web/chat/chat-core.js").headers["Cache-Control"] == "no-cache"


@pytest.mark.parametrize("path", ["/", "/chat", "/widget/demo", "/widget/demo.php", "/widget/"])
def test_pages_carry_a_restrictive_csp(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    csp = response.headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in csp and "http" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    html = response.get_data(as_text=True)
    # No inline script and no third-party origin: every script has a local src.
    for tag in re.findall(r"<script[^>]*>", html):
        assert re.search(r'src="/', tag), tag
    assert all(body.strip() == "" for body in re.findall(r"<script[^>]*>(.*?)</script>", html, re.S))
    assert "<style" not in html and " style=" not in html
    assert not re.search(r"<[^>]+\son[a-z]+=", html)   # no inline event handlers
    assert "//cdn" not in html and "https://" not in html


def test_chat_page_loads_the_shared_core(client):
    html = client.get("/chat").get_data(as_text=True)
    assert f"/static/web/chat/chat-core.js?v={__version__}" in html
    assert 'aria-live="polite"' in html and 'for="chat-input"' in html


def test_legacy_chat_path_redirects(client):
    response = client.get("/web/chat.php")
    assert response.status_code == 301
    assert response.headers["Location"] in {"/chat", "http://localhost/chat"}
