"""The clock and the two stored time forms (timefmt.py, CONTRACT §6)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from webchat_bridge import timefmt

UTC = timezone.utc
ISO_MS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def test_utcnow_is_aware_utc():
    now = timefmt.utcnow()
    assert now.tzinfo is not None and now.utcoffset() == timedelta(0)
    assert abs((now - datetime.now(UTC)).total_seconds()) < 5


@pytest.mark.parametrize("moment, text", [
    (datetime(2025, 8, 4, 3, 8, 55, 484000, tzinfo=UTC), "2025-08-04T03:08:55.484Z"),
    (datetime(2025, 8, 4, 3, 8, 55, tzinfo=UTC), "2025-08-04T03:08:55.000Z"),
    (datetime(2025, 8, 4, 3, 8, 55, 999999, tzinfo=UTC), "2025-08-04T03:08:55.999Z"),
    (datetime(2025, 8, 4, 5, 8, 55, 1000, tzinfo=timezone(timedelta(hours=2))),
     "2025-08-04T03:08:55.001Z"),
    (datetime(999, 1, 2, 3, 4, 5, tzinfo=UTC), "0999-01-02T03:04:05.000Z"),
    (datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), "9999-12-31T23:59:59.999Z"),
])
def test_iso_ms_is_fixed_width(moment, text):
    assert timefmt.iso_ms(moment) == text
    assert ISO_MS.match(text) and len(text) == 24


def test_iso_ms_text_order_is_time_order():
    base = datetime(2025, 6, 1, tzinfo=UTC)
    moments = [base + timedelta(milliseconds=n * 37) for n in range(200)]
    moments += [datetime(50, 1, 1, tzinfo=UTC), datetime(1999, 12, 31, 23, 59, 59, tzinfo=UTC)]
    moments.sort()
    texts = [timefmt.iso_ms(m) for m in moments]
    assert texts == sorted(texts)


def test_sqlite_seconds():
    moment = datetime(2025, 8, 4, 5, 8, 53, 999999, tzinfo=timezone(timedelta(hours=2)))
    assert timefmt.sqlite_seconds(moment) == "2025-08-04 03:08:53"
    assert timefmt.sqlite_seconds(datetime(7, 1, 1, tzinfo=UTC)) == "0007-01-01 00:00:00"


def test_ago():
    moment = datetime(2025, 6, 1, 0, 0, 30, tzinfo=UTC)
    assert timefmt.ago(moment, 60) == datetime(2025, 5, 31, 23, 59, 30, tzinfo=UTC)
    assert timefmt.ago(moment, 0.5) == datetime(2025, 6, 1, 0, 0, 29, 500000, tzinfo=UTC)


@pytest.mark.parametrize("text, expected", [
    ("2025-06-01T10:00:00Z", "2025-06-01T10:00:00.000Z"),
    ("2025-06-01T10:00:00z", "2025-06-01T10:00:00.000Z"),
    ("2025-06-01T10:00:00.484Z", "2025-06-01T10:00:00.484Z"),
    ("2025-06-01T10:00:00.5Z", "2025-06-01T10:00:00.500Z"),
    ("2025-06-01T10:00:00.123456789Z", "2025-06-01T10:00:00.123Z"),
    ("2025-06-01T10:00:00+02:00", "2025-06-01T08:00:00.000Z"),
    ("2025-06-01T10:00:00-02:30", "2025-06-01T12:30:00.000Z"),
    ("2025-06-01T10:00:00+0200", "2025-06-01T08:00:00.000Z"),
    ("2025-06-01T10:00:00+02", "2025-06-01T08:00:00.000Z"),
    ("2025-06-01T01:00:00.250+02:00", "2025-05-31T23:00:00.250Z"),
    ("2025-06-01T10:00:00", "2025-06-01T10:00:00.000Z"),
    ("2025-06-01T10:00", "2025-06-01T10:00:00.000Z"),
    ("2025-06-01", "2025-06-01T00:00:00.000Z"),
    ("2025-06-01 10:00:00", "2025-06-01T10:00:00.000Z"),
    ("  2025-06-01 10:00:00  ", "2025-06-01T10:00:00.000Z"),
    # A "+" sent unencoded in a query string arrives as a space.
    ("2025-06-01T10:00:00 02:00", "2025-06-01T08:00:00.000Z"),
    ("2025-06-01T10:00:00.750 0530", "2025-06-01T04:30:00.750Z"),
    ("2024-02-29T00:00:00Z", "2024-02-29T00:00:00.000Z"),
    ("0050-01-01", "0050-01-01T00:00:00.000Z"),
])
def test_parse_client_time_accepts(text, expected):
    moment = timefmt.parse_client_time(text)
    assert moment is not None and moment.utcoffset() == timedelta(0)
    assert timefmt.iso_ms(moment) == expected


@pytest.mark.parametrize("text", [
    "", "   ", "yesterday", "now", "1717236000", "2025", "2025-06", "2025/06/01",
    "2025-13-01", "2025-02-29", "2025-06-31", "2025-06-01T24:00:01Z", "2025-06-01T10:60:00Z",
    "2025-06-01T10:00:00+24:00", "2025-06-01T10:00:00+2", "2025-06-01T10:00:00 Z",
    "2025-06-01T10:00:00Z trailing", "x2025-06-01", "2025-06-01T10:00:00.Z",
    "12025-06-01T10:00:00Z", "99999999-01-01", "0000-01-01",
    "9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00",
    "2025-06-01T10:00:00" + "0" * 40, "٢٠٢٥-٠٦-٠١", "2025-06-01\x00", "2025-06-01T10:00:00\ud83d",
])
def test_parse_client_time_rejects(text):
    assert timefmt.parse_client_time(text) is None


@pytest.mark.parametrize("value", [None, 20250601, 1.5, b"2025-06-01", ["2025-06-01"], {}])
def test_parse_client_time_rejects_non_strings(value):
    assert timefmt.parse_client_time(value) is None
