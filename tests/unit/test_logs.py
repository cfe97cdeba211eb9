"""The log (logs.py): line format, rotation and pruning, and no keys in it."""

from __future__ import annotations

import json
import logging
import os
import re
import time
from calendar import timegm
from pathlib import Path

import pytest

from webchat_bridge import create_app, logs

LINE = re.compile(
    r"^\[\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\] \[(DEBUG|INFO|WARNING|ERROR|CRITICAL)\] (.+)$")


def read_log(folder) -> str:
    for handler in logging.getLogger(logs.LOGGER_NAME).handlers:
        handler.flush()
    path = folder / logs.LOG_FILE
    return path.read_text("utf-8") if path.exists() else ""


def record(message, level=logging.INFO, context=None, when="2025-06-01 12:34:56"):
    rec = logging.LogRecord(logs.LOGGER_NAME, level, __file__, 1, message, None, None)
    rec.created = timegm(time.strptime(when, "%Y-%m-%d %H:%M:%S"))
    rec.msecs = 0
    if context is not None:
        rec.context = context
    return rec


# -- format ----------------------------------------------------------------------

def test_line_format_with_context():
    line = logs.LineFormatter().format(
        record("API Request: GET /api/inbox", context={"status_code": 200, "ip": "127.0.0.1",
                                                       "text": "é"}))
    assert line == ('[2025-06-01 12:34:56] [INFO] API Request: GET /api/inbox '
                    '{"ip": "127.0.0.1", "status_code": 200, "text": "é"}')


def test_line_format_without_context_and_in_utc(monkeypatch):
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        line = logs.LineFormatter().format(record("Cleanup", logging.WARNING, context=None))
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    assert line == "[2025-06-01 12:34:56] [WARNING] Cleanup"


def test_events_reach_the_file(tmp_path):
    logs.configure(str(tmp_path))
    logs.event(logging.INFO, "Automatic cleanup", cleaned_count=3)
    logs.event(logging.ERROR, "Something failed")
    lines = read_log(tmp_path).splitlines()
    assert len(lines) == 2
    first, second = (LINE.match(line) for line in lines)
    assert first and second
    assert first.group(1) == "INFO" and first.group(2) == 'Automatic cleanup {"cleaned_count": 3}'
    assert second.group(1) == "ERROR" and second.group(2) == "Something failed"


def test_configure_is_idempotent_per_folder(tmp_path):
    logs.configure(str(tmp_path / "a"))
    logs.configure(str(tmp_path / "a"))
    handlers = [h for h in logging.getLogger(logs.LOGGER_NAME).handlers
                if getattr(h, "baseFilename", None)]
    assert len(handlers) == 1
    logs.configure(str(tmp_path / "b"))
    logs.event(logging.INFO, "to b")
    assert "to b" in read_log(tmp_path / "b")
    assert "to b" not in read_log(tmp_path / "a")


def test_log_dir_default_and_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("WEB_CHAT_LOG_PATH", raising=False)
    assert logs.log_dir() == Path.cwd() / "logs"
    monkeypatch.setenv("WEB_CHAT_LOG_PATH", str(tmp_path / "elsewhere"))
    assert logs.log_dir() == tmp_path / "elsewhere"
    assert logs.log_dir(str(tmp_path / "given")) == tmp_path / "given"


# -- rotate_and_prune ----------------------------------------------------------------

def test_rotate_and_prune_reports_real_figures(tmp_path):
    logs.configure(str(tmp_path))
    logs.event(logging.INFO, "first line")
    current = tmp_path / logs.LOG_FILE
    with open(current, "a", encoding="utf-8") as fh:
        fh.write("x" * (1536 * 1024))  # 1.5 MB of earlier lines
    size = current.stat().st_size
    old = tmp_path / f"{logs.LOG_FILE}.1"
    recent = tmp_path / f"{logs.LOG_FILE}.2"
    old.write_text("old\n" * 1000)
    recent.write_text("recent\n" * 100)
    now = time.time()
    os.utime(old, (now - 40 * 86400, now - 40 * 86400))
    os.utime(recent, (now - 5 * 86400, now - 5 * 86400))

    figures = logs.rotate_and_prune(str(tmp_path))

    # Rolled over: the current file is new and empty, the old content is .1;
    # the 40-day-old backup went, the 5-day-old one stayed.
    backups = sorted(p.name for p in tmp_path.glob(logs.LOG_FILE + ".*")
                     if not p.name.endswith(".lock"))
    assert len(backups) == 2
    assert (tmp_path / f"{logs.LOG_FILE}.1").stat().st_size == size
    assert all("old\n" not in p.read_text() for p in tmp_path.glob(logs.LOG_FILE + ".*")
               if not p.name.endswith(".lock"))
    current_size = current.stat().st_size if current.exists() else 0
    total = current_size + sum((tmp_path / name).stat().st_size for name in backups)
    assert figures == {
        "current_log_size_mb": round(current_size / 1048576, 2),
        "backup_files_count": 2,
        "total_log_size_mb": round(total / 1048576, 2),
        "retention_days": 30,
        "max_size_mb": 100,
        "removed_files_count": 1,
        "rotated": True,
    }
    assert figures["total_log_size_mb"] >= 1.46
    # Logging goes on in the new file.
    logs.event(logging.INFO, "after rotation")
    assert read_log(tmp_path).strip().endswith("after rotation")


def test_pressing_cleanup_again_and_again_erases_no_recent_events(tmp_path):
    logs.configure(str(tmp_path))
    logs.event(logging.WARNING, "All data cleared")
    for _ in range(5):
        figures = logs.rotate_and_prune(str(tmp_path))
        assert figures["rotated"] is False
    assert "All data cleared" in read_log(tmp_path)


def test_an_empty_log_is_not_rolled_over(tmp_path):
    logs.configure(str(tmp_path))
    figures = logs.rotate_and_prune(str(tmp_path))
    assert figures["backup_files_count"] == 0
    assert figures["removed_files_count"] == 0
    assert figures["total_log_size_mb"] == 0


def test_backups_are_capped(tmp_path, monkeypatch):
    monkeypatch.setattr(logs, "ROTATE_AT_LEAST", 1)
    logs.configure(str(tmp_path))
    for n in range(logs.BACKUP_COUNT + 2):
        logs.event(logging.INFO, f"line {n}")
        logs.rotate_and_prune(str(tmp_path))
    backups = [p for p in tmp_path.glob(logs.LOG_FILE + ".*") if not p.name.endswith(".lock")]
    assert len(backups) == logs.BACKUP_COUNT


# -- no keys in the log ----------------------------------------------------------------

@pytest.fixture
def unpinned_app(tmp_path):
    """An app whose keys are generated and stored, so that config can change them."""
    return create_app({
        "TESTING": True,
        "DATABASE": str(tmp_path / "db" / "bridge.db"),
        "LOG_PATH": str(tmp_path / "logs"),
        "ENVIRON": {},
        "AUTO_CLEANUP": False,
        "ACCESS_LOG": True,
    })


def test_no_key_ever_reaches_the_log(unpinned_app, tmp_path):
    generated = unpinned_app.config["GENERATED_KEYS"]
    api_key, admin_key = generated["api_key"], generated["admin_key"]
    new_api, new_admin = "rotated-api-key-" + "a" * 20, "rotated-admin-key-" + "b" * 20
    wrong = "wrong-key-" + "c" * 20
    client = unpinned_app.test_client()
    api = {"Authorization": f"Bearer {api_key}"}
    admin = {"Authorization": f"Bearer {admin_key}"}

    r = client.post("/api/v1/?action=messages", json={"session_id": "s1", "message": "hi"})
    message_id = r.get_json()["data"]["message_id"]
    client.get("/api/v1/?action=inbox", headers=api)
    client.post("/api/v1/outbox", headers=api,
                json={"session_id": "s1", "response": "hello", "message_id": message_id})
    client.get("/api/v1/?action=inbox", headers={"Authorization": f"Bearer {wrong}"})
    client.get("/api/v1/?action=sessions", headers=admin)
    client.get("/api/v1/?action=sessions", headers={"Authorization": f"Bearer {api_key}"})
    client.get("/api/v1/?action=config", headers=admin)
    assert client.post("/api/v1/?action=config", headers=admin,
                       json={"api_key": new_api, "session_timeout": 900}).status_code == 200
    client.post("/api/v1/?action=config", headers=admin, json={"admin_key": "bad key"})
    assert client.post("/api/v1/?action=config", headers=admin,
                       json={"admin_key": new_admin}).status_code == 200
    client.get("/api/v1/?action=inbox", headers={"Authorization": f"Bearer {new_api}"})
    client.get("/api/v1/stats", headers={"Authorization": f"Bearer {new_admin}"})
    client.post("/api/v1/cleanup", headers={"Authorization": f"Bearer {new_admin}"})

    text = read_log(tmp_path / "logs")
    lines = text.splitlines()
    # The log did record these requests, one well-formed line each.
    assert sum("API Request" in line for line in lines) >= 13
    assert "Configuration updated" in text
    assert all(LINE.match(line) for line in lines), lines
    for key in (api_key, admin_key, new_api, new_admin, wrong):
        assert key not in text
        assert key[:12] not in text
    assert "Bearer" not in text and "Authorization" not in text
    for line in lines:
        if "API Request" in line:
            context = json.loads(line[line.index("{"):])
            assert {"endpoint", "method", "ip", "status_code", "duration_ms"} <= set(context)


def test_the_log_is_not_served(app, client):
    from webchat_bridge import logs as logmod

    logmod.event(logging.INFO, "secret-ish line")
    for url in ("/logs/api.log", "/api.log", "/api/v1/logs/api.log", "/static/../logs/api.log",
                "/widget/../logs/api.log"):
        response = client.get(url)
        assert response.status_code in (400, 404), url
        assert b"secret-ish line" not in response.get_data()


def test_background_writer_loses_no_line_across_a_fork(tmp_path):
    """serve moves writes to a thread per worker process; every line queued
    before a process exits reaches the file."""
    logs.configure(str(tmp_path))
    logs.write_in_background()
    try:
        pid = os.fork()
        if pid == 0:  # a forked worker, as gunicorn makes them
            try:
                for n in range(200):
                    logs.event(logging.INFO, f"worker line {n}")
            finally:
                logging.getLogger(logs.LOGGER_NAME).handlers[0].flush_and_stop()
                os._exit(0)
        os.waitpid(pid, 0)
        for n in range(100):
            logs.event(logging.INFO, f"master line {n}")
    finally:
        for handler in logging.getLogger(logs.LOGGER_NAME).handlers:
            if isinstance(handler, logs.BackgroundWriter):
                handler.flush_and_stop()
    text = read_log(tmp_path)
    assert text.count("worker line") == 200 and text.count("master line") == 100
    assert all(line.startswith("[") for line in text.splitlines())
