"""Figures per unit, with the roll-up of each unit's sub-units (``/dashboard/units/report``).

For a period [start, end): the workers' questions (answered by the bot, not understood, handed to
officers — the KPI's definitions, ``bot.handoff.kpi.Figures``), the share of handed-off questions
answered within their deadline (24 h), and the tickets overdue right now. Each unit has its own
figures and the roll-up (itself and every unit below it). Three GROUP BY queries in all.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field

from sqlalchemy import case, func, or_, select

from ..storage.models import Conversation, Message, Ticket, Unit, utcnow
from .kpi import Figures
from .tickets import OPEN_STATUSES


@dataclass
class UnitRow:
    unit_id: int
    name: str
    short_name: str
    depth: int
    own: Figures = field(default_factory=Figures)
    own_overdue: int = 0
    total: Figures = field(default_factory=Figures)  # with the sub-units
    overdue: int = 0


def unit_report(session, start: dt.datetime, end: dt.datetime, visible: set[int] | None = None,
                now: dt.datetime | None = None) -> list[UnitRow]:
    """Rows in tree order (a unit, then its sub-units); ``visible`` limits them (None: all units)."""
    now = now or utcnow()
    units = session.execute(select(Unit.id, Unit.name, Unit.short_name, Unit.parent_id).order_by(Unit.id)).all()
    children: dict[int | None, list[int]] = {}
    for u in units:
        children.setdefault(u.parent_id, []).append(u.id)
    rows: dict[int, UnitRow] = {}
    order: list[int] = []

    def walk(unit_id: int, depth: int) -> None:
        u = by_id[unit_id]
        rows[unit_id] = UnitRow(u.id, u.name, u.short_name, depth)
        order.append(unit_id)
        for child in children.get(unit_id, []):
            walk(child, depth + 1)

    by_id = {u.id: u for u in units}
    for top in children.get(None, []):
        walk(top, 0)

    for unit_id, action, n in session.execute(
            select(Conversation.unit_id, Message.action, func.count())
            .join(Conversation, Conversation.id == Message.conversation_id)
            .where(Message.direction == "in", Message.author == "worker", Message.action.in_(("answer", "fallback")),
                   Message.created_at >= start, Message.created_at < end)
            .group_by(Conversation.unit_id, Message.action)).all():
        if unit_id in rows:
            if action == "answer":
                rows[unit_id].own.bot_answered += n
            else:
                rows[unit_id].own.unanswered += n

    responded = Ticket.first_response_at.is_not(None)

    def count_if(condition):
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    for unit_id, handoffs, answered, due, in_time in session.execute(
            select(Ticket.unit_id, func.count(), count_if(responded), count_if(or_(responded, Ticket.due_at <= now)),
                   count_if(Ticket.first_response_at <= Ticket.due_at))
            .where(Ticket.created_at >= start, Ticket.created_at < end).group_by(Ticket.unit_id)).all():
        if unit_id in rows:
            f = rows[unit_id].own
            f.handoffs += handoffs
            f.officer_answered += int(answered)
            f.due += int(due)
            f.within_24h += int(in_time)

    for unit_id, n in session.execute(select(Ticket.unit_id, func.count())
                                      .where(Ticket.status.in_(OPEN_STATUSES), Ticket.due_at <= now).group_by(Ticket.unit_id)).all():
        if unit_id in rows:
            rows[unit_id].own_overdue = n

    def roll(unit_id: int) -> tuple[Figures, int]:
        row = rows[unit_id]
        total, overdue = row.own, row.own_overdue
        for child in children.get(unit_id, []):
            t, o = roll(child)
            total, overdue = total + t, overdue + o
        row.total, row.overdue = total, overdue
        return total, overdue

    for top in children.get(None, []):
        roll(top)
    return [rows[u] for u in order if visible is None or u in visible]


HEADER = ["Mã đơn vị", "Đơn vị", "Câu hỏi (cả cấp dưới)", "Bot trả lời", "Cán bộ trả lời", "Chuyển cán bộ", "Bot chưa hiểu",
          "% trả lời trong hạn 24 giờ", "Quá hạn hiện tại", "Câu hỏi (riêng đơn vị)", "Quá hạn hiện tại (riêng đơn vị)"]


def to_csv(rows: list[UnitRow]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for r in rows:
        pct = r.total.percent_within_24h
        writer.writerow([r.unit_id, r.name, r.total.questions, r.total.bot_answered, r.total.officer_answered, r.total.handoffs,
                         r.total.unanswered, "" if pct is None else pct, r.overdue, r.own.questions, r.own_overdue])
    return out.getvalue()
