"""The widget's options: their allowed values, their defaults, and the
checking of the values a page asks for (``/widget/config``, ``/widget/init``).

The defaults are those of the PHP widget; widget-ui.js applies the same rules
in the browser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

POSITIONS = ("bottom-right", "bottom-left", "top-right", "top-left")
THEMES = ("light", "dark", "auto")
HEX_COLOR = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})")
TRUE, FALSE = {"true", "1", "yes", "on"}, {"false", "0", "no", "off"}
# Names a page may send that are accepted and ignored, with a warning:
# the plugin's key must never be in a page.
IGNORED = ("apiKey", "api_key")


@dataclass(frozen=True)
class Option:
    name: str
    kind: str            # "choice", "color", "text", "boolean"
    default: object
    help: str
    choices: tuple = ()
    max_length: int = 0

    def describe(self) -> dict:
        out = {"name": self.name, "type": self.kind, "default": self.default, "help": self.help}
        if self.choices:
            out["allowed"] = list(self.choices)
        if self.kind == "color":
            out["format"] = "#rgb or #rrggbb"
        if self.max_length:
            out["max_length"] = self.max_length
        return out


OPTIONS: tuple[Option, ...] = (
    Option("position", "choice", "bottom-right", "Corner of the page the launcher sits in.",
           choices=POSITIONS),
    Option("theme", "choice", "light", "Colour scheme; auto follows the visitor's system.",
           choices=THEMES),
    Option("title", "text", "Chat with us", "Heading of the chat panel.", max_length=100),
    Option("primaryColor", "color", "#007bff", "Colour of the launcher, header and own messages."),
    Option("greeting", "text", "", "A first message shown before the visitor writes.",
           max_length=500),
    Option("autoOpen", "boolean", False, "Open the panel as soon as the page loads."),
)
BY_NAME = {option.name: option for option in OPTIONS}


class OptionError(ValueError):
    """A value the option does not allow; the text names the option."""


def defaults() -> dict:
    return {option.name: option.default for option in OPTIONS}


def parse(option: Option, raw: str):
    if option.kind == "choice":
        if raw not in option.choices:
            raise OptionError(f"Invalid {option.name}: expected one of {', '.join(option.choices)}")
        return raw
    if option.kind == "color":
        if not HEX_COLOR.fullmatch(raw):
            raise OptionError(f"Invalid {option.name}: expected a colour like #2563eb")
        return raw
    if option.kind == "boolean":
        lowered = raw.strip().lower()
        if lowered in TRUE:
            return True
        if lowered in FALSE:
            return False
        raise OptionError(f"Invalid {option.name}: expected true or false")
    if len(raw) > option.max_length:
        raise OptionError(f"Invalid {option.name}: at most {option.max_length} characters")
    if "\x00" in raw:
        raise OptionError(f"Invalid {option.name}: control characters are not allowed")
    return raw


def resolve(query) -> tuple[dict, list[str]]:
    """Defaults overridden by the known options in ``query`` (a mapping of
    strings); returns the configuration and the warnings to show."""
    config = defaults()
    warnings = []
    for name in IGNORED:
        if name in query:
            warnings.append(f"{name} is ignored: the widget needs no key, and the plugin's key "
                            "must never be put in a page")
    for name, option in BY_NAME.items():
        if name in query:
            config[name] = parse(option, query[name])
    if config["title"] == "":
        config["title"] = BY_NAME["title"].default
    return config, warnings


def catalogue() -> dict:
    """What ``/widget/config`` answers."""
    return {
        "positions": list(POSITIONS),
        "themes": list(THEMES),
        "defaults": defaults(),
        "options": [option.describe() for option in OPTIONS],
    }
