"""Online backups and optimisation of the bridge database.

A backup is taken with SQLite's backup API, never by copying the file: a copy
made while a worker commits can hold half a transaction. It is written under a
hidden temporary name, checked with ``PRAGMA integrity_check`` and only then
renamed to ``web_chat_bridge-YYYYMMDDTHHMMSSZ.db``, so a file with that name is
always a complete, sound database. Pruning only ever touches files of that
exact pattern.

The copy first goes step by step (a progress bar, and writers are never held
up), but every commit by another connection restarts a stepwise copy, so under
steady traffic it might never end. After a time budget it switches to copying
the whole file in one step under a single read snapshot: in WAL mode the
bridge keeps writing meanwhile, and the copy ends after one pass.
"""

from __future__ import annotations

import os
import re
import sqlite3
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime

from .db import connect, maintenance
from .timefmt import utcnow

BACKUP_NAME = re.compile(r"^web_chat_bridge-(\d{8}T\d{6}Z)(?:-(\d+))?\.db$")
TEMP_PREFIX = ".tmp-web_chat_bridge-"
_TEMP_NAME = re.compile(r"^\.tmp-web_chat_bridge-\d{8}T\d{6}Z-(\d+)\.db(?:-wal|-shm|-journal)?$")

PAGES_PER_STEP = 1024
STEPWISE_BUDGET_SECONDS = 10.0


class BackupError(Exception):
    """The backup could not be made; the message says why, in one line."""


@dataclass
class BackupResult:
    path: str
    size: int
    seconds: float
    one_step: bool
    removed: list = field(default_factory=list)


def default_backup_dir(database: str) -> str:
    """``backups/`` in the folder that holds the database file."""
    return os.path.join(os.path.dirname(os.path.abspath(database)), "backups")


def _open_bridge_database(database: str) -> sqlite3.Connection:
    """A connection to ``database``, refused unless it is a bridge database:
    optimising (VACUUM) a PHP file or any other SQLite file would rewrite it."""
    if not os.path.isfile(database):
        raise BackupError(f"{database}: no such database")
    conn = None
    try:
        conn = connect(database)
        version = maintenance.schema_version(conn)
    except sqlite3.DatabaseError as err:
        if conn is not None:
            conn.close()
        raise BackupError(f"{database}: not an SQLite database ({err})") from None
    if version < 1:
        conn.close()
        raise BackupError(f"{database}: not a webchat-bridge database (no schema version); "
                          "a PHP database is brought across with migrate-php")
    return conn


def _side_files(path: str) -> list[str]:
    return [path + suffix for suffix in ("", "-wal", "-shm", "-journal")]


def _remove(paths: list[str]) -> None:
    for path in paths:
        try:
            os.remove(path)
        except FileNotFoundError:
            pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temporaries(directory: str) -> list[str]:
    """Temporary files left by a backup that was killed (its process is gone)."""
    removed = []
    for name in os.listdir(directory):
        match = _TEMP_NAME.match(name)
        if match and not _alive(int(match.group(1))):
            _remove([os.path.join(directory, name)])
            removed.append(name)
    return removed


def backups_in(directory: str) -> list[str]:
    """This command's backups in ``directory``, newest first."""
    found = []
    for name in os.listdir(directory):
        match = BACKUP_NAME.match(name)
        if match:
            found.append(((match.group(1), int(match.group(2) or 0)), name))
    return [name for _key, name in sorted(found, reverse=True)]


def _final_name(directory: str, stamp: str) -> str:
    name = f"web_chat_bridge-{stamp}.db"
    n = 1
    while os.path.exists(os.path.join(directory, name)):
        n += 1
        name = f"web_chat_bridge-{stamp}-{n}.db"
    return os.path.join(directory, name)


def _fsync(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _bar(total: int, enabled: bool | None):
    from tqdm import tqdm

    return tqdm(total=total, desc="backup", unit=" pages", file=sys.stderr, leave=False,
                disable=(None if enabled is None else not enabled), mininterval=0.5)


class _OverBudget(Exception):
    pass


def backup_database(
    database: str,
    directory: str,
    *,
    keep: int = 7,
    progress: bool | None = None,
    pages_per_step: int = PAGES_PER_STEP,
    stepwise_budget: float = STEPWISE_BUDGET_SECONDS,
    now: datetime | None = None,
) -> BackupResult:
    """Back ``database`` up into ``directory`` and keep the newest ``keep``."""
    if keep < 1:
        raise BackupError("--keep must be at least 1")
    started = time.monotonic()
    source = _open_bridge_database(database)
    try:
        os.makedirs(directory, exist_ok=True)
        remove_stale_temporaries(directory)
    except BaseException:
        source.close()
        raise
    stamp = (now or utcnow()).strftime("%Y%m%dT%H%M%SZ")
    temp = os.path.join(directory, f"{TEMP_PREFIX}{stamp}-{os.getpid()}.db")
    dest = None
    one_step = False
    try:
        dest = sqlite3.connect(temp, isolation_level=None)
        with _bar(maintenance.page_count(source), progress) as bar:
            deadline = time.monotonic() + stepwise_budget

            def step(_status, remaining, total):
                bar.total = total
                bar.n = total - remaining
                bar.refresh()
                if remaining and time.monotonic() > deadline:
                    raise _OverBudget()

            try:
                maintenance.copy_pages(source, dest, pages=pages_per_step, progress=step)
            except _OverBudget:
                one_step = True
                maintenance.copy_pages(source, dest, pages=-1)
            bar.n = bar.total
            bar.refresh()
        maintenance.use_rollback_journal(dest)
        problems = maintenance.integrity_check(dest)
        if problems != ["ok"]:
            raise BackupError(f"the copy failed its integrity check: {'; '.join(problems[:3])}")
        dest.close()
        dest = None
        # A copy holds the keys like the database does: its owner's alone.
        os.chmod(temp, 0o600)
        _fsync(temp)
        final = _final_name(directory, stamp)
        os.rename(temp, final)
        _fsync(directory)
    except BaseException:
        if dest is not None:
            dest.close()
        _remove(_side_files(temp))
        raise
    finally:
        source.close()
    removed = []
    for name in backups_in(directory)[keep:]:
        if name != os.path.basename(final):
            _remove([os.path.join(directory, name)])
            removed.append(name)
    return BackupResult(path=final, size=os.path.getsize(final),
                        seconds=time.monotonic() - started, one_step=one_step,
                        removed=removed)


# -- optimize ----------------------------------------------------------------

@dataclass
class Sizes:
    db: int
    wal: int

    @property
    def total(self) -> int:
        return self.db + self.wal


@dataclass
class OptimizeResult:
    before: Sizes
    after: Sizes
    seconds: float
    checkpoint_busy: bool


def file_sizes(database: str) -> Sizes:
    wal = database + "-wal"
    return Sizes(os.path.getsize(database), os.path.getsize(wal) if os.path.exists(wal) else 0)


def optimize_database(database: str) -> OptimizeResult:
    """Refresh the planner's statistics, rebuild the indexes, compact the file
    and empty the WAL. VACUUM needs the write lock for its whole run: the
    bridge's writers wait (up to their busy timeout), so run it when quiet."""
    started = time.monotonic()
    conn = _open_bridge_database(database)
    before = file_sizes(database)
    try:
        maintenance.analyze(conn)
        maintenance.reindex(conn)
        maintenance.vacuum(conn)
        busy, _frames, _done = maintenance.checkpoint_truncate(conn)
        problems = maintenance.integrity_check(conn)
        if problems != ["ok"]:
            raise BackupError(f"integrity check failed after optimising: {problems[0]}")
    finally:
        conn.close()
    return OptimizeResult(before=before, after=file_sizes(database),
                          seconds=time.monotonic() - started, checkpoint_busy=bool(busy))
