"""The echo agent in a background thread of a test, as the real plugin would
poll, riding out moments when the bridge is down."""

from __future__ import annotations

import threading

from tests.conftest import API_KEY
from webchat_bridge.echo_agent import BridgeError, EchoAgent


class AgentThread:
    """Polls the bridge every ``interval`` seconds until stopped."""

    def __init__(self, url: str, interval: float = 0.3):
        self.agent = EchoAgent(url, API_KEY, interval=interval, log=lambda _text: None)
        self.interval = interval
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stopping.is_set():
            try:
                self.agent.poll_once()
            except (OSError, BridgeError):
                pass  # the bridge is down or restarting for a moment: keep polling
            self.stopping.wait(self.interval)

    def stop(self):
        self.stopping.set()
        self.thread.join(timeout=5)
