"""The load benchmark behind ``make bench``.

Starts ``webchat-bridge serve`` with its production settings (gunicorn, the
default number of workers and threads, the access log on) on a free
127.0.0.1 port and a fresh database, then drives it from separate processes:
``wrk`` for the single-request rows, ``bench/roundtrip.py`` for the visitor →
agent → visitor round trip. Rate limits are off (``WEB_CHAT_RATE_LIMITS=off``,
which the contract provides for load tests) and ``/bench/ceiling`` is switched
on (``WEB_CHAT_BENCH_CEILING=1``): a route with no database work, served by the
same server, against which every row is compared.

Rows, each for a bounded time (``--duration``, 10 s) at ``--connections`` (16):

* ceiling        GET /bench/ceiling (run first and last; ratios use the mean)
* messages       POST /api/v1/messages, a new session every 5 messages
* responses      GET /api/v1/responses over pre-seeded sessions with answers
* inbox          GET /api/v1/inbox?limit=50 over a pre-seeded backlog
* round trip     a few visitors and one agent, end-to-end latency

plus the peak memory of each worker (VmHWM and PSS from /proc, sampled
throughout). With ``--access-log both`` (the default) the API rows are run a
second time on a server with the access log off, to show what it costs.

Usage: ``python bench/run.py [--duration 10] [--connections 16] [--json FILE]``
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO / "src"))

from webchat_bridge import conversations  # noqa: E402
from webchat_bridge.db import messages, open_database, transaction  # noqa: E402

API_KEY = "bench-api-key-0123456789"
ADMIN_KEY = "bench-admin-key-0123456789"
SEED_PREFIX = "seed"

# What the bridge promises (README, "Performance and reliability").
TARGET_MESSAGES_SHARE = 0.60
TARGET_WORKER_MB = 80.0


# -- the server ----------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``webchat-bridge serve`` in its own process group on a fresh database."""

    def __init__(self, workdir: Path, *, access_log: bool, workers: int | None):
        self.workdir = workdir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.database = str(workdir / "db" / "web_chat_bridge.db")
        self.workers = workers
        self.env = {
            **os.environ,
            "WEB_CHAT_DATABASE_PATH": self.database,
            "WEB_CHAT_LOG_PATH": str(workdir / "logs"),
            "WEB_CHAT_API_KEY": API_KEY,
            "WEB_CHAT_ADMIN_KEY": ADMIN_KEY,
            "WEB_CHAT_RATE_LIMITS": "off",
            "WEB_CHAT_BENCH_CEILING": "1",
            "WEB_CHAT_ACCESS_LOG": "on" if access_log else "off",
            "PYTHONPATH": str(REPO / "src"),
        }
        self.proc: subprocess.Popen | None = None

    def start(self) -> "Server":
        self.workdir.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "webchat_bridge", "serve", "--host", "127.0.0.1",
                   "--port", str(self.port)]
        if self.workers:
            command += ["--workers", str(self.workers)]
        self.log = open(self.workdir / "server.log", "ab")
        self.proc = subprocess.Popen(command, cwd=self.workdir, env=self.env, stdout=self.log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("server exited:\n" + self.server_log()[-2000:])
            try:
                with urllib.request.urlopen(self.url + "/api/v1/health", timeout=1) as r:
                    if r.status == 200 and len(self.worker_pids()) >= (self.workers or 1):
                        return self
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("server did not answer within 30 s")

    def worker_pids(self) -> list[int]:
        if self.proc is None:
            return []
        pids = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.proc.pid:
                pids.append(int(entry))
        return pids

    def server_log(self) -> str:
        return (self.workdir / "server.log").read_text(errors="replace")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.log.close()


class MemorySampler(threading.Thread):
    """Peak RSS (VmHWM) and PSS of every worker, sampled twice a second.

    VmHWM counts the pages a worker shares with the master (the app is loaded
    before the fork), so it overstates what each worker adds; PSS splits shared
    pages between the processes that share them.
    """

    def __init__(self, server: Server):
        super().__init__(daemon=True)
        self.server = server
        self.peak_rss: dict[int, float] = {}
        self.peak_pss: dict[int, float] = {}
        self.stopping = threading.Event()

    @staticmethod
    def _kb(path: str, field: str) -> float | None:
        try:
            with open(path) as f:
                for line in f:
                    if line.startswith(field + ":"):
                        return float(line.split()[1])
        except OSError:
            return None
        return None

    def sample(self) -> None:
        for pid in self.server.worker_pids():
            hwm = self._kb(f"/proc/{pid}/status", "VmHWM")
            pss = self._kb(f"/proc/{pid}/smaps_rollup", "Pss")
            if hwm is not None:
                self.peak_rss[pid] = max(self.peak_rss.get(pid, 0.0), hwm / 1024)
            if pss is not None:
                self.peak_pss[pid] = max(self.peak_pss.get(pid, 0.0), pss / 1024)

    def run(self) -> None:
        while not self.stopping.wait(0.5):
            self.sample()

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=5)
        self.sample()


# -- seeding (through the data layer, beside the running server) ---------------

def seed_answered_sessions(database: str, count: int) -> None:
    """``count`` sessions with two messages (seen by the agent) and three answers."""
    conn = open_database(database)
    try:
        with transaction(conn):
            for n in range(count):
                sid = f"{SEED_PREFIX}-{n}"
                for text in ("Hello?", "Are you there?"):
                    conversations.post_message(conn, sid, text, ip_address="127.0.0.1")
        while messages.claim(conn, limit=100)[0]:
            pass
        with transaction(conn):
            for n in range(count):
                for k in range(3):
                    conversations.post_response(conn, f"{SEED_PREFIX}-{n}", f"Answer {k}")
    finally:
        conn.close()


def seed_backlog(database: str, count: int) -> None:
    """``count`` unprocessed messages over count / 10 sessions, for the inbox row."""
    conn = open_database(database)
    try:
        with transaction(conn):
            for n in range(count):
                conversations.post_message(conn, f"backlog-{n // 10}", f"Backlog message {n}",
                                           ip_address="127.0.0.1")
    finally:
        conn.close()


def unprocessed(database: str) -> int:
    conn = open_database(database)
    try:
        return messages.count(conn, unprocessed=True)
    finally:
        conn.close()


def drain(database: str) -> None:
    conn = open_database(database)
    try:
        while messages.claim(conn, limit=100)[0]:
            pass
    finally:
        conn.close()


# -- the load generators -------------------------------------------------------

def wrk(url: str, script: str, args: list[str], *, duration: int, connections: int,
        threads: int, tmp: Path) -> dict:
    combined = tmp / f"{script}.lua"
    combined.write_text((HERE / "wrk" / f"{script}.lua").read_text()
                        + "\n" + (HERE / "wrk" / "report.lua").read_text())
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--timeout", "10s",
               "-s", str(combined), url, *(["--", *args] if args else [])]
    done = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60)
    found = {}
    for line in done.stdout.splitlines():
        tag, _, payload = line.partition(" ")
        if tag in ("WRK_JSON", "INBOX_JSON"):
            found[tag] = json.loads(payload)
    if "WRK_JSON" not in found:
        raise RuntimeError(f"wrk gave no result:\n{done.stdout}\n{done.stderr}")
    raw = found["WRK_JSON"]
    seconds = raw["duration_us"] / 1e6
    result = {
        "requests": raw["requests"],
        "seconds": seconds,
        "per_second": raw["requests"] / seconds if seconds else 0.0,
        "p50_ms": raw["p50_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "errors": sum(raw[k] for k in ("status_errors", "connect_errors", "read_errors",
                                       "write_errors", "timeouts")),
    }
    inbox = found.get("INBOX_JSON")
    if inbox and inbox["drained"]:
        # The script stopped once the backlog was empty: the rate is over the
        # full claims, in the time they took.
        result.update(requests=inbox["claims"], seconds=inbox["seconds"],
                      per_second=inbox["claims"] / inbox["seconds"], drained=True)
    return result


def roundtrip(url: str, *, duration: int, visitors: int) -> dict:
    done = subprocess.run(
        [sys.executable, str(HERE / "roundtrip.py"), "--url", url, "--key", API_KEY,
         "--seconds", str(duration), "--visitors", str(visitors)],
        capture_output=True, text=True, timeout=duration + 120,
    )
    for line in done.stdout.splitlines():
        if line.startswith("ROUNDTRIP_JSON "):
            return json.loads(line[len("ROUNDTRIP_JSON "):])
    raise RuntimeError(f"round trip driver gave no result:\n{done.stdout}\n{done.stderr}")


# -- one pass: a server, its rows ------------------------------------------------

def one_pass(args, *, access_log: bool, with_ceiling: bool, tmp: Path) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="pass-", dir=tmp))
    server = Server(workdir, access_log=access_log, workers=args.workers).start()
    sampler = MemorySampler(server)
    rows: dict[str, dict] = {}
    notes: list[str] = []
    load = dict(duration=args.duration, connections=args.connections, threads=args.wrk_threads,
                tmp=tmp)
    label = "on" if access_log else "off"
    try:
        seed_answered_sessions(server.database, args.seed_sessions)
        sampler.start()
        if with_ceiling:
            print(f"  [access log {label}] ceiling …", flush=True)
            rows["ceiling (start)"] = wrk(server.url + "/bench/ceiling", "ceiling", [], **load)
        print(f"  [access log {label}] messages POST …", flush=True)
        rows["messages POST"] = wrk(server.url + "/api/v1/messages", "messages",
                                    [f"b{os.getpid()}{label}"], **load)
        print(f"  [access log {label}] responses poll …", flush=True)
        rows["responses poll"] = wrk(server.url + "/api/v1/responses", "responses",
                                     [SEED_PREFIX, str(args.seed_sessions)], **load)
        seed_backlog(server.database, max(0, args.backlog - unprocessed(server.database)))
        before = unprocessed(server.database)
        print(f"  [access log {label}] inbox claim of 50 ({before} waiting) …", flush=True)
        rows["inbox claim 50"] = wrk(server.url + "/api/v1/inbox", "inbox", [API_KEY], **load)
        row = rows["inbox claim 50"]
        row["messages_claimed"] = before - unprocessed(server.database)
        if row.get("drained"):
            notes.append(f"inbox: the backlog of {before} messages was drained in "
                         f"{row['seconds']:.1f} s; the rate counts full claims of 50 only"
                         + (" (short: raise --backlog)" if row["seconds"] < 2 else ""))
        drain(server.database)
        print(f"  [access log {label}] round trip ({args.visitors} visitors, 1 agent) …",
              flush=True)
        rows["round trip"] = roundtrip(server.url, duration=args.duration,
                                       visitors=args.visitors)
        if with_ceiling:
            print(f"  [access log {label}] ceiling again …", flush=True)
            rows["ceiling (end)"] = wrk(server.url + "/bench/ceiling", "ceiling", [], **load)
    finally:
        if sampler.is_alive():
            sampler.stop()
        log = server.server_log() if server.proc else ""
        server.stop()
    locked = log.count("database is locked")
    if locked:
        notes.append(f"'database is locked' appears {locked} times in the server log")
    tracebacks = log.count("Traceback")
    if tracebacks:
        notes.append(f"{tracebacks} tracebacks in the server log")
    return {
        "access_log": access_log,
        "workers": len(sampler.peak_rss) or args.workers,
        "rows": rows,
        "memory": {"peak_rss_mb": max(sampler.peak_rss.values(), default=0.0),
                   "peak_pss_mb": max(sampler.peak_pss.values(), default=0.0),
                   "processes_sampled": len(sampler.peak_rss)},
        "notes": notes,
    }


# -- the report ------------------------------------------------------------------

def ceiling_of(rows: dict) -> dict:
    found = [rows[k] for k in ("ceiling (start)", "ceiling (end)") if k in rows]
    return {
        "per_second": statistics.mean(r["per_second"] for r in found),
        "p50_ms": statistics.mean(r["p50_ms"] for r in found),
    }


def table(result: dict, ceiling: dict) -> str:
    header = (f"{'row':<20} {'req/s':>9} {'of ceiling':>10} {'p50 ms':>8} {'p99 ms':>8} "
              f"{'p50 vs ceiling':>14} {'errors':>6}")
    lines = [header, "-" * len(header)]
    for name, row in result["rows"].items():
        share = row["per_second"] / ceiling["per_second"] if ceiling["per_second"] else 0
        slower = row["p50_ms"] / ceiling["p50_ms"] if ceiling["p50_ms"] else 0
        lines.append(f"{name:<20} {row['per_second']:>9.0f} {share:>9.0%} "
                     f"{row['p50_ms']:>8.2f} {row['p99_ms']:>8.2f} {slower:>13.1f}× "
                     f"{row['errors']:>6}")
    mem = result["memory"]
    lines.append(f"{'memory per worker':<20} peak RSS {mem['peak_rss_mb']:.1f} MB, peak PSS "
                 f"{mem['peak_pss_mb']:.1f} MB ({mem['processes_sampled']} worker processes "
                 "sampled)")
    return "\n".join(lines)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per row (10)")
    parser.add_argument("--connections", type=int, default=16, help="concurrent connections (16)")
    parser.add_argument("--wrk-threads", type=int, default=2, help="wrk threads (2)")
    parser.add_argument("--workers", type=int, default=None,
                        help="gunicorn workers (default: the server's own default)")
    parser.add_argument("--visitors", type=int, default=4, help="round-trip visitors (4)")
    parser.add_argument("--seed-sessions", type=int, default=1000,
                        help="answered sessions the responses row polls (1000)")
    parser.add_argument("--backlog", type=int, default=120_000,
                        help="unprocessed messages waiting before the inbox row (120000)")
    parser.add_argument("--access-log", choices=["on", "off", "both"], default="both",
                        help="measure with the access log on (production), off, or both")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args(argv)

    if shutil.which("wrk") is None:
        print("wrk is not installed (Debian: apt-get install wrk)", file=sys.stderr)
        return 2
    from webchat_bridge.server import default_workers

    cores = os.cpu_count()
    load = os.getloadavg()
    print(f"webchat-bridge load benchmark: {cores} cores, load average "
          f"{load[0]:.2f}, {args.workers or default_workers()} workers × 4 threads, "
          f"{args.connections} connections, {args.duration} s per row, rate limits off")
    modes = {"on": [True], "off": [False], "both": [True, False]}[args.access_log]
    results = []
    with tempfile.TemporaryDirectory(prefix="webchat-bench-") as tmp:
        for i, access_log in enumerate(modes):
            results.append(one_pass(args, access_log=access_log, with_ceiling=(i == 0),
                                    tmp=Path(tmp)))
    ceiling = ceiling_of(results[0]["rows"])
    print()
    for result in results:
        print(f"Access log {'on (production)' if result['access_log'] else 'off'}:")
        print(table(result, ceiling))
        for note in result["notes"]:
            print(f"  note: {note}")
        print()

    main_rows = results[0]["rows"]
    share = main_rows["messages POST"]["per_second"] / ceiling["per_second"]
    worker_mb = max(r["memory"]["peak_rss_mb"] for r in results)
    errors = sum(r["errors"] for res in results for r in res["rows"].values())
    print("Targets:")
    print(f"  {verdict(share >= TARGET_MESSAGES_SHARE)}  messages POST ≥ "
          f"{TARGET_MESSAGES_SHARE:.0%} of the ceiling's throughput: {share:.0%}")
    print(f"  {verdict(worker_mb < TARGET_WORKER_MB)}  peak memory per worker < "
          f"{TARGET_WORKER_MB:.0f} MB: {worker_mb:.1f} MB (RSS)")
    print(f"  {verdict(errors == 0)}  no errors (non-2xx, socket errors, timeouts): {errors}")
    if args.json:
        Path(args.json).write_text(json.dumps({
            "cores": cores, "load_average": load, "args": vars(args), "ceiling": ceiling,
            "passes": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
