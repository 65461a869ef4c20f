"""Figures for leaders: is the 24-hour promise kept, and is the answered volume growing?

Tickets are aggregated in Python over a few narrow columns (100,000 tickets take well under the
2-second target; see benchmarks/dashboard.py); the answers per month, over the much longer
transcript, are counted by a GROUP BY on the Vietnam-time month (``kpi.local_month``).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import statistics
from collections import Counter, defaultdict

from sqlalchemy import and_, func, or_, select

from .. import vntime
from ..nlu.normalize import strip_accents
from ..storage.models import Conversation, Message, Ticket, utcnow
from .kpi import local_month
from .tickets import OPEN_STATUSES

# Transcript text removed by bot/privacy.py starts with this ("[đã xóa theo …]").
REDACTED_PREFIX = "[đã xóa theo "
DEFAULT_DAYS = 30  # a report without dates covers the last 30 days, today included


def report_range(date_from: str | None, date_to: str | None) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) in Vietnam time for the days ``date_from`` to ``date_to`` (YYYY-MM-DD, both included).

    Missing dates default to the last ``DEFAULT_DAYS`` days up to today; a malformed one raises ValueError.
    """
    today = vntime.today()
    start = dt.date.fromisoformat(date_from) if date_from else today - dt.timedelta(days=DEFAULT_DAYS - 1)
    end = dt.date.fromisoformat(date_to) if date_to else today
    return vntime.start_of_day(start), vntime.start_of_day(end + dt.timedelta(days=1))


def _period(day: dt.date, grain: str) -> str:
    if grain == "month":
        return day.strftime("%Y-%m")
    if grain == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    return day.isoformat()


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    k = (len(values) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def sla_report(session, start: dt.datetime, end: dt.datetime, grain: str = "day", now: dt.datetime | None = None,
               unit_ids: set[int] | None = None) -> dict:
    """Tickets created in [start, end): volume by period/channel/topic, SLA compliance,
    first-response times; open and overdue now; bot vs officer answers per month; retraining list.
    ``unit_ids``: only these units' tickets and conversations (None: all)."""
    now = now or utcnow()
    in_units = () if unit_ids is None else (Ticket.unit_id.in_(sorted(unit_ids)),)
    rows = session.execute(
        select(Ticket.created_at, Ticket.channel, Ticket.topic, Ticket.due_at, Ticket.first_response_at, Ticket.status)
        .where(Ticket.created_at >= start, Ticket.created_at < end, *in_units)
    ).all()
    by_period: dict[str, Counter] = defaultdict(Counter)
    by_channel: Counter = Counter()
    by_topic: Counter = Counter()
    first_response_minutes: list[float] = []
    due = answered_in_time = 0
    for created, channel, topic, due_at, first_response, _status in rows:
        by_period[_period(vntime.to_local(created).date(), grain)][channel] += 1
        by_channel[channel] += 1
        by_topic[topic or "(chưa rõ)"] += 1
        if first_response is not None:
            first_response_minutes.append((first_response - created).total_seconds() / 60)
        # A ticket counts once its deadline has passed or it was answered.
        if first_response is not None or due_at <= now:
            due += 1
            if first_response is not None and first_response <= due_at:
                answered_in_time += 1
    open_now = session.scalar(select(func.count()).select_from(Ticket).where(Ticket.status.in_(OPEN_STATUSES), *in_units)) or 0
    overdue_now = session.scalar(
        select(func.count()).select_from(Ticket).where(Ticket.status.in_(("open", "assigned")), Ticket.due_at < now, *in_units)
    ) or 0
    answered = _answers_per_month(session, start, end, unit_ids)
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "grain": grain,
        "tickets": len(rows),
        "by_period": {p: dict(c) for p, c in sorted(by_period.items())},
        "by_channel": dict(by_channel),
        "by_topic": dict(by_topic.most_common()),
        "sla": {
            "due_or_answered": due,
            "answered_within_sla": answered_in_time,
            "percent_within_sla": round(100 * answered_in_time / due, 1) if due else None,
            "first_response_minutes_median": round(statistics.median(first_response_minutes), 1) if first_response_minutes else None,
            "first_response_minutes_p90": round(_percentile(first_response_minutes, 0.9), 1) if first_response_minutes else None,
        },
        "open_now": open_now,
        "overdue_now": overdue_now,
        "answered_per_month": answered,
        "retraining_worklist": _unanswered_questions(session, start, end, unit_ids=unit_ids),
    }


def _in_units(stmt, unit_ids):
    """Messages of these units' conversations only (None: all)."""
    if unit_ids is None:
        return stmt
    return stmt.join(Conversation, Conversation.id == Message.conversation_id).where(Conversation.unit_id.in_(sorted(unit_ids)))


def _answers_per_month(session, start, end, unit_ids=None) -> dict:
    """Worker questions answered by the bot (an FAQ answer) and replies written by officers, counted
    in SQL per Vietnam-time month."""
    out: dict[str, dict] = defaultdict(lambda: {"bot": 0, "officer": 0})
    month = local_month(session, Message.created_at)
    rows = session.execute(_in_units(
        select(month, Message.author, func.count())
        .where(or_(and_(Message.direction == "in", Message.action == "answer"), Message.author == "officer"),
               Message.created_at >= start, Message.created_at < end)
        .group_by(month, Message.author), unit_ids)
    ).all()
    for m, author, n in rows:  # the bot's answers are recorded on the worker's message
        out[m]["officer" if author == "officer" else "bot"] += n
    return dict(sorted(out.items()))


def _unanswered_questions(session, start, end, limit: int = 20, unit_ids=None) -> list[dict]:
    """Questions the bot could not answer confidently (fallback or clarify), grouped loosely."""
    texts = session.execute(_in_units(
        select(Message.text).where(Message.direction == "in", Message.action.in_(("fallback", "clarify")),
                                   Message.created_at >= start, Message.created_at < end), unit_ids).limit(20_000)
    ).scalars()
    counts: Counter = Counter()
    examples: dict[str, str] = {}
    for text in texts:
        key = " ".join(strip_accents(text.lower()).split())[:120]
        if not key or text.startswith(REDACTED_PREFIX):  # purged or deleted (bot/privacy.py)
            continue
        counts[key] += 1
        examples.setdefault(key, text[:200])
    return [{"question": examples[k], "count": n} for k, n in counts.most_common(limit)]


def to_csv(report: dict) -> str:
    """Per-period ticket counts by channel, then the summary figures."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    channels = sorted(report["by_channel"])
    writer.writerow(["period", *channels, "total"])
    for period, counts in report["by_period"].items():
        writer.writerow([period, *[counts.get(c, 0) for c in channels], sum(counts.values())])
    writer.writerow([])
    writer.writerow(["metric", "value"])
    sla = report["sla"]
    for key in ("percent_within_sla", "answered_within_sla", "due_or_answered", "first_response_minutes_median", "first_response_minutes_p90"):
        writer.writerow([key, sla[key] if sla[key] is not None else ""])
    writer.writerow(["open_now", report["open_now"]])
    writer.writerow(["overdue_now", report["overdue_now"]])
    writer.writerow([])
    writer.writerow(["month", "answered_by_bot", "answered_by_officers"])
    for month, counts in report["answered_per_month"].items():
        writer.writerow([month, counts["bot"], counts["officer"]])
    return buf.getvalue()
