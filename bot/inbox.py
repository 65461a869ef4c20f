"""The durable inbox: every accepted platform event is a row before the webhook answers 200.

``accept`` is idempotent on (channel, platform message id), so a platform's redelivery is stored
once. ``claim`` takes one pending row inside the caller's transaction (``SKIP LOCKED`` on
PostgreSQL, so two workers never hold the same row); the caller marks it done in that same
transaction. ``record_failure`` counts a failed attempt and backs off (2, 4, 8… seconds) until
``MAX_ATTEMPTS``, after which the row is ``failed`` and shown to operators, never retried blindly.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import NamedTuple

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session

from .channels.base import MAX_INCOMING_TEXT, IncomingMessage, clean_text
from .storage import Database
from .storage.models import InboxEvent, utcnow

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5


class Due(NamedTuple):
    id: int
    channel: str
    sender: str
    text: str | None


class Inbox:
    def __init__(self, db: Database, clock=utcnow):
        self.db = db
        self.clock = clock
        # Built once (a Core statement: this runs for every webhook); a redelivery inserts nothing.
        self._claim_pg = _CLAIM.with_for_update(skip_locked=True)  # two workers never hold the same row
        self._insert = db.insert_ignoring(InboxEvent.__table__, None, ["channel", "platform_message_id"]).returning(_EVENT.id)

    def accept(self, messages: list[IncomingMessage]) -> list[int]:
        """Store messages; returns the ids of the NEW rows (redeliveries are skipped).

        Each message of a batch is stored in its own savepoint: one the database refuses is logged and
        skipped (the platform would otherwise redeliver the whole batch forever), the others are
        kept. A database that is down raises ``DatabaseUnavailable`` (the webhook answers 503 and
        the platform redelivers)."""
        if not messages:
            return []
        now = self.clock()
        stmt = self._insert
        if len(messages) == 1:  # nothing else to keep: one statement, committed as it runs
            try:
                with self.db.statement() as conn:
                    row_id = conn.execute(stmt, _row(messages[0], now)).scalar()
            except (DataError, IntegrityError) as exc:
                logger.error("inbox: %s event refused by the database (%s)", messages[0].channel, type(exc.orig).__name__)
                return []
            return [row_id] if row_id is not None else []
        ids = []
        with self.db.session() as session:
            conn = session.connection()
            for m in messages:
                try:
                    with conn.begin_nested():
                        row_id = conn.execute(stmt, _row(m, now)).scalar()
                except (DataError, IntegrityError) as exc:
                    logger.error("inbox: %s event refused by the database (%s); the other events are kept", m.channel, type(exc.orig).__name__)
                    continue
                if row_id is not None:
                    ids.append(row_id)
        return ids

    def event_id(self, channel: str, message_id: str) -> int | None:
        with self.db.read() as session:
            return session.scalar(select(InboxEvent.id).where(InboxEvent.channel == channel,
                                                              InboxEvent.platform_message_id == message_id))

    def pending(self, limit: int = 100) -> list[tuple[int, str, str | None]]:
        """(id, sender, text) of events due for processing, oldest first (see ``due``)."""
        return [(e.id, e.sender, e.text) for e in self.due(limit)]

    def due(self, limit: int = 100) -> list[Due]:
        """Events due for processing, oldest first (a read: no write lock; the text lets the NLU
        run before the write transaction).

        Only a sender's oldest pending event is offered: one that is backing off after a failure
        holds back the same person's later messages, so they are never answered out of order."""
        now = self.clock()
        with self.db.read() as session:
            rows = session.connection().execute(_PENDING, {"n": limit * 2}).all()
        due, seen = [], set()
        for event_id, channel, sender, locked_until, text in rows:
            key = (channel, sender)
            if key in seen:
                continue
            seen.add(key)
            if locked_until is None or _aware(locked_until) <= now:
                due.append(Due(event_id, channel, sender, text))
        return due[:limit]

    def pending_text(self, event_id: int) -> str | None:
        """The text of a pending event, read outside any write transaction (to run the NLU early)."""
        with self.db.read() as session:
            return session.scalar(select(InboxEvent.text).where(InboxEvent.id == event_id, InboxEvent.status == "pending"))

    def claim(self, session: Session, event_id: int):
        """The pending row (a read-only row, locked for this transaction); None if done or held by
        another worker."""
        stmt = self._claim_pg if self.db.dialect == "postgresql" else _CLAIM
        return session.connection().execute(stmt, {"event_id": event_id}).first()

    def take_due(self, session: Session, limit: int) -> list:
        """PostgreSQL: claim up to ``limit`` due events AND mark them done, in one statement inside
        the caller's transaction (rolled back with it if the turns fail). The rules of ``due``
        hold in the query: a sender's oldest pending event only, none backing off; rows another
        worker holds are skipped (``SKIP LOCKED``), and so is a younger event of a person whose
        older one is being processed (it still looks pending). Oldest first."""
        rows = session.connection().execute(_TAKE_DUE, {"now": self.clock(), "n": limit, "window": limit * 4}).all()
        return sorted(rows, key=lambda row: row.id)

    def mark_done(self, session: Session, event) -> None:
        session.connection().execute(_DONE, {"event_id": event.id, "now": self.clock()})

    def record_failure(self, event_id: int, exc: Exception) -> None:
        """Count a failed attempt in its own transaction (the failed one was rolled back)."""
        try:
            with self.db.session() as session:
                event = session.get(InboxEvent, event_id)
                if event is None or event.status != "pending":
                    return
                event.attempts += 1
                event.error = type(exc).__name__  # never the message text: it may quote personal data
                if event.attempts >= MAX_ATTEMPTS:
                    event.status = "failed"
                else:
                    event.locked_until = self.clock() + dt.timedelta(seconds=2 ** event.attempts)
        except Exception:  # noqa: BLE001 - the database itself may be down; the row stays pending
            logger.exception("could not record failure of inbox event %s", event_id)


_EVENT = InboxEvent.__table__.c
_CLAIM = select(InboxEvent.__table__).where(_EVENT.id == bindparam("event_id"), _EVENT.status == "pending")
_DONE_VALUES = {"status": "done", "processed_at": bindparam("now"), "attempts": _EVENT.attempts + 1, "error": None}
_DONE = update(InboxEvent.__table__).where(_EVENT.id == bindparam("event_id")).values(**_DONE_VALUES)
# The oldest pending rows (a window, as ``due`` reads), the first of each sender among them (their
# oldest pending event), then those not backing off, locked; O(window), not O(pending rows).
_WINDOW = (select(_EVENT.id, _EVENT.channel, _EVENT.sender_id).where(_EVENT.status == "pending")
           .order_by(_EVENT.id).limit(bindparam("window")).subquery("window"))
_FIRST_PER_SENDER = (select(_WINDOW.c.id).ext(distinct_on(_WINDOW.c.channel, _WINDOW.c.sender_id))
                     .order_by(_WINDOW.c.channel, _WINDOW.c.sender_id, _WINDOW.c.id))
_DUE_IDS = (select(_EVENT.id)
            # status again: re-checked on the newest row version if another worker just finished it
            .where(_EVENT.id.in_(_FIRST_PER_SENDER), _EVENT.status == "pending", or_(_EVENT.locked_until.is_(None), _EVENT.locked_until <= bindparam("now")))
            .order_by(_EVENT.id).limit(bindparam("n")).with_for_update(skip_locked=True))
_TAKE_DUE = (update(InboxEvent.__table__).where(_EVENT.id.in_(_DUE_IDS))
             .values(**_DONE_VALUES).returning(*InboxEvent.__table__.c))
_PENDING = (select(_EVENT.id, _EVENT.channel, _EVENT.sender_id, _EVENT.locked_until, _EVENT.text)
            .where(_EVENT.status == "pending").order_by(_EVENT.id).limit(bindparam("n")))


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def _row(m: IncomingMessage, now: dt.datetime) -> dict:
    return {
        "channel": m.channel,
        "platform_message_id": clean_text(m.message_id)[:200],
        "sender_id": clean_text(m.sender_id)[:200],
        "kind": m.kind,
        "text": clean_text(m.text)[:MAX_INCOMING_TEXT] if m.text is not None else None,
        "payload": clean_text(m.payload or "")[:300] or None,
        "display_name": clean_text(m.display_name or "")[:200] or None,
        "sent_at": m.sent_at,
        "received_at": now,
        "unit_id": m.unit_id,
        "account_external_id": clean_text(m.account)[:200] if m.account else None,
        "status": "pending",
        "attempts": 0,
    }
