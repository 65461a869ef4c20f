"""Personal data (Luật Bảo vệ dữ liệu cá nhân 2025): retention purge, one worker's export and
deletion, and the backup of an SQLite database.

Rules shared by ``purge`` and ``delete_person``:

- rows that reports count are anonymised, never deleted: a ticket keeps its counts, channel,
  topic, reason, priority, status and timestamps; its question becomes a marker, its display name
  is dropped and its user id becomes a one-way hash (``user_hash``), so "how many people asked
  twice" can still be counted; transcript rows keep direction, author, intent, action and time;
- free text written by or about the worker becomes a marker (``REDACTED`` after the retention
  period, ``REDACTED_ON_REQUEST`` after a deletion request): transcripts, ticket questions and
  internal notes, inbox texts and payloads, outbox bodies;
- identifiers (conversation user ids, inbox senders, outbox recipients) are replaced by ``anon:…``;
- the purge never touches an open ticket, its conversation, or anything newer than the cut-off;
  running it twice changes nothing the second time.

Every function opens its own transaction. The audit log (``audit_log``) records who exported or
deleted whose data with a channel, a hash of the user id and counts, never the data itself.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.orm import Session

from .handoff.tickets import OPEN_STATUSES, log
from .storage import Database
from .storage.models import (
    AuditLog,
    Conversation,
    FacebookComment,
    Feedback,
    InboxEvent,
    Maintenance,
    Message,
    OutboxMessage,
    QuestionLabel,
    Ticket,
    TicketEvent,
    TicketNote,
    utcnow,
)

REDACTED = "[đã xóa theo thời hạn lưu trữ]"
REDACTED_ON_REQUEST = "[đã xóa theo yêu cầu của người lao động]"
REDACTED_TEXTS = (REDACTED, REDACTED_ON_REQUEST)
DELETION_REASON = "Người lao động yêu cầu xóa dữ liệu"
ANON_PREFIX = "anon:"
CLOSED_STATUSES = ("resolved", "closed")
DONE_INBOX = ("done", "failed")
DONE_OUTBOX = ("sent", "refused", "failed")
PURGE_JOB = "purge"


class PersonNotFound(LookupError):
    """No data stored for this channel and user id; the message is Vietnamese for officers."""


class BackupError(RuntimeError):
    """The backup cannot be made; the message is Vietnamese for operators."""


def user_hash(channel: str, user_id: str) -> str:
    """A one-way, stable stand-in for a user id (the same person gets the same hash)."""
    if user_id.startswith(ANON_PREFIX):
        return user_id
    return ANON_PREFIX + hashlib.sha256(f"{channel}:{user_id}".encode()).hexdigest()[:32]


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _audit(session: Session, actor: str, action: str, target: str | None, detail: dict, now: dt.datetime) -> None:
    session.add(AuditLog(at=now, actor=actor, action=action, target=target, detail=detail))


# --- retention purge ---------------------------------------------------------------------------


@dataclass
class PurgeResult:
    cutoff: dt.datetime
    dry_run: bool
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def to_dict(self) -> dict:
        return {"cutoff": self.cutoff.isoformat(), "dry_run": self.dry_run, "counts": dict(self.counts), "total": self.total}


def _not_redacted(column):
    return column.not_in(REDACTED_TEXTS)


def _count_or_update(session: Session, model, where, values: dict, dry_run: bool) -> int:
    if dry_run:
        return session.scalar(select(func.count()).select_from(model).where(where)) or 0
    return session.execute(update(model).where(where).values(**values).execution_options(synchronize_session=False)).rowcount


def purge(db: Database, older_than_days: int, now: dt.datetime | None = None, dry_run: bool = False, actor: str = "system") -> PurgeResult:
    """Anonymise what is older than ``older_than_days`` days (see the module's rules); returns the
    number of rows changed per table (with ``dry_run``: the number that would change)."""
    if older_than_days < 1:
        raise ValueError("Số ngày lưu trữ phải từ 1 trở lên.")
    now = now or utcnow()
    cutoff = now - dt.timedelta(days=older_than_days)
    result = PurgeResult(cutoff, dry_run)
    counts = result.counts
    closed_before_cutoff = and_(Ticket.status.in_(CLOSED_STATUSES), func.coalesce(Ticket.resolved_at, Ticket.updated_at) < cutoff)
    old_tickets = select(Ticket.id).where(closed_before_cutoff)
    open_conversations = select(Ticket.conversation_id).where(Ticket.status.in_(OPEN_STATUSES))
    with db.session() as session:
        # Transcripts: a closed ticket's messages, and messages outside any ticket when no ticket of
        # the conversation is open (an officer handling an open ticket may still read its context).
        counts["messages"] = _count_or_update(session, Message, and_(
            Message.created_at < cutoff,
            _not_redacted(Message.text),
            or_(Message.ticket_id.in_(old_tickets),
                and_(Message.ticket_id.is_(None), Message.conversation_id.not_in(open_conversations))),
        ), {"text": REDACTED}, dry_run)
        counts["ticket_notes"] = _count_or_update(session, TicketNote, and_(
            TicketNote.ticket_id.in_(old_tickets), _not_redacted(TicketNote.text),
        ), {"text": REDACTED}, dry_run)
        # Tickets: the user id hash is computed in Python, one row at a time.
        rows = session.scalars(select(Ticket).where(closed_before_cutoff, _not_redacted(Ticket.question))).all()
        counts["tickets"] = len(rows)
        if not dry_run:
            for ticket in rows:
                _anonymise_ticket(ticket, REDACTED)
        # Queue rows: done ones, except those of a worker whose ticket is still open.
        counts["inbox_events"] = _count_or_update(session, InboxEvent, and_(
            InboxEvent.status.in_(DONE_INBOX), InboxEvent.received_at < cutoff, InboxEvent.sender_id.not_like(ANON_PREFIX + "%"),
            ~select(Ticket.id).where(Ticket.channel == InboxEvent.channel, Ticket.user_id == InboxEvent.sender_id,
                                     Ticket.status.in_(OPEN_STATUSES)).exists(),
        ), {"text": None, "payload": None, "display_name": None, "sender_id": ANON_PREFIX}, dry_run)
        counts["outbox_messages"] = _count_or_update(session, OutboxMessage, and_(
            OutboxMessage.status.in_(DONE_OUTBOX), OutboxMessage.created_at < cutoff, OutboxMessage.recipient_id.not_like(ANON_PREFIX + "%"),
            ~select(Ticket.id).where(Ticket.channel == OutboxMessage.channel, Ticket.user_id == OutboxMessage.recipient_id,
                                     Ticket.status.in_(OPEN_STATUSES)).exists(),
        ), {"body": {"text": REDACTED, "buttons": []}, "recipient_id": ANON_PREFIX}, dry_run)
        conversations = session.scalars(select(Conversation).where(
            func.coalesce(Conversation.last_activity_at, Conversation.created_at) < cutoff,
            Conversation.id.not_in(open_conversations),
            Conversation.user_id.not_like(ANON_PREFIX + "%"),
        )).all()
        counts["conversations"] = len(conversations)
        # Fanpage comments (bot.comments): their ids and the link to the worker's Messenger id go too.
        forgotten = FacebookComment.conversation_id.in_([c.id for c in conversations])
        comments = (session.scalar(select(func.count()).select_from(FacebookComment).where(forgotten)) if dry_run
                    else session.execute(delete(FacebookComment).where(forgotten)).rowcount)
        if comments:
            counts["facebook_comments"] = comments
        if not dry_run:
            for conv in conversations:
                _anonymise_conversation(conv)
            if result.total:
                _audit(session, actor, "purge", None, {"older_than_days": older_than_days, "cutoff": cutoff.isoformat(), "counts": counts}, now)
    return result


def _anonymise_ticket(ticket: Ticket, marker: str) -> None:
    ticket.question = marker
    ticket.display_name = None
    ticket.user_id = user_hash(ticket.channel, ticket.user_id)


def _anonymise_conversation(conv: Conversation) -> None:
    # Unique per row (not the person's hash): the person may come back and start a new conversation.
    conv.user_id = f"{ANON_PREFIX}{conv.id}"
    conv.display_name = None
    conv.slots = {}


def run_daily_purge(db: Database, retention_days: int, now: dt.datetime | None = None,
                    every: dt.timedelta = dt.timedelta(days=1)) -> PurgeResult | None:
    """The background workers' daily job: purge if the last run is a day old. A conditional UPDATE
    of the ``maintenance`` row makes exactly one of several processes run it."""
    if retention_days <= 0:
        return None
    now = now or utcnow()
    with db.session() as session:
        session.execute(db.insert_ignoring(Maintenance, {"name": PURGE_JOB, "last_run_at": None}, ["name"]))
        claimed = session.execute(
            update(Maintenance)
            .where(Maintenance.name == PURGE_JOB, or_(Maintenance.last_run_at.is_(None), Maintenance.last_run_at <= now - every))
            .values(last_run_at=now)
        ).rowcount
    if not claimed:
        return None
    return purge(db, retention_days, now=now)


# --- one worker's data -------------------------------------------------------------------------


def _find(session: Session, channel: str, user_id: str) -> tuple[Conversation | None, list[Ticket]]:
    conv = session.scalars(select(Conversation).where(Conversation.channel == channel, Conversation.user_id == user_id)).first()
    tickets = session.scalars(select(Ticket).where(Ticket.channel == channel, Ticket.user_id == user_id).order_by(Ticket.id)).all()
    if conv is None and not tickets:
        raise PersonNotFound(f"Không có dữ liệu nào của người dùng {user_id} trên kênh {channel}.")
    return conv, list(tickets)


def export_person(db: Database, channel: str, user_id: str, actor: str | None = None) -> dict:
    """Everything stored about one worker, JSON-serialisable (times in ISO 8601, UTC). With an
    ``actor``, the export is recorded in the audit log."""
    now = utcnow()
    with db.session() as session:
        conv, tickets = _find(session, channel, user_id)
        codes = {t.id: t.code for t in tickets}
        messages = session.scalars(select(Message).where(Message.conversation_id == conv.id).order_by(Message.id)).all() if conv else []
        feedback = session.scalars(select(Feedback).where(Feedback.conversation_id == conv.id).order_by(Feedback.id)).all() if conv else []
        ids = list(codes)
        events = session.scalars(select(TicketEvent).where(TicketEvent.ticket_id.in_(ids)).order_by(TicketEvent.id)).all()
        notes = session.scalars(select(TicketNote).where(TicketNote.ticket_id.in_(ids)).order_by(TicketNote.id)).all()
        data = {
            "channel": channel,
            "user_id": user_id,
            "exported_at": now.isoformat(),
            "conversation": None if conv is None else {
                "display_name": conv.display_name,
                "slots": conv.slots or {},
                "created_at": _iso(conv.created_at),
                "last_user_message_at": _iso(conv.last_user_message_at),
                "last_activity_at": _iso(conv.last_activity_at),
                "followed": conv.followed,
            },
            "messages": [
                {"at": _iso(m.created_at), "direction": m.direction, "author": m.author, "text": m.text, "intent": m.intent,
                 "action": m.action, "faq_id": m.faq_id, "ticket": codes.get(m.ticket_id)}
                for m in messages
            ],
            "tickets": [
                {"code": t.code, "status": t.status, "question": t.question, "display_name": t.display_name, "reason": t.reason,
                 "topic": t.topic, "priority": t.priority, "tags": t.tags or [], "created_at": _iso(t.created_at), "due_at": _iso(t.due_at),
                 "first_response_at": _iso(t.first_response_at), "resolved_at": _iso(t.resolved_at), "closed_reason": t.closed_reason,
                 "events": [{"at": _iso(e.created_at), "actor": e.actor, "action": e.action, "detail": e.detail or {}}
                            for e in events if e.ticket_id == t.id],
                 "notes": [{"at": _iso(n.created_at), "text": n.text} for n in notes if n.ticket_id == t.id]}
                for t in tickets
            ],
            "feedback": [{"at": _iso(f.created_at), "faq_id": f.faq_id, "helpful": f.helpful} for f in feedback],
        }
        if actor:
            _audit(session, actor, "person_export", f"{channel}:{user_hash(channel, user_id)}",
                   {"channel": channel, "user": user_hash(channel, user_id), "messages": len(messages), "tickets": len(tickets)}, now)
    return data


def delete_person(db: Database, channel: str, user_id: str, actor: str, now: dt.datetime | None = None) -> dict:
    """Delete one worker's data at their request, whatever its age: open tickets are closed with
    ``DELETION_REASON``, then everything is anonymised as the purge does; writes an audit record.
    Returns the number of rows changed per table."""
    now = now or utcnow()
    hashed = user_hash(channel, user_id)
    with db.session() as session:
        conv, tickets = _find(session, channel, user_id)
        counts = {"tickets_closed": 0}
        for ticket in tickets:
            if ticket.status in OPEN_STATUSES:
                ticket.status = "closed"
                ticket.closed_reason = DELETION_REASON
                ticket.resolved_at = now
                ticket.updated_at = now
                log(session, ticket, actor, "closed", reason=DELETION_REASON)
                counts["tickets_closed"] += 1
            _anonymise_ticket(ticket, REDACTED_ON_REQUEST)
        counts["tickets"] = len(tickets)
        ids = [t.id for t in tickets]
        in_conversation = or_(Message.ticket_id.in_(ids), Message.conversation_id == conv.id) if conv else Message.ticket_id.in_(ids)
        counts["messages"] = _count_or_update(session, Message, and_(in_conversation, _not_redacted(Message.text)),
                                              {"text": REDACTED_ON_REQUEST}, False)
        # Labels on the worker's questions (the learning loop) keep a masked copy of the text: deleted too.
        counts["question_labels"] = session.execute(delete(QuestionLabel).where(QuestionLabel.message_id.in_(
            select(Message.id).where(in_conversation))).execution_options(synchronize_session=False)).rowcount
        counts["ticket_notes"] = _count_or_update(session, TicketNote, and_(TicketNote.ticket_id.in_(ids), _not_redacted(TicketNote.text)),
                                                  {"text": REDACTED_ON_REQUEST}, False)
        # Events not processed yet would bring the data back: they are marked done, unprocessed.
        inbox = and_(InboxEvent.channel == channel, InboxEvent.sender_id == user_id)
        session.execute(update(InboxEvent).where(inbox, InboxEvent.status == "pending")
                        .values(status="done", processed_at=now, error=DELETION_REASON).execution_options(synchronize_session=False))
        counts["inbox_events"] = _count_or_update(session, InboxEvent, inbox, {"text": None, "payload": None, "display_name": None,
                                                                               "sender_id": ANON_PREFIX}, False)
        # Replies not delivered yet are not sent any more.
        outbox = and_(OutboxMessage.channel == channel, OutboxMessage.recipient_id == user_id)
        session.execute(update(OutboxMessage).where(outbox, OutboxMessage.status.in_(("pending", "sending")))
                        .values(status="failed", last_error=DELETION_REASON).execution_options(synchronize_session=False))
        counts["outbox_messages"] = _count_or_update(session, OutboxMessage, outbox, {"body": {"text": REDACTED_ON_REQUEST, "buttons": []},
                                                                                      "recipient_id": ANON_PREFIX}, False)
        counts["conversations"] = 0
        # A fanpage comment of theirs (bot.comments), or the link of one to their Messenger id.
        if conv is not None and session.execute(delete(FacebookComment).where(FacebookComment.conversation_id == conv.id)).rowcount:
            counts["facebook_comments"] = 1
        if channel == "messenger":
            session.execute(update(FacebookComment).where(FacebookComment.messenger_psid == user_id).values(messenger_psid=None))
        if conv is not None:
            _anonymise_conversation(conv)
            counts["conversations"] = 1
        _audit(session, actor, "person_delete", f"{channel}:{hashed}", {"channel": channel, "user": hashed, "counts": counts}, now)
    return counts


# --- backup ------------------------------------------------------------------------------------

PG_DUMP_HINT = "pg_dump --format=custom --file=bot-$(date +%F).dump \"$DATABASE_URL\""


def backup(db: Database, path: str | Path) -> Path:
    """Copy an SQLite database to ``path`` with SQLite's online backup (safe while the server
    writes: the copy is one consistent snapshot). PostgreSQL: raises ``BackupError`` (use pg_dump)."""
    if not db.is_sqlite:
        raise BackupError(f"Lệnh sao lưu này chỉ dùng cho SQLite. Với PostgreSQL, hãy dùng pg_dump, ví dụ: {PG_DUMP_HINT}")
    source = db.engine.url.database
    if not source or source == ":memory:":
        raise BackupError("Cơ sở dữ liệu SQLite nằm trong bộ nhớ, không có gì để sao lưu.")
    if not Path(source).is_file():
        raise BackupError(f"Không có tệp cơ sở dữ liệu {source}.")
    target = Path(path)
    if target.is_dir():
        raise BackupError(f"{target} là một thư mục; hãy ghi rõ tên tệp sao lưu, ví dụ {target / 'bot-sao-luu.db'}.")
    if not target.parent.is_dir():
        raise BackupError(f"Không có thư mục {target.parent}.")
    if target.resolve() == Path(source).resolve():
        raise BackupError("Tệp sao lưu phải khác tệp cơ sở dữ liệu đang dùng.")
    partial = target.with_name(target.name + ".partial")
    try:
        src = sqlite3.connect(source, timeout=30)
        try:
            dst = sqlite3.connect(partial)
            try:
                src.backup(dst)
            finally:
                dst.close()
        finally:
            src.close()
        os.replace(partial, target)  # a finished copy, or none: never half a file under the name
    except (sqlite3.Error, OSError) as exc:
        partial.unlink(missing_ok=True)
        raise BackupError(f"Không sao lưu được vào {target}: {exc}") from None
    return target
