"""The command line: the commands this module owns and their error paths
(one line, a non-zero exit, no traceback)."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest
from click.testing import CliRunner

from webchat_bridge.cli import cli
from webchat_bridge.echo_agent import BridgeError, EchoAgent


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.delenv("WEB_CHAT_API_KEY", raising=False)
    monkeypatch.delenv("WEB_CHAT_ADMIN_KEY", raising=False)
    database = str(tmp_path / "db" / "bridge.db")

    def invoke(*args):
        return CliRunner().invoke(cli, ["--database", database, *args], catch_exceptions=False)

    invoke.database = database
    return invoke


def test_init_db_creates_then_reports_nothing_to_do(run):
    first = run("init-db")
    assert first.exit_code == 0
    assert "Created" in first.output and "api_key:" in first.output
    second = run("init-db")
    assert second.exit_code == 0
    assert "already at schema version 1; nothing to do" in second.output
    assert "api_key:" not in second.output


@pytest.mark.parametrize("command", [["keys"], ["cleanup"], ["echo-agent", "--once"]])
def test_commands_refuse_a_missing_database_instead_of_creating_one(run, tmp_path, command):
    result = run(*command)
    assert result.exit_code == 1
    assert "no database at" in result.output and "init-db" in result.output
    assert not (tmp_path / "db").exists()


def test_keys_shows_and_rotates(run):
    run("init-db")
    shown = run("keys")
    assert shown.exit_code == 0 and "[database]" in shown.output
    old = [line.split()[1] for line in shown.output.splitlines() if line.startswith("api_key:")][0]
    rotated = run("keys", "--rotate", "api")
    assert rotated.exit_code == 0 and old not in rotated.output
    assert old not in run("keys").output


def test_keys_refuses_to_rotate_a_pinned_key(run, monkeypatch):
    run("init-db")
    monkeypatch.setenv("WEB_CHAT_ADMIN_KEY", "pinned-admin-key-123")
    result = run("keys", "--rotate", "admin")
    assert result.exit_code == 1 and "WEB_CHAT_ADMIN_KEY" in result.output


def test_not_a_database_is_one_line_naming_the_file(run, tmp_path):
    bogus = tmp_path / "notes.txt"
    bogus.write_text("hello, this is not SQLite " * 100)
    result = CliRunner().invoke(cli, ["--database", str(bogus), "keys"])
    assert result.exit_code == 1
    assert str(bogus) in result.output and "Traceback" not in result.output


def test_serve_refuses_a_port_in_use_before_printing_anything(run):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run("serve", "--port", str(port))
    assert result.exit_code == 1
    assert "already in use" in result.output and "chat page" not in result.output


def test_echo_agent_once_fails_loudly(run):
    run("init-db")
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    unreachable = run("echo-agent", "--once", "--url", f"http://127.0.0.1:{port}")
    assert unreachable.exit_code == 1 and "unreachable" in unreachable.output
    bad_url = run("echo-agent", "--once", "--url", "notaurl")
    assert bad_url.exit_code == 1 and "http://" in bad_url.output


def test_echo_agent_picks_up_a_rotated_key():
    answers = {"old": {"success": False, "error": "Invalid or missing API key", "code": 401},
               "new": {"success": True, "data": {"messages": []}}}
    agent = EchoAgent("http://127.0.0.1:1", "old", reload_key=lambda: "new", log=lambda _: None)
    agent._call = lambda method, query, body: answers[agent.key]
    assert agent.poll_once() == 0 and agent.key == "new"
    stuck = EchoAgent("http://127.0.0.1:1", "old", log=lambda _: None)
    stuck._call = lambda method, query, body: answers["old"]
    with pytest.raises(BridgeError):
        stuck.poll_once()


def test_errors_never_show_a_traceback(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "webchat_bridge", "--database", str(tmp_path / "missing.db"), "keys"],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and "Traceback" not in result.stderr
