"""Database tables (SQLAlchemy 2 declarative models).

Times are stored as timezone-aware UTC (``UTCDateTime`` makes SQLite behave like PostgreSQL).
Schema changes go through Alembic migrations in ``bot/storage/migrations``.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes on every backend (SQLite drops tzinfo otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(dt.timezone.utc)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc)


# BIGINT primary keys on PostgreSQL, INTEGER (rowid alias) on SQLite.
BigID = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    type_annotation_map = {dt.datetime: UTCDateTime(), dict: JSON(), list: JSON()}


class InboxEvent(Base):
    """An incoming platform event, stored before it is processed (acknowledge fast, lose nothing)."""

    __tablename__ = "inbox_events"
    __table_args__ = (
        UniqueConstraint("channel", "platform_message_id", name="uq_inbox_channel_message"),
        Index("ix_inbox_status_received", "status", "received_at"),
    )

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    platform_message_id: Mapped[str] = mapped_column(String(200))
    sender_id: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(30))  # text | postback | attachment | follow | unfollow
    text: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[str | None] = mapped_column(String(300))
    display_name: Mapped[str | None] = mapped_column(String(200))
    sent_at: Mapped[dt.datetime | None]
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending | done | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None]
    # The unit and the page/OA (external id) that received the event (``bot.units``); NULL: the root.
    unit_id: Mapped[int | None] = mapped_column(BigID)  # a hint for processing, no constraint
    account_external_id: Mapped[str | None] = mapped_column(String(200))
    processed_at: Mapped[dt.datetime | None]
    error: Mapped[str | None] = mapped_column(Text)


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("channel", "user_id", name="uq_conversation_channel_user"),)

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[str] = mapped_column(String(200))
    display_name: Mapped[str | None] = mapped_column(String(200))
    slots: Mapped[dict] = mapped_column(JSON, default=dict)
    last_user_message_at: Mapped[dt.datetime | None]
    last_activity_at: Mapped[dt.datetime | None]
    # Zalo customer-service window: replies sent since the worker's last message.
    replies_since_user_message: Mapped[int] = mapped_column(Integer, default=0)
    followed: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    account_external_id: Mapped[str | None] = mapped_column(String(200))  # the page/OA that talks to this user

    messages: Mapped[list[Message]] = relationship(back_populates="conversation", order_by="Message.id")


class Message(Base):
    """The transcript: every worker message and every reply, in order."""

    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_conversation", "conversation_id", "id"),)

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"), index=True)
    direction: Mapped[str] = mapped_column(String(3))  # in | out
    author: Mapped[str] = mapped_column(String(20))  # worker | bot | officer
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text, default="")
    intent: Mapped[str | None] = mapped_column(String(120))
    confidence: Mapped[float | None]
    action: Mapped[str | None] = mapped_column(String(20))
    faq_id: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    conversation: Mapped[Conversation] = relationship(back_populates="messages")


class OutboxMessage(Base):
    """A reply waiting to be delivered; retried with backoff until sent or permanently failed."""

    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_status_next", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    # Unique per logical reply, e.g. "in:42:0" (reply 0 to inbox event 42): reprocessing cannot duplicate.
    dedupe_key: Mapped[str] = mapped_column(String(120), unique=True)
    channel: Mapped[str] = mapped_column(String(20))
    recipient_id: Mapped[str] = mapped_column(String(200))
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id", ondelete="SET NULL"), index=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))
    author: Mapped[str] = mapped_column(String(20), default="bot")  # bot | officer
    body: Mapped[dict] = mapped_column(JSON)  # {"text": ..., "buttons": [...]}
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending | sent | failed | refused
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    platform_message_id: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None]
    # The process that leased the row (status "sending"); a dead owner's rows are taken back at once.
    lease_owner: Mapped[str | None] = mapped_column(String(80))
    # The page/OA the reply goes out through (``unit_accounts.external_id``); NULL: the global settings.
    account_external_id: Mapped[str | None] = mapped_column(String(200))

    # The transcript line of this reply: set with the object, both rows go in one flush, in order.
    message: Mapped[Message | None] = relationship(lazy="raise_on_sql")


class Officer(Base):
    __tablename__ = "officers"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    email: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20), default="officer")  # officer | admin
    password_hash: Mapped[str] = mapped_column(String(300))
    api_token_hash: Mapped[str | None] = mapped_column(String(128), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (Index("ix_tickets_status_due", "status", "due_at"), Index("ix_tickets_unit_status_due", "unit_id", "status", "due_at"))

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[str] = mapped_column(String(200))
    display_name: Mapped[str | None] = mapped_column(String(200))
    question: Mapped[str] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(String(60))  # request_human | complaint | escalate_always | ...
    topic: Mapped[str | None] = mapped_column(String(120))
    confidence: Mapped[float | None]
    priority: Mapped[str] = mapped_column(String(10), default="normal")  # normal | high
    status: Mapped[str] = mapped_column(String(20), default="open")  # open|assigned|answered|resolved|closed
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id", ondelete="SET NULL"), index=True)
    tags: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    due_at: Mapped[dt.datetime]
    first_response_at: Mapped[dt.datetime | None]
    resolved_at: Mapped[dt.datetime | None]
    closed_reason: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    account_external_id: Mapped[str | None] = mapped_column(String(200))  # the page/OA that received the question

    assignee: Mapped[Officer | None] = relationship()
    events: Mapped[list[TicketEvent]] = relationship(back_populates="ticket", order_by="TicketEvent.id")


class TicketEvent(Base):
    """Audit log: every change to a ticket, who made it, when."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    actor: Mapped[str] = mapped_column(String(200))  # "system", "worker", or an officer e-mail
    action: Mapped[str] = mapped_column(String(40))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    ticket: Mapped[Ticket] = relationship(back_populates="events")


class TicketNote(Base):
    __tablename__ = "ticket_notes"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class PlatformToken(Base):
    """Rotating platform credentials (Zalo access/refresh token pair)."""

    __tablename__ = "platform_tokens"

    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    access_token: Mapped[str] = mapped_column(Text)
    refresh_token: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[dt.datetime | None]
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Feedback(Base):
    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id", ondelete="SET NULL"))
    faq_id: Mapped[str | None] = mapped_column(String(120))
    helpful: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class FaqSuggestion(Base):
    """An officer's answer proposed as a new FAQ entry; an admin reviews and exports it."""

    __tablename__ = "faq_suggestions"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id", ondelete="SET NULL"))
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    topic: Mapped[str | None] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending | approved | rejected | exported
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("officers.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Notification(Base):
    """One alert about one ticket to one target; unique, so it is sent once and only once."""

    __tablename__ = "notifications"
    __table_args__ = (UniqueConstraint("ticket_id", "kind", "target", name="uq_notification_once"),)

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # high_priority | due_soon | overdue
    target: Mapped[str] = mapped_column(String(20))  # email | webhook
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None]


class Process(Base):
    """A running server or worker process that sends replies (its heartbeat is ``seen_at``)."""

    __tablename__ = "processes"

    owner: Mapped[str] = mapped_column(String(80), primary_key=True)
    host: Mapped[str] = mapped_column(String(200))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class AuditLog(Base):
    """Who did what to personal data (export, deletion, purge). Never holds the data itself:
    targets are a channel and a one-way hash of the user id, details are counts."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(200))  # an officer e-mail, "system" for the daily purge
    action: Mapped[str] = mapped_column(String(40))  # person_export | person_delete | purge
    target: Mapped[str | None] = mapped_column(String(200))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)


class Maintenance(Base):
    """Last run of a periodic job; a conditional UPDATE on its row lets one process of many run it."""

    __tablename__ = "maintenance"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    last_run_at: Mapped[dt.datetime | None]


class LoginFailure(Base):
    """A failed dashboard login, shared by every server process (``bot.dashboard.auth``).

    ``account`` is a hash of the e-mail typed, ``address`` the client address."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_account_at", "account", "at"),)

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    account: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class FaqRevision(Base):
    """One saved version of a FAQ entry, edited in the browser (``bot.faq_edits``).

    ``version`` counts per entry from 1 (the entry in ``faq/`` is version 0 and is not stored);
    ``content`` holds every editable field, example phrasings included. ``takes_effect_on`` (a Vietnam
    date) schedules the content; null means at once. A revert is a new revision (``reverted_from``)."""

    __tablename__ = "faq_revisions"
    __table_args__ = (UniqueConstraint("entry_id", "version", name="uq_faq_revision_version"),)

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    entry_id: Mapped[str] = mapped_column(String(120), index=True)
    version: Mapped[int] = mapped_column(Integer)
    content: Mapped[dict] = mapped_column(JSON)
    takes_effect_on: Mapped[dt.date | None] = mapped_column(Date)
    author: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    note: Mapped[str] = mapped_column(Text, default="")
    reverted_from: Mapped[int | None] = mapped_column(ForeignKey("faq_revisions.id", ondelete="SET NULL"))


class QuestionLabel(Base):
    """A maintainer's label on a real worker question (the learning loop, ``bot.learning``).

    ``text`` is the worker's message with phone and ID numbers masked, kept so that the label (a
    training example once accepted) survives the retention purge of the message itself.
    ``used_in_model`` is the model version that first trained on it; until then it may be relabelled."""

    __tablename__ = "question_labels"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"), unique=True)
    text: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(20))  # clarified | fallback | feedback | officer_answered | sample
    label_kind: Mapped[str] = mapped_column(String(20))  # intent | new_question | out_of_scope | skip
    intent: Mapped[str | None] = mapped_column(String(120))
    labelled_by: Mapped[str] = mapped_column(String(200))  # officer e-mail
    labelled_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    used_in_model: Mapped[str | None] = mapped_column(String(120), index=True)


class TrainingJob(Base):
    """A retrain requested from the dashboard, run by a worker (never in a web request).

    ``slot`` is "retrain" while the job is queued or running and NULL otherwise: its unique
    constraint lets the database itself refuse a second active retrain."""

    __tablename__ = "training_jobs"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    status: Mapped[str] = mapped_column(String(20), default="queued")  # queued|running|succeeded|failed|activated|discarded
    slot: Mapped[str | None] = mapped_column(String(20), unique=True)
    requested_by: Mapped[str] = mapped_column(String(200))
    requested_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    started_at: Mapped[dt.datetime | None]
    heartbeat_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]
    progress: Mapped[int] = mapped_column(Integer, default=0)
    progress_message: Mapped[str | None] = mapped_column(Text)
    include_label_ids: Mapped[list] = mapped_column(JSON, default=list)
    candidate_version: Mapped[str | None] = mapped_column(String(120))
    base_version: Mapped[str | None] = mapped_column(String(120))
    comparison: Mapped[dict | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)


class Unit(Base):
    """A union unit of the federation tree (``bot.units``): the root (the provincial federation,
    from the ``ORG_*`` settings) and its sub-units. Empty contact fields inherit the parent's."""

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    short_name: Mapped[str] = mapped_column(String(100))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    # True on the root and NULL elsewhere: the unique constraint keeps a single root.
    is_root: Mapped[bool | None] = mapped_column(Boolean, unique=True)
    hotline: Mapped[str | None] = mapped_column(String(100))
    address: Mapped[str | None] = mapped_column(Text)
    office_hours: Mapped[str | None] = mapped_column(String(200))
    fanpage_url: Mapped[str | None] = mapped_column(String(300))
    zalo_url: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class UnitAccount(Base):
    """A Messenger page or Zalo OA of a unit. Secret columns hold Fernet tokens (``bot.secrets``)."""

    __tablename__ = "unit_accounts"
    __table_args__ = (UniqueConstraint("channel", "external_id", name="uq_unit_account_channel_external"),)

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), index=True)
    channel: Mapped[str] = mapped_column(String(20))  # messenger | zalo
    external_id: Mapped[str] = mapped_column(String(200))  # page id | OA id
    name: Mapped[str | None] = mapped_column(String(200))
    app_id: Mapped[str | None] = mapped_column(String(100))  # Zalo app id (not secret: part of the signature)
    page_access_token: Mapped[str | None] = mapped_column(Text)
    app_secret: Mapped[str | None] = mapped_column(Text)
    verify_token: Mapped[str | None] = mapped_column(Text)
    oa_secret_key: Mapped[str | None] = mapped_column(Text)
    access_token: Mapped[str | None] = mapped_column(Text)
    refresh_token: Mapped[str | None] = mapped_column(Text)
    token_expires_at: Mapped[dt.datetime | None]
    public_replies: Mapped[bool] = mapped_column(Boolean, default=True)  # public replies under fanpage comments
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class UnitMember(Base):
    """An officer's membership of a unit, with a role in it (officer | admin)."""

    __tablename__ = "unit_members"
    __table_args__ = (UniqueConstraint("officer_id", "unit_id", name="uq_unit_member"),)

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20), default="officer")  # officer | admin
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class FacebookComment(Base):
    """A comment on a fanpage post (``bot.comments``): the ids needed to reply, what was decided,
    and where each reply stands. Holds no comment text (that is in the inbox and the transcript,
    which the privacy purge already covers). ``comment_id`` is unique: a comment is answered once."""

    __tablename__ = "facebook_comments"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    comment_id: Mapped[str] = mapped_column(String(200), unique=True)
    page_id: Mapped[str] = mapped_column(String(200))
    post_id: Mapped[str | None] = mapped_column(String(200))
    parent_id: Mapped[str | None] = mapped_column(String(200))
    permalink: Mapped[str | None] = mapped_column(String(500))
    created_time: Mapped[dt.datetime | None]
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    removed_at: Mapped[dt.datetime | None]  # the author or the page deleted or hid it: never answered after this
    decision: Mapped[str | None] = mapped_column(String(20))  # faq | ticket | ignore | old | removed
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id", ondelete="SET NULL"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"), index=True)
    # none | queued | sent | failed | already (the platform says the comment was already answered privately)
    private_reply: Mapped[str] = mapped_column(String(20), default="none")
    private_error: Mapped[str | None] = mapped_column(Text)
    public_reply: Mapped[str] = mapped_column(String(20), default="none")  # none | planned | queued | sent | failed | dropped
    public_text: Mapped[str | None] = mapped_column(Text)  # the planned public reply, queued once the private one is sent
    # The worker's Messenger PSID, given by the Send API when the private reply is delivered.
    messenger_psid: Mapped[str | None] = mapped_column(String(200))
