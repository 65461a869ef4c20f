"""Delivering replies: the outbox is drained to the platform Send APIs with retries.

A row is *claimed* (status ``sending``, leased by this process) in a short transaction, sent
outside any transaction, and settled at once in its own transaction: ``sent``, ``refused`` (window
rules), ``failed`` (permanent error or too many attempts), or back to ``pending`` with exponential
backoff. Settling each row as soon as its send returns bounds the crash window: a process killed
mid-run leaves at most one reply per sending thread delivered but not marked, and only that one
can go out twice.

Every sending process keeps a heartbeat row in ``processes``. Rows leased by a process that stopped
(heartbeat older than ``STALE``, or, on the same host, a pid that no longer exists) are taken back
at once by the next process that looks, not after the lease; the lease (``LEASE``) remains the
backstop. Replies to one recipient go out in order (a failed row holds back the later ones), and
sending threads are sharded by recipient: a platform call that hangs holds up one shard, not all.

A process that sends does not claim the replies its own turns write: ``DirectDelivery`` leases
them in the turn's transaction and hands them to the sending threads after the commit. The
dispatcher's claim remains for everything else (retries, officer replies, rows of stopped processes).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import time
import uuid
import zlib
from collections.abc import Callable

from sqlalchemy import and_, bindparam, delete, func, or_, select, update

from . import comments
from .channels.base import ChannelSender, DeliveryError, SendContext, TransientDeliveryError, WindowClosedError
from .storage import Database, DatabaseUnavailable
from .storage.models import Conversation, OutboxMessage, Process, utcnow

logger = logging.getLogger(__name__)

LEASE = dt.timedelta(seconds=60)
STALE = dt.timedelta(seconds=5)  # a process silent this long is taken for dead
HEARTBEAT_EVERY = 1.0
MAX_ATTEMPTS = 10  # 0.5 + 1 + 2 + … s: the last try is about 4 minutes after the first failure
MAX_BACKOFF = dt.timedelta(minutes=10)
HELD_BACK = dt.timedelta(seconds=1)
SETTLE_PATIENCE = 120.0  # seconds a sending thread waits for the database to record a reply it sent


_ROW = OutboxMessage.__table__.c
_LEASED_HERE = and_(_ROW.id == bindparam("row_id"), _ROW.lease_owner == bindparam("owner"))
_SENT = (update(OutboxMessage.__table__).where(_LEASED_HERE)
         .values(status="sent", sent_at=bindparam("now"), attempts=_ROW.attempts + 1, lease_owner=None,
                 platform_message_id=bindparam("platform_id"), last_error=None))
_HOLD = update(OutboxMessage.__table__).where(_LEASED_HERE).values(status="pending", lease_owner=None, next_attempt_at=bindparam("retry_at"))
# A reply to this person older than row "before" that has not gone out yet (few rows: in flight only).
_PERSON_WAITING = (select(_ROW.id).where(_ROW.status.in_(("pending", "sending")), _ROW.channel == bindparam("channel"),
                                         _ROW.recipient_id == bindparam("recipient"), _ROW.id < bindparam("before")).limit(1))
_NO_LIMIT = 2 ** 62  # "before" for a row not written yet: any waiting reply is older
_ATTEMPTS = select(_ROW.attempts).where(_ROW.id == bindparam("row_id"))
_CONV = Conversation.__table__.c
# One more reply since the worker's last message (the platforms' window rules count them).
_COUNT_REPLY = (update(Conversation.__table__)
                .where(_CONV.id == select(_ROW.conversation_id).where(_ROW.id == bindparam("row_id")).scalar_subquery())
                .values(replies_since_user_message=_CONV.replies_since_user_message + 1))
# Both in one statement on PostgreSQL (a data-modifying CTE): the row marked sent, its conversation counted.
_SENT_CTE = _SENT.returning(_ROW.conversation_id).cte("sent")
_SENT_AND_COUNTED = (update(Conversation.__table__).where(_CONV.id.in_(select(_SENT_CTE.c.conversation_id)))
                     .values(replies_since_user_message=_CONV.replies_since_user_message + 1))


def backoff(attempts: int) -> dt.timedelta:
    """Wait before try ``attempts + 1``: 0.5 s, 1 s, 2 s, 4 s… A reply held up holds up the
    person's later replies too (order), so the first retries come quickly."""
    return min(dt.timedelta(seconds=0.5 * 2 ** max(0, attempts - 1)), MAX_BACKOFF)


def shard_of(recipient: str, shards: int) -> int:
    return zlib.crc32(recipient.encode("utf-8", "replace")) % shards if shards > 1 else 0


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class OutboxSender:
    def __init__(self, db: Database, senders: dict[str, ChannelSender], clock: Callable[[], dt.datetime] = utcnow,
                 owner: str | None = None):
        self.db = db
        self.senders = senders
        self.clock = clock
        self.host = socket.gethostname()[:150]
        self.owner = owner or f"{self.host}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._beat_lock = threading.Lock()
        self._beat_at = 0.0
        self._order_checked: set[int] = set()  # leased rows already checked for older replies (see _claim)
        self.reclaimed = 0  # rows taken back from stopped processes (each may have been delivered once)

    # -- liveness -----------------------------------------------------------------------------------
    def heartbeat(self, force: bool = False) -> None:
        """Say this process is alive (at most once a second); the first beat also forgets processes
        of this host whose pid is gone, so their leased rows are taken back at once."""
        with self._beat_lock:
            first = self._beat_at == 0.0
            if not force and not first and time.monotonic() - self._beat_at < HEARTBEAT_EVERY:
                return
        now = self.clock()
        with self.db.session() as session:
            row = session.get(Process, self.owner)
            if row is None:
                session.add(Process(owner=self.owner, host=self.host, pid=os.getpid(), started_at=now, seen_at=now))
            else:
                row.seen_at = now
            if first:
                for other in session.scalars(select(Process).where(Process.host == self.host, Process.owner != self.owner)).all():
                    if not _pid_alive(other.pid):
                        session.delete(other)
        with self._beat_lock:
            self._beat_at = time.monotonic()  # only once the beat is written

    def beating(self) -> bool:
        """Whether this process's heartbeat is recent enough for others to count it alive."""
        with self._beat_lock:
            at = self._beat_at
        return at != 0.0 and time.monotonic() - at < STALE.total_seconds() / 2

    def retire(self) -> None:
        """On a clean stop: give back leased rows and remove the heartbeat, so nobody waits."""
        with self.db.session() as session:
            session.execute(update(OutboxMessage).where(OutboxMessage.status == "sending", OutboxMessage.lease_owner == self.owner)
                            .values(status="pending", lease_owner=None, next_attempt_at=self.clock()))
            session.execute(delete(Process).where(Process.owner == self.owner))

    # -- claiming -----------------------------------------------------------------------------------
    def _due(self, now: dt.datetime):
        live = select(Process.owner).where(Process.seen_at >= now - STALE)
        # Never our own rows before their lease ends: after a database outage our heartbeat is stale
        # too, and the rows are still in our sending threads' hands.
        taken_back = and_(OutboxMessage.status == "sending",
                          or_(OutboxMessage.next_attempt_at <= now, OutboxMessage.lease_owner.is_(None),
                              and_(OutboxMessage.lease_owner != self.owner, OutboxMessage.lease_owner.not_in(live))))
        return and_(OutboxMessage.channel.in_(list(self.senders)),
                    or_(and_(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now), taken_back))

    def _claim(self, limit: int, shard: tuple[int, int]) -> list[tuple[int, str, str, dict, SendContext]]:
        """Lease due rows of this shard in one short transaction; returns what is needed to send them.

        A row is left alone when an older reply to the same person is still waiting (order)."""
        now = self.clock()
        k, n = shard
        # On PostgreSQL with one shard, SKIP LOCKED picks the rows in the locking query itself; SQLite
        # (and a shard filter computed in Python) first looks in a read transaction, so an idle poll
        # never takes SQLite's write lock.
        direct = self.db.dialect == "postgresql" and n == 1
        ids: list[int] = []
        if not direct:
            with self.db.read() as session:
                candidates = session.execute(
                    select(OutboxMessage.id, OutboxMessage.recipient_id).where(self._due(now)).order_by(OutboxMessage.id).limit(limit * n * 2)
                ).all()
            ids = [row_id for row_id, recipient in candidates if shard_of(recipient, n) == k][:limit]
            if not ids:
                return []
        with self.db.session() as session:
            stmt = (select(OutboxMessage.id, OutboxMessage.channel, OutboxMessage.recipient_id, OutboxMessage.body, OutboxMessage.status,
                           OutboxMessage.author, OutboxMessage.conversation_id, OutboxMessage.account_external_id)
                    .where(self._due(now)).order_by(OutboxMessage.id))
            stmt = stmt.limit(limit) if direct else stmt.where(OutboxMessage.id.in_(ids))
            if self.db.dialect == "postgresql":
                stmt = stmt.with_for_update(skip_locked=True)
            rows = session.execute(stmt).all()
            if not rows:
                return []
            # Order: a person's first row here may go only if nothing older to that person still waits
            # (one query for the whole batch; later rows of the same person follow their first).
            first = {}
            for row in rows:
                first.setdefault((row.channel, row.recipient_id), row.id)
            older = self._persons_waiting(session, first)
            rows = [row for row in rows if (row.channel, row.recipient_id) not in older]
            if not rows:
                return []
            checked_first = {row_id for key, row_id in first.items() if key not in older}
            conversations = {c.id: c for c in session.execute(
                select(Conversation.id, Conversation.last_user_message_at, Conversation.replies_since_user_message)
                .where(Conversation.id.in_({r.conversation_id for r in rows if r.conversation_id is not None}))).all()}
            session.execute(update(OutboxMessage).where(OutboxMessage.id.in_([r.id for r in rows]))
                            .values(status="sending", lease_owner=self.owner, next_attempt_at=now + LEASE))
        # A person's first row here was just checked against older replies (and the lease is now
        # committed): no need to look again before sending it; later rows of that person are.
        self.order_checked(checked_first)
        taken_back = sum(row.status == "sending" for row in rows)
        claimed = []
        for row in rows:
            conv = conversations.get(row.conversation_id)
            ctx = SendContext(last_user_message_at=conv.last_user_message_at if conv else None,
                              replies_since_user_message=conv.replies_since_user_message if conv else 0, author=row.author, now=now,
                              account=row.account_external_id)
            claimed.append((row.id, row.channel, row.recipient_id, dict(row.body), ctx))
        if taken_back:
            self.reclaimed += taken_back
            logger.warning("took back %s replies leased by a stopped process; a reply in flight at the stop may go out twice", taken_back)
        return claimed

    # -- sending --------------------------------------------------------------------------------------
    def claim_due(self, limit: int = 50) -> list[tuple]:
        """Lease due rows of every shard (the workers' dispatcher hands them to sending threads)."""
        return self._claim(limit, (0, 1))

    def send_one(self, claimed: tuple, failed_recipients: set[tuple[str, str]]) -> int:
        """Send one leased row and settle it at once; a recipient whose reply failed in this round
        (``failed_recipients``) gets its later replies held back, so they keep their order."""
        row_id, channel, recipient, body, ctx = claimed
        key = (channel, recipient)
        checked = row_id in self._order_checked
        self._order_checked.discard(row_id)
        if key in failed_recipients or (not checked and self._waits_for_earlier(row_id, channel, recipient)):
            self._settle(row_id, None)
            return 0
        try:
            outcome = self.senders[channel].send(recipient, body, ctx)
        except DeliveryError as exc:
            outcome = exc
        except Exception as exc:  # noqa: BLE001 - a bug in a sender must not kill the worker
            logger.exception("sender %s crashed", channel)
            outcome = TransientDeliveryError("Lỗi hệ thống khi gửi; sẽ thử lại.", type(exc).__name__)
        if isinstance(outcome, DeliveryError) and outcome.retryable:
            failed_recipients.add(key)
        return self._settle_surely(row_id, outcome)

    def _settle_surely(self, row_id: int, outcome) -> int:
        """Settle, waiting for the database if it is away: the platform's answer is known, and
        forgetting it would send the reply again once the lease runs out. The thread waits (and
        sends nothing else) until the database is back, for up to ``SETTLE_PATIENCE``."""
        deadline = time.monotonic() + SETTLE_PATIENCE
        while True:
            try:
                return self._settle(row_id, outcome)
            except DatabaseUnavailable:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

    def send_due(self, limit: int = 10, shard: tuple[int, int] = (0, 1)) -> int:
        """Send what is due in this shard, in this thread; returns how many rows were settled
        (sent, refused or failed)."""
        failed_recipients: set[tuple[str, str]] = set()
        return sum(self.send_one(claimed, failed_recipients) for claimed in self._claim(limit, shard))

    def _waits_for_earlier(self, row_id: int, channel: str, recipient: str) -> bool:
        """Checked again just before sending: the claim's check can be outrun when several rows of
        one person are leased together."""
        with self.db.read() as session:
            return session.connection().execute(_PERSON_WAITING, {"channel": channel, "recipient": recipient, "before": row_id}).first() is not None

    def order_checked(self, row_ids) -> None:
        """Rows already known to have no older reply to their person waiting (sent without a re-check)."""
        self._order_checked.update(row_ids)

    @staticmethod
    def _persons_waiting(session, first: dict[tuple[str, str], int]) -> set[tuple[str, str]]:
        """The (channel, recipient) pairs whose first row in this batch has an older reply still waiting."""
        oldest = session.execute(
            select(OutboxMessage.channel, OutboxMessage.recipient_id, func.min(OutboxMessage.id))
            .where(OutboxMessage.recipient_id.in_({recipient for _, recipient in first}),
                   OutboxMessage.status.in_(("pending", "sending")), OutboxMessage.id < max(first.values()))
            .group_by(OutboxMessage.channel, OutboxMessage.recipient_id)
        ).all()
        return {(channel, recipient) for channel, recipient, min_id in oldest
                if (channel, recipient) in first and min_id < first[(channel, recipient)]}

    def _settle(self, row_id: int, outcome) -> int:
        """Record one send result at once, in its own short transaction; 1 if the row is settled.
        (Prebuilt Core statements: this runs once per reply.)"""
        now = self.clock()
        key = {"row_id": row_id, "owner": self.owner}
        sent = None if outcome is None or isinstance(outcome, DeliveryError) else \
            {**key, "now": now, "platform_id": outcome.platform_message_id}
        if sent is not None and self.db.dialect == "postgresql" and not getattr(outcome, "comment_reply", None):
            with self.db.statement() as conn:  # the common case: one statement, no transaction around it
                conn.execute(_SENT_AND_COUNTED, sent)
            return 1
        with self.db.session() as session:
            conn = session.connection()
            if outcome is None:  # held back behind a failed reply to the same person
                conn.execute(_HOLD, {**key, "retry_at": now + HELD_BACK})
                return 0
            if sent is not None:
                done = conn.execute(_SENT, sent).rowcount
                if done:
                    conn.execute(_COUNT_REPLY, {"row_id": row_id})
                    if getattr(outcome, "comment_reply", None):
                        comments.after_settle(session, row_id, outcome, "sent", now)
                return 1
            error = outcome.reason + (f" ({outcome.detail})" if outcome.detail else "")
            attempts = (conn.execute(_ATTEMPTS, {"row_id": row_id}).scalar() or 0) + 1
            settled = 0
            if isinstance(outcome, WindowClosedError):
                values = {"status": "refused"}
                logger.warning("outbox %s refused: %s", row_id, outcome.detail or outcome.reason)
                settled = 1
            elif outcome.retryable and attempts < MAX_ATTEMPTS:
                values = {"status": "pending", "next_attempt_at": now + backoff(attempts)}
                logger.warning("outbox %s will retry (attempt %s): %s", row_id, attempts, outcome.detail or outcome.reason)
            else:
                values = {"status": "failed"}
                logger.error("outbox %s failed: %s", row_id, outcome.detail or outcome.reason)
                settled = 1
            stmt = update(OutboxMessage.__table__).where(_ROW.id == row_id, _ROW.lease_owner == self.owner)
            done = conn.execute(stmt.values(attempts=attempts, last_error=error, lease_owner=None, **values)).rowcount
            if done and settled and getattr(outcome, "comment_reply", None):
                comments.after_settle(session, row_id, outcome, values["status"], now)
            return settled


class DirectDelivery:
    """Replies written by a turn in a process that sends them itself: leased to this process in the
    turn's own transaction and handed straight to its sending threads once that commits, so a
    reply costs no claim query and waits for no dispatcher round.

    Only while this process's heartbeat is fresh (another process must not take the rows for a
    dead one's), and only when no older reply to the same person still waits (order); otherwise
    the row is written ``pending`` and the dispatcher claims it as before. A crash after the
    commit leaves the rows leased by a stopped process: they are taken back like claimed rows."""

    def __init__(self, outbox: OutboxSender, hand_over: Callable[[tuple], None]):
        self.outbox = outbox
        self.hand_over = hand_over
        self._unsure: set[int] = set()
        self._lock = threading.Lock()

    def lease(self, session, channel: str, recipient: str, now: dt.datetime, first: bool = False) -> dict | None:
        """Column values leasing new rows to this process, or None (write them ``pending``);
        ``first``: the first replies to a conversation created in this transaction (none older)."""
        outbox = self.outbox
        if channel not in outbox.senders or not outbox.beating():
            return None
        waiting = {"channel": channel, "recipient": recipient, "before": _NO_LIMIT}
        if not first and session.connection().execute(_PERSON_WAITING, waiting).first() is not None:
            return None
        return {"status": "sending", "lease_owner": outbox.owner, "next_attempt_at": now + LEASE}

    def unsure(self, row_ids: list[int]) -> None:
        """Rows leased in a transaction whose COMMIT failed with the connection: perhaps written."""
        with self._lock:
            self._unsure.update(row_ids)

    def release_unsure(self) -> int:
        """Hand such rows back to the dispatchers if they exist after all (the workers' dispatcher
        calls this every round); kept for the next round while the database is away."""
        with self._lock:
            ids = sorted(self._unsure)
        if not ids:
            return 0
        with self.outbox.db.session() as session:
            released = session.connection().execute(
                update(OutboxMessage.__table__).where(_ROW.id.in_(ids), _ROW.status == "sending", _ROW.lease_owner == self.outbox.owner)
                .values(status="pending", lease_owner=None, next_attempt_at=self.outbox.clock())).rowcount
        with self._lock:
            self._unsure.difference_update(ids)
        return released

    def deliver(self, claimed: list[tuple]) -> None:
        """After the commit: queue the leased rows (already checked for older replies)."""
        self.outbox.order_checked(row[0] for row in claimed)
        for row in claimed:
            self.hand_over(row)




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
