"""One turn of a conversation, read top to bottom.

``Dialogue.process(event_id)`` handles one stored inbox event in ONE database transaction:

1. load the conversation's state (slots expire after ``CONVERSATION_TIMEOUT_MINUTES``);
2. record the worker's message in the transcript;
3. choose the input: a button payload, a numbered choice ("1" after "Ý bạn là…?"), a status word,
   or the text itself;
4. understand and decide (``Engine.understand``: NLU, then the policy table, which also knows
   whether a ticket is open);
5. book what the decision needs: a hand-off opens the ticket (``bot.handoff.tickets.open_ticket``
   owns its code and 24-hour deadline), a status question reads it, a message while a ticket is
   open joins that ticket and gets no reply;
6. act (``Engine.act``: the rasa-sdk action renders the reply from what it is given);
7. save the state, the bot's replies in the transcript and one outbox row per reply.

Conversation state, transcript, ticket changes, outbox rows and the inbox row's status commit
together or not at all. A crash at any point leaves the event pending, and processing it again
cannot duplicate replies: outbox rows are unique per (event, reply index). The NLU runs before the
transaction on SQLite (``_parse_early``), so its database-wide write lock is held only for the
bookkeeping; on PostgreSQL the turn parses after the claim (row locks: no worker parses an event
another one took).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
import zlib
from dataclasses import dataclass, field
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from . import comments, policy, units
from .channels.base import SendContext
from .engine import Engine, Turn, Understanding
from .handoff import tickets
from .inbox import Inbox
from .storage import Database, DatabaseUnavailable
from .storage.models import Conversation, Feedback, InboxEvent, Message, OutboxMessage, Ticket, utcnow

logger = logging.getLogger(__name__)

_NUMBER_RE = re.compile(r"^\s*(\d)\s*[.)]?\s*$")
_STATUS_WORDS = re.compile(r"^\s*(trạng thái|trang thai|status|tình trạng phiếu|tinh trang phieu)\s*[?.!]*\s*$", re.IGNORECASE)
# Slots kept in the conversation between messages.
PERSISTENT_SLOTS = ("last_faq_id", "clarify_options", "last_question", "form")
# "xóa dữ liệu" (the privacy notice tells workers to send it) goes to an officer, who runs `python -m bot person delete`.
_PRIVACY_WORDS = re.compile(r"^\s*(xóa|xoá|xoa) (dữ liệu|du lieu)( của (tôi|em|mình|toi|minh))?\s*[.!]*\s*$", re.IGNORECASE)
# Set on a conversation created by the current event: its replies start with the privacy notice.
PRIVACY_NOTICE_SLOT = "privacy_notice_due"
NEW_CONVERSATION = "new_conversations"  # session.info key: ids of the conversations this transaction created
# What the transcript shows for events without text.
_DESCRIPTIONS = {"attachment": "[tệp đính kèm]", "follow": "[quan tâm OA]", "unfollow": "[bỏ quan tâm OA]"}


def _same_instant(a: dt.datetime | None, b: dt.datetime) -> bool:
    def utc(x: dt.datetime) -> dt.datetime:  # naive UTC (SQLite gives naive values back)
        return x.astimezone(dt.timezone.utc).replace(tzinfo=None) if x.tzinfo else x

    return a is not None and utc(a) == utc(b)


@dataclass
class Outcome:
    """What processing one event did (for the REST channel's synchronous answer and for tests)."""

    event_id: int
    replies: list[dict] = field(default_factory=list)
    action: str | None = None
    ticket_code: str | None = None
    duplicate: bool = False
    # Outbox rows leased to this process in the turn (``bot.outbox.DirectDelivery``): (row, context).
    leased: list = field(default_factory=list)
    delivery: object = None  # the DirectDelivery that leased them
    # Whether the turn left rows for the outbox dispatcher to claim (False: nothing, or all leased).
    needs_dispatch: bool = True

    def deliver(self) -> None:
        """After the commit: the leased replies go to this process's sending threads."""
        if self.leased:
            self.delivery.deliver([(row.id, row.channel, row.recipient_id, dict(row.body), ctx) for row, ctx in self.leased])

    def unsure(self) -> None:
        """The COMMIT failed with the connection: the leased rows may exist (the dispatcher checks)."""
        if self.leased:
            self.delivery.unsure([row.id for row, _ in self.leased if row.id is not None])


def _adopt(session: Session, row) -> Conversation:
    """The conversation row just read (and locked) as the session's persistent object, without
    loading it again: its changes in the turn are flushed as an UPDATE."""
    existing = session.identity_map.get(identity_key(Conversation, (row["id"],)))
    if existing is not None:  # already in this transaction: take the fresh values
        for name, value in row.items():
            set_committed_value(existing, name, value)
        return existing
    conv = Conversation(**row)
    make_transient_to_detached(conv)  # as if loaded: no pending changes, identity known
    session.add(conv)
    return conv


class BatchFailed(Exception):
    """A turn of a batch failed: nothing of the batch was written."""

    def __init__(self, event_ids: list[int], reason: str):
        super().__init__(reason)
        self.event_ids = event_ids
        self.reason = reason


class Round(NamedTuple):
    """What one ``process_pending`` round did."""

    done: int  # events processed
    dispatch: bool  # some left replies for the outbox dispatcher (not handed to senders directly)


class Dialogue:
    def __init__(self, db: Database, engine: Engine, inbox: Inbox | None = None, *, sla_hours: int = 24,
                 timeout_minutes: int = 60, max_message_chars: int = 4000, pull_channels: tuple[str, ...] = ("web",),
                 clock=utcnow):
        self.db = db
        self.engine = engine
        self.inbox = inbox or Inbox(db, clock)
        self.sla_hours = sla_hours
        self.timeout = dt.timedelta(minutes=timeout_minutes)
        self.max_message_chars = max_message_chars
        self.pull_channels = pull_channels  # replies fetched by the client (web widget, REST), not pushed
        self.clock = clock
        # Set by the workers while this process has sending threads (``bot.outbox.DirectDelivery``).
        self.delivery = None
        self._upsert_conversation = self._conversation_upsert()  # built once: it runs for every message

    # -- public -----------------------------------------------------------------------------------
    def process_pending(self, limit: int = 100, shard: tuple[int, int] = (0, 1)) -> Round:
        """Process due events; with ``shard=(k, n)`` only those whose sender hashes to k (several
        worker threads then never handle the same person's messages out of order).

        On PostgreSQL a round is ONE transaction (``process_batch``): the claim query itself keeps
        each person's messages in order, so shards are not needed there. If the batch fails, its
        events are processed one by one, so only the event at fault is retried later."""
        if self._batch_turns():
            try:
                outcomes = self.process_batch(limit)
            except BatchFailed as failed:
                logger.warning("a batch of %s inbox events failed (%s); processing them one by one", len(failed.event_ids), failed.reason)
                due = [(event_id, None) for event_id in failed.event_ids]
            else:
                return Round(len(outcomes), any(o.needs_dispatch for o in outcomes))
        else:
            due = [(e.id, e.text) for e in self.inbox.due(limit)
                   if shard[1] <= 1 or zlib.crc32(e.sender.encode()) % shard[1] == shard[0]]
        done, dispatch = 0, False
        for event_id, text in due:
            outcome = self.process(event_id, text)
            if outcome is not None:
                done += 1
                dispatch = dispatch or outcome.needs_dispatch
        return Round(done, dispatch)

    def process(self, event_id: int, text: str | None = None) -> Outcome | None:
        """Process one inbox event (``text``: its text if the caller has read it already). Returns
        None if it was already done or is being processed."""
        # On SQLite the write lock is the whole database's: understand first. On PostgreSQL the locks
        # are per row, and parsing after the claim never parses an event another worker took.
        early = self._parse_early(event_id, text) if self._parse_before_claim() else None
        outcome = None
        try:
            # No autoflush: the turn's changes go to the database in one flush (before the replies'
            # rows) and at commit, not piecemeal before every query.
            with self.db.session() as session, session.no_autoflush:
                event = self.inbox.claim(session, event_id)
                if event is None:
                    return None
                outcome = self._turn(session, event, early)
                self.inbox.mark_done(session, event)
        except DatabaseUnavailable:
            # Nothing was written and the event stays pending, unless the connection died during
            # COMMIT after the database committed: then leased rows would wait out their lease.
            if outcome is not None:
                outcome.unsure()
            raise
        except Exception as exc:  # noqa: BLE001 - recorded on the row, retried with backoff
            self._failed(event_id, exc)
            raise
        outcome.deliver()  # committed: this process's sending threads take its leased replies now
        return outcome

    def process_batch(self, limit: int = 100) -> list[Outcome]:
        """PostgreSQL: claim up to ``limit`` due events (of different people) and process them in
        ONE transaction: one statement claims them and marks them done, one flush writes every
        turn's rows (multi-row INSERTs), one commit. If a turn fails all is rolled back: with
        several events, ``BatchFailed`` names them (the caller processes them one by one); a
        single event's failure is recorded on it (retried with backoff) and raised."""
        outcomes: list[Outcome] = []
        claimed: list = []
        try:
            with self.db.session() as session, session.no_autoflush:
                claimed = self.inbox.take_due(session, limit)
                for event in claimed:
                    outcomes.append(self._turn(session, event, None))
        except DatabaseUnavailable:  # as in ``process``: a COMMIT lost with the connection
            for outcome in outcomes:
                outcome.unsure()
            raise
        except Exception as exc:  # noqa: BLE001 - rolled back; each event again on its own
            if len(claimed) == 1:  # the event at fault is known: as in ``process``
                self._failed(claimed[0].id, exc)
                raise
            if not claimed:
                raise
            logger.debug("batch failure", exc_info=True)
            raise BatchFailed([event.id for event in claimed], type(exc).__name__) from exc
        for outcome in outcomes:
            outcome.deliver()
        return outcomes

    def _failed(self, event_id: int, exc: Exception) -> None:
        logger.exception("processing inbox event %s failed", event_id)
        self.inbox.record_failure(event_id, exc)

    def wait_for_outcome(self, event_id: int, timeout: float = 10.0) -> Outcome:
        """The replies to an event another worker is processing, once it has committed (a REST
        request whose event a worker round claimed first must still answer with them)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.db.read() as session:
                status = session.scalar(select(InboxEvent.status).where(InboxEvent.id == event_id))
            if status != "pending":
                break
            time.sleep(0.02)
        return self.outcome_for(event_id)

    def outcome_for(self, event_id: int) -> Outcome:
        """Replies already produced for an event (a redelivered REST message gets the same answer)."""
        with self.db.read() as session:
            rows = session.scalars(
                select(OutboxMessage).where(OutboxMessage.dedupe_key.like(f"in:{event_id}:%")).order_by(OutboxMessage.id)
            ).all()
            return Outcome(event_id, [r.body for r in rows], duplicate=True)

    # -- the turn ---------------------------------------------------------------------------------
    def _turn(self, session: Session, event: InboxEvent, early: dict | None) -> Outcome:
        if event.channel == comments.CHANNEL:  # a fanpage comment: its own replies (bot.comments)
            return comments.turn(self, session, event, early)
        now = self.clock()
        conv, incoming = self._open_turn(session, event, now)
        if incoming is None:
            return Outcome(event.id)
        slots = dict(conv.slots or {})
        open_ticket = tickets.open_ticket_for(session, conv.id) if not self._is_new(session, conv) else None

        text = self._choose_input(event, slots)
        # Following the OA again is no message for the officer: it is greeted even with a ticket open.
        ticket_open = open_ticket is not None and event.kind != "follow"
        understood = self.engine.understand(text, ticket_open=ticket_open, parse=early, form=slots.get("form"))
        decision = understood.decision
        incoming.intent, incoming.confidence = decision.intent, decision.confidence
        incoming.action, incoming.faq_id = decision.kind, decision.faq_id

        ticket = open_ticket if ticket_open else None
        if decision.action == policy.ACTION_LISTEN:
            incoming.ticket_id = ticket.id
            tickets.worker_follow_up(session, ticket, now)
            return Outcome(event.id, action=decision.kind, ticket_code=ticket.code, needs_dispatch=False)
        ticket_slots = {}
        if decision.handoff:
            ticket = tickets.open_ticket(session, conv, self._handoff(event, slots, understood), now, self.sla_hours)
            ticket_slots = tickets.slots_for(ticket)
        elif decision.action == policy.ACTION_STATUS:
            asked = ticket or tickets.latest_ticket_for(session, conv.id)
            ticket_slots = tickets.slots_for(asked) if asked is not None else {}
        if ticket is not None:
            incoming.ticket_id = ticket.id

        notice_due = slots.pop(PRIVACY_NOTICE_SLOT, False)  # not a PERSISTENT_SLOT: _save_state drops it after this turn
        org = units.placeholders(session, conv.unit_id, self.engine.settings)
        turn = self.engine.act(understood, {**slots, **ticket_slots}, sender_id=conv.user_id, org=org)
        if notice_due:
            self._add_privacy_notice(turn, org)
        if not (decision.handoff or ticket_open or text.startswith("/") or decision.reason.startswith("form")):
            slots["last_question"] = (event.text or "")[:1000]
        self._save_state(session, conv, slots, turn)
        return self._write_replies(session, event, conv, turn, now, ticket)

    # -- steps ------------------------------------------------------------------------------------
    @staticmethod
    def _is_new(session: Session, conv: Conversation) -> bool:
        """Whether this turn's transaction created the conversation."""
        return conv.id in session.info.get(NEW_CONVERSATION, ())

    def _open_turn(self, session: Session, event: InboxEvent, now: dt.datetime) -> tuple[Conversation, Message | None]:
        """The event's conversation (locked for this turn) and the worker's message in its
        transcript; no message for an unfollow, which only marks the conversation."""
        conv = self._load_state(session, event, now)
        if event.kind == "unfollow":
            conv.followed = False
            return conv, None
        incoming = Message(conversation_id=conv.id, direction="in", author="worker",
                           text=event.text or _DESCRIPTIONS.get(event.kind, ""), created_at=now)
        session.add(incoming)
        return conv, incoming

    def _parse_before_claim(self) -> bool:
        return self.db.is_sqlite

    def _batch_turns(self) -> bool:
        """Several events per transaction: PostgreSQL only (row locks; on SQLite a batch would hold
        the database-wide write lock, and the webhooks with it, for the whole batch)."""
        return not self.db.is_sqlite

    def _parse_early(self, event_id: int, text: str | None = None) -> dict | None:
        """The NLU of the event's text, before the write transaction (only an optimisation: the
        turn parses again if this failed or the input turned out to be a button)."""
        try:
            if text is None:
                text = self.inbox.pending_text(event_id)
            if text and text.strip() and not text.startswith("/") and self.engine.model is not None:
                return self.engine.parse(text[: self.max_message_chars])
        except Exception:  # noqa: BLE001 - the turn itself reports real errors
            logger.debug("early NLU failed for event %s", event_id, exc_info=True)
        return None

    def _load_state(self, session: Session, event: InboxEvent, now: dt.datetime) -> Conversation:
        # One statement finds or creates the conversation and locks its row for this turn (one event
        # per conversation at a time); it was created now if it carries this turn's timestamp.
        row = session.connection().execute(self._upsert_conversation, {
            "channel": event.channel, "user_id": event.sender_id, "slots": {}, "replies_since_user_message": 0,
            "followed": True, "created_at": now}).mappings().one()
        conv = _adopt(session, row)
        if _same_instant(conv.created_at, now):  # privacy notice (Luật BVDLCN 2025): due before the first replies of a new conversation
            conv.slots = {PRIVACY_NOTICE_SLOT: True}
            session.info.setdefault(NEW_CONVERSATION, set()).add(conv.id)  # nothing to look up for it: no ticket, no reply waiting
        if event.display_name:
            conv.display_name = event.display_name
        units.attach(session, conv, event, self.engine.settings)
        if event.kind != "unfollow":
            user_time = event.sent_at or event.received_at or now
            if conv.last_user_message_at is None or user_time > conv.last_user_message_at:
                conv.last_user_message_at = user_time
            conv.replies_since_user_message = 0
            if conv.last_activity_at is not None and now - conv.last_activity_at > self.timeout:
                conv.slots = {}  # the dialogue state expires; tickets do not
            conv.last_activity_at = now
        return conv

    def _conversation_upsert(self):
        """A Core statement (the ORM's bulk-insert path costs ~1 ms more per message); ``_adopt``
        makes the row the session's object."""
        from sqlalchemy.dialects.postgresql import insert as pg_insert
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        table = Conversation.__table__
        insert = pg_insert(table) if self.db.dialect == "postgresql" else sqlite_insert(table)
        return (insert.on_conflict_do_update(index_elements=["channel", "user_id"], set_={"channel": insert.excluded.channel})
                .returning(*table.c))

    def _add_privacy_notice(self, turn: Turn, org: dict) -> None:
        """First contact: the privacy notice opens the first reply (not an extra message: Zalo counts them)."""
        days = self.engine.settings.get("RETENTION_DAYS", 0)
        notice = (self.engine.responses.text("utter_privacy_notice", retention_days=days, **org) if days > 0
                  else self.engine.responses.text("utter_privacy_notice_no_limit", **org))
        for i, m in enumerate(turn.messages):
            if m.get("text"):
                turn.messages[i] = {**m, "text": f"{notice}\n\n{m['text']}"}
                return
        turn.messages.insert(0, {"text": notice})

    def _choose_input(self, event: InboxEvent, slots: dict) -> str:
        """The text the engine sees: a button payload, a numbered choice, a status word, or the message."""
        if event.kind == "follow":
            return "/greet"
        if event.kind == "attachment":
            return "/attachment"
        if event.payload and event.payload.startswith("/"):
            return event.payload
        text = event.text or ""
        number = _NUMBER_RE.match(text)
        options = slots.get("clarify_options") or []
        if number and 1 <= int(number.group(1)) <= len(options):
            return f"/faq/{options[int(number.group(1)) - 1]}"
        if _STATUS_WORDS.match(text):
            return "/ticket_status"
        if _PRIVACY_WORDS.match(text):
            return "/request_human"
        return text[: self.max_message_chars]

    def _handoff(self, event: InboxEvent, slots: dict, understood: Understanding) -> tickets.HandOff:
        """The question an officer gets: a button ("Gặp cán bộ", "Chưa rõ") hands off the question
        asked before it."""
        decision = understood.decision
        by_button = bool(event.payload) or (event.text or "").startswith("/")
        question = (slots.get("last_question") if by_button else None) or event.text or slots.get("last_question") or ""
        faq_id = decision.faq_id or slots.get("last_faq_id")
        entry = self.engine.kb.get(faq_id) if faq_id else None
        return tickets.HandOff(question=question, reason=decision.reason or decision.intent,
                               topic=entry.topic if entry else None, confidence=decision.confidence)

    def _save_state(self, session: Session, conv: Conversation, slots: dict, turn: Turn) -> None:
        updates = turn.slot_updates()
        if "feedback" in updates:
            fb = updates["feedback"] or {}
            session.add(Feedback(conversation_id=conv.id, faq_id=fb.get("faq_id"), helpful=bool(fb.get("helpful"))))
        slots.update({name: updates[name] for name in PERSISTENT_SLOTS if name in updates})
        if turn.decision.action != policy.ACTION_CLARIFY:
            slots.pop("clarify_options", None)
        if turn.decision.case is None:
            slots.pop("form", None)  # any other reply leaves an open form
        if slots.get("form") is None:
            slots.pop("form", None)
        conv.slots = {k: v for k, v in slots.items() if k in PERSISTENT_SLOTS}

    def _write_replies(self, session: Session, event: InboxEvent, conv: Conversation, turn: Turn, now: dt.datetime,
                       ticket: Ticket | None) -> Outcome:
        outcome = Outcome(event.id, action=turn.decision.kind, ticket_code=ticket.code if ticket else None)
        ctx = None
        pull = conv.channel in self.pull_channels
        clarify = turn.decision.action == policy.ACTION_CLARIFY
        texts = [m for m in turn.messages if m.get("text")]
        # Pulled replies are returned in the HTTP response itself: nothing left to push. Pushed ones
        # go to this process's sending threads at once when it has them (DirectDelivery).
        delivery = self.delivery if texts and not pull else None
        lease = (delivery.lease(session, conv.channel, conv.user_id, now, first=self._is_new(session, conv))
                 if delivery is not None else None)
        if lease is not None:
            outcome.delivery = delivery
            ctx = SendContext(last_user_message_at=conv.last_user_message_at, replies_since_user_message=conv.replies_since_user_message,
                              author="bot", now=now, account=conv.account_external_id)
        outcome.needs_dispatch = bool(texts) and not pull and lease is None
        for i, m in enumerate(texts):
            reply = {"text": m["text"], "buttons": m.get("buttons") or []}
            if clarify:
                reply["numbered_options"] = True  # Zalo shows the options as a numbered list
            msg = Message(conversation_id=conv.id, ticket_id=ticket.id if ticket else None, direction="out", author="bot",
                          text=reply["text"], action=turn.decision.kind, created_at=now)
            row = OutboxMessage(
                dedupe_key=f"in:{event.id}:{i}",
                channel=conv.channel,
                recipient_id=conv.user_id,
                conversation_id=conv.id,
                message=msg,  # one flush at commit writes both (and the turn's other changes)
                account_external_id=conv.account_external_id,
                author="bot",
                body=reply,
                sent_at=now if pull else None,
                created_at=now,
                **(lease or {"status": "sent" if pull else "pending", "next_attempt_at": now}),
            )
            session.add(msg)
            session.add(row)
            if lease is not None:
                outcome.leased.append((row, ctx))
            outcome.replies.append(reply)
        return outcome
