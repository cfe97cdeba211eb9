"""Build a large, realistic bridge database for the scale figures.

By default 100,000 sessions and 1,000,000 messages over the last 30 days:

* one "big" session, active now, with 2,000 messages and 2,000 answers;
* every other session has at least one message, the rest spread unevenly
  (a few long conversations, many short ones);
* the agent is a little behind: the newest 0.5 % of messages (at least
  1,500) are unprocessed,
  every older one is processed and 90 % of those have an answer a few seconds
  later;
* ids follow time, as the bridge itself guarantees (messages and responses are
  each inserted in timestamp order), and every timestamp has the bridge's
  stored form.

The file is created with the product's own schema (``open_database``), then
filled with ``executemany`` in one transaction per table: a few hundred
thousand rows a second. Usage::

    python bench/make_big_db.py [--sessions 100000] [--messages 1000000] [--out FILE]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from tqdm import tqdm

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

from webchat_bridge.db import open_database  # noqa: E402

# Bumped whenever the generator changes what it writes (cached files are rebuilt).
FORMAT = 2
DEFAULT_OUT = HERE / "data" / f"web_chat_bridge_big-v{FORMAT}.db"
BIG_SESSION = "big-session-with-2000-messages"
BIG_MESSAGES = 2000
DAYS = 30
UNPROCESSED_SHARE = 0.005
ANSWERED_SHARE = 0.9
MIN_UNPROCESSED = 1500
CHUNK = 50_000


def iso_ms(t: float) -> str:
    moment = datetime.fromtimestamp(t, timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def sqlite_seconds(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def plan(sessions: int, messages: int, rng: random.Random, now: float):
    """Every message as (time, session number), and each session's start."""
    big = min(BIG_MESSAGES, messages // 2)
    others = sessions - 1
    rest = messages - big
    if others < 1 or rest < others:
        raise SystemExit("need at least one message per session")
    # At least one message each; the rest by a skewed weight, so that message
    # counts per session look like real traffic (median small, long tail).
    counts = [1] * others
    weights = [rng.expovariate(1.0) ** 2 for _ in range(others)]
    for n in rng.choices(range(others), weights=weights, k=rest - others):
        counts[n] += 1
    start = now - DAYS * 86400
    events = []
    starts = []
    for n, count in enumerate(counts):
        t = rng.uniform(start, now - 60)
        starts.append(t)
        for _ in range(count):
            events.append((t, n + 1))
            t += rng.uniform(5, 120)
    # The big session: a long conversation that is still going on.
    t = now - big * 20.0
    starts.insert(0, t)
    for _ in range(big):
        events.append((t, 0))
        t += rng.uniform(5, 30)
    events.sort()
    return events, starts, big


def build(out: Path, *, sessions: int, messages: int, seed: int = 1, quiet: bool = False) -> dict:
    rng = random.Random(seed)
    now = time.time()
    out.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(str(out) + suffix).unlink(missing_ok=True)
    started = time.monotonic()
    events, starts, big = plan(sessions, messages, rng, now)
    names = [BIG_SESSION] + [f"s{n:07d}-{rng.getrandbits(32):08x}" for n in range(1, sessions)]

    conn = open_database(str(out))
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -262144")
    bar = tqdm(total=sessions + 2 * messages, unit="row", unit_scale=True, disable=quiet,
               desc=out.name)

    # Messages, in time order so that ids follow time; the newest ones are the
    # agent's backlog. The big session's are all processed and all answered.
    # (At least MIN_UNPROCESSED, so that small databases can be claimed from too.)
    backlog = min(len(events) // 5, max(MIN_UNPROCESSED, int(len(events) * UNPROCESSED_SHARE)))
    waiting = set()
    for i in range(len(events) - 1, -1, -1):
        if len(waiting) == backlog:
            break
        if events[i][1] != 0:
            waiting.add(i)
    last_seen = [0.0] * sessions
    answers = []
    message_rows = []
    for i, (t, n) in enumerate(events):
        processed = 0 if i in waiting else 1
        message_rows.append((i + 1, names[n], f"Message {i + 1} from visitor {n}", iso_ms(t),
                             processed))
        last_seen[n] = max(last_seen[n], t)
        if processed and (n == 0 or rng.random() < ANSWERED_SHARE):
            answered_at = min(t + rng.uniform(2, 30), now)
            answers.append((answered_at, n, i + 1))
            last_seen[n] = max(last_seen[n], answered_at)
    answers.sort()

    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO web_chat_sessions (id, uid, created_at, last_active, ip_address, metadata)"
        " VALUES (?, ?, ?, ?, ?, NULL)",
        ((names[n], f"{rng.getrandbits(64):016x}", sqlite_seconds(starts[n]),
          sqlite_seconds(last_seen[n]), f"10.{n % 256}.{(n // 256) % 256}.{n % 7 + 1}")
         for n in range(sessions)),
    )
    conn.execute("COMMIT")
    bar.update(sessions)

    conn.execute("BEGIN")
    for at in range(0, len(message_rows), CHUNK):
        chunk = message_rows[at:at + CHUNK]
        conn.executemany(
            "INSERT INTO web_chat_messages (id, session_id, message, timestamp, processed)"
            " VALUES (?, ?, ?, ?, ?)", chunk)
        bar.update(len(chunk))
    conn.execute("COMMIT")

    conn.execute("BEGIN")
    for at in range(0, len(answers), CHUNK):
        chunk = answers[at:at + CHUNK]
        conn.executemany(
            "INSERT INTO web_chat_responses (session_id, response, timestamp, message_id)"
            " VALUES (?, ?, ?, ?)",
            ((names[n], f"Answer to message {mid}", iso_ms(t), mid) for t, n, mid in chunk))
        bar.update(len(chunk))
    conn.execute("COMMIT")
    bar.update(2 * messages - len(message_rows) - len(answers))
    bar.close()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    figures = {
        "sessions": sessions, "messages": len(message_rows), "responses": len(answers),
        "unprocessed": len(waiting), "big_session": BIG_SESSION,
        "big_session_messages": big, "seconds": round(time.monotonic() - started, 1),
        "megabytes": round(os.path.getsize(out) / 1048576, 1),
    }
    return figures


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    figures = build(args.out, sessions=args.sessions, messages=args.messages, seed=args.seed)
    print(f"{args.out}: {figures['sessions']:,} sessions, {figures['messages']:,} messages "
          f"({figures['unprocessed']:,} unprocessed), {figures['responses']:,} responses; "
          f"{figures['megabytes']} MB in {figures['seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
