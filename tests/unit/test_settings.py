"""The settings in force (settings.py): precedence, pinning, validation."""

from __future__ import annotations

import pytest

from webchat_bridge.settings import (
    SPECS,
    SettingError,
    Settings,
    pinned,
    validate_changes,
)

API = "api-key-0123456789"
ADMIN = "admin-key-0123456789"


def test_defaults():
    s = Settings({}, environ={})
    assert s.session_timeout == 1800
    assert s.answer_grace == 86400
    assert s.max_message_length == 10000
    assert s.rate_limits_enabled is True
    assert s.api_key is None and s.admin_key is None
    assert s.pinned == []
    assert s.as_dict() == {name: spec.default for name, spec in SPECS.items()}


def test_the_table_overrides_the_default():
    s = Settings({"session_timeout": "600", "rate_limits_enabled": "false",
                  "api_key": API}, environ={})
    assert s.session_timeout == 600
    assert s.rate_limits_enabled is False
    assert s.api_key == API
    assert s.pinned == []


def test_the_environment_overrides_the_table_and_pins():
    env = {"WEB_CHAT_API_KEY": " env-api-key-123 ", "WEB_CHAT_RATE_LIMITS": "off",
           "WEB_CHAT_SESSION_TIMEOUT": "5"}  # not an environment setting: ignored
    s = Settings({"api_key": API, "rate_limits_enabled": "true", "session_timeout": "900"},
                 environ=env)
    assert s.api_key == "env-api-key-123"
    assert s.rate_limits_enabled is False
    assert s.session_timeout == 900
    assert sorted(s.pinned) == ["api_key", "rate_limits_enabled"]
    assert sorted(pinned(env)) == ["api_key", "rate_limits_enabled"]


def test_a_blank_environment_value_pins_nothing():
    s = Settings({"admin_key": ADMIN}, environ={"WEB_CHAT_ADMIN_KEY": "  "})
    assert s.admin_key == ADMIN and s.pinned == []
    assert pinned({"WEB_CHAT_ADMIN_KEY": ""}) == []


@pytest.mark.parametrize("text, expected", [
    ("on", True), ("1", True), ("true", True), ("off", False), ("0", False), ("False", False),
    ("no", False),
])
def test_rate_limit_switch_words(text, expected):
    assert Settings({}, environ={"WEB_CHAT_RATE_LIMITS": text}).rate_limits_enabled is expected


def test_an_unreadable_stored_number_falls_back_to_the_default():
    assert Settings({"session_timeout": "soon"}, environ={}).session_timeout == 1800


def test_rate_limit_per_endpoint_and_unknown_attribute():
    s = Settings({"rate_limit_messages": "5"}, environ={})
    assert s.rate_limit("messages") == 5
    assert s.rate_limit("responses") == 300
    assert s.rate_limit("health") is None
    with pytest.raises(AttributeError):
        s.no_such_setting  # noqa: B018


def test_default_limits_let_the_documented_clients_run():
    s = Settings({}, environ={})
    per_window = s.rate_limit_window
    assert s.rate_limit("responses") >= per_window / 2  # widget every 2 s
    assert s.rate_limit("inbox") >= per_window / 5  # plugin every 5 s
    assert s.rate_limit("sessions") >= per_window / 30  # dashboard every 30 s
    assert per_window <= 60 and s.rate_limit("messages") < 60  # a flood is refused in a minute


# -- validate_changes ------------------------------------------------------------

def current(stored=None, environ=None):
    return Settings(stored or {"api_key": API, "admin_key": ADMIN}, environ=environ or {})


def test_valid_changes_become_text():
    out = validate_changes({"session_timeout": 600, "rate_limits_enabled": False,
                            "api_key": "new-api-key-42"}, current())
    assert out == {"session_timeout": "600", "rate_limits_enabled": "false",
                   "api_key": "new-api-key-42"}
    assert validate_changes({}, current()) == {}


@pytest.mark.parametrize("changes, field", [
    ({"no_such": 1}, "no_such"),
    ({"session_timeout": "600"}, "session_timeout"),
    ({"session_timeout": 600.0}, "session_timeout"),
    ({"session_timeout": True}, "session_timeout"),
    ({"session_timeout": None}, "session_timeout"),
    ({"session_timeout": 59}, "session_timeout"),
    ({"session_timeout": 30 * 86400 + 1}, "session_timeout"),
    ({"max_message_length": 0}, "max_message_length"),
    ({"rate_limit_messages": [5]}, "rate_limit_messages"),
    ({"rate_limits_enabled": "false"}, "rate_limits_enabled"),
    ({"rate_limits_enabled": 0}, "rate_limits_enabled"),
    ({"api_key": "short"}, "api_key"),
    ({"api_key": "has a space in it"}, "api_key"),
    ({"api_key": "ключ-ключ-ключ"}, "api_key"),
    ({"admin_key": "x" * 257}, "admin_key"),
    ({"admin_key": 12345678}, "admin_key"),
    ({"session_timeout": 600, "bogus": 1}, "bogus"),
])
def test_errors_name_the_field(changes, field):
    with pytest.raises(SettingError, match=field):
        validate_changes(changes, current())


def test_key_bounds_are_accepted():
    out = validate_changes({"api_key": "!" * 8, "admin_key": "~" * 256}, current())
    assert out == {"api_key": "!" * 8, "admin_key": "~" * 256}


def test_equal_keys_are_refused():
    with pytest.raises(SettingError, match="api_key"):
        validate_changes({"api_key": "same-key-1234", "admin_key": "same-key-1234"}, current())
    with pytest.raises(SettingError, match="differ"):
        validate_changes({"api_key": ADMIN}, current())
    with pytest.raises(SettingError, match="differ"):
        validate_changes({"admin_key": API}, current())


def test_a_pinned_setting_cannot_be_changed():
    pinned_now = current(environ={"WEB_CHAT_ADMIN_KEY": "pinned-admin-1", "WEB_CHAT_RATE_LIMITS": "off"})
    with pytest.raises(SettingError, match="admin_key.*WEB_CHAT_ADMIN_KEY"):
        validate_changes({"admin_key": "another-admin-1"}, pinned_now)
    with pytest.raises(SettingError, match="rate_limits_enabled"):
        validate_changes({"rate_limits_enabled": True}, pinned_now)
    # The other key stays changeable, but not to the pinned one's value.
    assert validate_changes({"api_key": "another-api-12"}, pinned_now) == {
        "api_key": "another-api-12"}
    with pytest.raises(SettingError, match="differ"):
        validate_changes({"api_key": "pinned-admin-1"}, pinned_now)
