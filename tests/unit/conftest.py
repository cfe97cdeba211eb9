"""Fixtures shared by the unit tests: a fresh bridge database file, a
connection to it, and a clock that tests move by hand."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from webchat_bridge import timefmt
from webchat_bridge.db import connect, open_database

DEFAULT_START = datetime(2025, 6, 1, 12, 0, 0, tzinfo=timezone.utc)


class Clock:
    """Stands in for ``timefmt.utcnow``: minutes and hours pass instantly."""

    def __init__(self, moment: datetime):
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, seconds: float) -> None:
        self.moment += timedelta(seconds=seconds)


@pytest.fixture
def clock(request, monkeypatch):
    """Starts at the test module's ``START`` when it has one."""
    c = Clock(getattr(request.module, "START", DEFAULT_START))
    monkeypatch.setattr(timefmt, "utcnow", c)
    return c


@pytest.fixture
def path(tmp_path):
    p = str(tmp_path / "bridge.db")
    open_database(p).close()
    return p


@pytest.fixture
def conn(path):
    c = connect(path)
    yield c
    c.close()
