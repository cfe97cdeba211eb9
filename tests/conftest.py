"""Shared fixtures: an app on a fresh database, its client, fixed keys, a real
gunicorn server on a loopback port, and a builder of PHP-shaped databases."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from webchat_bridge import create_app
from webchat_bridge.db import connect

API_KEY = "test-api-key-0123456789"
ADMIN_KEY = "test-admin-key-0123456789"
REPO = Path(__file__).resolve().parent.parent
# The PHP system's reference files (a real database written through its API,
# and what was sent to produce it), beside the project when present.
SHARED_REFERENCE = Path(os.environ.get("WEB_CHAT_REFERENCE_DIR")
                        or REPO.parent / "shared" / "reference")


@pytest.fixture
def environ():
    """The environment the app sees: the two keys pinned, nothing else."""
    return {"WEB_CHAT_API_KEY": API_KEY, "WEB_CHAT_ADMIN_KEY": ADMIN_KEY}


@pytest.fixture
def app(tmp_path, environ):
    app = create_app({
        "TESTING": True,
        "DATABASE": str(tmp_path / "db" / "web_chat_bridge.db"),
        "LOG_PATH": str(tmp_path / "logs"),
        "ENVIRON": environ,
        "AUTO_CLEANUP": False,
    })
    yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def db(app):
    conn = connect(app.config["DATABASE"])
    yield conn
    conn.close()


@pytest.fixture
def api_headers():
    return {"Authorization": f"Bearer {API_KEY}"}


@pytest.fixture
def admin_headers():
    return {"Authorization": f"Bearer {ADMIN_KEY}"}


def seed_session(conn, session_id: str, texts, *, day: str = "2026-12-03") -> None:
    """Store a session and its messages straight through SQL (fast bulk data
    for backup and maintenance tests)."""
    conn.execute("INSERT INTO web_chat_sessions (id, created_at, last_active) VALUES (?, ?, ?)",
                 (session_id, f"{day} 11:00:00", f"{day} 11:00:00"))
    conn.executemany("INSERT INTO web_chat_messages (session_id, message, timestamp)"
                     " VALUES (?, ?, ?)",
                     [(session_id, text, f"{day}T11:00:00.000Z") for text in texts])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """``webchat-bridge serve`` in a subprocess, on 127.0.0.1 and a free port."""

    def __init__(self, workdir: Path, *, workers: int = 2, env: dict | None = None,
                 port: int | None = None):
        self.workdir = workdir
        self.workers = workers
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.database = str(workdir / "db" / "web_chat_bridge.db")
        self.env = {
            **os.environ,
            "WEB_CHAT_DATABASE_PATH": self.database,
            "WEB_CHAT_LOG_PATH": str(workdir / "logs"),
            "WEB_CHAT_API_KEY": API_KEY,
            "WEB_CHAT_ADMIN_KEY": ADMIN_KEY,
            **(env or {}),
        }
        self.proc: subprocess.Popen | None = None
        self.output = workdir / "server.log"

    def start(self, timeout: float = 20.0) -> "LiveServer":
        self.workdir.mkdir(parents=True, exist_ok=True)
        log = open(self.output, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "webchat_bridge", "serve", "--host", "127.0.0.1",
             "--port", str(self.port), "--workers", str(self.workers)],
            cwd=self.workdir, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.output.read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("server did not start in time")

    def stop(self, sig=None) -> None:
        import signal

        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, sig or signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)


@pytest.fixture
def live_server(tmp_path):
    server = LiveServer(tmp_path / "server").start()
    yield server
    server.stop()


@pytest.fixture
def live_server_factory(tmp_path):
    """Start servers with custom settings: ``live_server_factory(env={...})``."""
    started = []

    def start(**kwargs) -> LiveServer:
        name = f"server{len(started)}"
        server = LiveServer(tmp_path / name, **kwargs).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
