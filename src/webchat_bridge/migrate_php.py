"""Bringing a database of the PHP system across, and checking that it arrived.

What the PHP system stored differs from what the bridge stores in three ways,
and each is undone here:

* text: PHP ran ``htmlspecialchars`` on every message and response before
  storing it, so ``It's`` is stored as ``It&#039;s``. Exactly those five
  entities are decoded, in a single pass, so that a visitor who literally typed
  ``&amp;`` (stored as ``&amp;amp;``) gets ``&amp;`` back and not ``&``.
* time: PHP wrote ``2026-12-03T11:22:30+00:00`` itself, and stored whatever a
  client sent (``12345``, ``Array``, nothing) when one was sent. Readable times
  are rewritten in the bridge's stored forms; unreadable ones (and times later
  than the migration, which would sort ahead of every new message) get a
  substitute, and the original value is kept in the session's metadata.
* orphans: the PHP cleanup deleted sessions but not their messages and
  responses. Those rows are kept, under a session recreated for them.

Everything happens in one transaction on the target: it is all there or none
of it is.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Iterable, Iterator

from .db import maintenance, open_database, php_source, transaction
from .timefmt import iso_ms, parse_client_time, sqlite_seconds, utcnow

# The five replacements of PHP's htmlspecialchars(ENT_QUOTES) and nothing else:
# "&nbsp;" or "&#39;" were never produced by it, so they are what was typed.
PHP_ENTITIES = {"&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&#039;": "'"}
_ENTITY = re.compile("|".join(re.escape(e) for e in PHP_ENTITIES))

NOTE_KEY = "php_migration"
ORPHAN_REASON = ("the PHP cleanup deleted this session but kept its messages and "
                 "responses; recreated by the migration so they are not lost")
RATE_LIMITS_NOTE = ("rate_limits not migrated: {n} row(s) of transient counters of the PHP "
                    "system's limiter; the bridge keeps its own")


class MigrationError(Exception):
    """The migration cannot go ahead; the message says why, in one line."""


def decode_php_text(text):
    """Undo PHP's htmlspecialchars: the five entities, one left-to-right pass.

    A value stored as a BLOB (PHP's SQLite binding can do that) is read as
    UTF-8, any invalid byte becoming U+FFFD, so the bridge only ever holds text.
    """
    if isinstance(text, (bytes, bytearray, memoryview)):
        text = bytes(text).decode("utf-8", "replace")
    if not isinstance(text, str):
        return text
    return _ENTITY.sub(lambda m: PHP_ENTITIES[m.group(0)], text)


@lru_cache(maxsize=65536)
def _parse(value: str) -> datetime | None:
    # PHP wrote whole seconds, so the same text recurs across many rows.
    return parse_client_time(value)


def read_time(value, now: datetime) -> datetime | None:
    """A stored PHP time as a UTC datetime; None when it cannot stand as one
    (unreadable, not text, or later than ``now``)."""
    if not isinstance(value, str):
        return None
    moment = _parse(value)
    if moment is None or moment > now:
        return None
    return moment


def _jsonable(value):
    if value is None or isinstance(value, (str, int, float)):
        return value
    if isinstance(value, bytes):
        return {"blob_hex": value.hex()}
    return repr(value)


@dataclass
class OddTime:
    table: str
    row_id: object
    session_id: str | None
    original: object
    substitute: str

    def describe(self) -> str:
        return (f"{self.table} {self.row_id} (session {self.session_id}): "
                f"{json.dumps(self.original, ensure_ascii=False)} -> {self.substitute}")


@dataclass
class Orphan:
    session_id: str
    messages: int = 0
    responses: int = 0


@dataclass
class Report:
    source: str
    target: str
    mode: str
    dry_run: bool = False
    source_counts: dict = field(default_factory=dict)
    written: dict = field(default_factory=dict)
    decoded: dict = field(default_factory=lambda: {"messages": 0, "responses": 0})
    odd_times: list = field(default_factory=list)
    orphans: list = field(default_factory=list)
    nulled_links: list = field(default_factory=list)
    rate_limit_rows: int = 0
    wiped: dict = field(default_factory=dict)
    sequences: dict = field(default_factory=dict)

    def lines(self) -> list[str]:
        verb = "Would migrate (dry run, nothing written)" if self.dry_run else "Migrated"
        out = [f"{verb} {self.source} -> {self.target} (mode: {self.mode})"]
        if self.wiped:
            out.append("  replaced the target's data: deleted "
                       + ", ".join(f"{n} {t}" for t, n in self.wiped.items()))
        for table in ("sessions", "messages", "responses"):
            extra = ""
            if table == "sessions" and self.orphans:
                extra = f" (incl. {len(self.orphans)} recreated)"
            out.append(f"  {table:<10} read {self.source_counts.get(table, 0):>7}"
                       f"   written {self.written.get(table, 0):>7}{extra}")
        out.append(f"  decoded HTML entities in {self.decoded['messages']} message(s) "
                   f"and {self.decoded['responses']} response(s)")
        for table, (php, ours) in self.sequences.items():
            out.append(f"  sequence {table}: PHP {php}, target now {ours}")
        out.append(f"  odd timestamps replaced: {len(self.odd_times)}"
                   + (" (originals kept in each session's metadata under "
                      f"{NOTE_KEY}.original_timestamps)" if self.odd_times else ""))
        out.extend(f"    {odd.describe()}" for odd in self.odd_times)
        out.append(f"  orphaned sessions recreated: {len(self.orphans)}")
        out.extend(f"    {o.session_id}: {o.messages} message(s), {o.responses} response(s)"
                   for o in self.orphans)
        out.append(f"  response links to missing messages set to NULL: {len(self.nulled_links)}")
        out.extend(f"    response {rid}: message_id {mid} does not exist"
                   for rid, mid in self.nulled_links)
        out.append("  " + RATE_LIMITS_NOTE.format(n=self.rate_limit_rows))
        return out


class Converter:
    """Turns PHP rows into bridge rows. Used by the migration to write them and
    by the validation to know what should have been written, so both agree."""

    def __init__(self, now: datetime, known_message_ids: set):
        self.now = now
        self.known_message_ids = known_message_ids
        self.sessions: dict[str, dict] = {}
        self.notes: dict[str, dict] = defaultdict(dict)
        self.span: dict[str, list[datetime]] = {}  # session id -> [first, last] row time
        self.orphans: dict[str, Orphan] = {}
        self.odd_times: list[OddTime] = []
        self.odd_rows: set[tuple[str, object]] = set()
        self.nulled_links: list[tuple] = []
        self.decoded = {"messages": 0, "responses": 0}
        self._previous = {"message": None, "response": None}

    # sessions are read first, but written last: their times may depend on
    # those of their rows.
    def load_sessions(self, rows: Iterable[dict]) -> None:
        for row in rows:
            self.sessions[row["id"]] = {
                **row,
                "_created": read_time(row["created_at"], self.now),
                "_last": read_time(row["last_active"], self.now),
            }

    def _row_time(self, kind: str, row: dict) -> str:
        moment = read_time(row["timestamp"], self.now)
        session_id = row["session_id"]
        if moment is None:
            # The tightest lower bound known: the row was written after the
            # previous one of its table (ids are handed out in order) and after
            # its session was created.
            bounds = [self._previous[kind]]
            session = self.sessions.get(session_id)
            if session is not None:
                bounds.append(session["_created"])
            bounds = [b for b in bounds if b is not None]
            substitute = max(bounds) if bounds else self.now
            stamp = iso_ms(substitute)
            original = _jsonable(row["timestamp"])
            self.odd_times.append(OddTime(f"{kind}s", row["id"], session_id, original, stamp))
            self.notes[session_id][f"{kind}:{row['id']}"] = original
            self.odd_rows.add((kind, row["id"]))
            moment = substitute
        else:
            self._previous[kind] = moment
            stamp = iso_ms(moment)
        span = self.span.setdefault(session_id, [moment, moment])
        span[0], span[1] = min(span[0], moment), max(span[1], moment)
        if session_id is not None and session_id not in self.sessions:
            orphan = self.orphans.setdefault(session_id, Orphan(session_id))
            setattr(orphan, f"{kind}s", getattr(orphan, f"{kind}s") + 1)
        return stamp

    def _decode(self, kind: str, text):
        decoded = decode_php_text(text)
        if decoded != text:
            self.decoded[f"{kind}s"] += 1
        return decoded

    def messages(self, rows: Iterable[dict]) -> list[dict]:
        return [{
            "id": row["id"],
            "session_id": row["session_id"],
            "message": self._decode("message", row["message"]),
            "timestamp": self._row_time("message", row),
            "processed": row["processed"],
            "broca_message_id": row["broca_message_id"],
        } for row in rows]

    def responses(self, rows: Iterable[dict]) -> list[dict]:
        out = []
        for row in rows:
            message_id = row["message_id"]
            if message_id is not None and message_id not in self.known_message_ids:
                self.nulled_links.append((row["id"], message_id))
                self.notes[row["session_id"]][f"response:{row['id']}:message_id"] = message_id
                message_id = None
            out.append({
                "id": row["id"],
                "session_id": row["session_id"],
                "response": self._decode("response", row["response"]),
                "timestamp": self._row_time("response", row),
                "message_id": message_id,
            })
        return out

    def final_sessions(self) -> list[dict]:
        """Every session to write, with times settled and notes attached; call
        after all messages and responses went through."""
        out = []
        for session_id, row in self.sessions.items():
            first, last = self.span.get(session_id, (None, None))
            created, active = row["_created"], row["_last"]
            notes = dict(self.notes.get(session_id, {}))
            if created is None:
                candidates = [t for t in (active, first) if t is not None]
                created = min(candidates) if candidates else self.now
                notes["session:created_at"] = _jsonable(row["created_at"])
            if active is None:
                candidates = [t for t in (created, last) if t is not None]
                active = max(candidates) if candidates else self.now
                notes["session:last_active"] = _jsonable(row["last_active"])
            if created is not row["_created"]:
                self.odd_times.append(OddTime("sessions", session_id, session_id,
                                              _jsonable(row["created_at"]),
                                              sqlite_seconds(created)))
            if active is not row["_last"]:
                self.odd_times.append(OddTime("sessions", session_id, session_id,
                                              _jsonable(row["last_active"]),
                                              sqlite_seconds(active)))
            out.append({
                "id": session_id,
                "uid": row["uid"],
                "created_at": sqlite_seconds(created),
                "last_active": sqlite_seconds(active),
                "ip_address": row["ip_address"],
                "metadata": with_notes(row["metadata"], notes),
            })
        for session_id, orphan in self.orphans.items():
            first, last = self.span[session_id]
            out.append({
                "id": session_id,
                "uid": None,
                "created_at": sqlite_seconds(first),
                "last_active": sqlite_seconds(last),
                "ip_address": None,
                "metadata": with_notes(None, self.notes.get(session_id, {}), recreated=True),
            })
        return out


def with_notes(metadata, notes: dict, *, recreated: bool = False):
    """The session's metadata with the migration's notes added; unchanged when
    there is nothing to add. PHP wrote ``[]`` for "none", which becomes an
    object; anything that is not an object is kept under ``original_metadata``."""
    if not notes and not recreated:
        return metadata
    section: dict = {}
    if recreated:
        section["recreated"] = True
        section["reason"] = ORPHAN_REASON
    timestamps = {k: v for k, v in notes.items() if not k.endswith(":message_id")}
    links = {k.rsplit(":", 1)[0]: v for k, v in notes.items() if k.endswith(":message_id")}
    if timestamps:
        section["original_timestamps"] = timestamps
    if links:
        section["missing_message_links"] = links
    try:
        parsed = json.loads(metadata) if isinstance(metadata, str) and metadata.strip() else None
    except ValueError:
        parsed = metadata
    if isinstance(parsed, dict):
        result = dict(parsed)
    else:
        result = {}
        if parsed not in (None, [], {}):
            section["original_metadata"] = metadata
    result[NOTE_KEY] = section
    return json.dumps(result, ensure_ascii=False)


# -- migrating ---------------------------------------------------------------

class _DryRun(Exception):
    pass


def _progress(total: int, desc: str, enabled: bool | None):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=" rows", file=sys.stderr, leave=False,
                disable=(None if enabled is None else not enabled), mininterval=0.5)


def _short_list(values: list, n: int = 5) -> str:
    shown = ", ".join(str(v) for v in values[:n])
    return shown + (f", … ({len(values)} in all)" if len(values) > n else "")


def migrate(
    source: str,
    target: str,
    *,
    mode: str | None = None,
    dry_run: bool = False,
    progress: bool | None = None,
    now: datetime | None = None,
) -> Report:
    """Copy the PHP database at ``source`` into the bridge database at
    ``target``. ``mode``: None (target must hold no sessions, messages or
    responses), ``"merge"`` (add; refused if any id is already taken) or
    ``"replace"`` (delete the target's data first, in the same transaction)."""
    if mode not in (None, "merge", "replace"):
        raise ValueError(mode)
    now = now or utcnow()
    src = php_source.open_source(source)
    scratch = None
    try:
        _refuse_same_file(source, target)
        opened = target
        if dry_run and not os.path.exists(target):
            # A dry run leaves nothing behind: with no target yet, it runs
            # against a scratch database that is deleted afterwards.
            scratch = tempfile.mkdtemp(prefix="webchat-bridge-dry-run-")
            opened = os.path.join(scratch, "dry-run.db")
        try:
            dest = open_database(opened)
        except sqlite3.DatabaseError as err:
            raise MigrationError(f"{target}: cannot open the target database ({err})") from None
        try:
            return _migrate(src, dest, source, target, mode, dry_run, progress, now)
        finally:
            dest.close()
    finally:
        src.close()
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


def _refuse_same_file(source: str, target: str) -> None:
    if os.path.exists(target) and os.path.samefile(source, target):
        raise MigrationError("the source and the target are the same file")


def _migrate(src, dest, source, target, mode, dry_run, progress, now) -> Report:
    report = Report(source=source, target=target, mode=mode or "new", dry_run=dry_run)
    php_source.begin_snapshot(src)
    try:
        counts = php_source.counts(src)
        report.source_counts = {t.removeprefix("web_chat_"): n for t, n in counts.items()}
        report.rate_limit_rows = php_source.rate_limit_rows(src)
        php_sequences = php_source.sequences(src)
        message_ids = php_source.message_ids(src)
        converter = Converter(now, message_ids)
        try:
            with transaction(dest):
                _prepare_target(dest, mode, report)
                maintenance.defer_foreign_keys(dest)
                bar = _progress(counts["web_chat_sessions"], "sessions", progress)
                with bar:
                    for batch in php_source.sessions(src):
                        converter.load_sessions(batch)
                        bar.update(len(batch))
                if mode == "merge":
                    _refuse_conflicts(dest, "web_chat_sessions", list(converter.sessions))
                written = {"messages": 0, "responses": 0}
                for kind, reader, convert, insert in (
                    ("messages", php_source.messages, converter.messages,
                     maintenance.insert_messages),
                    ("responses", php_source.responses, converter.responses,
                     maintenance.insert_responses),
                ):
                    bar = _progress(counts[f"web_chat_{kind}"], kind, progress)
                    with bar:
                        for batch in reader(src):
                            rows = convert(batch)
                            if mode == "merge":
                                _refuse_conflicts(dest, f"web_chat_{kind}",
                                                  [r["id"] for r in rows])
                            insert(dest, rows)
                            written[kind] += len(rows)
                            bar.update(len(batch))
                if mode == "merge":
                    _refuse_conflicts(dest, "web_chat_sessions", list(converter.orphans))
                final_sessions = converter.final_sessions()
                maintenance.insert_sessions(dest, final_sessions)
                written["sessions"] = len(final_sessions)
                for table in maintenance.SEQUENCED:
                    maintenance.raise_sequence(dest, table, php_sequences.get(table, 0))
                ours = maintenance.sequences(dest)
                report.sequences = {
                    t: (php_sequences.get(t, 0), ours.get(t, 0)) for t in maintenance.SEQUENCED
                }
                violations = maintenance.foreign_key_violations(dest)
                if violations:
                    raise MigrationError(f"foreign keys would be broken: {violations}")
                report.written = written
                report.decoded = converter.decoded
                report.odd_times = converter.odd_times
                report.orphans = list(converter.orphans.values())
                report.nulled_links = converter.nulled_links
                if dry_run:
                    raise _DryRun()
        except _DryRun:
            pass
    finally:
        php_source.end_snapshot(src)
    return report


def _prepare_target(dest, mode, report) -> None:
    present = maintenance.data_counts(dest)
    if not any(present.values()):
        return
    described = ", ".join(f"{n} {t.removeprefix('web_chat_')}" for t, n in present.items() if n)
    if mode is None:
        raise MigrationError(
            f"the target already holds data ({described}); nothing was changed. "
            "Use --merge to add to it or --replace to overwrite it"
        )
    if mode == "replace":
        maintenance.wipe_data(dest)
        report.wiped = {t.removeprefix("web_chat_"): n for t, n in present.items() if n}


def _refuse_conflicts(dest, table: str, ids: list) -> None:
    taken = maintenance.existing_ids(dest, table, ids)
    if taken:
        raise MigrationError(
            f"--merge refused: {len(taken)} {table.removeprefix('web_chat_')} id(s) of the "
            f"PHP file already exist in the target ({_short_list(taken)}); nothing was "
            "changed (ids are kept as they are, so they cannot be renumbered)"
        )


# -- validating --------------------------------------------------------------

@dataclass
class TableCheck:
    table: str
    expected_rows: int = 0
    actual_rows: int = 0
    expected_sha: str = ""
    actual_sha: str = ""
    missing: list = field(default_factory=list)
    extra: list = field(default_factory=list)
    different: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (self.expected_rows == self.actual_rows and self.expected_sha == self.actual_sha
                and not (self.missing or self.extra or self.different))

    def lines(self) -> list[str]:
        state = "ok" if self.ok else "MISMATCH"
        out = [f"  {self.table:<10} {state:<8} PHP {self.expected_rows:>7} rows "
               f"sha256 {self.expected_sha[:16]}   target {self.actual_rows:>7} rows "
               f"sha256 {self.actual_sha[:16]}"]
        if self.missing:
            out.append(f"    missing from the target: {_short_list(self.missing, 10)}")
        if self.extra:
            out.append(f"    only in the target: {_short_list(self.extra, 10)}")
        if self.different:
            out.append(f"    different content: {_short_list(self.different, 10)}")
        return out


def _canonical(row: dict) -> str:
    return json.dumps(row, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _notes_of(metadata) -> dict:
    try:
        parsed = json.loads(metadata) if isinstance(metadata, str) else None
    except ValueError:
        return {}
    if isinstance(parsed, dict) and isinstance(parsed.get(NOTE_KEY), dict):
        return parsed[NOTE_KEY]
    return {}


def _plain_metadata(metadata):
    """Metadata without the migration's notes, with every spelling of "none"
    (NULL, '', '[]', '{}') made one, so both sides compare equal."""
    try:
        parsed = json.loads(metadata) if isinstance(metadata, str) and metadata.strip() else None
    except ValueError:
        return metadata
    if isinstance(parsed, dict) and NOTE_KEY in parsed:
        original = parsed[NOTE_KEY].get("original_metadata") if isinstance(
            parsed[NOTE_KEY], dict) else None
        if original is not None:
            return _plain_metadata(original)
        parsed = {k: v for k, v in parsed.items() if k != NOTE_KEY}
    if parsed in (None, [], {}):
        return None
    return json.dumps(parsed, sort_keys=True)


def _compare(table: str, expected: Iterator[tuple], actual: Iterator[tuple],
             only_expected: bool) -> TableCheck:
    """Merge-join two id-ordered streams of (id, canonical text)."""
    check = TableCheck(table)
    exp_hash, act_hash = hashlib.sha256(), hashlib.sha256()
    sentinel = object()
    e, a = next(expected, sentinel), next(actual, sentinel)
    while e is not sentinel or a is not sentinel:
        if a is sentinel or (e is not sentinel and _key(e[0]) < _key(a[0])):
            check.expected_rows += 1
            exp_hash.update(e[1].encode() + b"\n")
            check.missing.append(e[0])
            e = next(expected, sentinel)
        elif e is sentinel or _key(a[0]) < _key(e[0]):
            if not only_expected:
                check.actual_rows += 1
                act_hash.update(a[1].encode() + b"\n")
                check.extra.append(a[0])
            a = next(actual, sentinel)
        else:
            check.expected_rows += 1
            check.actual_rows += 1
            exp_hash.update(e[1].encode() + b"\n")
            act_hash.update(a[1].encode() + b"\n")
            if e[1] != a[1]:
                check.different.append(e[0])
            e, a = next(expected, sentinel), next(actual, sentinel)
    check.expected_sha, check.actual_sha = exp_hash.hexdigest(), act_hash.hexdigest()
    return check


def _key(value):
    # Both sides come ORDER BY id; SQLite orders integers before text.
    return (0, value, "") if isinstance(value, (int, float)) else (1, 0, str(value))


def validate(source: str, target: str, *, merged: bool = False,
             now: datetime | None = None) -> list[TableCheck]:
    """Compare the PHP file with the bridge database, table by table: row
    counts and a sha256 over the id-ordered rows, after the same decoding and
    conversion the migration applies. A timestamp the migration had to replace
    is compared by its original value, recorded in the session's metadata."""
    now = now or utcnow()
    src = php_source.open_source(source)
    try:
        import os

        if not os.path.exists(target):
            raise MigrationError(f"{target}: no such database")
        dest = open_database(target)
        try:
            php_source.begin_snapshot(src)
            try:
                return _validate(src, dest, merged, now)
            finally:
                php_source.end_snapshot(src)
        finally:
            dest.close()
    finally:
        src.close()


def _validate(src, dest, merged, now) -> list[TableCheck]:
    converter = Converter(now, php_source.message_ids(src))
    for batch in php_source.sessions(src):
        converter.load_sessions(batch)
    target_notes = {r["id"]: _notes_of(r["metadata"]) for r in maintenance.session_rows(dest)}

    def original_of(session_id, key):
        return target_notes.get(session_id, {}).get("original_timestamps", {}).get(key, sentinel)

    sentinel = object()

    def expected(kind, reader, convert, fields):
        for batch in reader(src):
            raws = {row["id"]: row["timestamp"] for row in batch}
            for row in convert(batch):
                odd = (kind, row["id"]) in converter.odd_rows
                time = ({"original": _jsonable(raws[row["id"]])} if odd else row["timestamp"])
                yield row["id"], _canonical({**{f: row[f] for f in fields}, "timestamp": time})

    def actual(kind, rows, fields):
        for row in rows:
            original = original_of(row["session_id"], f"{kind}:{row['id']}")
            time = row["timestamp"] if original is sentinel else {"original": original}
            yield row["id"], _canonical({**{f: row[f] for f in fields}, "timestamp": time})

    message_fields = ("id", "session_id", "message", "processed", "broca_message_id")
    response_fields = ("id", "session_id", "response", "message_id")
    checks = [
        _compare("messages", expected("message", php_source.messages, converter.messages,
                                      message_fields),
                 actual("message", maintenance.message_rows(dest), message_fields), merged),
        _compare("responses", expected("response", php_source.responses, converter.responses,
                                       response_fields),
                 actual("response", maintenance.response_rows(dest), response_fields), merged),
    ]

    def session_canonical(row, notes, recreated):
        if recreated:
            return _canonical({"id": row["id"], "recreated": True})
        times = {}
        for column in ("created_at", "last_active"):
            recorded = notes.get("original_timestamps", {}).get(f"session:{column}", sentinel)
            times[column] = row[column] if recorded is sentinel else {"original": recorded}
        return _canonical({"id": row["id"], "uid": row["uid"], "ip_address": row["ip_address"],
                           "metadata": _plain_metadata(row["metadata"]), **times})

    def expected_sessions():
        rows = sorted(converter.final_sessions(), key=lambda r: _key(r["id"]))
        for row in rows:
            recreated = row["id"] in converter.orphans
            yield row["id"], session_canonical(row, _notes_of(row["metadata"]), recreated)

    def actual_sessions():
        for row in maintenance.session_rows(dest):
            notes = _notes_of(row["metadata"])
            yield row["id"], session_canonical(row, notes, bool(notes.get("recreated")))

    checks.insert(0, _compare("sessions", expected_sessions(), actual_sessions(), merged))
    return checks
