"""The one file a page loads: chat-core.js (shared with the chat page),
widget-ui.js and the widget's CSS, joined in one closure.

Built on first use and kept while the source files are unchanged.
"""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path

from .. import __version__

HERE = Path(__file__).resolve().parent
CORE = HERE.parent / "web" / "static" / "chat" / "chat-core.js"
UI = HERE / "static" / "js" / "widget-ui.js"
CSS = HERE / "static" / "css" / "chat-widget.css"

_lock = threading.Lock()
_cache: dict = {}


def _stamp() -> tuple:
    return tuple(path.stat().st_mtime_ns for path in (CORE, UI, CSS))


def _build() -> str:
    core, ui, css = (path.read_text(encoding="utf-8") for path in (CORE, UI, CSS))
    return "\n".join([
        f"/*! Web Chat Bridge widget {__version__} */",
        "(function () {",
        "'use strict';",
        # A second tag, or a site re-running the script, finds the first copy
        # and leaves it alone: one widget, one polling loop.
        "if (window.__webchatBridgeWidget) { return; }",
        "window.__webchatBridgeWidget = true;",
        "var ownScript = document.currentScript;",
        f"var WIDGET_VERSION = {json.dumps(__version__)};",
        f"var WIDGET_CSS = {json.dumps(css)};",
        core,
        ui,
        "install(findOwnScript(ownScript));",
        "})();",
        "",
    ])


def script() -> tuple[str, str]:
    """The bundle's text and its ETag."""
    stamp = _stamp()
    with _lock:
        if _cache.get("stamp") != stamp:
            text = _build()
            _cache.update(stamp=stamp, text=text,
                          etag=hashlib.sha256(text.encode("utf-8")).hexdigest()[:32])
        return _cache["text"], _cache["etag"]
