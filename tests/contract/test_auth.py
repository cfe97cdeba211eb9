"""CONTRACT §3: bearer keys."""

from __future__ import annotations

import pytest

from tests.conftest import ADMIN_KEY, API_KEY

from .helpers import err, ok

INBOX = "/api/v1/?action=inbox"


@pytest.mark.parametrize("header,value", [
    ("Authorization", f"Bearer {API_KEY}"),
    ("authorization", f"Bearer {API_KEY}"),
    ("AUTHORIZATION", f"Bearer {API_KEY}"),
    ("Authorization", f"bearer {API_KEY}"),
    ("Authorization", f"BEARER {API_KEY}"),
    ("Authorization", f"Bearer   {API_KEY}  "),
])
def test_header_name_and_scheme_are_case_insensitive(client, header, value):
    ok(client.get(INBOX, headers={header: value}), "Messages retrieved successfully")


@pytest.mark.parametrize("value", [
    None, "", "Bearer", "Bearer ", f"Basic {API_KEY}", API_KEY, "Bearer wrong",
    f"Bearer {API_KEY.upper()}", f"Bearer {API_KEY}x", f"Bearer {API_KEY[:-1]}",
    f"Bearer {ADMIN_KEY}", "Bearer \u00e9\u00e8",
])
def test_anything_but_the_exact_key_is_refused(client, value):
    headers = {} if value is None else {"Authorization": value}
    err(client.get(INBOX, headers=headers), 401, "Invalid or missing API key")


def test_comparison_is_constant_time(monkeypatch, client):
    from webchat_bridge.api import auth

    calls = []
    real = auth.hmac.compare_digest
    monkeypatch.setattr(auth.hmac, "compare_digest", lambda a, b: calls.append(1) or real(a, b))
    client.get(INBOX, headers={"Authorization": "Bearer nope"})
    assert calls


def test_no_built_in_default_keys(tmp_path):
    from webchat_bridge import create_app

    apps = [create_app({"DATABASE": str(tmp_path / f"{i}.db"), "LOG_PATH": str(tmp_path / "l"),
                        "ENVIRON": {}}) for i in range(2)]
    first, second = (a.config["GENERATED_KEYS"] for a in apps)
    assert set(first) == {"api_key", "admin_key"}
    assert first["api_key"] != second["api_key"] and first["admin_key"] != second["admin_key"]
    assert first["api_key"] != first["admin_key"]
    assert all(len(k) >= 40 for k in first.values())
    client = apps[0].test_client()
    ok(client.get(INBOX, headers={"Authorization": f"Bearer {first['api_key']}"}),
       "Messages retrieved successfully")
    # A second start of the same database keeps the keys it generated.
    again = create_app({"DATABASE": str(tmp_path / "0.db"), "LOG_PATH": str(tmp_path / "l"),
                        "ENVIRON": {}})
    assert again.config["GENERATED_KEYS"] == {}


def test_key_changed_through_config_is_in_force_in_every_worker(tmp_path):
    from webchat_bridge import create_app

    config = {"DATABASE": str(tmp_path / "w.db"), "LOG_PATH": str(tmp_path / "l"), "ENVIRON": {}}
    worker_a = create_app(config)
    worker_b = create_app(config)  # another process's view of the same file
    keys = worker_a.config["GENERATED_KEYS"]
    admin = {"Authorization": f"Bearer {keys['admin_key']}"}
    a, b = worker_a.test_client(), worker_b.test_client()
    ok(a.post("/api/v1/?action=config", json={"api_key": "brand-new-api-key-1"}, headers=admin),
       "Configuration updated successfully")
    ok(b.get(INBOX, headers={"Authorization": "Bearer brand-new-api-key-1"}),
       "Messages retrieved successfully")
    err(b.get(INBOX, headers={"Authorization": f"Bearer {keys['api_key']}"}), 401,
        "Invalid or missing API key")
    # A key with characters the PHP system HTML-escaped is stored as given.
    ok(a.post("/api/v1/?action=config", json={"admin_key": "k&<1-admin-key"}, headers=admin),
       "Configuration updated successfully")
    ok(b.get("/api/v1/?action=config", headers={"Authorization": "Bearer k&<1-admin-key"}),
       "Configuration retrieved successfully")


def test_key_pinned_by_environment_cannot_be_changed(client, admin_headers):
    body = err(client.post("/api/v1/?action=config", json={"api_key": "another-key-123"},
                           headers=admin_headers), 400,
               "api_key is set by the environment variable WEB_CHAT_API_KEY and cannot be changed here")
    assert body
    ok(client.get(INBOX, headers={"Authorization": f"Bearer {API_KEY}"}),
       "Messages retrieved successfully")
