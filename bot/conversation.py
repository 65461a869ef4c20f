"""Conversations over time: the inbox, per-user state, tickets and the outbox.

``Inbox.accept`` stores incoming events (idempotent on channel + platform message id) so a webhook
can answer 200 at once. ``ConversationService.process`` handles one stored event in ONE database
transaction: conversation state, transcript, ticket changes, outbox rows and the inbox row's status
all commit together or not at all. A crash at any point leaves the event pending, and processing it
again cannot duplicate replies: outbox rows are unique per (event, reply index).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import zlib
from dataclasses import dataclass, field

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from . import policy
from .channels.base import MAX_INCOMING_TEXT, IncomingMessage
from .engine import Engine, Turn
from .handoff import tickets as ticket_ops
from .storage import Database
from .storage.models import Conversation, Feedback, InboxEvent, Message, OutboxMessage, utcnow

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
# Channels whose replies are fetched by the client (web widget, REST) rather than pushed.
PULL_CHANNELS = ("web",)
_NUMBER_RE = re.compile(r"^\s*(\d)\s*[.)]?\s*$")
_STATUS_WORDS = re.compile(r"^\s*(trạng thái|trang thai|status|tình trạng phiếu|tinh trang phieu)\s*[?.!]*\s*$", re.IGNORECASE)
# Slots kept in the conversation between messages.
PERSISTENT_SLOTS = ("last_faq_id", "clarify_options", "last_question", "ticket_code")


@dataclass
class Outcome:
    """What processing one event did (for the REST channel's synchronous answer and for tests)."""

    event_id: int
    replies: list[dict] = field(default_factory=list)
    action: str | None = None
    ticket_code: str | None = None
    duplicate: bool = False


class Inbox:
    def __init__(self, db: Database):
        self.db = db

    def _insert(self, session: Session, values: dict):
        stmt = self.db.insert_ignoring(InboxEvent, values, ["channel", "platform_message_id"])
        return session.execute(stmt.returning(InboxEvent.id)).scalar()

    def accept(self, messages: list[IncomingMessage]) -> list[int]:
        """Store messages; returns the ids of the NEW rows (redeliveries are skipped)."""
        if not messages:
            return []
        now = utcnow()

        def store(session: Session) -> list[int]:
            ids = []
            for m in messages:
                row_id = self._insert(session, {
                    "channel": m.channel,
                    "platform_message_id": m.message_id[:200],
                    "sender_id": m.sender_id[:200],
                    "kind": m.kind,
                    "text": (m.text or "")[:MAX_INCOMING_TEXT] if m.text is not None else None,
                    "payload": (m.payload or "")[:300] or None,
                    "display_name": (m.display_name or "")[:200] or None,
                    "sent_at": m.sent_at,
                    "received_at": now,
                    "status": "pending",
                    "attempts": 0,
                })
                if row_id is not None:
                    ids.append(row_id)
            return ids

        with self.db.session() as session:
            return store(session)

    def event_id(self, channel: str, message_id: str) -> int | None:
        with self.db.read() as session:
            return session.scalar(select(InboxEvent.id).where(InboxEvent.channel == channel, InboxEvent.platform_message_id == message_id))

    def pending(self, limit: int = 100, now: dt.datetime | None = None) -> list[tuple[int, str]]:
        """(id, sender) of events due for processing, oldest first (a read: no write lock)."""
        now = now or utcnow()
        with self.db.read() as session:
            return [tuple(row) for row in session.execute(
                select(InboxEvent.id, InboxEvent.sender_id)
                .where(InboxEvent.status == "pending", or_(InboxEvent.locked_until.is_(None), InboxEvent.locked_until <= now))
                .order_by(InboxEvent.id)
                .limit(limit)
            )]


class ConversationService:
    def __init__(self, db: Database, engine: Engine, sla_hours: int = 24, timeout_minutes: int = 60,
                 max_message_chars: int = 4000, clock=utcnow):
        self.db = db
        self.engine = engine
        self.sla_hours = sla_hours
        self.timeout = dt.timedelta(minutes=timeout_minutes)
        self.max_message_chars = max_message_chars
        self.clock = clock
        self.inbox = Inbox(db)

    # -- public -----------------------------------------------------------------------------------
    def process_pending(self, limit: int = 100, shard: tuple[int, int] = (0, 1)) -> int:
        """Process due events; with ``shard=(k, n)`` only those whose sender hashes to k (several
        worker threads then never handle the same person's messages out of order)."""
        done = 0
        for event_id, sender in self.inbox.pending(limit, self.clock()):
            if shard[1] > 1 and zlib.crc32(sender.encode()) % shard[1] != shard[0]:
                continue
            if self.process(event_id) is not None:
                done += 1
        return done

    def _warm_nlu(self, event_id: int) -> None:
        """Run the NLU before the write transaction (the engine caches the result), so the
        database write lock is held only for the short bookkeeping."""
        try:
            with self.db.read() as session:
                text = session.scalar(select(InboxEvent.text).where(InboxEvent.id == event_id, InboxEvent.status == "pending"))
            if text and text.strip() and not text.startswith("/") and self.engine.model is not None:
                self.engine.parse(text[: self.max_message_chars])
        except Exception:  # noqa: BLE001 - only an optimisation; the real processing reports errors
            logger.debug("NLU warm-up failed for event %s", event_id, exc_info=True)

    def process(self, event_id: int) -> Outcome | None:
        """Process one inbox event. Returns None if it was already done or is being processed."""
        self._warm_nlu(event_id)
        try:
            with self.db.session() as session:
                event = self._claim(session, event_id)
                if event is None:
                    return None
                outcome = self._handle(session, event)
                event.status = "done"
                event.processed_at = self.clock()
                event.attempts += 1
                event.error = None
                return outcome
        except Exception as exc:  # noqa: BLE001 - recorded on the row, retried with backoff
            logger.exception("processing inbox event %s failed", event_id)
            self._record_failure(event_id, exc)
            raise

    def outcome_for(self, event_id: int) -> Outcome:
        """Replies already produced for an event (a redelivered REST message gets the same answer)."""
        with self.db.read() as session:
            rows = session.scalars(
                select(OutboxMessage).where(OutboxMessage.dedupe_key.like(f"in:{event_id}:%")).order_by(OutboxMessage.id)
            ).all()
            return Outcome(event_id, [r.body for r in rows], duplicate=True)

    # -- internals --------------------------------------------------------------------------------
    def _claim(self, session: Session, event_id: int) -> InboxEvent | None:
        stmt = select(InboxEvent).where(InboxEvent.id == event_id, InboxEvent.status == "pending")
        if self.db.dialect == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        return session.scalars(stmt).first()

    def _record_failure(self, event_id: int, exc: Exception) -> None:
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

    def _conversation(self, session: Session, event: InboxEvent, now: dt.datetime) -> Conversation:
        session.execute(self.db.insert_ignoring(
            Conversation,
            {"channel": event.channel, "user_id": event.sender_id, "slots": {}, "replies_since_user_message": 0,
             "followed": True, "created_at": now},
            ["channel", "user_id"],
        ))
        stmt = select(Conversation).where(Conversation.channel == event.channel, Conversation.user_id == event.sender_id)
        if self.db.dialect == "postgresql":
            stmt = stmt.with_for_update()  # one event per conversation at a time
        return session.scalars(stmt).one()

    def _handle(self, session: Session, event: InboxEvent) -> Outcome:
        now = self.clock()
        conv = self._conversation(session, event, now)
        if event.display_name:
            conv.display_name = event.display_name
        outcome = Outcome(event.id)
        if event.kind == "unfollow":
            conv.followed = False
            return outcome
        user_time = event.sent_at or event.received_at or now
        if conv.last_user_message_at is None or user_time > conv.last_user_message_at:
            conv.last_user_message_at = user_time
        conv.replies_since_user_message = 0
        if conv.last_activity_at is not None and now - conv.last_activity_at > self.timeout:
            conv.slots = {}  # the dialogue state expires; tickets do not
        conv.last_activity_at = now
        slots = dict(conv.slots or {})

        text = event.text or ""
        incoming = Message(conversation_id=conv.id, direction="in", author="worker", text=text or _describe(event), created_at=now)
        session.add(incoming)
        open_ticket = ticket_ops.open_ticket_for(session, conv.id)

        if event.kind == "follow":
            turn = self.engine.respond("/greet", sender_id=conv.user_id, slots=slots)
            return self._emit(session, event, conv, incoming, turn, outcome, slots, now)
        if open_ticket is not None:
            return self._while_ticket_open(session, event, conv, incoming, open_ticket, outcome, now)
        if event.kind == "attachment":
            reply = {"text": self.engine.responses.text("utter_attachment")}
            return self._emit_replies(session, event, conv, [reply], outcome, now, action="fallback")

        message = self._choose_input(event, slots)
        nlu_text = message[: self.max_message_chars]

        def prepare(decision, action_slots: dict) -> None:
            # Database look-ups only for the actions that need them.
            if decision.handoff:
                action_slots["ticket_code_candidate"] = ticket_ops.unused_code(session)
            elif decision.action == policy.ACTION_STATUS:
                latest = ticket_ops.latest_ticket_for(session, conv.id)
                if latest is not None:
                    action_slots.update({"ticket_code": latest.code, "ticket_status": latest.status,
                                         "ticket_due_at": latest.due_at.isoformat()})

        turn = self.engine.respond(nlu_text, sender_id=conv.user_id, slots=slots, prepare=prepare)
        incoming.intent = turn.decision.intent
        incoming.confidence = turn.decision.confidence
        incoming.action = turn.decision.kind
        incoming.faq_id = turn.decision.faq_id
        if turn.decision.kind != "handoff" and not message.startswith("/"):
            slots["last_question"] = text[:1000]
        return self._emit(session, event, conv, incoming, turn, outcome, slots, now)

    def _choose_input(self, event: InboxEvent, slots: dict) -> str:
        """The text the engine sees: a button payload, a numbered choice, or the message."""
        if event.payload and event.payload.startswith("/"):
            return event.payload
        text = event.text or ""
        number = _NUMBER_RE.match(text)
        options = slots.get("clarify_options") or []
        if number and 1 <= int(number.group(1)) <= len(options):
            return f"/faq/{options[int(number.group(1)) - 1]}"
        if _STATUS_WORDS.match(text):
            return "/ticket_status"
        return text

    def _while_ticket_open(self, session, event, conv, incoming, ticket, outcome, now) -> Outcome:
        """A ticket is open: the bot stays silent, the message joins the ticket; status questions
        are answered."""
        incoming.ticket_id = ticket.id
        outcome.ticket_code = ticket.code
        text = event.text or ""
        asks_status = bool(_STATUS_WORDS.match(text)) or event.payload == "/ticket_status"
        model = self.engine.model
        if not asks_status and text.strip() and model is not None and not text.startswith("/"):
            intent = self.engine.parse(text[: self.max_message_chars])["intent"]
            asks_status = intent["name"] == "ticket_status" and intent["confidence"] >= model.threshold
        if asks_status:
            turn = self.engine.respond("/ticket_status", sender_id=conv.user_id, slots={
                "ticket_code": ticket.code, "ticket_status": ticket.status, "ticket_due_at": ticket.due_at.isoformat()})
            return self._emit(session, event, conv, incoming, turn, outcome, dict(conv.slots or {}), now)
        ticket_ops.worker_follow_up(session, ticket, now)
        outcome.action = "appended"
        return outcome

    def _emit(self, session, event, conv, incoming, turn: Turn, outcome: Outcome, slots: dict, now) -> Outcome:
        updates = turn.slot_updates()
        outcome.action = turn.decision.kind
        if "ticket_code" in updates and turn.decision.handoff:
            # A button ("Gặp cán bộ", "Chưa rõ") hands off the question asked before it.
            by_button = bool(event.payload) or (event.text or "").startswith("/")
            question = (slots.get("last_question") if by_button else None) or event.text or slots.get("last_question") or ""
            entry = self.engine.kb.get(turn.decision.faq_id) if turn.decision.faq_id else None
            ticket = ticket_ops.create_ticket(
                session,
                conv,
                code=updates["ticket_code"],
                question=question,
                reason=turn.decision.reason or updates.get("handoff_reason"),
                due_at=dt.datetime.fromisoformat(updates["ticket_due_at"]),
                topic=entry.topic if entry else _topic_guess(self.engine, slots),
                confidence=turn.decision.confidence,
                now=now,
            )
            incoming.ticket_id = ticket.id
            outcome.ticket_code = ticket.code
            # The messages that led here are part of the ticket's transcript.
            session.execute(
                update(Message).where(Message.conversation_id == conv.id, Message.ticket_id.is_(None)).values(ticket_id=ticket.id)
            )
        if "feedback" in updates:
            fb = updates["feedback"] or {}
            session.add(Feedback(conversation_id=conv.id, faq_id=fb.get("faq_id"), helpful=bool(fb.get("helpful"))))
        for name in PERSISTENT_SLOTS:
            if name in updates:
                slots[name] = updates[name]
        if turn.decision.kind != "clarify":
            slots.pop("clarify_options", None)
        conv.slots = {k: v for k, v in slots.items() if k in PERSISTENT_SLOTS}
        replies = [{"text": m.get("text") or "", "buttons": m.get("buttons") or []} for m in turn.messages if m.get("text")]
        if turn.decision.kind == "clarify":
            for r in replies:
                r["numbered_options"] = True
        return self._emit_replies(session, event, conv, replies, outcome, now, action=turn.decision.kind, ticket_id=incoming.ticket_id)

    def _emit_replies(self, session, event, conv, replies, outcome, now, action=None, ticket_id=None) -> Outcome:
        outcome.action = outcome.action or action
        pull = conv.channel in PULL_CHANNELS
        for i, reply in enumerate(replies):
            msg = Message(conversation_id=conv.id, ticket_id=ticket_id, direction="out", author="bot", text=reply["text"],
                          action=action, created_at=now)
            session.add(msg)
            session.flush()
            session.add(OutboxMessage(
                dedupe_key=f"in:{event.id}:{i}",
                channel=conv.channel,
                recipient_id=conv.user_id,
                conversation_id=conv.id,
                message_id=msg.id,
                author="bot",
                body=reply,
                # Web replies are returned in the HTTP response itself: nothing left to push.
                status="sent" if pull else "pending",
                sent_at=now if pull else None,
                next_attempt_at=now,
                created_at=now,
            ))
            outcome.replies.append(reply)
        return outcome


def _describe(event: InboxEvent) -> str:
    return {"attachment": "[tệp đính kèm]", "follow": "[quan tâm OA]", "unfollow": "[bỏ quan tâm OA]"}.get(event.kind, "")


def _topic_guess(engine: Engine, slots: dict) -> str | None:
    entry = engine.kb.get(slots.get("last_faq_id")) if slots.get("last_faq_id") else None
    return entry.topic if entry else None

