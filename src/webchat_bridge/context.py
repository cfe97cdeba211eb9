"""Per-request access to the settings in force (read once per request)."""

from __future__ import annotations

from flask import current_app, g

from .db import get_db, settings_store
from .settings import Settings


def get_settings() -> Settings:
    if "settings" not in g:
        g.settings = Settings(settings_store.get_all(get_db()), current_app.config["ENVIRON"])
    return g.settings
