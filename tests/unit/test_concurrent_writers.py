"""Three separate processes write the same file through the data layer in a
tight loop for five seconds: no "database is locked", nothing lost, nothing
claimed twice, and time order agrees with id order."""

from __future__ import annotations

import json
import subprocess
import sys
import time

from webchat_bridge.db import connect, open_database

SECONDS = 5.0
PROCESSES = 3

# Each process posts visitor messages, claims from the shared inbox, answers
# what it claimed and polls for answers, and prints what it did as JSON.
WORKER = r"""
import json, sys, time, traceback
from webchat_bridge import conversations
from webchat_bridge.db import connect, messages

path, name, start, stop = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
done = {"posted": [], "claimed": [], "answered": [], "errors": []}
conn = connect(path)
while time.time() < start:
    time.sleep(0.005)
k = 0
while time.time() < stop:
    try:
        # Sessions of its own, and new sessions that every process creates
        # at about the same moment.
        sid = f"{name}_{k % 7}" if k % 3 else f"shared_{k // 30}"
        posted = conversations.post_message(conn, sid, f"{name} says {k}", ip_address="127.0.0.1")
        done["posted"].append(posted.message_id)
        if k % 2 == 0:
            rows, _ = messages.claim(conn, limit=5)
            for row in rows:
                done["claimed"].append(row["id"])
                answer = conversations.post_response(
                    conn, row["session_id"], f"{name} answers {row['id']}", message_id=row["id"])
                done["answered"].append(answer.response_id)
        conversations.poll_responses(conn, sid)
    except Exception:
        done["errors"].append(traceback.format_exc())
    k += 1
conn.close()
print(json.dumps(done))
"""


def test_processes_writing_at_once(tmp_path):
    path = str(tmp_path / "db" / "bridge.db")
    open_database(path).close()
    start = time.time() + 1.5  # time for every interpreter to start
    stop = start + SECONDS
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, path, f"p{n}", str(start), str(stop)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for n in range(PROCESSES)
    ]
    results = []
    try:
        for proc in procs:
            out, err = proc.communicate(timeout=SECONDS + 60)
            assert proc.returncode == 0, err
            results.append(json.loads(out))
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()

    errors = [e for r in results for e in r["errors"]]
    assert errors == [], errors[0]

    posted = [i for r in results for i in r["posted"]]
    claimed = [i for r in results for i in r["claimed"]]
    answered = [i for r in results for i in r["answered"]]
    # Every process made real progress, and every one got ids of its own.
    assert all(len(r["posted"]) > 20 for r in results), [len(r["posted"]) for r in results]
    assert len(set(posted)) == len(posted)
    assert len(set(claimed)) == len(claimed), "a message was claimed twice"
    assert len(set(answered)) == len(answered)
    assert set(claimed) <= set(posted)

    conn = connect(path)
    try:
        stored = conn.execute(
            "SELECT id, session_id, timestamp, processed FROM web_chat_messages ORDER BY id"
        ).fetchall()
        assert [r["id"] for r in stored] == sorted(posted)
        assert {r["id"] for r in stored if r["processed"]} == set(claimed)
        stamps = [r["timestamp"] for r in stored]
        assert stamps == sorted(stamps)

        replies = conn.execute(
            "SELECT r.id, r.timestamp, r.message_id, r.session_id, m.session_id AS asked_in"
            " FROM web_chat_responses r LEFT JOIN web_chat_messages m ON m.id = r.message_id"
            " ORDER BY r.id"
        ).fetchall()
        assert [r["id"] for r in replies] == sorted(answered)
        assert sorted(r["message_id"] for r in replies) == sorted(claimed)
        assert all(r["session_id"] == r["asked_in"] for r in replies)
        stamps = [r["timestamp"] for r in replies]
        assert stamps == sorted(stamps)

        sessions = {r[0] for r in conn.execute("SELECT id FROM web_chat_sessions")}
        assert sessions == {r["session_id"] for r in stored}
        assert {f"p{n}_1" for n in range(PROCESSES)} <= sessions
        assert sum(s.startswith("shared_") for s in sessions) > 1
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()
    print(f"{len(posted)} messages, {len(claimed)} claims, {len(answered)} responses "
          f"from {PROCESSES} processes in {SECONDS:.0f} s")
