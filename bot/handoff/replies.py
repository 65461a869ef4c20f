"""Officer replies: checked against the channel's window rules, queued in the outbox, recorded on
the ticket. Shared by the dashboard and the JSON API (``runtime.replies``)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select

from .. import comments
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


class OfficerReplies:
    """What officers send: replies to workers (through the worker's channel) and FAQ suggestions.

    Built by the runtime with what it needs: the database, the channel registry (window rules and
    which channels are pulled by their client) and a wake-up for the outbox workers.
    """

    def __init__(self, db, channels, wake_outbox=lambda: None, clock=utcnow):
        self.db = db
        self.channels = channels
        self.wake_outbox = wake_outbox
        self.clock = clock

    def send(self, code: str, officer_id: int, text: str, resolve: bool) -> ReplyResult:
        text = (text or "").strip()
        if not text:
            raise ReplyRefused("Nội dung trả lời đang trống.")
        if len(text) > MAX_REPLY_CHARS:
            raise ReplyRefused(f"Câu trả lời dài quá {MAX_REPLY_CHARS} ký tự; hãy rút gọn.")
        now = self.clock()
        with self.db.session() as session:
            ticket = find_ticket(session, code)
            if ticket is None:
                raise ReplyRefused("Không tìm thấy phiếu.")
            officer = session.get(Officer, officer_id)
            conv = session.get(Conversation, ticket.conversation_id)
            channel, recipient, target = ticket.channel, ticket.user_id, conv
            if channel == comments.CHANNEL:  # a fanpage comment: one private reply, then Messenger
                try:
                    channel, recipient, target = comments.officer_reply_target(session, ticket, conv)
                except comments.CommentReplyRefused as exc:
                    raise ReplyRefused(exc.reason) from None
            self._check_channel(channel, target, now)
            try:
                ticket_ops.record_reply(session, ticket, officer, resolve, now)
            except ticket_ops.TicketError as exc:
                raise ReplyRefused(str(exc)) from None
            msg = Message(conversation_id=conv.id, ticket_id=ticket.id, direction="out", author="officer", officer_id=officer.id,
                          text=text, created_at=now)
            session.add(msg)
            session.flush()
            row = OutboxMessage(dedupe_key=f"reply:{uuid.uuid4().hex}", channel=channel, recipient_id=recipient,
                                conversation_id=target.id, ticket_id=ticket.id, message_id=msg.id, author="officer",
                                account_external_id=ticket.account_external_id or target.account_external_id or conv.account_external_id,
                                body={"text": text, "buttons": []}, status="pending", next_attempt_at=now, created_at=now)
            session.add(row)
            session.flush()
            result = ReplyResult(row.id, row.status)
        self.wake_outbox()
        return result

    def _check_channel(self, channel: str, conv: Conversation, now) -> None:
        """Refuse now what the platform would refuse later (channel off, messaging window closed)."""
        if self.channels.is_pull(channel):
            return
        sender = self.channels.senders.get(channel)
        if sender is None:
            raise ReplyRefused(f"Kênh {channel} chưa được cấu hình trên máy chủ nên không gửi được.")
        try:
            sender.check_window(SendContext(conv.last_user_message_at, conv.replies_since_user_message, "officer", now))
        except WindowClosedError as exc:
            raise ReplyRefused(exc.reason) from None

    def suggest_faq(self, code: str, officer_id: int, question: str, answer: str) -> int:
        question, answer = (question or "").strip(), (answer or "").strip()
        if not question or not answer:
            raise ReplyRefused("Cần cả câu hỏi và câu trả lời để đề xuất thành câu hỏi thường gặp.")
        with self.db.session() as session:
            ticket = find_ticket(session, code)
            suggestion = FaqSuggestion(ticket_id=ticket.id if ticket else None, officer_id=officer_id, question=question[:2000],
                                       answer=answer[:4000], topic=ticket.topic if ticket else None, status="pending")
            session.add(suggestion)
            session.flush()
            if ticket is not None:
                ticket_ops.log(session, ticket, session.get(Officer, officer_id).email, "faq_suggested", suggestion=suggestion.id)
            return suggestion.id
