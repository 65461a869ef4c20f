"""Vietnam time as officers, workers and API clients read it."""

import datetime as dt

from bot.vntime import format_local, format_short, isoformat_local, start_of_day

UTC = dt.timezone.utc


def test_format_local_is_vietnam_time_in_words():
    assert format_local(dt.datetime(2026, 11, 28, 7, 5, tzinfo=UTC)) == "14:05 ngày 28/11/2026"
    assert format_local(dt.datetime(2026, 12, 31, 20, 0)) == "03:00 ngày 01/01/2027"  # naive means UTC


def test_dashboard_and_api_formats():
    moment = dt.datetime(2026, 11, 28, 7, 5, 9, tzinfo=UTC)
    assert format_short(moment) == "14:05 28/11/2026" and format_short(None) == "—"
    assert isoformat_local(moment) == "2026-11-28T14:05:09+07:00" and isoformat_local(None) is None


def test_start_of_day_is_vietnam_midnight():
    assert start_of_day(dt.date(2027, 1, 1)).astimezone(UTC) == dt.datetime(2026, 12, 31, 17, 0, tzinfo=UTC)
