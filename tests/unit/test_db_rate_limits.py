"""rate_limits (db/rate_limits.py): one row per client, endpoint and window."""

from __future__ import annotations

import threading
import time

from webchat_bridge.db import connect, rate_limits

W1 = "2025-06-01 12:00:00"
W2 = "2025-06-01 12:01:00"


def test_hits_count_per_window(conn):
    assert [rate_limits.hit(conn, "1.2.3.4", "messages", W1) for _ in range(3)] == [1, 2, 3]
    assert rate_limits.hit(conn, "1.2.3.4", "messages", W2) == 1
    assert rate_limits.hit(conn, "1.2.3.4", "responses", W1) == 1
    assert rate_limits.hit(conn, "5.6.7.8", "messages", W1) == 1
    assert rate_limits.hit(conn, "1.2.3.4", "messages", W1) == 4
    assert rate_limits.count_rows(conn) == 4
    row = conn.execute(
        "SELECT count FROM rate_limits WHERE ip_address = '1.2.3.4' AND endpoint = 'messages'"
        " AND window_start = ?", (W1,)).fetchone()
    assert row[0] == 4


def test_prune_forgets_older_windows(conn):
    rate_limits.hit(conn, "a", "messages", "2025-06-01 11:58:00")
    rate_limits.hit(conn, "a", "messages", W1)
    rate_limits.hit(conn, "b", "messages", W2)
    assert rate_limits.prune(conn, W1) == 1
    assert rate_limits.count_rows(conn) == 2
    assert rate_limits.prune(conn, W1) == 0
    # A pruned window starts again from one.
    assert rate_limits.hit(conn, "a", "messages", W1) == 2


def test_concurrent_hits_share_one_row(path):
    per_thread, threads = 50, 3
    errors = []
    start = threading.Barrier(threads)

    def widen_the_race(sql: str) -> None:
        # Pause between finding no row and creating it, so that without one
        # transaction around both two workers would each create one.
        if sql.startswith("INSERT INTO rate_limits"):
            time.sleep(0.02)

    def run():
        c = connect(path)
        c.set_trace_callback(widen_the_race)
        try:
            start.wait()
            for _ in range(per_thread):
                rate_limits.hit(c, "1.2.3.4", "messages", W1)
        except BaseException as exc:
            errors.append(exc)
        finally:
            c.close()

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join(30)
    assert not errors
    c = connect(path)
    try:
        rows = c.execute("SELECT count FROM rate_limits").fetchall()
        assert [r[0] for r in rows] == [per_thread * threads]
    finally:
        c.close()
