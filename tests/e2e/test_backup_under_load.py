"""A backup taken while another process keeps writing through the data layer."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
import time

from tests.conftest import seed_session
from webchat_bridge.backup import backup_database
from webchat_bridge.db import open_database

WRITER = textwrap.dedent("""
    import sys, time
    from webchat_bridge.db import open_database, transaction, messages, sessions
    from webchat_bridge.timefmt import iso_ms, utcnow

    path, seconds = sys.argv[1], float(sys.argv[2])
    db = open_database(path)
    with transaction(db):
        sessions.create(db, "session_writer", uid=None, ip_address="127.0.0.1",
                        now="2026-12-03 11:00:00")
    written = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with transaction(db):
            messages.insert(db, "session_writer", "written under load " + "z" * 300,
                            iso_ms(utcnow()))
        written += 1
        time.sleep(0.002)
    db.close()
    print(written)
""")


def ids(path):
    conn = sqlite3.connect(path)
    try:
        return {r[0] for r in conn.execute("SELECT id FROM web_chat_messages")}
    finally:
        conn.close()


def max_id(path):
    conn = sqlite3.connect(path, timeout=30)
    try:
        return conn.execute("SELECT COALESCE(MAX(id), 0) FROM web_chat_messages").fetchone()[0]
    finally:
        conn.close()


def test_backup_while_another_process_writes(tmp_path):
    database = str(tmp_path / "db" / "web_chat_bridge.db")
    conn = open_database(database)
    seed_session(conn, "bulk", [f"{i} " + "b" * 600 for i in range(20000)])  # ~15 MB
    conn.close()

    writer = subprocess.Popen([sys.executable, "-c", WRITER, database, "6"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 15
        while max_id(database) < 20050:
            assert writer.poll() is None, writer.stderr.read()
            assert time.monotonic() < deadline, "the writer did not start"
            time.sleep(0.05)
        # Two backups under the same load: one step by step (each commit by the
        # writer restarts it), one forced onto the one-step path that ends the
        # stepwise copy when it runs over its budget.
        taken = []
        for pages, budget in ((16, 5.0), (16, 0.0)):
            committed_before = ids(database)
            started = time.monotonic()
            result = backup_database(database, str(tmp_path / "backups"), pages_per_step=pages,
                                     stepwise_budget=budget, progress=False)
            elapsed = time.monotonic() - started
            taken.append((result, committed_before, elapsed, max_id(database)))
        out, err = writer.communicate(timeout=30)
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.wait()
    assert writer.returncode == 0, err
    assert int(out) > 100
    assert taken[1][0].one_step  # the file has far more than 16 pages
    assert taken[1][3] > max(taken[0][1])  # the writer was not held up by the backups
    for result, committed_before, elapsed, _ in taken:
        assert elapsed < 20
        check_backup(result.path, committed_before, database)


def check_backup(path, committed_before, database):
    backup = sqlite3.connect(path)
    assert backup.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    backup.close()
    in_backup = ids(path)
    assert committed_before <= in_backup
    assert in_backup <= ids(database)  # nothing invented
