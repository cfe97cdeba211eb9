"""Building databases shaped like those the PHP system wrote.

The schema below is the PHP system's (see the reference php-schema.sql); rows
are stored the way PHP stored them: text passed through htmlspecialchars with
ENT_QUOTES, times as PHP or the client wrote them.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

PHP_SCHEMA = """
CREATE TABLE web_chat_sessions (
    id VARCHAR(64) PRIMARY KEY,
    uid VARCHAR(16) UNIQUE,
    created_at TEXT DEFAULT CURRENT_TIMESTAMP,
    last_active TEXT DEFAULT CURRENT_TIMESTAMP,
    ip_address VARCHAR(45),
    metadata TEXT
);
CREATE TABLE web_chat_messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id VARCHAR(64),
    message TEXT,
    timestamp TEXT DEFAULT CURRENT_TIMESTAMP,
    processed INTEGER DEFAULT 0,
    broca_message_id INTEGER NULL,
    FOREIGN KEY (session_id) REFERENCES web_chat_sessions(id)
);
CREATE TABLE web_chat_responses (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id VARCHAR(64),
    response TEXT,
    timestamp TEXT DEFAULT CURRENT_TIMESTAMP,
    message_id INTEGER NULL,
    FOREIGN KEY (session_id) REFERENCES web_chat_sessions(id),
    FOREIGN KEY (message_id) REFERENCES web_chat_messages(id)
);
CREATE TABLE rate_limits (
    ip_address VARCHAR(45),
    endpoint VARCHAR(50),
    count INTEGER DEFAULT 1,
    window_start TEXT DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (ip_address, endpoint)
);
CREATE INDEX idx_messages_session ON web_chat_messages(session_id);
CREATE INDEX idx_messages_processed ON web_chat_messages(processed);
CREATE INDEX idx_responses_session ON web_chat_responses(session_id);
CREATE INDEX idx_rate_limits_window ON rate_limits(window_start);
CREATE INDEX idx_sessions_uid ON web_chat_sessions(uid);
CREATE INDEX idx_sessions_ip ON web_chat_sessions(ip_address);
"""


def php_escape(text: str) -> str:
    """What PHP's htmlspecialchars($text, ENT_QUOTES) stored for ``text``."""
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&#039;"))


def build_php_db(path: Path, *, sessions=(), messages=(), responses=(), rate_limits=(),
                 sequences: dict | None = None) -> Path:
    """A PHP-shaped database at ``path``. Rows are dicts of column values
    (already in their stored form); PHP enforced no foreign keys, so orphans
    and dangling links can be written. ``sequences`` raises the AUTOINCREMENT
    high-water marks above the largest ids (as after the PHP cleanup deleted
    the newest rows)."""
    conn = sqlite3.connect(path)
    try:
        conn.executescript(PHP_SCHEMA)
        for table, rows in (("web_chat_sessions", sessions), ("web_chat_messages", messages),
                            ("web_chat_responses", responses), ("rate_limits", rate_limits)):
            for row in rows:
                columns = ", ".join(row)
                marks = ", ".join("?" * len(row))
                conn.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})",
                             list(row.values()))
        for table, seq in (sequences or {}).items():
            conn.execute("UPDATE sqlite_sequence SET seq = ? WHERE name = ?", (seq, table))
        conn.commit()
    finally:
        conn.close()
    return path


SESSION_TIME = "2026-11-02 10:00:00"
PHP_TIME = "2026-11-02T10:00:05+00:00"


def sample_php_db(path: Path) -> Path:
    """A small PHP database with every oddity the migration must survive."""
    typed = {
        1: "It's #4512 & it hasn't arrived \"yet\"",
        2: "&amp; literally typed, and <tag>",
        3: "client clock says epoch",
        4: "object timestamp",
        5: "empty timestamp",
        6: "null timestamp",
        7: "from the future",
        8: "I will be orphaned",
        9: "left unprocessed",
        10: "js clock",
    }
    times = {1: PHP_TIME, 2: "2026-11-02T10:00:06+00:00", 3: "12345", 4: "Array", 5: "",
             6: None, 7: "2999-01-01T00:00:00Z", 8: "2026-11-02T09:00:00+00:00",
             9: "2026-11-02T10:01:00+00:00", 10: "2025-08-04T03:08:55.484Z"}
    session_of = {1: "session_a", 2: "session_a", 3: "session_odd", 4: "session_odd",
                  5: "session_odd", 6: "session_odd", 7: "session_b", 8: "session_gone",
                  9: "session_a", 10: "session_odd"}
    messages = [{"id": i, "session_id": session_of[i], "message": php_escape(typed[i]),
                 "timestamp": times[i], "processed": 0 if i == 9 else 1,
                 "broca_message_id": 500 + i if i == 1 else None} for i in typed]
    responses = [
        {"id": 1, "session_id": "session_a", "response": php_escape("Reply <3 & \"welcome\""),
         "timestamp": "2026-11-02T10:00:07+00:00", "message_id": 1},
        {"id": 2, "session_id": "session_a", "response": "links a deleted message",
         "timestamp": "2026-11-02T10:00:08+00:00", "message_id": 99},
        {"id": 3, "session_id": "session_gone", "response": "orphaned reply",
         "timestamp": "2026-11-02T09:00:01+00:00", "message_id": 8},
        {"id": 4, "session_id": "session_b", "response": "unlinked &nbsp; &#39;kept&#39;",
         "timestamp": "Array", "message_id": None},
    ]
    sessions = [
        {"id": "session_a", "uid": "a1a1a1a1a1a1a1a1", "created_at": SESSION_TIME,
         "last_active": "2026-11-02 10:01:00", "ip_address": "127.0.0.1", "metadata": "[]"},
        {"id": "session_b", "uid": "b2b2b2b2b2b2b2b2", "created_at": SESSION_TIME,
         "last_active": SESSION_TIME, "ip_address": "::1", "metadata": "[]"},
        {"id": "session_odd", "uid": "c3c3c3c3c3c3c3c3", "created_at": "2026-11-02 10:00:30",
         "last_active": "2026-11-02 10:00:30", "ip_address": "10.0.0.1",
         "metadata": '{"page": "/contact"}'},
    ]
    rate_limits = [
        {"ip_address": "127.0.0.1", "endpoint": "/api/messages", "count": 3,
         "window_start": SESSION_TIME},
        {"ip_address": "127.0.0.1", "endpoint": "/api/inbox", "count": 9,
         "window_start": SESSION_TIME},
    ]
    return build_php_db(path, sessions=sessions, messages=messages, responses=responses,
                        rate_limits=rate_limits,
                        sequences={"web_chat_messages": 20, "web_chat_responses": 10})


SAMPLE_TYPED_MESSAGES = {
    1: "It's #4512 & it hasn't arrived \"yet\"",
    2: "&amp; literally typed, and <tag>",
}
