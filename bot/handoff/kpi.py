"""KPI of the federation's communication programme: every question sent to the fanpage and the Zalo
OA answered within 24 hours, and twice as many questions answered as before the programme.

Definitions (per month in Vietnam time, per channel; a question belongs to the month it arrived):

- **question**: a worker message the bot treated as a question: it answered it (transcript action
  ``answer``, a FAQ answer or a calculation), could not understand it (``fallback``), or handed it
  to officers (a ticket). Greetings, thanks, button feedback, steps of a form, a choice among the
  options the bot offered (``clarify``: the worker's next message is the question counted) and
  follow-ups on an open ticket (``listen``) are not questions. A question re-asked after a fallback
  is counted each time it is asked.
- **answered** = answered by the bot (``answer``) + answered by officers (tickets with a first
  officer response, counted in the month the question arrived, so a month's figure can still grow
  while its late tickets are answered).
- **hand-offs**: tickets opened; **within 24 h**: tickets whose first officer response came before
  the deadline (``due_at``, ``SLA_HOURS`` after the hand-off), out of those answered or past their
  deadline (the rule of ``reports.sla_report``).
- **baseline**: the monthly answered volume before the programme: ``KPI_BASELINE_MONTHLY_ANSWERED``
  when set, else the average over the months of ``KPI_BASELINE_YEAR`` that had questions; the
  target is ``TARGET_FACTOR`` times the baseline.

The counts come from ``GROUP BY`` queries over narrow columns that the retention purge and a
worker's deletion keep (``bot/privacy.py`` anonymises texts and identifiers, never deletes rows,
and keeps direction, author, action, times and channels), so the figures survive a purge.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field, fields

from sqlalchemy import case, func, literal_column, or_, select

from .. import vntime
from ..storage.models import Conversation, Message, Ticket, utcnow

CHANNELS = ("messenger", "zalo", "web", "other")  # "other": any channel added later
CHANNEL_LABELS_VI = {"messenger": "Messenger (fanpage)", "zalo": "Zalo OA", "web": "Web và REST", "other": "Kênh khác"}
TARGET_FACTOR = 2  # the programme doubles the answered volume
DEFAULT_MONTHS = 12  # a page without a range shows the last 12 months, this one included
MAX_MONTHS = 60
_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")


class KpiRangeError(ValueError):
    """A malformed or too long month range; the message is Vietnamese for officers."""


# --- months ------------------------------------------------------------------------------------


def _shift(month: str, delta: int) -> str:
    year, mon = int(month[:4]), int(month[5:7])
    index = year * 12 + mon - 1 + delta
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _start(month: str) -> dt.datetime:
    """Midnight on the 1st of ``month`` in Vietnam."""
    return vntime.start_of_day(dt.date(int(month[:4]), int(month[5:7]), 1))


def _parse_month(value: str, label: str) -> str:
    match = _MONTH_RE.match(value.strip())
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 2000:
        raise KpiRangeError(f"{label} phải là một tháng có dạng YYYY-MM (ví dụ 2026-01), từ năm 2000 trở đi.")
    return value.strip()


def month_range(first: str | None, last: str | None, today: dt.date | None = None) -> list[str]:
    """The months ``first`` to ``last`` (YYYY-MM, both included). Missing ends default to the last
    ``DEFAULT_MONTHS`` months up to this one; a malformed, reversed or too long range raises KpiRangeError."""
    this_month = f"{today or vntime.today():%Y-%m}"
    last = _parse_month(last, "Tháng kết thúc") if last else this_month
    first = _parse_month(first, "Tháng bắt đầu") if first else _shift(last, 1 - DEFAULT_MONTHS)
    if first > last:
        raise KpiRangeError("Tháng bắt đầu phải trước hoặc trùng tháng kết thúc.")
    count = (int(last[:4]) - int(first[:4])) * 12 + int(last[5:]) - int(first[5:]) + 1
    if count > MAX_MONTHS:
        raise KpiRangeError(f"Mỗi lần chỉ xem được tối đa {MAX_MONTHS} tháng; hãy chọn khoảng ngắn hơn.")
    return [_shift(first, i) for i in range(count)]


def local_month(session, column):
    """SQL for the Vietnam-time month ('YYYY-MM') of a UTC timestamp column. Constant SQL text (no
    bound parameters), so PostgreSQL sees the same expression in SELECT and GROUP BY."""
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":  # stored as UTC text; Vietnam has kept UTC+7 all year since 1975
        hours = int(vntime.VN_TZ.utcoffset(dt.datetime(2000, 1, 1)).total_seconds() // 3600)
        return func.strftime(literal_column("'%Y-%m'"), column, literal_column(f"'+{hours} hours'"))
    if dialect == "postgresql":
        return func.to_char(func.timezone(literal_column(f"'{vntime.VN_TZ.key}'"), column), literal_column("'YYYY-MM'"))
    raise NotImplementedError(f"KPI months are not implemented for {dialect}")


# --- figures -----------------------------------------------------------------------------------


@dataclass
class Figures:
    """Counts for one month and channel (or a sum of them)."""

    bot_answered: int = 0
    unanswered: int = 0  # fallback: not understood, not handed off
    handoffs: int = 0
    officer_answered: int = 0
    due: int = 0  # tickets answered or past their deadline
    within_24h: int = 0

    @property
    def questions(self) -> int:
        return self.bot_answered + self.unanswered + self.handoffs

    @property
    def answered(self) -> int:
        return self.bot_answered + self.officer_answered

    @property
    def percent_within_24h(self) -> float | None:
        return _percent(self.within_24h, self.due)

    def __add__(self, other: Figures) -> Figures:
        return Figures(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))


@dataclass
class MonthKpi:
    month: str
    total: Figures
    by_channel: dict[str, Figures]
    change_month_percent: float | None  # answered, against the month before
    change_year_percent: float | None  # answered, against the same month a year before
    target_percent: float | None  # answered / target


@dataclass
class KpiReport:
    months: list[MonthKpi]
    baseline: float | None  # answered per month before the programme
    baseline_source: str | None  # "setting", "year", or None when no baseline is configured
    baseline_year: int | None
    target: float | None
    total: Figures = field(default_factory=Figures)
    by_channel: dict[str, Figures] = field(default_factory=dict)

    @property
    def average_answered(self) -> float:
        return round(self.total.answered / len(self.months), 1) if self.months else 0.0

    @property
    def target_percent(self) -> float | None:
        return _percent(self.average_answered, self.target)


def _percent(part: float, whole: float | None) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _change(now: int, before: int) -> float | None:
    return round(100 * (now - before) / before, 1) if before else None


def _bucket(channel: str) -> str:
    return channel if channel in CHANNELS else "other"


def monthly_counts(session, first: str, last: str, now: dt.datetime | None = None,
                   unit_ids: set[int] | None = None) -> dict[str, dict[str, Figures]]:
    """{month: {channel bucket: Figures}} for the months ``first`` to ``last``; months without any
    row are absent. Two GROUP BY queries (transcript, tickets). ``unit_ids``: only these units'
    conversations and tickets (None: all)."""
    now = now or utcnow()
    start, end = _start(first), _start(_shift(last, 1))
    out: dict[str, dict[str, Figures]] = {}

    def cell(month: str, channel: str) -> Figures:
        return out.setdefault(month, {}).setdefault(_bucket(channel), Figures())

    month = local_month(session, Message.created_at)
    rows = session.execute(
        select(month, Conversation.channel, Message.action, func.count())
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(Message.direction == "in", Message.author == "worker", Message.action.in_(("answer", "fallback")),
               Message.created_at >= start, Message.created_at < end,
               *(() if unit_ids is None else (Conversation.unit_id.in_(sorted(unit_ids)),)))
        .group_by(month, Conversation.channel, Message.action)
    ).all()
    for m, channel, action, n in rows:
        figures = cell(m, channel)
        if action == "answer":
            figures.bot_answered += n
        else:
            figures.unanswered += n

    month = local_month(session, Ticket.created_at)
    responded = Ticket.first_response_at.is_not(None)

    def count_if(condition):
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    rows = session.execute(
        select(month, Ticket.channel, func.count(), count_if(responded), count_if(or_(responded, Ticket.due_at <= now)),
               count_if(Ticket.first_response_at <= Ticket.due_at))
        .where(Ticket.created_at >= start, Ticket.created_at < end, *(() if unit_ids is None else (Ticket.unit_id.in_(sorted(unit_ids)),)))
        .group_by(month, Ticket.channel)
    ).all()
    for m, channel, handoffs, answered, due, in_time in rows:
        figures = cell(m, channel)
        figures.handoffs += handoffs
        figures.officer_answered += int(answered)
        figures.due += int(due)
        figures.within_24h += int(in_time)
    return out


def _sum(cells: dict[str, Figures]) -> Figures:
    total = Figures()
    for figures in cells.values():
        total = total + figures
    return total


def baseline_from_year(session, year: int, now: dt.datetime | None = None, unit_ids: set[int] | None = None) -> float | None:
    """Average answered per month over the months of ``year`` that had any question (a programme
    that started mid-year is not diluted by the empty months before it); None without data."""
    counts = [_sum(c) for c in monthly_counts(session, f"{year}-01", f"{year}-12", now, unit_ids).values()]
    counts = [f for f in counts if f.questions]
    return round(sum(f.answered for f in counts) / len(counts), 1) if counts else None


def kpi_report(session, months: list[str], baseline_monthly: float = 0, baseline_year: int = 0,
               now: dt.datetime | None = None, unit_ids: set[int] | None = None) -> KpiReport:
    """The KPI for ``months`` (from ``month_range``), with month-on-month and year-on-year changes
    in answered volume and progress toward ``TARGET_FACTOR`` × the baseline (``baseline_monthly``
    when > 0, else computed from ``baseline_year`` when > 0, else none)."""
    counts = monthly_counts(session, _shift(months[0], -12), months[-1], now, unit_ids)
    answered = {m: _sum(c).answered for m, c in counts.items()}
    if baseline_monthly and baseline_monthly > 0:
        baseline, source = float(baseline_monthly), "setting"
    elif baseline_year:
        baseline, source = baseline_from_year(session, baseline_year, now, unit_ids), "year"
    else:
        baseline, source = None, None
    target = baseline * TARGET_FACTOR if baseline else None
    report = KpiReport([], baseline, source, baseline_year or None, target)
    for m in months:
        cells = {ch: counts.get(m, {}).get(ch, Figures()) for ch in CHANNELS}
        total = _sum(cells)
        report.months.append(MonthKpi(m, total, cells, _change(total.answered, answered.get(_shift(m, -1), 0)),
                                      _change(total.answered, answered.get(_shift(m, -12), 0)), _percent(total.answered, target)))
        report.total = report.total + total
        for ch in CHANNELS:
            report.by_channel[ch] = report.by_channel.get(ch, Figures()) + cells[ch]
    return report


# --- CSV ---------------------------------------------------------------------------------------

CSV_HEADER = ("Tháng", "Kênh", "Câu hỏi nhận được", "Bot trả lời", "Cán bộ trả lời", "Tổng số đã trả lời", "Chuyển cán bộ",
              "Bot chưa hiểu", "Phiếu đã trả lời hoặc quá hạn", "Trả lời trong 24 giờ", "Tỷ lệ trong 24 giờ (%)",
              "So với tháng trước (%)", "So với cùng kỳ năm trước (%)", "Đạt so với mục tiêu (%)")
ALL_CHANNELS_VI = "Tất cả các kênh"


def _cell(value) -> str | int | float:
    return "" if value is None else value


def _row(month: str, channel: str, f: Figures, *changes) -> list:
    return [month, channel, f.questions, f.bot_answered, f.officer_answered, f.answered, f.handoffs, f.unanswered,
            f.due, f.within_24h, _cell(f.percent_within_24h), *[_cell(c) for c in changes]]


def to_csv(report: KpiReport) -> str:
    """One row per month for all channels, then one per month and channel, then the baseline and target."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(CSV_HEADER)
    for m in report.months:
        writer.writerow(_row(m.month, ALL_CHANNELS_VI, m.total, m.change_month_percent, m.change_year_percent, m.target_percent))
    for m in report.months:
        for ch in CHANNELS:
            writer.writerow(_row(m.month, CHANNEL_LABELS_VI[ch], m.by_channel[ch], None, None, None))
    writer.writerow([])
    writer.writerow(["Chỉ số", "Giá trị"])
    writer.writerow(["Trả lời bình quân mỗi tháng", report.average_answered])
    writer.writerow(["Mức gốc mỗi tháng (trước chương trình)", _cell(report.baseline)])
    writer.writerow(["Mục tiêu mỗi tháng (gấp đôi mức gốc)", _cell(report.target)])
    writer.writerow(["Đạt so với mục tiêu (%)", _cell(report.target_percent)])
    return buf.getvalue()
