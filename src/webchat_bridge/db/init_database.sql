-- Web Chat Bridge database schema, version 1 (PRAGMA user_version = 1).
--
-- The four tables, their columns, types, defaults and indexes are those of the
-- specification, so that a database written by the bridge stays readable by
-- anything written against the PHP system. SQLite cannot add constraints with
-- ALTER TABLE, so the foreign keys are declared here, inside CREATE TABLE; they
-- are enforced because every connection sets PRAGMA foreign_keys = ON.
--
-- No sample rows: a production database starts empty.

CREATE TABLE IF NOT EXISTS web_chat_sessions (
    id VARCHAR(64) PRIMARY KEY,
    uid VARCHAR(16),
    created_at TEXT,
    last_active TEXT,
    ip_address VARCHAR(45),
    metadata TEXT
);

CREATE TABLE IF NOT EXISTS web_chat_messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id VARCHAR(64),
    message TEXT,
    timestamp TEXT,
    processed INTEGER DEFAULT 0,
    broca_message_id INTEGER,
    CONSTRAINT fk_messages_session FOREIGN KEY (session_id)
        REFERENCES web_chat_sessions(id) ON DELETE CASCADE
);

CREATE TABLE IF NOT EXISTS web_chat_responses (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id VARCHAR(64),
    response TEXT,
    timestamp TEXT,
    message_id INTEGER,
    CONSTRAINT fk_responses_session FOREIGN KEY (session_id)
        REFERENCES web_chat_sessions(id) ON DELETE CASCADE,
    CONSTRAINT fk_responses_message FOREIGN KEY (message_id)
        REFERENCES web_chat_messages(id) ON DELETE SET NULL
);

CREATE TABLE IF NOT EXISTS rate_limits (
    ip_address VARCHAR(45),
    endpoint VARCHAR(50),
    count INTEGER,
    window_start TEXT
);

-- Runtime settings (keys, timeouts, rate limits) changed through the config
-- action or the CLI. Kept in the database, never in source files, so that every
-- worker process sees a change on its next request.
CREATE TABLE IF NOT EXISTS web_chat_settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE INDEX IF NOT EXISTS idx_sessions_last_active ON web_chat_sessions(last_active);
CREATE INDEX IF NOT EXISTS idx_sessions_uid ON web_chat_sessions(uid);
CREATE INDEX IF NOT EXISTS idx_sessions_ip ON web_chat_sessions(ip_address);

CREATE INDEX IF NOT EXISTS idx_messages_session_id ON web_chat_messages(session_id);
CREATE INDEX IF NOT EXISTS idx_messages_processed ON web_chat_messages(processed);
CREATE INDEX IF NOT EXISTS idx_messages_timestamp ON web_chat_messages(timestamp);
CREATE INDEX IF NOT EXISTS idx_messages_broca_id ON web_chat_messages(broca_message_id);

CREATE INDEX IF NOT EXISTS idx_responses_session_id ON web_chat_responses(session_id);
CREATE INDEX IF NOT EXISTS idx_responses_timestamp ON web_chat_responses(timestamp);
CREATE INDEX IF NOT EXISTS idx_responses_message_id ON web_chat_responses(message_id);

CREATE INDEX IF NOT EXISTS idx_rate_limits_ip_endpoint ON rate_limits(ip_address, endpoint);
CREATE INDEX IF NOT EXISTS idx_rate_limits_window ON rate_limits(window_start);
