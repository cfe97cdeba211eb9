"""The full round trip, visitor → inbox → outbox → responses, timed end to end.

A few visitor threads each post a message and poll ``responses`` until the
answer to that message is there; one agent thread polls ``inbox`` and answers
every message through ``outbox``, as the real plugin does (only faster: it
polls again at once while there is work, and after ``--agent-idle`` seconds
when the inbox was empty). The latency of a round trip is from the start of the
visitor's POST to the poll that returns the answer, so it includes both poll
intervals; the figures say what a visitor waits for when the agent answers
instantly.

Run by bench/run.py in its own process; prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time

import requests


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[rank]


def agent(base: str, key: str, stop: threading.Event, idle: float, errors: list) -> None:
    http = requests.Session()
    headers = {"Authorization": f"Bearer {key}"}
    while not stop.is_set():
        r = http.get(f"{base}/api/v1/inbox", params={"limit": 50}, headers=headers, timeout=30)
        if r.status_code != 200:
            errors.append(f"inbox {r.status_code}")
            time.sleep(idle)
            continue
        batch = r.json()["data"]["messages"]
        for message in batch:
            a = http.post(f"{base}/api/v1/outbox", headers=headers, timeout=30, json={
                "session_id": message["session_id"], "message_id": message["id"],
                "response": "Echo: " + message["message"],
            })
            if a.status_code != 200:
                errors.append(f"outbox {a.status_code}")
        if not batch:
            time.sleep(idle)


def visitor(base: str, number: int, run_id: str, deadline: float, poll: float,
            latencies: list, errors: list) -> None:
    http = requests.Session()
    session_id = f"rt-{run_id}-{number}"
    since_id = 0
    sent = 0
    while time.monotonic() < deadline:
        sent += 1
        started = time.perf_counter()
        r = http.post(f"{base}/api/v1/messages", timeout=30, json={
            "session_id": session_id, "message": f"Question {sent} from visitor {number}"})
        if r.status_code != 200:
            errors.append(f"messages {r.status_code}")
            continue
        message_id = r.json()["data"]["message_id"]
        answered = False
        # Bounded: a round trip that takes more than 30 s counts as lost.
        while time.perf_counter() - started < 30:
            p = http.get(f"{base}/api/v1/responses", timeout=30,
                         params={"session_id": session_id, "since_id": since_id})
            if p.status_code != 200:
                errors.append(f"responses {p.status_code}")
            else:
                for row in p.json()["data"]["responses"]:
                    since_id = max(since_id, row["id"])
                    if row["message_id"] == message_id:
                        answered = True
            if answered:
                latencies.append(time.perf_counter() - started)
                break
            time.sleep(poll)
        if not answered:
            errors.append("round trip not answered within 30 s")


def run(base: str, key: str, *, seconds: float, visitors: int, poll: float,
        agent_idle: float) -> dict:
    run_id = format(int(time.time() * 1000) % 10**10, "d")
    stop = threading.Event()
    latencies: list[float] = []
    errors: list[str] = []
    agent_thread = threading.Thread(target=agent, args=(base, key, stop, agent_idle, errors),
                                    daemon=True)
    agent_thread.start()
    started = time.monotonic()
    deadline = started + seconds
    threads = [threading.Thread(target=visitor, daemon=True,
                                args=(base, n, run_id, deadline, poll, latencies, errors))
               for n in range(visitors)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + 60)
    elapsed = time.monotonic() - started
    stop.set()
    agent_thread.join(timeout=30)
    return {
        "round_trips": len(latencies),
        "seconds": round(elapsed, 2),
        "per_second": len(latencies) / elapsed if elapsed else 0.0,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "errors": len(errors),
        "error_samples": sorted(set(errors))[:5],
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--key", required=True, help="the API key")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--visitors", type=int, default=4)
    parser.add_argument("--poll", type=float, default=0.02,
                        help="seconds between a visitor's responses polls")
    parser.add_argument("--agent-idle", type=float, default=0.02,
                        help="seconds the agent waits after an empty inbox")
    args = parser.parse_args(argv)
    result = run(args.url.rstrip("/"), args.key, seconds=args.seconds, visitors=args.visitors,
                 poll=args.poll, agent_idle=args.agent_idle)
    print("ROUNDTRIP_JSON " + json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
