"""backup: consistent copies, the temporary name, pruning, interruptions."""

from __future__ import annotations

import os
import re
import sqlite3
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner

from tests.conftest import seed_session
from webchat_bridge import backup as backup_mod
from webchat_bridge.backup import BACKUP_NAME, BackupError, backup_database, backups_in
from webchat_bridge.cli import cli
from webchat_bridge.db import maintenance, open_database

T0 = datetime(2026, 12, 3, 11, 45, 0, tzinfo=timezone.utc)


@pytest.fixture
def database(tmp_path):
    path = str(tmp_path / "db" / "web_chat_bridge.db")
    conn = open_database(path)
    seed_session(conn, "s", [f"message {i} " + "x" * 200 for i in range(500)])
    conn.close()
    return path


def count(path, table="web_chat_messages"):
    conn = sqlite3.connect(path)
    try:
        return conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
    finally:
        conn.close()


def listing(directory):
    return sorted(os.listdir(directory))


def test_backup_is_a_complete_sound_single_file(database, tmp_path):
    out = tmp_path / "out"
    result = backup_database(database, str(out), now=T0)
    assert os.path.basename(result.path) == "web_chat_bridge-20261203T114500Z.db"
    assert listing(out) == ["web_chat_bridge-20261203T114500Z.db"]  # no -wal, no temp
    conn = sqlite3.connect(result.path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    conn.close()
    assert count(result.path) == 500
    assert result.size == os.path.getsize(result.path)
    assert os.stat(result.path).st_mode & 0o777 == 0o600  # it holds the keys


def test_written_under_a_temporary_name_then_renamed(database, tmp_path, monkeypatch):
    out = tmp_path / "out"
    seen = []
    original = maintenance.integrity_check

    def spy(db):
        seen.append(listing(out))
        return original(db)

    monkeypatch.setattr(maintenance, "integrity_check", spy)
    result = backup_database(database, str(out), now=T0)
    (during,) = seen
    assert len(during) == 1 and re.match(r"^\.tmp-web_chat_bridge-20261203T114500Z-\d+\.db$",
                                          during[0])
    assert not any(BACKUP_NAME.match(name) for name in during)
    assert listing(out) == [os.path.basename(result.path)]


@pytest.mark.parametrize("failure", [KeyboardInterrupt, RuntimeError])
def test_an_interrupted_backup_leaves_no_finished_looking_file(database, tmp_path,
                                                               monkeypatch, failure):
    out = tmp_path / "out"
    original = maintenance.copy_pages

    def interrupted(source, dest, *, pages, progress=None):
        def stop_halfway(status, remaining, total):
            if remaining < total // 2:
                raise failure()
        original(source, dest, pages=4, progress=stop_halfway)

    monkeypatch.setattr(maintenance, "copy_pages", interrupted)
    with pytest.raises(failure):
        backup_database(database, str(out), now=T0)
    assert listing(out) == []


def test_a_copy_failing_its_integrity_check_is_not_kept(database, tmp_path, monkeypatch):
    out = tmp_path / "out"
    monkeypatch.setattr(maintenance, "integrity_check", lambda db: ["page 3: corrupt"])
    with pytest.raises(BackupError, match="integrity check"):
        backup_database(database, str(out), now=T0)
    assert listing(out) == []


def test_keep_prunes_only_its_own_older_backups(database, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    older = [f"web_chat_bridge-{(T0 - timedelta(days=d)).strftime('%Y%m%dT%H%M%SZ')}.db"
             for d in range(1, 6)]
    strangers = ["web_chat_bridge-manual.db", "notes.txt", "web_chat_bridge-20200101T000000Z.db.bak",
                 "other-20200101T000000Z.db", "web_chat_bridge-20200101T000000Z.sqlite"]
    for name in older + strangers:
        (out / name).write_bytes(b"x")
    result = backup_database(database, str(out), keep=3, now=T0)
    assert backups_in(str(out)) == [os.path.basename(result.path), older[0], older[1]]
    assert sorted(result.removed) == sorted(older[2:])
    for name in strangers:
        assert (out / name).exists()


def test_two_backups_in_the_same_second_both_survive_in_order(database, tmp_path):
    out = str(tmp_path / "out")
    first = backup_database(database, out, now=T0)
    second = backup_database(database, out, now=T0)
    assert os.path.basename(second.path) == "web_chat_bridge-20261203T114500Z-2.db"
    assert backups_in(out) == [os.path.basename(second.path), os.path.basename(first.path)]
    third = backup_database(database, out, keep=1, now=T0)
    assert backups_in(out) == [os.path.basename(third.path)]


def test_stale_temporaries_of_dead_processes_are_cleared(database, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    dead = 2 ** 22 + 12345  # above the usual pid_max: no such process
    stale = out / f".tmp-web_chat_bridge-20261201T000000Z-{dead}.db"
    live = out / f".tmp-web_chat_bridge-20261201T000000Z-{os.getpid()}.db"
    stale.write_bytes(b"half")
    live.write_bytes(b"in progress")
    backup_database(database, str(out), now=T0)
    assert not stale.exists()
    assert live.exists()


def test_falls_back_to_one_step_when_the_stepwise_copy_runs_over(database, tmp_path):
    result = backup_database(database, str(tmp_path / "out"), pages_per_step=1,
                             stepwise_budget=0.0, now=T0)
    assert result.one_step
    assert count(result.path) == 500


def test_missing_database(tmp_path):
    with pytest.raises(BackupError, match="no such database"):
        backup_database(str(tmp_path / "none.db"), str(tmp_path / "out"))


def test_cli_backup_default_dir_and_keep(database):
    runner = CliRunner()
    for _ in range(3):
        result = runner.invoke(cli, ["-d", database, "backup", "--keep", "2"])
        assert result.exit_code == 0, result.output
        assert "Backup written:" in result.output and "integrity ok" in result.output
    folder = os.path.join(os.path.dirname(database), "backups")
    assert len(backups_in(folder)) == 2


def test_cli_backup_errors_are_one_line(tmp_path):
    result = CliRunner().invoke(cli, ["-d", str(tmp_path / "none.db"), "backup"])
    assert result.exit_code == 1
    assert result.output.strip().count("\n") == 0 and "no such database" in result.output
    assert not (tmp_path / "none.db").exists()


def test_cli_backup_into_an_unwritable_place_is_one_line(database, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = CliRunner().invoke(cli, ["-d", database, "backup", "--dir", str(blocker / "sub")])
    assert result.exit_code == 1
    assert "Traceback" not in result.output and result.output.strip().count("\n") == 0


def test_module_names_the_pattern_it_prunes():
    assert BACKUP_NAME.match("web_chat_bridge-20261203T114500Z.db")
    assert BACKUP_NAME.match("web_chat_bridge-20261203T114500Z-3.db")
    assert not BACKUP_NAME.match(".tmp-web_chat_bridge-20261203T114500Z-77.db")
    assert not BACKUP_NAME.match("web_chat_bridge-20261203T114500Z.db-wal")
    assert backup_mod.default_backup_dir("/srv/db/x.db") == os.path.join("/srv/db", "backups")


def test_backup_refuses_a_file_that_is_not_a_bridge_database(tmp_path):
    from tests.php_fixtures import sample_php_db

    php = sample_php_db(tmp_path / "php.db")
    with pytest.raises(BackupError, match="not a webchat-bridge database"):
        backup_database(str(php), str(tmp_path / "out"))
    assert not (tmp_path / "out").exists()
    junk = tmp_path / "junk.db"
    junk.write_text("not sqlite " * 200)
    with pytest.raises(BackupError, match="not an SQLite database"):
        backup_database(str(junk), str(tmp_path / "out"))
