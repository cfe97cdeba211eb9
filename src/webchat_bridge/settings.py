"""One typed view of the runtime configuration.

Where a value comes from, first match wins:
1. the environment, for the settings that can be pinned there (the two keys,
   and ``WEB_CHAT_RATE_LIMITS=off``): a pinned value cannot be changed through
   the ``config`` action;
2. the ``web_chat_settings`` table, written by ``config`` and by the CLI;
3. the default below.

The table is read once per request, so a change made through one worker is in
force on the next request in every worker.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any, Mapping

KEY_PATTERN = re.compile(r"[\x21-\x7e]{8,256}")


@dataclass(frozen=True)
class Spec:
    name: str
    kind: type
    default: Any
    minimum: int | None = None
    maximum: int | None = None
    env: str | None = None
    secret: bool = False
    help: str = ""


SPECS: dict[str, Spec] = {
    s.name: s
    for s in [
        Spec("api_key", str, None, env="WEB_CHAT_API_KEY", secret=True,
             help="Bearer key of the agent's plugin (inbox, outbox)."),
        Spec("admin_key", str, None, env="WEB_CHAT_ADMIN_KEY", secret=True,
             help="Bearer key of the dashboard and the admin actions."),
        Spec("session_timeout", int, 1800, 60, 30 * 86400,
             help="Seconds of inactivity after which a session is inactive."),
        Spec("answer_grace", int, 86400, 0, 365 * 86400,
             help="Extra seconds an idle session waits for the agent's late answer."),
        Spec("max_message_length", int, 10000, 1, 100000,
             help="Longest message or response accepted, in characters."),
        Spec("rate_limits_enabled", bool, True, env="WEB_CHAT_RATE_LIMITS",
             help="Switch rate limiting off for load tests or when a proxy limits."),
        Spec("rate_limit_window", int, 60, 1, 86400,
             help="Length of a rate-limit window, in seconds."),
        Spec("rate_limit_messages", int, 30, 1, 1_000_000,
             help="Messages a client may post per window."),
        Spec("rate_limit_responses", int, 300, 1, 1_000_000,
             help="Response polls a client may make per window."),
        Spec("rate_limit_inbox", int, 120, 1, 1_000_000,
             help="Inbox polls per API key per window."),
        Spec("rate_limit_outbox", int, 600, 1, 1_000_000,
             help="Outbox posts per API key per window."),
        Spec("rate_limit_sessions", int, 120, 1, 1_000_000,
             help="Session-list requests per client per window."),
    ]
}

KEY_SETTINGS = ("api_key", "admin_key")


class SettingError(ValueError):
    """A value that a setting cannot take; the text names the setting."""


def _env_value(spec: Spec, environ: Mapping[str, str]) -> str | None:
    if spec.env is None:
        return None
    value = environ.get(spec.env)
    if value is None or value.strip() == "":
        return None
    return value.strip()


def _from_text(spec: Spec, text: str) -> Any:
    if spec.kind is bool:
        return text.strip().lower() not in {"0", "false", "off", "no"}
    if spec.kind is int:
        try:
            return int(text)
        except ValueError:
            return spec.default
    return text


def _to_text(spec: Spec, value: Any) -> str:
    if spec.kind is bool:
        return "true" if value else "false"
    return str(value)


def pinned(environ: Mapping[str, str] | None = None) -> list[str]:
    """Names of the settings fixed by the environment."""
    environ = os.environ if environ is None else environ
    return [s.name for s in SPECS.values() if _env_value(s, environ) is not None]


class Settings:
    """The settings in force for one request (or one command)."""

    def __init__(self, stored: Mapping[str, str], environ: Mapping[str, str] | None = None):
        environ = os.environ if environ is None else environ
        self._values: dict[str, Any] = {}
        self.pinned: list[str] = []
        for spec in SPECS.values():
            env = _env_value(spec, environ)
            if env is not None:
                self.pinned.append(spec.name)
                self._values[spec.name] = _from_text(spec, env)
            elif spec.name in stored:
                self._values[spec.name] = _from_text(spec, stored[spec.name])
            else:
                self._values[spec.name] = spec.default

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    def as_dict(self) -> dict[str, Any]:
        return dict(self._values)

    def rate_limit(self, endpoint: str) -> int | None:
        return self._values.get(f"rate_limit_{endpoint}")


def validate_changes(changes: Mapping[str, Any], current: Settings) -> dict[str, str]:
    """Check a ``config`` POST; returns the text values to store.

    Raises SettingError naming the first offending field.
    """
    out: dict[str, str] = {}
    for name, value in changes.items():
        spec = SPECS.get(name)
        if spec is None:
            raise SettingError(f"Unknown setting: {name}")
        if name in current.pinned:
            raise SettingError(
                f"{name} is set by the environment variable {spec.env} and cannot be "
                "changed here"
            )
        if spec.kind is bool:
            if not isinstance(value, bool):
                raise SettingError(f"Invalid value for {name}: expected true or false")
        elif spec.kind is int:
            if isinstance(value, bool) or not isinstance(value, int):
                raise SettingError(f"Invalid value for {name}: expected an integer")
            if (spec.minimum is not None and value < spec.minimum) or (
                spec.maximum is not None and value > spec.maximum
            ):
                raise SettingError(
                    f"Invalid value for {name}: must be between {spec.minimum} and {spec.maximum}"
                )
        else:
            if not isinstance(value, str) or not KEY_PATTERN.fullmatch(value):
                raise SettingError(
                    f"Invalid value for {name}: a key is 8 to 256 visible ASCII "
                    "characters, without spaces"
                )
        out[name] = _to_text(spec, value)
    api = out.get("api_key", current.api_key)
    admin = out.get("admin_key", current.admin_key)
    if api is not None and api == admin:
        field = "api_key" if "api_key" in out else "admin_key"
        raise SettingError(f"Invalid value for {field}: the API key and the admin key must differ")
    return out
