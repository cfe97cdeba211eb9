"""The bridge's log: one line per event, rotated by size, pruned by age.

``[YYYY-MM-DD HH:MM:SS] [LEVEL] text {json context}``, in ``WEB_CHAT_LOG_PATH``
(default ``logs/`` under the working directory, outside every folder the bridge
serves). Several gunicorn workers write the same file, so rotation goes through
concurrent-log-handler, which takes a lock file around each write and each
rollover; the standard library's RotatingFileHandler would let two processes
rotate at once and lose lines.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import queue
import threading
import time
from pathlib import Path

from concurrent_log_handler import ConcurrentRotatingFileHandler

LOGGER_NAME = "webchat_bridge"
LOG_FILE = "api.log"
MAX_BYTES = 100 * 1024 * 1024
BACKUP_COUNT = 3
RETENTION_DAYS = 30
ROTATE_AT_LEAST = 1024 * 1024  # cleanup_logs leaves a smaller current file alone


_ONE_LINE = str.maketrans({"\n": "\\n", "\r": "\\r", "\x85": "\\x85",
                           "\u2028": "\\u2028", "\u2029": "\\u2029"})


class LineFormatter(logging.Formatter):
    converter = time.gmtime

    def __init__(self) -> None:
        super().__init__("[%(asctime)s] [%(levelname)s] %(message)s", "%Y-%m-%d %H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        context = getattr(record, "context", None)
        if context:
            line += " " + json.dumps(context, ensure_ascii=False, default=str, sort_keys=True)
        # One line per event, whatever a message (a request path, say) or a
        # traceback holds: a client must not be able to forge log lines.
        return line.translate(_ONE_LINE)


def log_dir(path: str | None = None) -> Path:
    return Path(path or os.environ.get("WEB_CHAT_LOG_PATH") or "logs").absolute()


def configure(path: str | None = None, *, level: int = logging.INFO) -> logging.Logger:
    """Attach the rotating file handler (once per process and folder)."""
    folder = log_dir(path)
    folder.mkdir(parents=True, exist_ok=True)
    logger = logging.getLogger(LOGGER_NAME)
    logger.setLevel(level)
    target = str(folder / LOG_FILE)
    for handler in logger.handlers:
        if getattr(handler, "baseFilename", None) == target:
            return logger
    for handler in list(logger.handlers):
        if isinstance(handler, (ConcurrentRotatingFileHandler, BackgroundWriter)):
            logger.removeHandler(handler)
            handler.close()
    handler = ConcurrentRotatingFileHandler(
        target, maxBytes=MAX_BYTES, backupCount=BACKUP_COUNT, encoding="utf-8", use_gzip=False
    )
    handler.setFormatter(LineFormatter())
    logger.addHandler(handler)
    return logger


_STOP = object()
_BATCH = 1000


class _Raw(logging.Formatter):
    """For lines already formatted by the writer thread."""

    def format(self, record: logging.LogRecord) -> str:
        return record.getMessage()


class BackgroundWriter(logging.Handler):
    """Hands each record to a writer thread of its own process.

    The file handler takes a lock file around every write so that workers do
    not interleave lines; with many request threads queueing on it, that cost
    the API a third of its throughput. Request threads now only enqueue; the
    writer thread formats whatever has queued up and writes it in one go,
    under one lock, so it keeps up however few turns of the interpreter lock
    it gets. It is started lazily in each process (gunicorn forks after the
    app is loaded, and threads do not survive a fork) and drains the queue
    when the process exits.
    """

    def __init__(self, target: ConcurrentRotatingFileHandler):
        super().__init__()
        self.target = target
        self.baseFilename = target.baseFilename
        self.line_formatter = target.formatter or LineFormatter()
        self.queue: queue.SimpleQueue = queue.SimpleQueue()
        self._pid: int | None = None
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def _ensure_writer(self) -> None:
        if self._pid == os.getpid():
            return
        with self._start_lock:
            if self._pid == os.getpid():
                return
            # A queue of this process's own: one inherited from the parent
            # may hold the parent's records.
            self.queue = queue.SimpleQueue()
            self.target.setFormatter(_Raw())
            self._thread = threading.Thread(target=self._drain, name="log-writer", daemon=True)
            self._thread.start()
            self._pid = os.getpid()
            atexit.register(self.flush_and_stop)

    def emit(self, record: logging.LogRecord) -> None:
        self._ensure_writer()
        if record.exc_info and not record.exc_text:
            # Tracebacks are rendered now, while the exception is alive.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.exc_info = None
        self.queue.put(record)

    def _drain(self) -> None:
        while True:
            batch, stop = [self.queue.get()], False
            while len(batch) < _BATCH:
                try:
                    batch.append(self.queue.get_nowait())
                except queue.Empty:
                    break
            if _STOP in batch:
                stop = True
                batch = [r for r in batch if r is not _STOP]
            if batch:
                lines = "\n".join(self.line_formatter.format(r) for r in batch)
                self.target.handle(logging.makeLogRecord({"msg": lines, "args": None}))
            if stop:
                return

    def flush_and_stop(self) -> None:
        thread, self._thread, self._pid = self._thread, None, None
        if thread is not None and thread.is_alive():
            self.queue.put(_STOP)
            thread.join(timeout=10)

    def close(self) -> None:
        self.flush_and_stop()
        self.target.close()
        super().close()


def write_in_background() -> None:
    """Move the log file's writes to a background thread (``serve`` does
    this; tests and commands keep writing synchronously)."""
    logger = logging.getLogger(LOGGER_NAME)
    for handler in list(logger.handlers):
        if isinstance(handler, ConcurrentRotatingFileHandler):
            logger.removeHandler(handler)
            logger.addHandler(BackgroundWriter(handler))


def event(level: int, text: str, **context) -> None:
    logging.getLogger(LOGGER_NAME).log(level, text, extra={"context": context or None})


def _file_handler() -> ConcurrentRotatingFileHandler | None:
    for handler in logging.getLogger(LOGGER_NAME).handlers:
        if isinstance(handler, BackgroundWriter):
            return handler.target
        if isinstance(handler, ConcurrentRotatingFileHandler):
            return handler
    return None


def _backups(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob(LOG_FILE + ".*") if not p.name.endswith(".lock"))


def rotate_and_prune(path: str | None = None) -> dict:
    """Roll the log over now (when it holds at least 1 MB) and delete backups
    older than the retention.

    Returns the figures the ``cleanup_logs`` action reports.
    """
    folder = log_dir(path)
    handler = _file_handler()
    current = folder / LOG_FILE
    # Only a file of some size is rotated: with three numbered backups, every
    # rollover drops the oldest, and an admin pressing the button a few times
    # must not be able to erase the day's events.
    rotated = False
    if handler is not None and current.exists() and current.stat().st_size >= ROTATE_AT_LEAST:
        # Under the same two locks a write takes (this process's threads, then
        # the lock file shared with the other workers), so that no line is
        # written into a file while it is being renamed.
        handler.acquire()
        try:
            handler._do_lock()
            try:
                handler.doRollover()
            finally:
                handler._do_unlock()
        finally:
            handler.release()
        rotated = True
    cutoff = time.time() - RETENTION_DAYS * 86400
    removed = 0
    for backup in _backups(folder):
        if backup.stat().st_mtime < cutoff:
            backup.unlink(missing_ok=True)
            removed += 1
    backups = _backups(folder)
    current_size = current.stat().st_size if current.exists() else 0
    total = current_size + sum(p.stat().st_size for p in backups)
    return {
        "current_log_size_mb": round(current_size / 1048576, 2),
        "backup_files_count": len(backups),
        "total_log_size_mb": round(total / 1048576, 2),
        "retention_days": RETENTION_DAYS,
        "max_size_mb": MAX_BYTES // 1048576,
        "removed_files_count": removed,
        "rotated": rotated,
    }
