"""Vietnam time (Asia/Ho_Chi_Minh, UTC+7 all year) for what people read: officers, workers, leaders.

The database keeps aware UTC datetimes; these helpers turn them into local wording. A naive
datetime is taken as UTC.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def to_local(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(VN_TZ)


def today() -> dt.date:
    return dt.datetime.now(VN_TZ).date()


def start_of_day(day: dt.date) -> dt.datetime:
    """Midnight at the start of ``day`` in Vietnam."""
    return dt.datetime.combine(day, dt.time(), tzinfo=VN_TZ)


def format_local(moment: dt.datetime) -> str:
    """'14:05 ngày 28/11/2026' (messages to workers, alerts to officers)."""
    return f"{to_local(moment):%H:%M ngày %d/%m/%Y}"


def format_short(moment: dt.datetime | None) -> str:
    """'14:05 28/11/2026' for the dashboard's tables and lists; '—' when there is no moment."""
    return "—" if moment is None else f"{to_local(moment):%H:%M %d/%m/%Y}"


def isoformat_local(moment: dt.datetime | None) -> str | None:
    """ISO 8601 to the second with the +07:00 offset (the JSON API); None stays None."""
    return to_local(moment).isoformat(timespec="seconds") if moment else None
