"""Cleanup on demand and the piggybacked automatic run (housekeeping.py)."""

from __future__ import annotations

from datetime import datetime, timezone

from webchat_bridge import housekeeping, timefmt
from webchat_bridge.db import connect, rate_limits, sessions
from webchat_bridge.settings import Settings

START = datetime(2025, 6, 1, 12, 0, 0, tzinfo=timezone.utc)


def settings(**stored):
    return Settings({k: str(v) for k, v in stored.items()}, environ={})


def idle_session(conn, sid, seconds):
    sessions.create(conn, sid, uid=None, ip_address=None,
                    now=timefmt.sqlite_seconds(timefmt.ago(START, seconds)))


def test_cleanup_follows_the_session_timeout(conn, clock):
    idle_session(conn, "a", 100)
    idle_session(conn, "b", 700)
    idle_session(conn, "c", 1900)
    assert housekeeping.cleanup(conn, settings()) == 1  # default timeout 1800 s
    assert housekeeping.cleanup(conn, settings(session_timeout=600)) == 1
    assert {r["id"] for r in sessions.page(conn, limit=10, offset=0)} == {"a"}


def test_cleanup_follows_the_answer_grace(conn, clock):
    idle_session(conn, "waiting", 4000)
    conn.execute("INSERT INTO web_chat_messages (session_id, message, timestamp, processed)"
                 " VALUES ('waiting', 'q', ?, 1)",
                 (timefmt.iso_ms(timefmt.ago(START, 4000)),))
    assert housekeeping.cleanup(conn, settings()) == 0  # grace 24 h
    assert housekeeping.cleanup(conn, settings(answer_grace=3600)) == 0  # 1800 + 3600 > 4000
    assert housekeeping.cleanup(conn, settings(answer_grace=2000)) == 1


def test_cleanup_limit(conn, clock):
    for n in range(5):
        idle_session(conn, f"s{n}", 2000 + n)
    assert housekeeping.cleanup(conn, settings(), limit=3) == 3
    assert sessions.count(conn) == 2


def test_prune_rate_limits_keeps_the_current_and_previous_window(conn, clock):
    stamp = lambda ago: timefmt.sqlite_seconds(timefmt.ago(START, ago))  # noqa: E731
    for ago in (0, 60, 119, 121, 600):
        rate_limits.hit(conn, "c", "messages", stamp(ago))
    assert housekeeping.prune_rate_limits(conn, settings()) == 2
    assert rate_limits.count_rows(conn) == 3


def test_auto_cleanup_runs_at_most_once_a_minute_across_processes(path, clock):
    # Two workers, each with its own connection to the same file.
    first, second = connect(path), connect(path)
    try:
        idle_session(first, "old", 4000)
        assert housekeeping.auto_cleanup(first, settings()) == 1
        idle_session(first, "old2", 4000)
        assert housekeeping.auto_cleanup(second, settings()) is None
        clock.advance(30)
        assert housekeeping.auto_cleanup(first, settings()) is None
        assert housekeeping.auto_cleanup(second, settings()) is None
        assert sessions.count(first) == 1
        clock.advance(31)
        results = [housekeeping.auto_cleanup(c, settings()) for c in (second, first)]
        assert results == [1, None]
        assert sessions.count(first) == 0
    finally:
        first.close()
        second.close()


def test_auto_cleanup_is_bounded_and_prunes_rate_limits(conn, clock):
    for n in range(housekeeping.AUTO_BATCH + 5):
        idle_session(conn, f"s{n:04d}", 4000)
    rate_limits.hit(conn, "c", "messages", "2025-06-01 10:00:00")
    assert housekeeping.auto_cleanup(conn, settings()) == housekeeping.AUTO_BATCH
    assert sessions.count(conn) == 5
    assert rate_limits.count_rows(conn) == 0
    clock.advance(61)
    assert housekeeping.auto_cleanup(conn, settings()) == 5
