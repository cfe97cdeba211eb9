"""The dashboard page and its assets as HTTP: headers, redirects, content
types and caching (the browser tests cover what the page does)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from webchat_bridge import __version__

STATIC = Path(__file__).resolve().parents[2] / "src" / "webchat_bridge" / "admin" / "static"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


def test_dashboard_is_html_with_a_strict_policy(client):
    r = client.get("/admin")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/html; charset=utf-8"
    assert r.headers["Content-Security-Policy"] == CSP
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["Referrer-Policy"] == "no-referrer"
    assert r.headers["Cache-Control"] == "no-store"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    html = r.get_data(as_text=True)
    assert '<form id="signin-form"' in html


def test_page_has_no_inline_script_handler_or_style_and_no_third_party_asset(client):
    html = client.get("/admin").get_data(as_text=True)
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, re.S)
    assert scripts, "the page loads its scripts"
    for attributes, body in scripts:
        assert 'src="/static/admin/' in attributes
        assert body.strip() == ""
    assert not re.search(r"\son[a-z]+\s*=", html, re.I), "inline event handler"
    assert not re.search(r"\sstyle\s*=", html, re.I), "inline style"
    assert "<style" not in html
    assert not re.search(r"""(src|href)=["'](https?:)?//""", html), "third-party asset"


def test_assets_carry_the_version(client):
    html = client.get("/admin").get_data(as_text=True)
    assets = re.findall(r'(?:src|href)="(/static/admin/[^"]+)"', html)
    assert {a.split("?")[0] for a in assets} >= {
        "/static/admin/admin.css", "/static/admin/dashboard.js", "/static/admin/format.js",
        "/static/admin/chart.js", "/static/admin/icon.svg",
    }
    for asset in assets:
        assert asset.endswith(f"?v={__version__}"), asset
        assert client.get(asset).status_code == 200, asset


@pytest.mark.parametrize("path", ["/web/admin.php", "/admin/"])
def test_old_and_slashed_paths_redirect_to_the_dashboard(client, path):
    r = client.get(path)
    assert r.status_code == 301
    assert r.headers["Location"] == "/admin"


@pytest.mark.parametrize("name, content_type", [
    ("admin.css", "text/css; charset=utf-8"),
    ("dashboard.js", "text/javascript; charset=utf-8"),
    ("format.js", "text/javascript; charset=utf-8"),
    ("chart.js", "text/javascript; charset=utf-8"),
    ("icon.svg", "image/svg+xml; charset=utf-8"),
])
def test_static_assets_have_their_content_type_and_long_cache(client, name, content_type):
    r = client.get(f"/static/admin/{name}?v={__version__}")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == content_type
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert r.get_data() == (STATIC / name).read_bytes()


def test_unversioned_or_stale_asset_is_revalidated(client):
    for url in ["/static/admin/dashboard.js", "/static/admin/dashboard.js?v=0.0.1"]:
        r = client.get(url)
        assert r.status_code == 200
        assert "immutable" not in r.headers["Cache-Control"]
        assert r.headers["Cache-Control"] == "no-cache"


@pytest.mark.parametrize("path", [
    "/static/admin/missing.js",
    "/static/admin/../__init__.py",
    "/static/admin/%2e%2e/__init__.py",
])
def test_nothing_outside_the_static_folder_is_served(client, path):
    assert client.get(path).status_code == 404


def test_scripts_never_parse_data_as_html():
    for script in STATIC.glob("*.js"):
        text = script.read_text()
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
            assert sink not in text, f"{script.name} uses {sink}"
