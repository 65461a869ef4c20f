"""Officer replies: checked against the channel's window rules, queued in the outbox, recorded on
the ticket. Shared by the dashboard and the JSON API."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select

from ..channels.base import SendContext, WindowClosedError
from ..storage.models import Conversation, FaqSuggestion, Message, Officer, OutboxMessage, Ticket, utcnow
from . import tickets as ticket_ops

MAX_REPLY_CHARS = 4000


class ReplyRefused(Exception):
    """The reply cannot be sent; ``reason`` is Vietnamese for the officer, with what to do instead."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass
class ReplyResult:
    outbox_id: int
    status: str


def find_ticket(session, code: str) -> Ticket | None:
    return session.scalars(select(Ticket).where(Ticket.code == (code or "").strip().upper())).first()


def send_reply(runtime, code: str, officer_id: int, text: str, resolve: bool) -> ReplyResult:
    text = (text or "").strip()
    if not text:
        raise ReplyRefused("Nội dung trả lời đang trống.")
    if len(text) > MAX_REPLY_CHARS:
        raise ReplyRefused(f"Câu trả lời dài quá {MAX_REPLY_CHARS} ký tự; hãy rút gọn.")
    now = utcnow()
    with runtime.db.session() as session:
        ticket = find_ticket(session, code)
        if ticket is None:
            raise ReplyRefused("Không tìm thấy phiếu.")
        officer = session.get(Officer, officer_id)
        conv = session.get(Conversation, ticket.conversation_id)
        sender = runtime.senders.get(ticket.channel)
        if sender is None and not runtime.channels.is_pull(ticket.channel):
            raise ReplyRefused(f"Kênh {ticket.channel} chưa được cấu hình trên máy chủ nên không gửi được.")
        if sender is not None:
            try:
                sender.check_window(SendContext(conv.last_user_message_at, conv.replies_since_user_message, "officer", now))
            except WindowClosedError as exc:
                raise ReplyRefused(exc.reason) from None
        try:
            ticket_ops.record_reply(session, ticket, officer, resolve, now)
        except ticket_ops.TicketError as exc:
            raise ReplyRefused(str(exc)) from None
        msg = Message(conversation_id=conv.id, ticket_id=ticket.id, direction="out", author="officer", officer_id=officer.id,
                      text=text, created_at=now)
        session.add(msg)
        session.flush()
        row = OutboxMessage(dedupe_key=f"reply:{uuid.uuid4().hex}", channel=ticket.channel, recipient_id=ticket.user_id,
                            conversation_id=conv.id, ticket_id=ticket.id, message_id=msg.id, author="officer",
                            body={"text": text, "buttons": []}, status="pending", next_attempt_at=now, created_at=now)
        session.add(row)
        session.flush()
        result = ReplyResult(row.id, row.status)
    runtime.workers.notify_outbox()
    return result


def suggest_faq(runtime, code: str, officer_id: int, question: str, answer: str) -> int:
    question, answer = (question or "").strip(), (answer or "").strip()
    if not question or not answer:
        raise ReplyRefused("Cần cả câu hỏi và câu trả lời để đề xuất thành câu hỏi thường gặp.")
    with runtime.db.session() as session:
        ticket = find_ticket(session, code)
        suggestion = FaqSuggestion(ticket_id=ticket.id if ticket else None, officer_id=officer_id, question=question[:2000],
                                   answer=answer[:4000], topic=ticket.topic if ticket else None, status="pending")
        session.add(suggestion)
        session.flush()
        if ticket is not None:
            ticket_ops.log(session, ticket, session.get(Officer, officer_id).email, "faq_suggested", suggestion=suggestion.id)
        return suggestion.id
