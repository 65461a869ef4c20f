"""Tickets: opening one on hand-off, the status machine, and the audit log.

``open_ticket`` is the one place a hand-off becomes a ticket: it picks the code, sets the deadline
(``now + SLA_HOURS``, the product's 24-hour promise), the priority, and links the conversation's
messages so far as the transcript. Status flow: ``open`` → ``assigned`` → ``answered`` → ``resolved``; ``closed`` (without answer,
with a reason) from any state but resolved. A worker's follow-up re-opens an answered ticket.
Every change writes a ``TicketEvent``. Functions take an open SQLAlchemy session; the caller
commits.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from ..storage.models import Conversation, Message, Officer, Ticket, TicketEvent, TicketNote, utcnow

OPEN_STATUSES = ("open", "assigned", "answered")
STATUS_LABELS_VI = {
    "open": "Chờ tiếp nhận",
    "assigned": "Đang xử lý",
    "answered": "Đã trả lời",
    "resolved": "Đã giải quyết",
    "closed": "Đã đóng",
}
# Why the bot handed a message to officers (Ticket.reason), as officers read it.
REASON_LABELS_VI = {
    "request_human": "Người lao động muốn gặp cán bộ",
    "complaint": "Tranh chấp, khiếu nại cụ thể",
    "feedback_unclear": "Người lao động thấy câu trả lời chưa rõ",
    "escalate_always": "Chủ đề luôn do cán bộ trả lời",
    "complaint_signal": "Câu hỏi có dấu hiệu tranh chấp (bot đã gửi câu trả lời FAQ)",
    "comment_question": "Câu hỏi trong bình luận mà bot chưa trả lời được",
    "comment_personal": "Trường hợp riêng của người lao động nêu trong bình luận",
}
# Unambiguous alphabet for codes read aloud or retyped: no 0/O, 1/I/L, 5/S, 2/Z, 8/B.
CODE_ALPHABET = "34679ACDEFGHJKMNPQRTUVWXY"

# Signals that make a hand-off high priority (section S of the coverage list).
_HIGH_PRIORITY = re.compile(
    r"n[ợo] l[ưu][ơo]ng|kh[ôo]ng tr[ảa] l[ưu][ơo]ng|ch[ưu]a tr[ảa] l[ưu][ơo]ng|mang thai|c[óo] b[ầa]u|\bbầu\b|thai s[ảa]n|"
    r"tai n[ạa]n|c[ấa]p c[ứu]u|qu[ấa]y r[ốo]i|s[àa]m s[ỡo]|đ[áa]nh đ[ậa]p|danh dap|b[ạa]o l[ựu]c|đe d[ọo]a|de doa|"
    r"đ[ìi]nh c[ôo]ng|dinh cong|ng[ừu]ng vi[ệe]c t[ậa]p th[ểe]|tr[ốo]n đ[óo]ng|n[ợo] b[ảa]o hi[ểe]m|n[ợo] bhxh",
    re.IGNORECASE,
)


class TicketError(ValueError):
    """A transition that is not allowed; the message is Vietnamese for officers."""


def _new_code() -> str:
    return "CD-" + "".join(secrets.choice(CODE_ALPHABET) for _ in range(5))


def _unused_code(session: Session) -> str:
    while True:
        code = _new_code()
        if session.scalar(select(Ticket.id).where(Ticket.code == code)) is None:
            return code


def priority_for(text: str) -> str:
    """High for the urgent signals (unpaid wages, pregnancy, accidents, harassment, strikes…)."""
    return "high" if _HIGH_PRIORITY.search(text or "") else "normal"


def log(session: Session, ticket: Ticket, actor: str, action: str, **detail) -> None:
    session.add(TicketEvent(ticket_id=ticket.id, actor=actor, action=action, detail=detail))


@dataclass(frozen=True)
class HandOff:
    """What the dialogue knows when it hands a question to officers."""

    question: str
    reason: str | None
    topic: str | None = None
    confidence: float | None = None


def open_ticket(session: Session, conversation: Conversation, handoff: HandOff, now: dt.datetime, sla_hours: int) -> Ticket:
    """Open a ticket for a hand-off: code, deadline, priority, audit entry and transcript."""
    ticket = Ticket(
        code=_unused_code(session),
        conversation_id=conversation.id,
        channel=conversation.channel,
        user_id=conversation.user_id,
        display_name=conversation.display_name,
        question=handoff.question[:4000],
        reason=handoff.reason,
        topic=handoff.topic,
        confidence=handoff.confidence,
        priority=priority_for(handoff.question),
        status="open",
        created_at=now,
        due_at=now + dt.timedelta(hours=sla_hours),
        updated_at=now,
        tags=[],
        unit_id=conversation.unit_id,
        account_external_id=conversation.account_external_id,
    )
    session.add(ticket)
    session.flush()
    log(session, ticket, "system", "created", reason=handoff.reason, priority=ticket.priority)
    # The messages that led here (not yet part of an earlier ticket) are the ticket's transcript.
    session.execute(
        update(Message).where(Message.conversation_id == conversation.id, Message.ticket_id.is_(None)).values(ticket_id=ticket.id)
    )
    return ticket


def slots_for(ticket: Ticket) -> dict:
    """The slots the hand-off and status actions render a ticket from."""
    return {"ticket_code": ticket.code, "ticket_status": ticket.status, "ticket_due_at": ticket.due_at.isoformat()}


def open_ticket_for(session: Session, conversation_id: int) -> Ticket | None:
    # Asked on every message, and usually there is none: a plain id lookup first, the object only if one exists.
    ticket_id = session.connection().execute(_OPEN_TICKET_ID, {"conversation_id": conversation_id}).scalar()
    return session.get(Ticket, ticket_id) if ticket_id is not None else None


_T = Ticket.__table__.c
_OPEN_TICKET_ID = (select(_T.id).where(_T.conversation_id == bindparam("conversation_id"), _T.status.in_(OPEN_STATUSES))
                   .order_by(_T.id.desc()).limit(1))


def latest_ticket_for(session: Session, conversation_id: int) -> Ticket | None:
    return session.scalars(select(Ticket).where(Ticket.conversation_id == conversation_id).order_by(Ticket.id.desc()).limit(1)).first()


def _touch(ticket: Ticket, now: dt.datetime) -> None:
    ticket.updated_at = now


def worker_follow_up(session: Session, ticket: Ticket, now: dt.datetime | None = None) -> None:
    """A new message from the worker on an open ticket; re-opens an answered one."""
    now = now or utcnow()
    if ticket.status == "answered":
        ticket.status = "assigned" if ticket.assignee_id else "open"
        log(session, ticket, "worker", "reopened")
    else:
        log(session, ticket, "worker", "follow_up")
    _touch(ticket, now)


def assign(session: Session, ticket: Ticket, officer: Officer, actor: Officer, now: dt.datetime | None = None) -> None:
    now = now or utcnow()
    if ticket.status in ("resolved", "closed"):
        raise TicketError("Phiếu đã đóng, không thể giao cho cán bộ.")
    if not officer.active:
        raise TicketError("Cán bộ này đã bị vô hiệu hóa.")
    previous = ticket.assignee_id
    ticket.assignee_id = officer.id
    if ticket.status == "open":
        ticket.status = "assigned"
    _touch(ticket, now)
    log(session, ticket, actor.email, "claimed" if officer.id == actor.id else "assigned", officer=officer.email, previous=previous)


def record_reply(session: Session, ticket: Ticket, officer: Officer, resolve: bool, now: dt.datetime | None = None) -> None:
    now = now or utcnow()
    if ticket.status in ("resolved", "closed"):
        raise TicketError("Phiếu đã đóng; hãy mở lại trước khi trả lời.")
    if ticket.assignee_id is None:
        ticket.assignee_id = officer.id
    if ticket.first_response_at is None:
        ticket.first_response_at = now
    ticket.status = "resolved" if resolve else "answered"
    if resolve:
        ticket.resolved_at = now
    _touch(ticket, now)
    log(session, ticket, officer.email, "replied", resolve=resolve)


def resolve(session: Session, ticket: Ticket, officer: Officer, now: dt.datetime | None = None) -> None:
    now = now or utcnow()
    if ticket.status in ("resolved", "closed"):
        raise TicketError("Phiếu đã đóng.")
    if ticket.first_response_at is None:
        raise TicketError("Phiếu chưa có câu trả lời; hãy trả lời trước, hoặc đóng phiếu kèm lý do.")
    ticket.status = "resolved"
    ticket.resolved_at = now
    _touch(ticket, now)
    log(session, ticket, officer.email, "resolved")


def close(session: Session, ticket: Ticket, officer: Officer, reason: str, now: dt.datetime | None = None) -> None:
    now = now or utcnow()
    reason = (reason or "").strip()
    if not reason:
        raise TicketError("Cần ghi lý do khi đóng phiếu không trả lời.")
    if ticket.status in ("resolved", "closed"):
        raise TicketError("Phiếu đã đóng.")
    ticket.status = "closed"
    ticket.closed_reason = reason[:1000]
    ticket.resolved_at = now
    _touch(ticket, now)
    log(session, ticket, officer.email, "closed", reason=reason[:200])


def reopen(session: Session, ticket: Ticket, officer: Officer, now: dt.datetime | None = None) -> None:
    now = now or utcnow()
    if ticket.status not in ("resolved", "closed"):
        raise TicketError("Phiếu đang mở.")
    ticket.status = "assigned" if ticket.assignee_id else "open"
    ticket.resolved_at = None
    ticket.closed_reason = None
    _touch(ticket, now)
    log(session, ticket, officer.email, "reopened")


def add_note(session: Session, ticket: Ticket, officer: Officer, text: str) -> TicketNote:
    text = (text or "").strip()
    if not text:
        raise TicketError("Ghi chú trống.")
    note = TicketNote(ticket_id=ticket.id, officer_id=officer.id, text=text[:4000])
    session.add(note)
    log(session, ticket, officer.email, "note")
    return note
