"""SIGKILL of the whole server in the middle of the load, then a restart on the
same database: what was acknowledged survives, and the inbox bookkeeping holds.

Messages and answers acknowledged with a 200 were committed before the answer
left (synchronous=NORMAL in WAL keeps every commit across a crash of the
process). An inbox call that was in flight at the kill may have committed its
claim without its answer reaching the poller: those messages are marked
processed and are not offered again, which is the price of claim-on-read
(CONTRACT §5) and is bounded by one batch per poller.
"""

from __future__ import annotations

import collections
import signal
import sqlite3
import time

import pytest
import requests

from tests.e2e.test_concurrency import LOCKED, Load, server_log_text

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

LOAD_SECONDS = 8.0
MAX_BATCH = 50


def rows(database: str, sql: str) -> list[tuple]:
    conn = sqlite3.connect(database, timeout=30)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_sigkill_mid_load_loses_nothing_acknowledged(live_server_factory):
    server = live_server_factory(workers=4, env={"WEB_CHAT_RATE_LIMITS": "off"})
    load = Load(server.url).start()
    time.sleep(LOAD_SECONDS)
    killed_at = time.monotonic()
    server.stop(signal.SIGKILL)
    load.stop()

    assert len(load.accepted) >= 50, load.requests
    # The kill cut requests short (it hit the server mid-load), and nothing
    # failed before it.
    assert load.transport_errors
    assert all(at >= killed_at for at, _ in load.transport_errors), load.transport_errors[:5]
    assert not load.server_errors, load.server_errors[:5]
    assert not load.locked, load.locked[:5]

    # The file, read directly before anything else opens it.
    assert rows(server.database, "PRAGMA integrity_check") == [("ok",)]
    stored = {i: (s, m, p) for i, s, m, p in rows(
        server.database, "SELECT id, session_id, message, processed FROM web_chat_messages")}
    for message_id, (session_id, text) in load.accepted.items():
        assert message_id in stored, f"acknowledged message {message_id} is gone"
        assert stored[message_id][:2] == (session_id, text)
    before = load.all_delivered()
    assert not [i for i, c in before.items() if c > 1], "delivered twice before the kill"
    for message_id in before:
        assert stored[message_id][2] == 1, f"delivered message {message_id} is unprocessed"
    responses = {i: (s, m) for i, s, m in rows(
        server.database, "SELECT id, session_id, message_id FROM web_chat_responses")}
    for response_id, answer in load.answered.items():
        assert responses.get(response_id) == answer, f"acknowledged answer {response_id} is gone"
    waiting = {i for i, (_, _, p) in stored.items() if p == 0}

    # Restart on the same file: what was waiting is delivered, once, and only it.
    server.start()
    after = collections.Counter(load.drain("after restart"))
    assert not [i for i, c in after.items() if c > 1], "delivered twice after the restart"
    assert set(after) == waiting
    assert not set(after) & set(before), "delivered again after the restart"

    # Claimed by an inbox call the kill cut short: processed, never seen by a
    # poller. At most one batch per poller can be in that state.
    lost_in_flight = set(load.accepted) - set(before) - set(after)
    assert len(lost_in_flight) <= MAX_BATCH * load.counts["pollers"], len(lost_in_flight)
    assert all(stored[i][2] == 1 for i in lost_in_flight)
    print(f"{len(load.accepted)} messages and {len(load.answered)} answers acknowledged before "
          f"the kill; {len(waiting)} waiting, delivered after the restart; "
          f"{len(lost_in_flight)} claimed by inbox calls the kill cut short")

    # The restarted server works normally, on a consistent file.
    r = requests.post(f"{server.url}/api/v1/messages", timeout=30,
                      json={"session_id": "after-restart", "message": "Still here?"})
    assert r.status_code == 200, r.text
    assert load.drain("new") == [r.json()["data"]["message_id"]]
    server.stop()
    assert rows(server.database, "PRAGMA integrity_check") == [("ok",)]
    assert LOCKED not in server_log_text(server)
