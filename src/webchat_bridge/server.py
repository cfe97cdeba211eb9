"""gunicorn, configured for production, behind ``webchat-bridge serve``."""

from __future__ import annotations

import multiprocessing

from gunicorn.app.base import BaseApplication


def default_workers() -> int:
    # gunicorn's rule of thumb, capped: SQLite serialises writes anyway, and
    # each worker costs memory.
    return min(2 * multiprocessing.cpu_count() + 1, 9)


class BridgeServer(BaseApplication):
    def __init__(self, app_factory, options: dict):
        self._factory = app_factory
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            if key in self.cfg.settings and value is not None:
                self.cfg.set(key, value)

    def load(self):
        from . import logs

        app = self._factory()
        logs.write_in_background()
        return app


def options(*, host: str, port: int, workers: int, threads: int, timeout: int,
            access_log: str | None = None) -> dict:
    return {
        "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
        "workers": workers,
        # Threads let one worker wait on SQLite or a slow client without
        # holding up the others' requests.
        "worker_class": "gthread",
        "threads": threads,
        "timeout": timeout,
        "graceful_timeout": 20,
        "keepalive": 5,
        # Loaded once in the master, then forked: workers share its memory.
        "preload_app": True,
        # Recycle workers now and then to bound any slow growth of memory.
        "max_requests": 20000,
        "max_requests_jitter": 2000,
        "accesslog": access_log,
        "errorlog": "-",
        "loglevel": "info",
        "proc_name": "webchat-bridge",
        # gunicorn's control socket lives at one fixed path per user: two
        # bridges on one machine would fight over it, and nothing here uses it.
        "control_socket_disable": True,
        # Header limits: nothing a chat client needs is larger.
        "limit_request_line": 8190,
        "limit_request_fields": 100,
        "limit_request_field_size": 8190,
    }
