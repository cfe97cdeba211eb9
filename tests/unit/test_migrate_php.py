"""migrate-php and validate-migration, on PHP-shaped databases built here and
on the real one in the shared reference folder."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from datetime import datetime, timezone

import pytest
from click.testing import CliRunner

from tests.conftest import SHARED_REFERENCE
from tests.php_fixtures import build_php_db, php_escape, sample_php_db
from webchat_bridge.cli import cli
from webchat_bridge.db import maintenance, open_database
from webchat_bridge.db.php_source import NotAPhpDatabase
from webchat_bridge.migrate_php import (
    MigrationError,
    decode_php_text,
    migrate,
    read_time,
    validate,
)

NOW = datetime(2026, 12, 1, 12, 0, 0, tzinfo=timezone.utc)


@pytest.fixture
def source(tmp_path):
    return str(sample_php_db(tmp_path / "php.db"))


@pytest.fixture
def target(tmp_path):
    return str(tmp_path / "bridge" / "web_chat_bridge.db")


def rows(path, sql, params=()):
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def dump(path):
    """Every row of the data tables and the sequences, for before/after checks."""
    return {t: rows(path, f"SELECT * FROM {t} ORDER BY id")
            for t in ("web_chat_sessions", "web_chat_messages", "web_chat_responses")} | {
        "seq": rows(path, "SELECT name, seq FROM sqlite_sequence ORDER BY name")}


def metadata(path, session_id):
    (text,), = rows(path, "SELECT metadata FROM web_chat_sessions WHERE id = ?", (session_id,))
    return text


def seed_target(path, session_id="session_local", message_id=100):
    conn = open_database(path)
    conn.execute("INSERT INTO web_chat_sessions (id, created_at, last_active, metadata)"
                 " VALUES (?, '2026-11-30 08:00:00', '2026-11-30 08:00:00', NULL)",
                 (session_id,))
    conn.execute("INSERT INTO web_chat_messages (id, session_id, message, timestamp, processed)"
                 " VALUES (?, ?, 'already here', '2026-11-30T08:00:00.000Z', 0)",
                 (message_id, session_id))
    conn.close()


def invoke(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def assert_one_line_error(result, fragment):
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert fragment in lines[0]


# -- decoding and time conversion --------------------------------------------

@pytest.mark.parametrize("stored, typed", [
    ("&amp;", "&"),
    ("&lt;", "<"),
    ("&gt;", ">"),
    ("&quot;", '"'),
    ("&#039;", "'"),
    ("&amp;amp;", "&amp;"),
    ("&amp;lt;tag&amp;gt;", "&lt;tag&gt;"),
    ("&amp;#039;", "&#039;"),
    ("&nbsp;", "&nbsp;"),
    ("&#39;", "&#39;"),
    ("&apos; &copy; &#x27;", "&apos; &copy; &#x27;"),
    ("&AMP; &Lt;", "&AMP; &Lt;"),
    ("5 &gt; 3 &amp;&amp; 2 &lt; 4", "5 > 3 && 2 < 4"),
    ("no entities", "no entities"),
    ("", ""),
])
def test_decodes_exactly_the_five_php_entities_in_one_pass(stored, typed):
    assert decode_php_text(stored) == typed


def test_decoding_inverts_php_escaping_for_any_text():
    for text in ["&amp;", "a & b", "<&lt;>", "'\"&#039;\"'", "&&amp;amp;;", "😀 &nbsp;"]:
        assert decode_php_text(php_escape(text)) == text


def test_decoding_leaves_non_text_alone():
    assert decode_php_text(None) is None
    assert decode_php_text(42) == 42


@pytest.mark.parametrize("stored, expected", [
    ("2026-11-03T11:22:30+00:00", "2026-11-03T11:22:30.000Z"),
    ("2025-08-04T03:08:55.484Z", "2025-08-04T03:08:55.484Z"),
    ("2026-11-30T14:00:00+02:00", "2026-11-30T12:00:00.000Z"),
    ("2026-11-30 10:00:00", "2026-11-30T10:00:00.000Z"),
])
def test_readable_times_are_converted_to_utc(stored, expected):
    from webchat_bridge.timefmt import iso_ms

    assert iso_ms(read_time(stored, NOW)) == expected


@pytest.mark.parametrize("stored", ["12345", "Array", "", None, 12345, "yesterday",
                                    "2026-13-45T99:00:00Z", "2026-12-01T12:00:01Z",
                                    "2999-01-01T00:00:00Z"])
def test_odd_or_future_times_are_refused(stored):
    assert read_time(stored, NOW) is None


# -- migrating a PHP-shaped database -----------------------------------------

def test_migration_keeps_ids_text_flags_and_links(source, target):
    report = migrate(source, target, now=NOW)
    messages = {r[0]: r[1:] for r in rows(
        target, "SELECT id, session_id, message, processed, broca_message_id"
                " FROM web_chat_messages")}
    assert sorted(messages) == list(range(1, 11))
    assert messages[1] == ("session_a", "It's #4512 & it hasn't arrived \"yet\"", 1, 501)
    assert messages[2][1] == "&amp; literally typed, and <tag>"
    assert messages[9][2] == 0  # still waiting for the agent
    assert all(m[2] == 1 for i, m in messages.items() if i != 9)
    responses = {r[0]: r[1:] for r in rows(
        target, "SELECT id, session_id, response, message_id FROM web_chat_responses")}
    assert responses[1] == ("session_a", "Reply <3 & \"welcome\"", 1)
    assert responses[3] == ("session_gone", "orphaned reply", 8)
    assert responses[4][1] == "unlinked &nbsp; &#39;kept&#39;"
    assert report.decoded == {"messages": 2, "responses": 1}
    assert report.written == {"sessions": 4, "messages": 10, "responses": 4}


def test_sequences_are_at_least_the_php_ones(source, target):
    migrate(source, target, now=NOW)
    assert dict(rows(target, "SELECT name, seq FROM sqlite_sequence")) == {
        "web_chat_messages": 20, "web_chat_responses": 10}
    conn = open_database(target)
    new_id = conn.execute("INSERT INTO web_chat_messages (session_id, message, timestamp)"
                          " VALUES ('session_a', 'new', '2026-12-01T12:00:00.000Z')"
                          " RETURNING id").fetchone()[0]
    conn.close()
    assert new_id == 21


def test_timestamps_are_stored_in_the_bridge_forms(source, target):
    migrate(source, target, now=NOW)
    times = dict(rows(target, "SELECT id, timestamp FROM web_chat_messages"))
    assert times[1] == "2026-11-02T10:00:05.000Z"
    assert times[10] == "2025-08-04T03:08:55.484Z"
    sessions = {r[0]: r[1:] for r in rows(
        target, "SELECT id, created_at, last_active FROM web_chat_sessions")}
    assert sessions["session_a"] == ("2026-11-02 10:00:00", "2026-11-02 10:01:00")


def test_odd_timestamps_get_the_nearest_earlier_bound_and_are_recorded(source, target):
    report = migrate(source, target, now=NOW)
    times = dict(rows(target, "SELECT id, timestamp FROM web_chat_messages"))
    # 3-6: after message 2 (10:00:06) but never before their session began (10:00:30).
    for i in (3, 4, 5, 6):
        assert times[i] == "2026-11-02T10:00:30.000Z"
    # 7 claimed the year 2999: bounded by message 2, its session began earlier.
    assert times[7] == "2026-11-02T10:00:06.000Z"
    (response_time,), = rows(target, "SELECT timestamp FROM web_chat_responses WHERE id = 4")
    assert response_time == "2026-11-02T10:00:00.000Z"
    odd = {(o.table, o.row_id): o.original for o in report.odd_times}
    assert odd == {("messages", 3): "12345", ("messages", 4): "Array", ("messages", 5): "",
                   ("messages", 6): None, ("messages", 7): "2999-01-01T00:00:00Z",
                   ("responses", 4): "Array"}
    notes = json.loads(metadata(target, "session_odd"))
    assert notes["page"] == "/contact"  # the PHP metadata is kept
    assert notes["php_migration"]["original_timestamps"] == {
        "message:3": "12345", "message:4": "Array", "message:5": "", "message:6": None}
    session_b = json.loads(metadata(target, "session_b"))
    assert session_b == {"php_migration": {"original_timestamps": {
        "message:7": "2999-01-01T00:00:00Z", "response:4": "Array"}}}
    text = "\n".join(report.lines())
    assert '"12345"' in text and '"Array"' in text and "messages 6" in text


def test_orphans_are_kept_under_a_recreated_session(source, target):
    report = migrate(source, target, now=NOW)
    (row,) = rows(target, "SELECT uid, created_at, last_active, ip_address, metadata"
                          " FROM web_chat_sessions WHERE id = 'session_gone'")
    assert row[:4] == (None, "2026-11-02 09:00:00", "2026-11-02 09:00:01", None)
    assert json.loads(row[4])["php_migration"]["recreated"] is True
    assert [(o.session_id, o.messages, o.responses) for o in report.orphans] == [
        ("session_gone", 1, 1)]
    assert rows(target, "PRAGMA foreign_key_check") == []


def test_links_to_missing_messages_are_nulled_and_reported(source, target):
    report = migrate(source, target, now=NOW)
    assert rows(target, "SELECT message_id FROM web_chat_responses WHERE id = 2") == [(None,)]
    assert report.nulled_links == [(2, 99)]
    notes = json.loads(metadata(target, "session_a"))["php_migration"]
    assert notes["missing_message_links"] == {"response:2": 99}


def test_sessions_without_notes_keep_their_metadata_verbatim(tmp_path, target):
    source = build_php_db(tmp_path / "plain.db", sessions=[
        {"id": "s1", "uid": "u1", "created_at": "2026-11-01 00:00:00",
         "last_active": "2026-11-01 00:00:00", "ip_address": "127.0.0.1", "metadata": "[]"}])
    migrate(str(source), target, now=NOW)
    assert metadata(target, "s1") == "[]"


def test_rate_limits_are_not_migrated(source, target):
    report = migrate(source, target, now=NOW)
    assert rows(target, "SELECT COUNT(*) FROM rate_limits") == [(0,)]
    assert report.rate_limit_rows == 2
    assert any("rate_limits not migrated: 2" in line for line in report.lines())


def test_source_file_is_not_changed(source, target):
    with open(source, "rb") as f:
        before = f.read()
    migrate(source, target, now=NOW)
    validate(source, target)
    with open(source, "rb") as f:
        assert f.read() == before


def test_dry_run_writes_nothing(source, target):
    # With no target yet, not even the file is created.
    report = migrate(source, target, dry_run=True, now=NOW)
    assert report.written["messages"] == 10
    assert not os.path.exists(target)
    # With one, its data is left as it was.
    open_database(target).close()
    migrate(source, target, dry_run=True, now=NOW)
    assert dump(target)["web_chat_messages"] == []


# -- refusing, merging, replacing ---------------------------------------------

def test_a_non_empty_target_is_refused_and_unchanged(source, target):
    seed_target(target)
    before = dump(target)
    with pytest.raises(MigrationError, match="already holds data"):
        migrate(source, target, now=NOW)
    assert dump(target) == before


def test_a_second_plain_run_refuses_cleanly(source, target):
    migrate(source, target, now=NOW)
    before = dump(target)
    result = invoke("-d", target, "migrate-php", source)
    assert_one_line_error(result, "already holds data")
    assert dump(target) == before


def test_merge_adds_to_the_target(source, target):
    seed_target(target)
    report = migrate(source, target, mode="merge", now=NOW)
    assert report.written["messages"] == 10
    ids = [r[0] for r in rows(target, "SELECT id FROM web_chat_messages ORDER BY id")]
    assert ids == list(range(1, 11)) + [100]
    assert dict(rows(target, "SELECT name, seq FROM sqlite_sequence"))["web_chat_messages"] == 100
    assert validate(source, target, merged=True)[1].ok
    assert not all(c.ok for c in validate(source, target))  # strict: the extra rows show


def test_merge_refuses_an_id_conflict_and_changes_nothing(source, target):
    seed_target(target, message_id=3)
    before = dump(target)
    with pytest.raises(MigrationError, match=r"1 messages id\(s\).*\(3\)"):
        migrate(source, target, mode="merge", now=NOW)
    assert dump(target) == before


def test_merge_refuses_a_session_conflict(source, target):
    seed_target(target, session_id="session_gone")
    before = dump(target)
    with pytest.raises(MigrationError, match="session_gone"):
        migrate(source, target, mode="merge", now=NOW)
    assert dump(target) == before


def test_replace_wipes_the_target_first_and_is_repeatable(source, target):
    seed_target(target)
    report = migrate(source, target, mode="replace", now=NOW)
    assert report.wiped == {"sessions": 1, "messages": 1}
    first = dump(target)
    assert "session_local" not in [r[0] for r in first["web_chat_sessions"]]
    migrate(source, target, mode="replace", now=NOW)
    assert dump(target) == first
    assert all(c.ok for c in validate(source, target))


def test_failure_midway_leaves_the_target_unchanged(source, target, monkeypatch):
    seed_target(target)
    before = dump(target)

    def broken(db, rows):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(maintenance, "insert_responses", broken)
    with pytest.raises(RuntimeError, match="disk on fire"):
        migrate(source, target, mode="replace", now=NOW)
    assert dump(target) == before


def test_failure_midway_into_an_empty_target_leaves_it_empty(source, target, monkeypatch):
    calls = []
    original = maintenance.insert_sessions

    def broken(db, rows):
        calls.append(1)
        original(db, rows)
        raise RuntimeError("killed after the last table")

    monkeypatch.setattr(maintenance, "insert_sessions", broken)
    with pytest.raises(RuntimeError):
        migrate(source, target, now=NOW)
    assert calls
    assert dump(target) == {"web_chat_sessions": [], "web_chat_messages": [],
                            "web_chat_responses": [], "seq": []}


# -- sources that are not PHP databases ---------------------------------------

def test_missing_source(tmp_path, target):
    with pytest.raises(NotAPhpDatabase, match="no such file"):
        migrate(str(tmp_path / "nope.db"), target)


def test_text_file_is_not_a_php_database(tmp_path, target):
    junk = tmp_path / "notes.db"
    junk.write_text("hello, this is not SQLite\n" * 100)
    with pytest.raises(NotAPhpDatabase, match="not an SQLite database"):
        migrate(str(junk), target)


def test_sqlite_file_without_the_php_tables(tmp_path, target):
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE web_chat_sessions (id TEXT)")
    conn.close()
    with pytest.raises(NotAPhpDatabase, match="no table web_chat_messages"):
        migrate(str(other), target)


def test_php_tables_missing_a_column(tmp_path, target):
    path = build_php_db(tmp_path / "php.db")
    conn = sqlite3.connect(path)
    conn.execute("ALTER TABLE web_chat_messages DROP COLUMN broca_message_id")
    conn.close()
    with pytest.raises(NotAPhpDatabase, match="lacks column.*broca_message_id"):
        migrate(str(path), target)


def test_a_bridge_database_is_not_a_php_one(tmp_path, target):
    ours = str(tmp_path / "ours.db")
    open_database(ours).close()
    with pytest.raises(NotAPhpDatabase, match="webchat-bridge database"):
        migrate(ours, target)


def test_columns_are_read_by_name_not_position(tmp_path, target):
    """A PHP file whose columns were created in another order still migrates."""
    path = tmp_path / "reordered.db"
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE web_chat_sessions (metadata TEXT, ip_address TEXT, last_active TEXT,
            created_at TEXT, uid TEXT, id VARCHAR(64) PRIMARY KEY);
        CREATE TABLE web_chat_messages (broca_message_id INTEGER, processed INTEGER,
            timestamp TEXT, message TEXT, session_id TEXT,
            id INTEGER PRIMARY KEY AUTOINCREMENT);
        CREATE TABLE web_chat_responses (message_id INTEGER, timestamp TEXT, response TEXT,
            session_id TEXT, id INTEGER PRIMARY KEY AUTOINCREMENT);
        INSERT INTO web_chat_sessions VALUES ('[]', '1.2.3.4', '2026-11-01 00:00:01',
            '2026-11-01 00:00:00', 'u', 's');
        INSERT INTO web_chat_messages VALUES (7, 1, '2026-11-01T00:00:00+00:00', 'hi', 's', 1);
        INSERT INTO web_chat_responses VALUES (1, '2026-11-01T00:00:01+00:00', 'yo', 's', 1);
    """)
    conn.close()
    migrate(str(path), target, now=NOW)
    assert rows(target, "SELECT id, session_id, message, processed, broca_message_id"
                        " FROM web_chat_messages") == [(1, "s", "hi", 1, 7)]
    assert rows(target, "SELECT uid, ip_address FROM web_chat_sessions") == [("u", "1.2.3.4")]


# -- validation ---------------------------------------------------------------

def test_validation_passes_after_migration(source, target):
    migrate(source, target, now=NOW)
    checks = validate(source, target)
    assert [(c.table, c.ok, c.expected_rows) for c in checks] == [
        ("sessions", True, 4), ("messages", True, 10), ("responses", True, 4)]


@pytest.mark.parametrize("tamper, table, row_id", [
    ("UPDATE web_chat_messages SET message = 'changed' WHERE id = 2", "messages", 2),
    ("UPDATE web_chat_messages SET processed = 1 WHERE id = 9", "messages", 9),
    ("UPDATE web_chat_messages SET timestamp = '2026-11-02T10:00:05.001Z' WHERE id = 1",
     "messages", 1),
    ("UPDATE web_chat_responses SET message_id = NULL WHERE id = 1", "responses", 1),
    ("UPDATE web_chat_sessions SET uid = 'x' WHERE id = 'session_b'", "sessions", "session_b"),
    ("UPDATE web_chat_sessions SET metadata = '{}' WHERE id = 'session_odd'", "messages", 3),
])
def test_validation_finds_a_tampered_row(source, target, tamper, table, row_id):
    migrate(source, target, now=NOW)
    conn = sqlite3.connect(target)
    conn.execute("PRAGMA foreign_keys = OFF")
    conn.execute(tamper)
    conn.commit()
    conn.close()
    checks = {c.table: c for c in validate(source, target)}
    assert not checks[table].ok
    assert row_id in checks[table].different


def test_validation_finds_a_missing_and_an_extra_row(source, target):
    migrate(source, target, now=NOW)
    conn = open_database(target)
    conn.execute("DELETE FROM web_chat_responses WHERE id = 3")
    conn.execute("INSERT INTO web_chat_responses (id, session_id, response, timestamp)"
                 " VALUES (50, 'session_a', 'extra', '2026-12-01T00:00:00.000Z')")
    conn.close()
    check = validate(source, target)[2]
    assert check.missing == [3] and check.extra == [50]
    assert check.expected_rows == 4 and check.actual_rows == 4
    assert check.expected_sha != check.actual_sha


# -- the commands ---------------------------------------------------------------

def test_cli_migrate_then_validate(source, target):
    result = invoke("-d", target, "migrate-php", source)
    assert result.exit_code == 0, result.output
    assert "messages   read      10   written      10" in result.output
    assert "orphaned sessions recreated: 1" in result.output
    result = invoke("-d", target, "validate-migration", source)
    assert result.exit_code == 0, result.output
    assert "Validation passed" in result.output


def test_cli_validation_failure_exits_non_zero(source, target):
    invoke("-d", target, "migrate-php", source)
    conn = sqlite3.connect(target)
    conn.execute("UPDATE web_chat_messages SET message = 'tampered' WHERE id = 1")
    conn.commit()
    conn.close()
    result = invoke("-d", target, "validate-migration", source)
    assert result.exit_code == 1
    assert "MISMATCH" in result.output and "different content: 1" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("make_source, fragment", [
    (lambda p: str(p / "missing.db"), "no such file"),
    (lambda p: (p / "text.db").write_text("not a database " * 300) and str(p / "text.db"),
     "not an SQLite database"),
    (lambda p: str(p), "not a file"),
])
def test_cli_bad_source_is_one_line(tmp_path, target, make_source, fragment):
    for command in ("migrate-php", "validate-migration"):
        assert_one_line_error(invoke("-d", target, command, make_source(tmp_path)), fragment)


def test_cli_refuses_merge_and_replace_together(source, target):
    assert_one_line_error(invoke("-d", target, "migrate-php", source, "--merge", "--replace"),
                          "one of --merge and --replace")


def test_cli_validation_without_a_target(source, tmp_path):
    result = invoke("-d", str(tmp_path / "absent.db"), "validate-migration", source)
    assert_one_line_error(result, "no such database")


# -- the real PHP database ------------------------------------------------------

REAL_DB = SHARED_REFERENCE / "php-web_chat.db"
SENT = SHARED_REFERENCE / "php-web_chat.sent.json"


@pytest.mark.skipif(not (REAL_DB.exists() and SENT.exists()),
                    reason=f"the reference PHP database is not at {REAL_DB}")
def test_the_real_php_database(tmp_path):
    source = tmp_path / "php-web_chat.db"
    shutil.copyfile(REAL_DB, source)  # the migration opens it read-only; belt and braces
    target = str(tmp_path / "bridge.db")
    sent = json.loads(SENT.read_text("utf-8"))
    result = invoke("-d", target, "migrate-php", str(source))
    assert result.exit_code == 0, result.output

    messages = {r[0]: r[1:] for r in rows(
        target, "SELECT id, session_id, message, processed FROM web_chat_messages")}
    assert sorted(messages) == sorted(int(i) for i in sent["messages"])
    for key, expected in sent["messages"].items():
        session_id, text, _processed = messages[int(key)]
        assert (session_id, text) == (expected["session_id"], expected["message"]), key
    assert messages[15][2] == 0  # "left unprocessed for the agent"
    responses = {r[0]: r[1:] for r in rows(
        target, "SELECT id, session_id, response, message_id FROM web_chat_responses")}
    assert sorted(responses) == sorted(int(i) for i in sent["responses"])
    for key, expected in sent["responses"].items():
        assert responses[int(key)] == (expected["session_id"], expected["response"],
                                       expected["message_id"]), key

    orphan = sent["orphaned_session"]
    (meta,), = rows(target, "SELECT metadata FROM web_chat_sessions WHERE id = ?", (orphan,))
    assert json.loads(meta)["php_migration"]["recreated"] is True
    assert f"{orphan}: 1 message(s), 1 response(s)" in result.output

    # The two client times PHP stored as they came: "12345" and "Array" (an
    # object sent as the timestamp); a real JS time was kept.
    originals = {k: v["client_timestamp"] for k, v in sent["messages"].items()
                 if "client_timestamp" in v}
    assert originals["11"] == "12345"
    assert 'messages 11 (session session_sharodd_f28c105d): "12345"' in result.output
    assert 'messages 12 (session session_sharodd_f28c105d): "Array"' in result.output
    (meta,), = rows(target, "SELECT metadata FROM web_chat_sessions WHERE id ="
                            " 'session_sharodd_f28c105d'")
    assert json.loads(meta)["php_migration"]["original_timestamps"] == {
        "message:11": "12345", "message:12": "Array"}
    assert rows(target, "SELECT timestamp FROM web_chat_messages WHERE id = 13") == [
        (originals["13"],)]

    php_seq = dict(rows(str(source), "SELECT name, seq FROM sqlite_sequence"))
    ours = dict(rows(target, "SELECT name, seq FROM sqlite_sequence"))
    for table in ("web_chat_messages", "web_chat_responses"):
        assert ours[table] >= php_seq[table]

    result = invoke("-d", target, "validate-migration", str(source))
    assert result.exit_code == 0, result.output


def test_cli_progress_goes_to_stderr(source, target):
    result = invoke("-d", target, "migrate-php", source, "--progress")
    assert result.exit_code == 0, result.output
    assert "messages" in result.stderr and "rows" in result.stderr
    assert "rows" not in result.stdout.split("\n")[0]
    assert "it/s" not in result.stdout and " rows/s" not in result.stdout


def test_odd_session_times_and_unusual_metadata(tmp_path, target):
    source = str(build_php_db(tmp_path / "php.db", sessions=[
        {"id": "s_odd", "uid": "u1", "created_at": "Array", "last_active": "",
         "ip_address": "127.0.0.1", "metadata": "[1, 2]"},
        {"id": "s_none", "uid": "u2", "created_at": None, "last_active": None,
         "ip_address": None, "metadata": None},
    ], messages=[
        {"id": 1, "session_id": "s_odd", "message": "a", "timestamp": "2026-11-05T08:00:00+00:00",
         "processed": 1},
        {"id": 2, "session_id": "s_odd", "message": "b", "timestamp": "2026-11-05T08:05:00+00:00",
         "processed": 1},
    ]))
    report = migrate(source, target, now=NOW)
    sessions = {r[0]: r[1:] for r in rows(
        target, "SELECT id, created_at, last_active, metadata FROM web_chat_sessions")}
    created, active, meta = sessions["s_odd"]
    assert (created, active) == ("2026-11-05 08:00:00", "2026-11-05 08:05:00")
    notes = json.loads(meta)["php_migration"]
    assert notes["original_timestamps"] == {"session:created_at": "Array",
                                            "session:last_active": ""}
    assert notes["original_metadata"] == "[1, 2]"  # not an object: kept as it was
    assert sessions["s_none"][:2] == ("2026-12-01 12:00:00", "2026-12-01 12:00:00")
    assert len([o for o in report.odd_times if o.table == "sessions"]) == 4
    assert all(c.ok for c in validate(source, target))


def test_blobs_and_bad_utf8_arrive_as_text(tmp_path):
    source = build_php_db(
        tmp_path / "blobby.db",
        sessions=[{"id": "s1", "uid": "0123456789abcdef", "created_at": "2026-11-02 10:00:00",
                   "last_active": "2026-11-02 10:00:00", "ip_address": "127.0.0.1",
                   "metadata": b"[]"}],
        messages=[{"session_id": "s1", "message": b"caf\xc3\xa9 &amp; more",
                   "timestamp": "2026-11-02T10:00:05+00:00", "processed": 1},
                  {"session_id": "s1", "message": b"bad \xff byte",
                   "timestamp": "2026-11-02T10:00:06+00:00", "processed": 0}],
        responses=[{"session_id": "s1", "response": b"\xde\xad", "message_id": 1,
                    "timestamp": "2026-11-02T10:00:07+00:00"}],
    )
    # Text that is not UTF-8 in a TEXT value, too.
    raw = sqlite3.connect(source)
    raw.execute("INSERT INTO web_chat_messages (session_id, message, timestamp, processed)"
                " VALUES ('s1', CAST(X'6f6b20ff' AS TEXT), '2026-11-02T10:00:08+00:00', 0)")
    raw.commit()
    raw.close()
    target = str(tmp_path / "bridge.db")
    assert invoke("--database", target, "migrate-php", str(source)).exit_code == 0
    conn = open_database(target)
    try:
        rows = conn.execute("SELECT message, typeof(message) FROM web_chat_messages ORDER BY id")
        got = [tuple(r) for r in rows]
        assert got[0] == ("café & more", "text")
        assert got[1] == ("bad \ufffd byte", "text") and got[2] == ("ok \ufffd", "text")
        assert conn.execute("SELECT typeof(response) FROM web_chat_responses").fetchone()[0] == "text"
    finally:
        conn.close()
    assert invoke("--database", target, "validate-migration", str(source)).exit_code == 0
