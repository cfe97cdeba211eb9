"""How the data layer's cost grows with the database.

For each size (by default 10k, 100k and 1M messages, ten per session on
average) a database is built with bench/make_big_db.py (kept in bench/data/
and reused while its size matches), copied, and each operation the API
performs is timed on the copy by calling the product's own functions:

* inbox claim of 50        ``messages.claim`` (committed, like the API's)
* sessions page, active    ``sessions.page`` + ``sessions.count``, 50 rows
* sessions page, all       the same with no activity filter
* transcript, big session  ``conversations.transcript`` (2,000 + 2,000 rows)
* responses poll           ``conversations.poll_responses``, a random session
* message insert           ``conversations.post_message``, committed
* auto cleanup (200)       ``housekeeping.cleanup`` bounded as the automatic one
* stats                    the three ``stats`` queries of the ``stats`` action
* full cleanup             ``housekeeping.cleanup`` unbounded, once, at the end

Each is run ``--repeat`` times on a fresh connection; the median and the
slowest run are printed in milliseconds, with the targets for the full size.

Usage: ``python bench/scale.py [--sizes 10000,100000,1000000] [--repeat 20]``
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))
sys.path.insert(0, str(HERE))

import make_big_db  # noqa: E402

from webchat_bridge import conversations, housekeeping, timefmt  # noqa: E402
from webchat_bridge.db import connect, messages, sessions, stats  # noqa: E402
from webchat_bridge.settings import Settings  # noqa: E402

# Targets at the full size (README, "Performance and reliability").
TARGETS_MS = {"inbox claim of 50": 10.0, "sessions page, active": 50.0,
              "sessions page, all": 50.0}


def database_for(messages_wanted: int, *, data: Path, quiet: bool) -> Path:
    """The cached database of that size, built if missing or of another size."""
    sessions_wanted = max(2, messages_wanted // 10)
    path = data / f"scale-{messages_wanted}-v{make_big_db.FORMAT}.db"
    if messages_wanted == 1_000_000 and make_big_db.DEFAULT_OUT.exists():
        path = make_big_db.DEFAULT_OUT
    if path.exists():
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            have = conn.execute("SELECT (SELECT COUNT(*) FROM web_chat_messages),"
                                " (SELECT COUNT(*) FROM web_chat_sessions)").fetchone()
        finally:
            conn.close()
        if have == (messages_wanted, sessions_wanted):
            return path
    print(f"building {path.name} ({sessions_wanted:,} sessions, {messages_wanted:,} messages) …",
          flush=True)
    make_big_db.build(path, sessions=sessions_wanted, messages=messages_wanted, quiet=quiet)
    return path


def timed(fn, repeat: int) -> list[float]:
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - started) * 1000)
    return runs


def measure(path: Path, repeat: int, rng: random.Random) -> dict[str, list[float]]:
    conn = connect(str(path))
    settings = Settings({}, {})
    now = timefmt.utcnow()
    active_since = timefmt.sqlite_seconds(timefmt.ago(now, settings.session_timeout))
    day_ago = timefmt.iso_ms(timefmt.ago(now, 86400))
    ids = [r[0] for r in conn.execute("SELECT id FROM web_chat_sessions")]
    figures: dict[str, list[float]] = {}
    try:
        def claim():
            rows, _total = messages.claim(conn, limit=50)
            assert rows, "the backlog ran dry: lower --repeat"

        figures["inbox claim of 50"] = timed(claim, repeat)
        figures["sessions page, active"] = timed(lambda: (
            sessions.page(conn, limit=50, offset=0, active_since=active_since),
            sessions.count(conn, active_since)), repeat)
        figures["sessions page, all"] = timed(lambda: (
            sessions.page(conn, limit=50, offset=0), sessions.count(conn)), repeat)

        def transcript():
            found = conversations.transcript(conn, make_big_db.BIG_SESSION)
            assert len(found["messages"]) == len(found["responses"]) >= 1000

        figures["transcript, big session"] = timed(transcript, repeat)
        figures["responses poll"] = timed(
            lambda: conversations.poll_responses(conn, rng.choice(ids)), repeat)
        figures["message insert"] = timed(
            lambda: conversations.post_message(conn, rng.choice(ids), "One more question",
                                               ip_address="127.0.0.1"), repeat)
        figures["auto cleanup (200)"] = timed(
            lambda: housekeeping.cleanup(conn, settings, limit=housekeeping.AUTO_BATCH), repeat)
        figures["stats"] = timed(lambda: (
            stats.totals(conn, active_since), stats.response_time(conn, day_ago),
            stats.messages_per_hour(conn, day_ago)), repeat)
        figures["full cleanup"] = timed(lambda: housekeeping.cleanup(conn, settings), 1)
    finally:
        conn.close()
    return figures


def explain(path: Path, size: int) -> list[str]:
    """The query plans of the statements behind the targets, as the product
    runs them (captured with a trace callback, so they cannot drift)."""
    conn = connect(str(path))
    captured: list[str] = []
    now = timefmt.utcnow()
    active_since = timefmt.sqlite_seconds(timefmt.ago(now, 1800))
    lines = [f"-- query plans at {size:,} messages"]
    try:
        conn.set_trace_callback(captured.append)
        conn.execute("BEGIN IMMEDIATE")
        messages.claim(conn, limit=50)
        sessions.page(conn, limit=50, offset=0, active_since=active_since)
        sessions.count(conn, active_since)
        sessions.page(conn, limit=50, offset=0)
        conn.set_trace_callback(None)
        conn.execute("ROLLBACK")
        for sql in captured:
            if not sql.lstrip().upper().startswith(("SELECT", "UPDATE")):
                continue
            lines.append(" ".join(sql.split())[:110] + " …")
            for row in conn.execute("EXPLAIN QUERY PLAN " + sql):
                lines.append(f"    {row[3]}")
    finally:
        conn.close()
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000",
                        help="message counts, comma-separated (10000,100000,1000000)")
    parser.add_argument("--repeat", type=int, default=20, help="runs per operation (20)")
    parser.add_argument("--data", type=Path, default=make_big_db.DEFAULT_OUT.parent,
                        help="where the generated databases are kept (bench/data)")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    parser.add_argument("--explain", action="store_true", help="print the inbox query plans")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    results: dict[int, dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory(prefix="webchat-scale-") as tmp:
        for size in sizes:
            source = database_for(size, data=args.data, quiet=False)
            copy = Path(tmp) / "copy.db"
            shutil.copyfile(source, copy)
            if args.explain:
                print("\n".join(explain(copy, size)))
            results[size] = measure(copy, args.repeat, random.Random(size))
            copy.unlink()
            for suffix in ("-wal", "-shm"):
                Path(str(copy) + suffix).unlink(missing_ok=True)

    names = list(next(iter(results.values())))
    header = f"{'operation (ms: median / slowest)':<34}" + "".join(
        f"{f'{size:,} msgs':>20}" for size in sizes)
    print()
    print(header)
    print("-" * len(header))
    for name in names:
        cells = "".join(
            f"{statistics.median(results[s][name]):>11.2f} / {max(results[s][name]):>6.1f}"
            for s in sizes)
        print(f"{name:<34}{cells}")
    largest = max(sizes)
    print()
    print(f"Targets (at {largest:,} messages, median):")
    for name, limit in TARGETS_MS.items():
        value = statistics.median(results[largest][name])
        verdict = "PASS" if value < limit else "MISS"
        print(f"  {verdict}  {name} < {limit:g} ms: {value:.2f} ms")
    if largest < 1_000_000:
        print("  (the targets are for 1,000,000 messages; this run stopped short of that)")
    if args.json:
        Path(args.json).write_text(json.dumps(
            {str(s): {k: v for k, v in r.items()} for s, r in results.items()}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
