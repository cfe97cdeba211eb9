"""The two bearer keys: generated when missing, rotated on demand.

There are no built-in defaults: a key that neither the environment nor the
settings table holds is generated on first start (256 bits from ``secrets``),
stored, and shown once to the operator.
"""

from __future__ import annotations

import os
import secrets
import sqlite3

from . import timefmt
from .db import settings_store
from .settings import KEY_SETTINGS, SPECS, Settings


class KeyConflict(ValueError):
    """The configuration would let one key open both kinds of action."""


def check_distinct(settings: Settings) -> None:
    """Refuse one key for both kinds: it would open the agent's and the admin
    actions alike."""
    if settings.api_key and settings.api_key == settings.admin_key:
        raise KeyConflict(
            "the API key and the admin key are the same; give WEB_CHAT_API_KEY and "
            "WEB_CHAT_ADMIN_KEY different values"
        )


def new_key() -> str:
    return secrets.token_urlsafe(32)


def ensure_keys(db: sqlite3.Connection, environ=None) -> dict[str, str]:
    """Generate and store every key that has no value; returns those generated."""
    environ = os.environ if environ is None else environ
    stored = settings_store.get_all(db)
    current = Settings(stored, environ)
    check_distinct(current)
    generated = {}
    now = timefmt.sqlite_seconds(timefmt.utcnow())
    for name in KEY_SETTINGS:
        if name in current.pinned or name in stored:
            continue
        key = new_key()
        # Two processes starting together: only one insert wins, and the
        # loser reports nothing.
        if settings_store.put_if_absent(db, name, key, now):
            generated[name] = key
    return generated


def rotate(db: sqlite3.Connection, which: str, environ=None) -> str:
    """Replace the stored ``api`` or ``admin`` key with a new one."""
    name = f"{which}_key"
    spec = SPECS[name]
    current = Settings(settings_store.get_all(db), environ)
    if name in current.pinned:
        raise ValueError(
            f"the {which} key is set by the environment variable {spec.env}; change it there"
        )
    key = new_key()
    settings_store.put_many(db, {name: key}, timefmt.sqlite_seconds(timefmt.utcnow()))
    return key
