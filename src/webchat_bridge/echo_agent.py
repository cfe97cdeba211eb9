"""A small agent that answers every inbox message with an echo.

It calls the API exactly as the real plugin does, so that a new operator can
see the whole loop without an agent, and the end-to-end tests can drive it:

- ``GET {url}/api/v1/?action=inbox&limit=50&offset=0`` with
  ``Authorization: Bearer KEY``, ``Content-Type: application/json`` and no
  body, every ``interval`` seconds;
- ``POST {url}/api/v1/?action=outbox`` with exactly
  ``{"session_id", "response"}``.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Callable


class BridgeError(RuntimeError):
    """The bridge refused the inbox call (a wrong key, a rate limit, a fault)."""

    def __init__(self, text: str, code: int | None):
        super().__init__(f"{text} ({code})")
        self.code = code


class EchoAgent:
    def __init__(self, url: str, key: str, *, prefix: str = "Echo: ", interval: float = 5.0,
                 timeout: float = 10.0, log: Callable[[str], None] = print,
                 reload_key: Callable[[], str | None] | None = None):
        # The plugin joins its base URL and "/api/v1/" as text; a base ending
        # in "/" gives "//api/v1/", which the bridge accepts.
        self.base = url + "/api/v1/"
        self.key = key
        self.prefix = prefix
        self.interval = interval
        self.timeout = timeout
        self.log = log
        # Where the key came from, when it can change under us (the database:
        # 'webchat-bridge keys --rotate api' must not strand a running agent).
        self.reload_key = reload_key
        self.answered = 0

    def _call(self, method: str, query: str, body: dict | None) -> dict:
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(
            self.base + "?" + query, data=data, method=method,
            headers={"Authorization": f"Bearer {self.key}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as err:
            payload = err.read().decode("utf-8", "replace")
            try:
                return json.loads(payload)
            except ValueError:
                return {"success": False, "error": f"HTTP {err.code}", "code": err.code}

    def poll_once(self) -> int:
        """Claim one page of the inbox and answer each message; returns how many."""
        answer = self._call("GET", "action=inbox&limit=50&offset=0", None)
        if not answer.get("success") and answer.get("code") == 401 and self.reload_key:
            fresh = self.reload_key()
            if fresh and fresh != self.key:
                self.log("the API key changed; using the new one")
                self.key = fresh
                answer = self._call("GET", "action=inbox&limit=50&offset=0", None)
        if not answer.get("success"):
            raise BridgeError(f"inbox: {answer.get('error')}", answer.get("code"))
        count = 0
        for message in answer["data"]["messages"]:
            reply = self._call("POST", "action=outbox", {
                "session_id": message["session_id"],
                "response": self.prefix + message["message"],
            })
            if reply.get("success"):
                count += 1
            else:
                self.log(f"outbox for {message['session_id']}: {reply.get('error')}")
        self.answered += count
        return count

    def run(self, *, iterations: int | None = None) -> None:
        done = 0
        while iterations is None or done < iterations:
            try:
                count = self.poll_once()
                if count:
                    self.log(f"answered {count} message(s), {self.answered} in all")
            except BridgeError as err:
                self.log(f"{err}; retrying in {self.interval:g} s")
            except (urllib.error.URLError, OSError, ValueError) as err:
                self.log(f"bridge unreachable ({err}); retrying in {self.interval:g} s")
            done += 1
            if iterations is None or done < iterations:
                time.sleep(self.interval)
