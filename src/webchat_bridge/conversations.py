"""What happens to a conversation: the visitor's and the agent's side.

Routes parse and answer; these functions decide. Each takes an open
connection and already-validated values.
"""

from __future__ import annotations

import re
import secrets
import sqlite3
from dataclasses import dataclass

from . import timefmt
from .db import messages, responses, sessions, transaction

UID_PATTERN = re.compile(r"[0-9a-f]{16}")
# Polling keeps a session alive, but writes last_active at most this often.
TOUCH_INTERVAL_SECONDS = 60


class UnknownSession(LookupError):
    pass


class UnknownMessage(LookupError):
    pass


def new_uid() -> str:
    return secrets.token_hex(8)


@dataclass
class Posted:
    message_id: int
    session_id: str
    timestamp: str
    uid: str
    is_new_user: bool


def post_message(
    db: sqlite3.Connection,
    session_id: str,
    text: str,
    *,
    ip_address: str | None,
    uid_hint: str | None = None,
) -> Posted:
    """Store a visitor's message, creating the session on its first message."""
    with transaction(db):
        now = timefmt.utcnow()
        session = sessions.get(db, session_id)
        is_new_user = False
        if session is None:
            if uid_hint and UID_PATTERN.fullmatch(uid_hint):
                uid = uid_hint
            else:
                uid, is_new_user = new_uid(), True
            sessions.create(
                db, session_id, uid=uid, ip_address=ip_address, now=timefmt.sqlite_seconds(now)
            )
        else:
            uid = session["uid"]
            if not uid:
                uid, is_new_user = new_uid(), True
                sessions.set_uid(db, session_id, uid)
            stamp = timefmt.sqlite_seconds(now)
            if session["last_active"] != stamp:  # a write saved within the same second
                sessions.touch(db, session_id, stamp)
        message_id, stamp = messages.insert(db, session_id, text, timefmt.iso_ms(now))
    return Posted(message_id, session_id, stamp, uid, is_new_user)


def poll_responses(
    db: sqlite3.Connection,
    session_id: str,
    *,
    since: str | None = None,
    since_id: int | None = None,
) -> list[dict]:
    """The agent's answers for a session; an unknown session has none (and is
    not created). A known one is kept alive, written at most once a minute."""
    last_active = sessions.last_active(db, session_id)
    if last_active is False:
        return []
    rows = responses.for_session(db, session_id, since=since, since_id=since_id)
    now = timefmt.utcnow()
    cutoff = timefmt.sqlite_seconds(timefmt.ago(now, TOUCH_INTERVAL_SECONDS))
    # The read above tells whether a write is due, so most polls stay read-only
    # and never queue behind a writer.
    if last_active is None or last_active < cutoff:
        sessions.touch_if_before(db, session_id, timefmt.sqlite_seconds(now), cutoff)
    return rows


def claim_inbox(
    db: sqlite3.Connection,
    *,
    limit: int,
    offset: int,
    since: str | None,
    since_id: int | None,
) -> tuple[list[dict], int]:
    return messages.claim(db, limit=limit, offset=offset, since=since, since_id=since_id)


@dataclass
class Answered:
    response_id: int
    session_id: str
    timestamp: str


def post_response(
    db: sqlite3.Connection, session_id: str, text: str, *, message_id: int | None = None
) -> Answered:
    """Store the agent's answer. Any existing session takes it, however long it
    has been idle: an agent may take minutes, and its answer must not be lost."""
    with transaction(db):
        if not sessions.exists(db, session_id):
            raise UnknownSession(session_id)
        if message_id is not None and not messages.belongs_to(db, message_id, session_id):
            raise UnknownMessage(message_id)
        now = timefmt.utcnow()
        response_id, stamp = responses.insert(db, session_id, text, message_id, timefmt.iso_ms(now))
        sessions.touch(db, session_id, timefmt.sqlite_seconds(now))
    return Answered(response_id, session_id, stamp)


def transcript(db: sqlite3.Connection, session_id: str) -> dict | None:
    """A session with all its messages and responses, or None."""
    session = sessions.get(db, session_id)
    if session is None:
        return None
    return {
        "session": session,
        "messages": messages.for_session(db, session_id),
        "responses": responses.for_session(db, session_id, with_session_id=True),
    }
