"""optimize: sizes reported before and after, the database left intact."""

from __future__ import annotations

import hashlib
import sqlite3

import pytest
from click.testing import CliRunner

from tests.conftest import seed_session
from webchat_bridge.backup import BackupError, optimize_database
from webchat_bridge.cli import cli
from webchat_bridge.db import open_database


def content_digest(path):
    conn = sqlite3.connect(path)
    digest = hashlib.sha256()
    for table in ("web_chat_sessions", "web_chat_messages", "web_chat_responses"):
        for row in conn.execute(f"SELECT * FROM {table} ORDER BY id"):
            digest.update(repr(tuple(row)).encode())
    conn.close()
    return digest.hexdigest()


@pytest.fixture
def bloated(tmp_path):
    """A database with most of its rows deleted, and a reader connection kept
    open so its WAL is not folded back when the writer closes."""
    path = str(tmp_path / "db" / "web_chat_bridge.db")
    conn = open_database(path)
    seed_session(conn, "s", ["y" * 1000] * 2000)
    conn.execute("DELETE FROM web_chat_messages WHERE id > 100")
    reader = sqlite3.connect(path)
    reader.execute("SELECT 1 FROM web_chat_sessions").fetchall()
    conn.close()
    yield path
    reader.close()


def test_optimize_shrinks_the_file_and_keeps_every_row(bloated):
    before_digest = content_digest(bloated)
    result = optimize_database(bloated)
    assert result.before.total > 1_000_000
    assert result.before.wal > 0
    assert result.after.wal == 0
    assert result.after.db < result.before.db / 4
    assert content_digest(bloated) == before_digest
    conn = sqlite3.connect(bloated)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("SELECT COUNT(*) FROM web_chat_messages").fetchone()[0] == 100
    assert conn.execute("SELECT COUNT(*) FROM sqlite_stat1").fetchone()[0] > 0  # ANALYZE ran
    conn.close()


def test_cli_optimize_reports_sizes(bloated):
    result = CliRunner().invoke(cli, ["-d", bloated, "optimize"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("Optimized ")
    assert lines[1].lstrip().startswith("before: database ") and "MiB" in lines[1]
    assert lines[2].lstrip().startswith("after:  database ") and "WAL 0 B" in lines[2]


def test_optimize_a_missing_database(tmp_path):
    with pytest.raises(BackupError, match="no such database"):
        optimize_database(str(tmp_path / "none.db"))
    result = CliRunner().invoke(cli, ["-d", str(tmp_path / "none.db"), "optimize"])
    assert result.exit_code == 1 and result.output.strip().count("\n") == 0
    assert not (tmp_path / "none.db").exists()


def test_optimize_refuses_a_php_database_and_leaves_it_alone(tmp_path):
    from tests.php_fixtures import sample_php_db

    php = sample_php_db(tmp_path / "php.db")
    before = php.read_bytes()
    result = CliRunner().invoke(cli, ["-d", str(php), "optimize"])
    assert result.exit_code == 1 and "not a webchat-bridge database" in result.output
    assert result.output.strip().count("\n") == 0
    assert php.read_bytes() == before
