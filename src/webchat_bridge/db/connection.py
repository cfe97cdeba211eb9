"""Opening the database: PRAGMAs, transactions, schema creation and upgrades.

Each worker thread (and each CLI command) uses its own connection: SQLite
connections must not be shared between threads. WAL lets readers run beside one
writer; every write that reads first runs inside ``BEGIN IMMEDIATE`` so that it
can never fail with "database is locked" by trying to upgrade a read snapshot
that is no longer current, and writers queue on a kernel lock (see
``_WriterLock``) before they begin.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
from contextlib import contextmanager, nullcontext
from importlib import resources
from typing import Iterator

from flask import current_app, g

SCHEMA_VERSION = 1
BUSY_TIMEOUT_SECONDS = 30.0


_PHP_REFUSAL = (
    "this is a database of the PHP system; bring it across with "
    "'webchat-bridge migrate-php SOURCE' instead of opening it directly"
)


class SchemaError(RuntimeError):
    """The file is not a bridge database this release can use."""


def decode_text(raw: bytes) -> str:
    """SQLite TEXT as str; bytes that are not UTF-8 (written by some other
    program) become U+FFFD instead of an exception on every read."""
    return raw.decode("utf-8", "replace")


def connect(path: str, *, readonly: bool = False, create: bool = True) -> sqlite3.Connection:
    """A configured connection to ``path``: created, with its folder, if
    missing, unless ``create`` is False (then a missing file is an error)."""
    if readonly or not create:
        mode = "ro" if readonly else "rw"
        conn = sqlite3.connect(
            f"file:{path}?mode={mode}", uri=True, timeout=BUSY_TIMEOUT_SECONDS,
            isolation_level=None, factory=BridgeConnection,
        )
        if not readonly:
            conn.writer_lock = _WriterLock(path)
    else:
        folder = os.path.dirname(os.path.abspath(path))
        os.makedirs(folder, exist_ok=True)
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None,
                               factory=BridgeConnection)
        conn.writer_lock = _WriterLock(path)
    conn.row_factory = sqlite3.Row
    conn.text_factory = decode_text
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")
    # In WAL mode NORMAL keeps every committed transaction across a crash of the
    # process; only an operating-system crash can lose the last few commits.
    synchronous = os.environ.get("WEB_CHAT_SYNCHRONOUS", "NORMAL").upper()
    if synchronous not in {"OFF", "NORMAL", "FULL", "EXTRA"}:
        synchronous = "NORMAL"
    conn.execute(f"PRAGMA synchronous = {synchronous}")
    return conn


class _WriterLock:
    """An advisory lock on ``<database>.lock``, taken around every write
    transaction of the bridge.

    SQLite's own busy handler polls for a held write lock and sleeps between
    tries (1, 2, 5, 10 ms …), so under many concurrent writers most of the time
    goes to sleeping while the lock is free. A blocking ``flock`` queues the
    writers in the kernel, which wakes the next one the moment the lock is
    released; the kernel also releases it when a process dies, so a killed
    worker cannot leave it held. One per connection (each is one thread's), as
    flock excludes open files, not threads.
    """

    def __init__(self, database: str):
        self._path = database + ".lock"
        self._fd: int | None = None  # opened on the first write, not before

    def __enter__(self):
        if self._fd is None:
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX)

    def __exit__(self, *exc):
        fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class BridgeConnection(sqlite3.Connection):
    """A connection that knows its database's writer lock."""

    writer_lock: _WriterLock | None = None

    def close(self) -> None:
        if self.writer_lock is not None:
            self.writer_lock.close()
            self.writer_lock = None
        super().close()


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` … ``COMMIT``; rolled back on any exception.

    Joining an outer transaction is allowed, so that a data-layer function that
    needs atomicity on its own can also be part of a larger unit of work.
    """
    if conn.in_transaction:
        yield conn
        return
    lock = getattr(conn, "writer_lock", None) or nullcontext()
    with lock:
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")


def _schema_sql() -> str:
    return resources.files(__package__).joinpath("init_database.sql").read_text("utf-8")


def _table_names(conn: sqlite3.Connection) -> set[str]:
    rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {row[0] for row in rows}


def _looks_like_php(conn: sqlite3.Connection) -> bool:
    # The PHP system's rate_limits had a primary key; ours has none, and the PHP
    # file has no settings table.
    if "web_chat_sessions" not in _table_names(conn):
        return False
    pk = [r["name"] for r in conn.execute("PRAGMA table_info(rate_limits)") if r["pk"]]
    return bool(pk)


# Step N's script brings a file from schema N-1 to N. A later release appends a
# step here and raises SCHEMA_VERSION; existing files are upgraded in place at
# start, each step inside the same transaction as its version stamp.
UPGRADES = {1: _schema_sql}


def upgrade(conn: sqlite3.Connection) -> int:
    """Create or upgrade the schema; returns the version the file is now at."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise SchemaError(
            f"the database has schema version {version}, newer than this release "
            f"understands ({SCHEMA_VERSION}); upgrade webchat-bridge"
        )
    if version == SCHEMA_VERSION:
        return version
    if version == 0 and _looks_like_php(conn):
        raise SchemaError(_PHP_REFUSAL)
    # One writer at a time: a second process starting at the same moment waits
    # here and then finds the work done.
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        for step in range(version + 1, SCHEMA_VERSION + 1):
            for statement in _split_script(UPGRADES[step]()):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {step}")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return SCHEMA_VERSION


def _split_script(script: str) -> list[str]:
    """Statements of a script, so they can run inside our own transaction
    (``executescript`` would commit it)."""
    statements, buffer = [], ""
    for line in script.splitlines(keepends=True):
        if line.lstrip().startswith("--"):
            continue
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        statements.append(buffer.strip())
    return statements


def open_database(path: str) -> sqlite3.Connection:
    """A connection to a bridge database at ``path``, created or upgraded."""
    created = not os.path.exists(path)
    conn = connect(path)
    if created:
        # The file holds the keys beside every conversation: readable by its
        # owner only. SQLite gives the -wal and -shm files the same mode.
        os.chmod(path, 0o600)
    try:
        # Refuse a PHP file before anything writes to it (even switching the
        # journal mode rewrites its header).
        if conn.execute("PRAGMA user_version").fetchone()[0] == 0 and _looks_like_php(conn):
            raise SchemaError(_PHP_REFUSAL)
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode.lower() != "wal":
            raise SchemaError(f"could not switch {path} to WAL journal mode (got {mode})")
        upgrade(conn)
    except BaseException:
        conn.close()
        raise
    return conn


def after(since: str | None, since_id: int | None, *, alias: str = "") -> tuple[list, list]:
    """WHERE clauses and parameters for the two polling cursors: rows stored
    after the time ``since`` and with an id above ``since_id``."""
    clauses, params = [], []
    if since is not None:
        clauses.append(f"{alias}timestamp > ?")
        params.append(since)
    if since_id is not None:
        clauses.append(f"{alias}id > ?")
        params.append(since_id)
    return clauses, params


def readable(path: str) -> bool:
    """Whether the file can be opened and read right now, on a connection of
    its own (a long-lived one would still read a file deleted since)."""
    try:
        conn = connect(path, readonly=True)
        try:
            conn.execute("SELECT COUNT(*) FROM web_chat_sessions").fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return False
    return True


# -- Flask integration ---------------------------------------------------------

# Each worker thread keeps its connection from one request to the next: opening
# one costs more than most requests, and while a connection stays open SQLite
# does not checkpoint and delete the WAL (with an fsync) every time the last one
# closes. A connection is only ever used by the thread that opened it, in the
# process that opened it (never across a fork), and between requests it holds
# no transaction, so it blocks no writer and no checkpoint. A handful of files
# per thread at most (tests open many); the least recently used one is closed.
_local = threading.local()
_PER_THREAD = 4


def _file_id(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _thread_connection(path: str) -> sqlite3.Connection:
    pid = os.getpid()
    if getattr(_local, "pid", None) != pid:
        _local.pid, _local.conns = pid, {}
    conns: dict[str, tuple[sqlite3.Connection, tuple[int, int] | None]] = _local.conns
    conn, opened = conns.pop(path, (None, None))
    current = _file_id(path)
    if conn is not None and opened != current:
        # The file was deleted or replaced (a restore, say) since this
        # connection opened it: writing on would go to a file nobody reads,
        # and acknowledge what is lost. Reopen, without creating: a missing
        # database is an error to answer, not a new empty file to fill.
        conn.close()
        conn = None
    if conn is None:
        conn = connect(path, create=False)
        current = _file_id(path)
        while len(conns) >= _PER_THREAD:
            oldest = next(iter(conns))
            conns.pop(oldest)[0].close()
    conns[path] = (conn, current)  # most recently used last
    return conn


def get_db() -> sqlite3.Connection:
    if "db" not in g:
        g.db = _thread_connection(current_app.config["DATABASE"])
    return g.db


def close_db(_exc: BaseException | None = None) -> None:
    """End of request: the connection stays open for the thread's next one,
    but never with a transaction left behind."""
    conn = g.pop("db", None)
    if conn is not None and conn.in_transaction:
        conn.execute("ROLLBACK")


def init_app(app) -> None:
    app.teardown_appcontext(close_db)
