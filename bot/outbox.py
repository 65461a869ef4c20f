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
from collections.abc import Callable

from sqlalchemy import or_, select, update

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

    def _claim(self, limit: int) -> list[tuple[int, str, str, dict, SendContext]]:
        """Lease due rows in one short transaction; returns what is needed to send them.

        A row is left alone when an older reply to the same person is still waiting (order)."""
        now = self.clock()
        claimed = []
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
            checked: dict[tuple[str, str], bool] = {}
            for row in rows:
                key = (row.channel, row.recipient_id)
                if key not in checked:
                    checked[key] = not self._earlier_unsent(session, row)
                if not checked[key]:
                    continue
                row.status = "sending"
                row.next_attempt_at = now + LEASE
                claimed.append((row.id, row.channel, row.recipient_id, dict(row.body), self._context(session, row, now)))
        return claimed

    def send_due(self, limit: int = 50) -> int:
        """Send what is due; returns how many rows were settled (sent, refused or failed)."""
        claimed = self._claim(limit)
        if not claimed:
            return 0
        results: list[tuple[int, object]] = []
        failed_recipients: set[tuple[str, str]] = set()
        for row_id, channel, recipient, body, ctx in claimed:
            key = (channel, recipient)
            if key in failed_recipients:
                results.append((row_id, None))  # keep the order: wait for the failed one
                continue
            try:
                outcome = self.senders[channel].send(recipient, body, ctx)
            except DeliveryError as exc:
                outcome = exc
            except Exception as exc:  # noqa: BLE001 - a bug in a sender must not kill the worker
                logger.exception("sender %s crashed", channel)
                outcome = TransientDeliveryError("Lỗi hệ thống khi gửi; sẽ thử lại.", type(exc).__name__)
            if isinstance(outcome, DeliveryError) and outcome.retryable:
                failed_recipients.add(key)
            results.append((row_id, outcome))
        return self._settle(results)

    def _context(self, session, row: OutboxMessage, now: dt.datetime) -> SendContext:
        conv = session.get(Conversation, row.conversation_id) if row.conversation_id else None
        return SendContext(
            last_user_message_at=conv.last_user_message_at if conv else None,
            replies_since_user_message=conv.replies_since_user_message if conv else 0,
            author=row.author,
            now=now,
        )

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

    def _settle(self, results) -> int:
        """Record every send result of a batch in one transaction (plain UPDATEs, no reads)."""
        now = self.clock()
        settled = 0
        with self.db.session() as session:
            for row_id, outcome in results:
                row = OutboxMessage.__table__.c
                stmt = update(OutboxMessage).where(row.id == row_id)
                if outcome is None:  # held back behind a failed reply to the same person
                    session.execute(stmt.values(status="pending", next_attempt_at=now + dt.timedelta(seconds=1)))
                    continue
                if not isinstance(outcome, DeliveryError):
                    session.execute(stmt.values(status="sent", sent_at=now, attempts=row.attempts + 1,
                                                platform_message_id=outcome.platform_message_id, last_error=None))
                    conv_id = session.scalar(select(row.conversation_id).where(row.id == row_id))
                    if conv_id is not None:
                        c = Conversation.__table__.c
                        session.execute(update(Conversation).where(c.id == conv_id)
                                        .values(replies_since_user_message=c.replies_since_user_message + 1))
                    settled += 1
                    continue
                error = outcome.reason + (f" ({outcome.detail})" if outcome.detail else "")
                attempts = session.scalar(select(row.attempts).where(row.id == row_id)) + 1
                if isinstance(outcome, WindowClosedError):
                    values = {"status": "refused"}
                    logger.warning("outbox %s refused: %s", row_id, outcome.detail or outcome.reason)
                    settled += 1
                elif outcome.retryable and attempts < MAX_ATTEMPTS:
                    values = {"status": "pending", "next_attempt_at": now + backoff(attempts)}
                    logger.warning("outbox %s will retry (attempt %s): %s", row_id, attempts, outcome.detail or outcome.reason)
                else:
                    values = {"status": "failed"}
                    logger.error("outbox %s failed: %s", row_id, outcome.detail or outcome.reason)
                    settled += 1
                session.execute(stmt.values(attempts=attempts, last_error=error, **values))
        return settled


def pull(db: Database, channel: str, recipient_id: str, after: int, limit: int = 50) -> list[dict]:
    """Officer replies waiting for a pull channel's client (the web widget polls), newer than
    ``after``; they count as delivered once fetched."""
    with db.session() as session:
        rows = session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.channel == channel, OutboxMessage.recipient_id == recipient_id, OutboxMessage.id > after,
                   OutboxMessage.author == "officer")
            .order_by(OutboxMessage.id)
            .limit(limit)
        ).all()
        now = utcnow()
        out = []
        for row in rows:
            if row.status == "pending":
                row.status = "sent"
                row.sent_at = now
            out.append({"id": row.id, "text": row.body.get("text", ""), "buttons": row.body.get("buttons") or []})
        return out
