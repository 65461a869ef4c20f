"""Delivering replies: the outbox is drained to the platform Send APIs with retries.

A row is *claimed* (status ``sending`` with a lease) in a short transaction, sent outside any
transaction, then marked ``sent``, ``refused`` (window rules), ``failed`` (permanent error or too many
attempts) or put back to ``pending`` with exponential backoff. A row whose lease expired (the process
died mid-send) is claimed again. Replies to one recipient go out in order: a failed row holds back
the later ones.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Callable

from sqlalchemy import or_, select

from .channels.base import ChannelSender, DeliveryError, SendContext, TransientDeliveryError, WindowClosedError
from .storage import Database
from .storage.models import Conversation, OutboxMessage, utcnow

logger = logging.getLogger(__name__)

LEASE = dt.timedelta(seconds=60)
MAX_ATTEMPTS = 8
MAX_BACKOFF = dt.timedelta(minutes=10)


def backoff(attempts: int) -> dt.timedelta:
    return min(dt.timedelta(seconds=2 ** attempts), MAX_BACKOFF)


class OutboxSender:
    def __init__(self, db: Database, senders: dict[str, ChannelSender], clock: Callable[[], dt.datetime] = utcnow):
        self.db = db
        self.senders = senders
        self.clock = clock

    def _claim(self, limit: int) -> list[int]:
        now = self.clock()
        with self.db.session() as session:
            stmt = (
                select(OutboxMessage)
                .where(
                    OutboxMessage.channel.in_(list(self.senders)),
                    or_(OutboxMessage.status == "pending", OutboxMessage.status == "sending"),
                    OutboxMessage.next_attempt_at <= now,
                )
                .order_by(OutboxMessage.id)
                .limit(limit)
            )
            if self.db.dialect == "postgresql":
                stmt = stmt.with_for_update(skip_locked=True)
            rows = session.scalars(stmt).all()
            for row in rows:
                row.status = "sending"
                row.next_attempt_at = now + LEASE
            return [r.id for r in rows]

    def send_due(self, limit: int = 50) -> int:
        """Send what is due; returns how many rows were settled (sent, refused or failed)."""
        ids = self._claim(limit)
        blocked: set[tuple[str, str]] = set()
        settled = 0
        for row_id in ids:
            settled += self._send_one(row_id, blocked)
        return settled

    def _context(self, session, row: OutboxMessage, now: dt.datetime) -> SendContext:
        conv = session.get(Conversation, row.conversation_id) if row.conversation_id else None
        return SendContext(
            last_user_message_at=conv.last_user_message_at if conv else None,
            replies_since_user_message=conv.replies_since_user_message if conv else 0,
            author=row.author,
            now=now,
        )

    def _send_one(self, row_id: int, blocked: set) -> int:
        now = self.clock()
        with self.db.session() as session:
            row = session.get(OutboxMessage, row_id)
            if row is None or row.status != "sending":
                return 0
            key = (row.channel, row.recipient_id)
            if key in blocked or self._earlier_unsent(session, row):
                row.status = "pending"
                row.next_attempt_at = now + dt.timedelta(seconds=1)
                blocked.add(key)
                return 0
            ctx = self._context(session, row, now)
            channel, recipient, body = row.channel, row.recipient_id, dict(row.body)
        sender = self.senders[channel]
        try:
            result = sender.send(recipient, body, ctx)
        except DeliveryError as exc:
            return self._settle_error(row_id, exc, blocked, key)
        except Exception as exc:  # noqa: BLE001 - a bug in a sender must not kill the worker
            logger.exception("sender %s crashed", channel)
            return self._settle_error(row_id, TransientDeliveryError("Lỗi hệ thống khi gửi; sẽ thử lại.", type(exc).__name__), blocked, key)
        with self.db.session() as session:
            row = session.get(OutboxMessage, row_id)
            row.status = "sent"
            row.sent_at = self.clock()
            row.attempts += 1
            row.platform_message_id = result.platform_message_id
            row.last_error = None
            if row.conversation_id:
                conv = session.get(Conversation, row.conversation_id)
                if conv is not None:
                    conv.replies_since_user_message += 1
        return 1

    def _earlier_unsent(self, session, row: OutboxMessage) -> bool:
        """An older reply to the same person that is still waiting (order must be kept)."""
        return session.scalar(
            select(OutboxMessage.id).where(
                OutboxMessage.channel == row.channel,
                OutboxMessage.recipient_id == row.recipient_id,
                OutboxMessage.id < row.id,
                OutboxMessage.status.in_(("pending", "sending")),
            ).limit(1)
        ) is not None

    def _settle_error(self, row_id: int, exc: DeliveryError, blocked: set, key) -> int:
        now = self.clock()
        with self.db.session() as session:
            row = session.get(OutboxMessage, row_id)
            row.attempts += 1
            row.last_error = exc.reason + (f" ({exc.detail})" if exc.detail else "")
            if isinstance(exc, WindowClosedError):
                row.status = "refused"
                logger.warning("outbox %s refused: %s", row_id, exc.detail or exc.reason)
                return 1
            if exc.retryable and row.attempts < MAX_ATTEMPTS:
                row.status = "pending"
                row.next_attempt_at = now + backoff(row.attempts)
                blocked.add(key)
                logger.warning("outbox %s will retry (attempt %s): %s", row_id, row.attempts, exc.detail or exc.reason)
                return 0
            row.status = "failed"
            logger.error("outbox %s failed: %s", row_id, exc.detail or exc.reason)
            return 1
